"""The recorded X responses in tests/fixtures/x: valid per X's spec, current with the simulator, free of secrets.

Other tests parse these files as X's answers; these tests make sure they are answers X could give.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from x_spec_check import XSpec

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "x"


def load_recorder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("record_x_fixtures", ROOT / "scripts" / "record_x_fixtures.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("*.json"))


def test_there_are_fixtures_for_success_partial_errors_and_both_429s() -> None:
    names = {path.stem for path in fixture_files()}
    assert {"liked_tweets_page1", "tweets_partial_errors", "liked_tweets_rate_limited_429"} <= names
    assert {"liked_tweets_usage_capped_429", "liked_tweets_other_user_403", "server_error_503"} <= names


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.stem)
def test_each_fixture_is_a_response_xs_spec_allows(path: Path, x_spec: XSpec) -> None:
    # Given a recorded exchange
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    request, response = record["request"], record["response"]

    # When its response is checked against the spec's operation for its request
    violations = x_spec.violations(
        method=request["method"],
        path=request["path"],
        query=list(request["query"].items()),
        status=response["status"],
        headers=response["headers"],
        body=json.dumps(response["body"]).encode(),
    )

    # Then the spec allows it
    assert violations == []


def test_recording_again_gives_the_committed_files(tmp_path: Path) -> None:
    # When the recorder runs again into an empty folder
    written = load_recorder().record(tmp_path)

    # Then it writes the same files, byte for byte: the fixtures say what the simulator says today
    assert sorted(p.name for p in written) == [p.name for p in fixture_files()]
    changed = [p.name for p in written if p.read_bytes() != (FIXTURES / p.name).read_bytes()]
    assert changed == [], "the simulator's answers changed: run scripts/record_x_fixtures.py and review the diff"


def test_no_fixture_holds_a_credential(xsim: Any) -> None:
    # Given every credential the default simulator hands out (the recorder used the same seed)
    creds = xsim.oauth1_credentials("demo")
    secrets = [*creds.as_dict().values(), xsim.app_bearer_token, xsim.oauth2_client.client_secret]

    # Then none appears in any fixture, and no fixture records an Authorization header
    for path in fixture_files():
        text = path.read_text(encoding="utf-8")
        record = json.loads(text)
        assert not any(secret in text for secret in secrets), path.name
        assert "authorization" not in {h.lower() for h in record["response"]["headers"]}, path.name
        assert set(record["request"]) == {"method", "path", "query", "auth"}, path.name
        # A cursor, opaque and random-looking, would read as a leaked token: the simulator's say `xsim`
        cursors = re.findall(r'"(?:pagination|next|previous)_token": "([^"]+)"', text)
        assert all(c.startswith(("xsim", "not-a-real")) for c in cursors), (path.name, cursors)


def test_the_check_above_sees_the_cursors_it_vets() -> None:
    page2 = (FIXTURES / "liked_tweets_page2.json").read_text(encoding="utf-8")
    assert len(re.findall(r'"(?:pagination|next|previous)_token": "([^"]+)"', page2)) == 3

"""`random-likes import` against a stack on moto: the archive read on disk, an operator import started, the bundle
uploaded with the presigned POST to the stack's bucket, and the wait until the import ends.

The import function is another part of the system: here the test plays it, moving the import's item one step each
time the CLI pauses between two reads (ops.imports.pause), so every stage the CLI reports is seen in order."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import ops.imports
from local.provision import REGION, StackResources, client
from shared.bundle import object_key
from shared.models import ImportStatus, Subscriber
from shared.store import Stores
from shared.store.imports import ImportStore
from shared.store.items import IMPORT_PREFIX, ImportItem, Table, bind, subscriber_pk
from tests.ops.conftest import Cli

X_USER_ID = "288061445489330665"
ACCOUNT = b'window.YTD.account.part0 = [{"account": {"accountId": "288061445489330665", "username": "demo"}}]'
LIKES = b'window.YTD.like.part0 = [{"like": {"tweetId": "1", "fullText": "hello", "expandedUrl": ""}}]'
PART1 = b'window.YTD.like.part1 = [{"like": {"tweetId": "2", "fullText": "again", "expandedUrl": ""}}]'


@pytest.fixture
def demo(store: Stores) -> Subscriber:
    now = datetime.now(UTC)
    sub, _ = store.subscribers.create_subscriber(X_USER_ID, "Demo", now, now, x_user_id=X_USER_ID)
    return sub


@pytest.fixture
def table(ops_stack: StackResources, ops_endpoint: str) -> Table:
    return bind(ops_stack.table_name, REGION, ops_endpoint)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "twitter-archive.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data/account.js", ACCOUNT)
        zf.writestr("data/like.js", LIKES)
        zf.writestr("data/like-part1.js", PART1)
        zf.writestr("data/direct-messages.js", b"private")
    return path


Step = dict[str, Any]


@pytest.fixture
def importer(
    monkeypatch: pytest.MonkeyPatch, table: Table, ops_stack: StackResources, ops_endpoint: str
) -> Callable[[list[Step]], list[bytes]]:
    """Plays the import function: at each of the CLI's pauses, the next step is applied to the import's item.
    Returns the uploads it found in S3 at its first step (what the import function would read)."""

    def arm(steps: list[Step]) -> list[bytes]:
        remaining: Iterator[Step] = iter(steps)
        uploads: list[bytes] = []

        def step(_: float) -> None:
            pointer = table.current_imports.get(subscriber_pk(X_USER_ID), "IMPORT")
            item = table.imports.get(subscriber_pk(X_USER_ID), IMPORT_PREFIX + pointer.import_id)
            if not uploads:
                s3 = client("s3", ops_endpoint)
                uploads.append(s3.get_object(Bucket=ops_stack.imports_bucket, Key=item.object_key)["Body"].read())
            values = {**next(remaining), "updated_at": datetime.now(UTC)}
            item.update(actions=[getattr(ImportItem, name).set(value) for name, value in values.items()])

        monkeypatch.setattr(ops.imports, "pause", step)
        return uploads

    return arm


STEPS: list[Step] = [
    {"status": "importing"},
    {"validated": True, "likes_found": 152_318, "position": 41_200},
    {"status": "done", "position": 152_318, "likes_stored": 150_000, "likes_already_stored": 2_318},
]


def bundle_members(raw: bytes) -> list[tuple[str, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]


def test_an_import_is_uploaded_followed_and_ends_done(
    cli: Cli, demo: Subscriber, archive: Path, importer: Callable[[list[Step]], list[bytes]]
) -> None:
    uploads = importer(STEPS)

    result = cli("import", str(archive), "--username", "demo")

    # Then it exits 0, having uploaded the bundle of account.js and the likes (no DMs) to the stack's bucket
    assert result.code == 0, result.err
    assert [bundle_members(raw) for raw in uploads] == [
        [("account.js", ACCOUNT), ("like.js", LIKES), ("like-part1.js", PART1)]
    ]
    # And it said what it did at each stage, on stderr
    for said in (
        "reading twitter-archive.zip",
        "read account.js, like.js, like-part1.js",
        "uploading",
        "waiting for the import function",
        "checking the archive",
        "importing 41,200 of 152,318 likes",
    ):
        assert said in result.err, said
    assert result.err.index("uploading") < result.err.index("importing 41,200")
    assert "152,318 likes in the archive, 150,000 new, 2,318 already stored" in result.out
    assert "policy" not in result.err + result.out  # the POST's signed fields are never shown


def test_json_prints_the_final_status_in_the_apis_shape(
    cli: Cli, demo: Subscriber, archive: Path, importer: Callable[[list[Step]], list[bytes]], table: Table
) -> None:
    importer(STEPS)

    result = cli("import", str(archive), "--username", "demo", "--json")

    assert result.code == 0, result.err
    body = json.loads(result.out)
    assert {k: body[k] for k in ("status", "origin", "likes_found", "likes_stored", "likes_already_stored")} == {
        "status": "done",
        "origin": "operator",
        "likes_found": 152_318,
        "likes_stored": 150_000,
        "likes_already_stored": 2_318,
    }
    assert body["likes_processed"] == 152_318
    assert body["error"] is None
    assert body["username"] == "Demo"
    assert table.imports.get(subscriber_pk(X_USER_ID), IMPORT_PREFIX + body["id"]).origin == "operator"


def test_a_failed_import_exits_9_with_its_error(
    cli: Cli, demo: Subscriber, archive: Path, importer: Callable[[list[Step]], list[bytes]]
) -> None:
    importer(
        [
            {"status": "importing"},
            {"status": "failed", "error_code": "wrong_account", "error_message": "This archive is @other's."},
        ]
    )

    plain = cli("import", str(archive), "--username", "demo")

    assert plain.code == ops.imports.IMPORT_FAILED == 9
    assert "wrong_account: This archive is @other's." in plain.err


def test_a_failed_import_with_json_prints_its_status_and_exits_9(
    cli: Cli, demo: Subscriber, archive: Path, importer: Callable[[list[Step]], list[bytes]]
) -> None:
    importer([{"status": "failed", "error_code": "not_like_js", "error_message": "like.js breaks at entry 90,000"}])

    result = cli("import", str(archive), "--username", "demo", "--json")

    assert result.code == 9
    assert json.loads(result.out)["error"] == {"code": "not_like_js", "message": "like.js breaks at entry 90,000"}


def test_no_wait_returns_once_the_upload_is_in_s3(
    cli: Cli,
    demo: Subscriber,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ops_stack: StackResources,
    ops_endpoint: str,
) -> None:
    def never(_: float) -> None:
        raise AssertionError("--no-wait must not wait")

    monkeypatch.setattr(ops.imports, "pause", never)
    bare = tmp_path / "like.js"
    bare.write_bytes(LIKES)

    result = cli("import", str(bare), "--username", "@DEMO", "--no-wait", "--json")

    assert result.code == 0, result.err
    body = json.loads(result.out)
    assert body["status"] == "waiting_for_upload"
    key = object_key(X_USER_ID, body["id"])
    stored = client("s3", ops_endpoint).get_object(Bucket=ops_stack.imports_bucket, Key=key)["Body"].read()
    assert bundle_members(stored) == [("like.js", LIKES)]
    assert "no account.js" in result.err


def test_a_second_import_while_one_runs_is_refused_with_the_running_ones_id(
    cli: Cli, demo: Subscriber, archive: Path, store: Stores, ops_stack: StackResources, ops_endpoint: str
) -> None:
    first = cli("import", str(archive), "--username", "demo", "--no-wait", "--json")
    running = json.loads(first.out)["id"]

    second = cli("import", str(archive), "--username", "demo", "--no-wait")

    assert second.code == 9
    assert f"another import of @Demo is running: {running} (waiting_for_upload" in second.err
    imports = ImportStore(bind(ops_stack.table_name, REGION, ops_endpoint))
    current = imports.current(X_USER_ID)
    assert current is not None
    assert (current.id, current.status) == (running, ImportStatus.WAITING_FOR_UPLOAD)


def test_a_bad_archive_is_refused_before_anything_is_started_or_uploaded(
    cli: Cli, demo: Subscriber, tmp_path: Path, ops_stack: StackResources, ops_endpoint: str
) -> None:
    bad = tmp_path / "evil.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("data/like.js", LIKES)
        zf.writestr("../../.bashrc", b"echo owned")

    result = cli("import", str(bad), "--username", "demo")

    assert result.code == 8
    assert "a path outside the archive" in result.err
    imports = ImportStore(bind(ops_stack.table_name, REGION, ops_endpoint))
    assert imports.current(X_USER_ID) is None
    assert "Contents" not in client("s3", ops_endpoint).list_objects_v2(Bucket=ops_stack.imports_bucket)


def test_an_unknown_subscriber_exits_6(cli: Cli, archive: Path) -> None:
    result = cli("import", str(archive), "--username", "nobody_here")
    assert result.code == 6
    assert "'nobody_here' is not subscribed" in result.err

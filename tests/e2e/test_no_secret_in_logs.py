"""Every log line of a whole account's life on `make dev` — connect, first sync, token refresh, disconnect —
searched for every secret that passed through the system.

The stack prints everything its processes log: each function's Powertools lines, the gateway's access log,
the simulator's and moto's own lines. The secrets: the state and the authorization code (in the callback's
URL), the PKCE verifier (read from the pending login in the table, before the callback consumes it), the
session id (the cookie), the OAuth 2.0 client secret, and every access, refresh and code token the simulator
issued during the run (they all start `xsim-access-`, `xsim-refresh-`, `xsim-code-`, so a pattern finds any of
them, including the refreshed ones the test never sees).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from local.provision import client
from ops.cli import main as cli
from shared.accounts import digest
from tests.support.accounts import SESSION_COOKIES, consent
from tests.support.dev_stack import DevStack, running_stack

pytestmark = pytest.mark.e2e

ISSUED_TOKEN = re.compile(r"xsim-(?:access|refresh|code)-[A-Za-z0-9]{20,}")


def table_item(stack: DevStack, table: str, pk: str, sk: str | None = None) -> dict[str, Any] | None:
    key = {"pk": {"S": pk}, **({"sk": {"S": sk}} if sk else {})}
    item = client("dynamodb", stack.aws_endpoint).get_item(TableName=stack.resources()[table], Key=key)
    return item.get("Item")


def test_no_secret_of_a_connect_sync_refresh_disconnect_run_reaches_any_log(tmp_path: Any) -> None:
    with running_stack(tmp_path / "dev", "--accelerate", "300") as stack:
        person = requests.Session()
        # Connect: the login stores a pending login (its verifier is read from the table before it is used)
        login = person.get(f"{stack.url}/auth/x/login", allow_redirects=False, timeout=10)
        assert login.status_code == 302
        state = parse_qs(urlsplit(login.headers["location"]).query)["state"][0]
        pending = table_item(stack, "LikesTable", "LOGIN#" + digest(state), "LOGIN")
        assert pending is not None
        verifier = pending["verifier"]["S"]
        back = consent(login.headers["location"], "demo")
        code = parse_qs(urlsplit(back).query)["code"][0]
        done = person.get(back, allow_redirects=False, timeout=10)
        assert done.status_code == 302
        session_id = next(person.cookies[name] for name in SESSION_COOKIES if person.cookies.get(name))
        me = person.get(f"{stack.url}/api/me", timeout=10).json()
        user_id = me["x_user_id"]

        # The first sync, with the account's own token
        def synced() -> bool:
            sub = person.get(f"{stack.url}/api/subscriptions/demo", timeout=10).json()
            return bool(sub.get("like_count", 0) > 0 and sub["status"] == "ready")

        stack.wait_until(synced, 60, "the first sync")

        # Two hours later on X's clock the access token has expired: the next sync refreshes it first
        token_item = table_item(stack, "TokensTable", f"TOKEN#{user_id}")
        assert token_item is not None
        before = token_item["updated_at"]["S"]
        stack.sim("POST", "/_sim/clock/advance", {"seconds": 2 * 3600 + 60})
        assert cli(["--endpoint-url", stack.aws_endpoint, "sync", "demo"]) == 0  # the operator asks now

        def refreshed() -> bool:
            item = table_item(stack, "TokensTable", f"TOKEN#{user_id}")
            return item is not None and item["updated_at"]["S"] != before

        stack.wait_until(refreshed, 60, "a token refresh")
        stack.wait_until(synced, 30, "the sync after the refresh")

        # Disconnect: the api ends the session and enqueues the purge; the worker revokes and deletes
        gone = person.delete(f"{stack.url}/api/subscriptions/demo", headers={"Origin": stack.url}, timeout=10)
        assert gone.status_code == 204
        stack.wait_until(
            lambda: (
                table_item(stack, "TokensTable", f"TOKEN#{user_id}") is None
                and table_item(stack, "LikesTable", f"SUB#{user_id}", "PROFILE") is None
            ),
            60,
            "the purge",
        )
        client_secret = stack.sim("GET", "/_sim/credentials/demo")["oauth2"]["client_secret"]
        output = stack.output()

    # The run happened, and was logged: the lines are there to search
    assert "auth/x/callback" in output
    assert f"account connected  x_user_id={user_id}" in output
    secrets = {
        "state": state,
        "authorization code": code,
        "PKCE verifier": verifier,
        "session id": session_id,
        "client secret": client_secret,
    }
    found = {name for name, value in secrets.items() if value in output}
    assert found == set()
    assert ISSUED_TOKEN.findall(output) == []

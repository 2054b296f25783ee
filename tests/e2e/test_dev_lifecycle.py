"""`make dev`'s life: Ctrl-C stops everything it started, and the next start finds the same state.

How quickly it stops is measured by `python -m bench stop` (bench/RESULTS.md), not asserted here.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from local.provision import client
from local.stack import x
from local.xsim import XSim, XSimConfig
from tests.support.dev_stack import DevStack, alive, descendants, port_open, running_stack, start_stack, stop_stack

pytestmark = pytest.mark.e2e


def wait_for(stack: DevStack, path: str, check: Any, timeout: float, *, session: requests.Session | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = stack.request("GET", path, session=session)
        if status == 200 and check(body):
            return body
        time.sleep(0.1)
    raise AssertionError(f"GET {path} never satisfied the check\n{stack.output()[-3000:]}")


def test_ctrl_c_stops_every_process_and_closes_every_port(tmp_path: Path) -> None:
    # Given a running stack whose three functions have each run at least once (a process each, and moto's)
    stack = start_stack(tmp_path / "dev", "--accelerate", "60")
    try:
        person = stack.connect("demo")  # the first sync starts at connect
        wait_for(stack, "/api/subscriptions/demo", lambda b: b["status"] == "ready", 30, session=person)
        children = descendants(stack.process.pid)
        assert len(children) >= 4, stack.output()  # moto + fetcher + api + worker
        ports = (stack.port, stack.aws_port, stack.x_port)
        assert all(port_open(p) for p in ports)
        # When it gets Ctrl-C (SIGINT); how long that takes is a benchmark's figure (`python -m bench stop`)
        stack.interrupt()
    finally:
        stop_stack(stack)
    # Then it exits cleanly, with nothing left running or listening
    assert stack.process.returncode == 0, stack.output()[-2000:]
    assert [pid for pid in children if alive(pid)] == []
    assert not any(port_open(p) for p in ports)
    assert "stopped in" in stack.output()


def test_a_restart_on_the_same_data_dir_finds_the_same_subscribers_and_likes(tmp_path: Path) -> None:
    data_dir = tmp_path / "dev"
    # Given a stack on which demo connected and synced its likes, and something encrypted with the tokens' key,
    # then stopped
    with running_stack(data_dir, "--accelerate", "60") as first:
        person = first.connect("demo")
        before = wait_for(first, "/api/subscriptions/demo", lambda b: b["status"] == "ready", 30, session=person)
        stored_before = first.stored_likes_of(person)
        sealed = tokens_key_encrypt(first, b"sealed before the restart")
    # When it starts again on the same data directory
    with running_stack(data_dir, "--accelerate", "60") as second:
        # Then demo's session still holds (its cookie, on the new port), demo is still subscribed, with the same
        # likes in the same slots, and picks come from them
        status, after = second.request("GET", "/api/subscriptions/demo", session=person)
        assert status == 200, after
        assert after["like_count"] == before["like_count"] == len(stored_before)
        assert after["history_complete"] is True
        assert second.stored_likes_of(person)[: len(stored_before)] == stored_before
        code, pick = second.request("GET", "/api/subscriptions/demo/likes/random", session=person)
        assert code == 200, pick
        assert pick["post"]["id"] in stored_before
        # ... and what the tokens' key sealed before still opens: the key kept its material and its id
        assert tokens_key_decrypt(second, sealed) == b"sealed before the restart"
    # And with --clean it starts from nothing
    with running_stack(data_dir, "--clean") as third:
        assert third.request("GET", "/api/subscriptions/demo", session=person)[0] == 404


def tokens_key_encrypt(stack: DevStack, plaintext: bytes) -> bytes:
    kms = client("kms", stack.aws_endpoint)
    key = stack.resources()["TokensKey"]
    blob: bytes = kms.encrypt(KeyId=key, Plaintext=plaintext, EncryptionContext={"x_user_id": "1"})["CiphertextBlob"]
    return blob


def tokens_key_decrypt(stack: DevStack, blob: bytes) -> bytes:
    kms = client("kms", stack.aws_endpoint)
    plain: bytes = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"x_user_id": "1"})["Plaintext"]
    return plain


def test_with_x_api_base_url_set_the_stack_talks_to_that_server_instead_of_its_simulator(tmp_path: Path) -> None:
    # Given an X-compatible server of our own, and its credentials in the environment: the operator's OAuth 1.0a
    # keys, and the app's OAuth 2.0 client with the server's consent page
    with XSim(XSimConfig(seed=7)) as elsewhere:
        credentials = elsewhere.oauth1_credentials("demo").as_dict()
        oauth2 = elsewhere.oauth2_client
        environment = {
            "X_API_BASE_URL": elsewhere.base_url,
            "X_CREDENTIALS_JSON": json.dumps(credentials),
            "X_AUTHORIZE_URL": f"{elsewhere.base_url}/i/oauth2/authorize",
            "X_OAUTH2_CLIENT_ID": oauth2.client_id,
            "X_OAUTH2_CLIENT_SECRET": oauth2.client_secret,
        }
        stack = start_stack(tmp_path / "dev", "--accelerate", "60", env=environment)
        try:
            # When demo connects (on that server's consent page)
            person = stack.connect("demo")
            synced = wait_for(stack, "/api/subscriptions/demo", lambda b: b["status"] == "ready", 30, session=person)
            # Then the likes came from that server, and the stack started no simulator of its own
            requests_made = elsewhere.billing()["apps"]
            assert sum(sum(app["requests"].values()) for app in requests_made.values()) >= 2
            assert set(stack.stored_likes_of(person)) <= set(elsewhere.like_ids("demo"))
            assert synced["like_count"] > 0
            assert not port_open(stack.x_port)
            # ... and no credential was ever printed
            assert not any(secret in stack.output() for secret in [*credentials.values(), oauth2.client_secret])
        finally:
            stop_stack(stack)


def test_the_simulated_x_still_knows_connected_accounts_tokens_after_a_restart(tmp_path: Path) -> None:
    # Given make dev's simulator, on which demo connected (the stack's own callback is its redirect URI)
    callback = "http://127.0.0.1:3999/auth/x/callback"
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "seed": 42,
        "accelerate": 1.0,
        "media_base_url": "http://127.0.0.1:3999/x-media",
        "data_dir": tmp_path,
        "callback_urls": (callback,),
    }
    first = x.simulated(clean=True, **options)
    assert first.simulator is not None
    tokens = first.simulator.oauth2_login("demo", redirect_uri=callback)
    issued = first.simulator.app.oauth2.grants()["issued"]
    first.stop()
    # ... and what the state file keeps of them are digests, never the tokens
    kept = (tmp_path / x.STATE_FILE).read_text(encoding="utf-8")
    assert tokens.access_token not in kept
    assert tokens.refresh_token is not None
    assert tokens.refresh_token not in kept

    # When the stack starts again on the same data directory
    second = x.simulated(clean=False, **options)
    try:
        assert second.simulator is not None
        oauth2 = second.simulator.app.oauth2
        # Then the access token still works, the refresh token still refreshes (once), and no new token can
        # repeat an old one
        grant = oauth2.access(tokens.access_token)
        assert grant is not None
        assert grant.user_id == second.simulator.user_id("demo")
        client = second.oauth2_client
        assert client is not None
        basic = "Basic " + base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
        refreshed = oauth2.token({"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}, basic)
        assert refreshed["access_token"] != tokens.access_token
        assert oauth2.grants()["issued"] > issued
    finally:
        second.stop()
    # And with --clean, they are gone
    third = x.simulated(clean=True, **options)
    try:
        assert third.simulator is not None
        assert third.simulator.app.oauth2.access(tokens.access_token) is None
    finally:
        third.stop()

"""Connect with X over real HTTP: the offline gateway (local/stack/gateway.py) in front of the api handler, a
`requests.Session` as the browser, the simulator's consent form in between. What `make dev`, the e2e tests and
the bench do with tests/support/accounts.py."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from api.app import handler
from local.context import LocalLambdaContext
from local.provision import StackResources
from local.stack.functions import Invocation
from local.stack.gateway import Gateway
from local.stack.logstream import LogStream
from tests.support.accounts import connect_over_http
from tests.unit.test_local_template_reading import stack as read_template_stack


@pytest.fixture
def app_base(stack: StackResources) -> Iterator[str]:
    """The api handler behind the offline gateway, on a free loopback port: the app's base URL."""
    (api,) = read_template_stack().http_apis

    def invoke(function: str, event: dict[str, Any], request_id: str, wait: float) -> Invocation:
        return Invocation(request_id, True, handler(event, LocalLambdaContext("random-likes-ApiFunction", 10)))

    gateway = Gateway(LogStream(io.StringIO(), color=False), host="127.0.0.1", port=0)
    gateway.attach(api, invoke, function_timeouts={"ApiFunction": 10})
    gateway.start()
    yield f"http://127.0.0.1:{gateway.port}/"
    gateway.stop()


def test_a_browser_connects_over_http_and_its_cookie_works_without_secure(app_base: str) -> None:
    browser = requests.Session()

    session_id = connect_over_http(app_base, browser, "demo", next_path="/?u=demo")

    cookie = next(c for c in browser.cookies if c.name == "rl_session")
    assert cookie.value == session_id
    assert cookie.secure is False
    assert cookie.has_nonstandard_attr("HttpOnly")
    me = browser.get(app_base + "api/me", timeout=10)
    assert me.status_code == 200
    assert me.json()["username"] == "demo"
    shared = browser.patch(app_base + "api/subscriptions/demo", json={"visibility": "public"}, timeout=10)
    assert shared.json()["visibility"] == "public"
    assert requests.get(app_base + "api/subscriptions/demo", timeout=10).status_code == 200  # anyone, by link
    assert browser.post(app_base + "auth/logout", timeout=10).status_code == 204
    assert browser.get(app_base + "api/me", timeout=10).status_code == 401

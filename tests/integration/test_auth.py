"""Connect with X through the simulator's real consent form, the pending login's one use, `next`, the session
cookie and its end: the api handler in-process, X the simulator over loopback."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from api.app import handler
from api.context import logger as api_logger
from local.provision import StackResources
from local.xsim import XSim
from shared.accounts import digest
from shared.models import PendingLogin
from shared.store import Stores
from tests.support.accounts import AWS, LOCAL, ApiClient, Site, consent
from tests.support.cold_start import cold_start


@pytest.fixture
def browser(stack: StackResources) -> ApiClient:
    return ApiClient(handler, LOCAL)


@pytest.fixture
def aws_browser(stack: StackResources) -> ApiClient:
    return ApiClient(handler, AWS)


def test_connecting_demo_signs_in_and_creates_its_private_subscription(
    browser: ApiClient, pipeline_x: XSim, store: Stores
) -> None:
    browser.connect("demo")

    me = browser.get("/api/me")
    assert me.status == 200
    body = me.json()
    assert body["username"] == "demo"
    assert body["x_user_id"] == pipeline_x.user_id("demo")
    assert body["subscription"]["visibility"] == "private"
    assert body["subscription"]["owner"] is True
    sub = store.subscribers.get_subscriber(pipeline_x.user_id("demo"))
    assert sub is not None
    assert sub.auth.value == "oauth2"


def connect_response(browser: ApiClient, username: str = "demo", next_path: str | None = None) -> Any:
    """The callback's answer of a whole Connect with X."""
    return browser.callback(consent(browser.start_login(next_path), username))


def test_login_sends_the_browser_to_x_with_pkce_state_and_the_scopes(browser: ApiClient, pipeline_x: XSim) -> None:
    location = browser.start_login()

    url = urlsplit(location)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == pipeline_x.base_url + "/i/oauth2/authorize"
    assert query["response_type"] == "code"
    assert query["client_id"] == pipeline_x.oauth2_client.client_id
    assert query["redirect_uri"] == "http://127.0.0.1:3000/auth/x/callback"
    assert query["scope"] == "tweet.read users.read like.read offline.access"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32
    assert "rl_login" in browser.cookies


def test_over_http_the_cookies_are_httponly_lax_at_the_app_path_without_secure(browser: ApiClient) -> None:
    login = browser.get("/auth/x/login")
    done = connect_response(browser)

    binding = login.cookie("rl_login")
    session = done.cookie("rl_session")
    assert binding is not None
    assert session is not None
    assert "; Path=/auth/x/callback" in binding
    assert "; Max-Age=600" in binding
    assert "; HttpOnly" in binding
    assert "; SameSite=Lax" in binding
    assert "Secure" not in binding
    assert "; Path=/;" in session
    assert "; HttpOnly" in session
    assert "; SameSite=Lax" in session
    assert "Secure" not in session
    assert len(session.split(";", 1)[0].split("=", 1)[1]) >= 43  # 32 random bytes, base64url
    assert done.cookie("__Host-rl_session") is None


def test_over_https_the_session_cookie_is_host_prefixed_and_secure(aws_browser: ApiClient) -> None:
    login = aws_browser.get("/auth/x/login")
    done = connect_response(aws_browser)

    binding = login.cookie("rl_login")
    session = done.cookie("__Host-rl_session")
    assert binding is not None
    assert "; Path=/prod/auth/x/callback" in binding
    assert "; Secure" in binding
    assert session is not None
    assert "; Path=/;" in session
    assert "; Secure" in session
    assert "; HttpOnly" in session
    assert "; SameSite=Lax" in session
    assert done.cookie("rl_session") is None
    assert done.headers["location"] == "/prod/"
    assert aws_browser.get("/api/me").status == 200


def test_a_replayed_callback_is_refused_with_a_page_that_offers_to_try_again(browser: ApiClient) -> None:
    back = consent(browser.start_login(), "demo")
    first = browser.callback(back)
    browser.cookies.clear()
    browser.get("/auth/x/login")  # a fresh binding cookie: only the state is spent

    replay = browser.callback(back)

    assert first.status == 302
    assert replay.status == 400
    assert replay.headers["content-type"].startswith("text/html")
    assert "expired or was already used" not in replay.body  # the page speaks to people, not in exceptions
    assert "This sign-in has expired" in replay.body
    assert 'href="/auth/x/login"' in replay.body
    assert replay.cookie("rl_session") is None
    assert browser.get("/api/me").status == 401


def test_an_expired_pending_login_is_refused(browser: ApiClient, store: Stores) -> None:

    store.logins.put_login(
        digest("fake-state-1"),
        PendingLogin("fake-verifier-" + "v" * 40, "/", digest("fake-binding-1"), datetime(2020, 1, 1, tzinfo=UTC)),
    )
    browser.cookies["rl_login"] = "fake-binding-1"

    page = browser.get("/auth/x/callback", query="state=fake-state-1&code=fake-code-1")

    assert page.status == 400
    assert "This sign-in has expired" in page.body
    assert store.logins.consume_login(digest("fake-state-1")) is None  # spent all the same


def test_a_replayed_code_is_refused(browser: ApiClient) -> None:

    first = consent(browser.start_login(), "demo")
    assert browser.callback(first).status == 302
    old_code = parse_qs(urlsplit(first).query)["code"][0]
    fresh = consent(browser.start_login(), "demo")
    state = parse_qs(urlsplit(fresh).query)["state"][0]

    replay = browser.get("/auth/x/callback", query=f"state={state}&code={old_code}")

    assert replay.status == 400
    assert "This sign-in has expired" in replay.body


@pytest.mark.parametrize(
    "bad_next",
    [
        "//evil.example",
        "https://evil.example",
        "http://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "/%2F%2Fevil.example",
        "/%5Cevil.example",
        "/\tevil",
        "/\r\nSet-Cookie: x=1",
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
def test_a_next_that_is_not_a_path_of_this_app_goes_to_the_start_page(browser: ApiClient, bad_next: str) -> None:
    done = connect_response(browser, next_path=bad_next)
    assert done.status == 302
    assert done.headers["location"] == "/"


@pytest.mark.parametrize(
    ("site", "wanted", "landed"),
    [
        (LOCAL, "/?u=demo", "/?u=demo"),
        (AWS, "/prod/?u=demo", "/prod/?u=demo"),
        (AWS, "/other/", "/prod/"),  # outside the stage
        (AWS, "/prod//evil.example", "/prod//evil.example"),  # a path of this app, however odd
    ],
)
def test_next_may_be_a_path_under_the_app_and_its_stage(
    stack: StackResources, site: Site, wanted: str, landed: str
) -> None:
    browser = ApiClient(handler, site)
    done = connect_response(browser, next_path=wanted)
    assert done.headers["location"] == landed


def test_saying_no_on_x_ends_on_a_page_and_signs_nobody_in(browser: ApiClient) -> None:
    back = consent(browser.start_login(), "demo", decision="deny")

    page = browser.callback(back)

    assert "error=access_denied" in back
    assert page.status == 403
    assert "You did not connect your X account" in page.body
    assert 'href="/auth/x/login"' in page.body
    assert page.cookie("rl_session") is None
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_a_callback_from_another_browser_is_refused(browser: ApiClient) -> None:
    back = consent(browser.start_login(), "demo")
    browser.cookies.pop("rl_login")

    missing = browser.callback(back)

    assert missing.status == 400
    assert "started in another browser" in missing.body
    assert browser.get("/api/me").status == 401


def test_a_wrong_binding_cookie_is_refused(browser: ApiClient) -> None:
    back = consent(browser.start_login(), "demo")
    browser.cookies["rl_login"] = "fake-binding-of-someone-else"

    assert "started in another browser" in browser.callback(back).body


def test_x_failing_ends_on_a_page_not_a_5xx(browser: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:

    authorize = browser.start_login()
    monkeypatch.setenv("X_API_BASE_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    cold_start()
    back = consent(authorize, "demo")

    page = browser.callback(back)

    assert page.status == 400
    assert "X could not connect your account" in page.body
    assert "Traceback" not in page.body
    assert page.cookie("rl_session") is None


def test_an_unreadable_client_secret_ends_on_a_page_not_a_5xx(
    browser: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    authorize = browser.start_login()
    monkeypatch.setenv("X_OAUTH2_CLIENT_PARAMETER", "/random-likes/test/no-such-parameter")
    cold_start()
    back = consent(authorize, "demo")

    answers = [browser.callback(back), browser.get("/auth/x/login")]

    assert [a.status for a in answers] == [400, 400]
    assert all("X could not connect your account" in a.body for a in answers)


def test_a_forged_session_cookie_is_not_signed_in(browser: ApiClient) -> None:
    browser.cookies["rl_session"] = "fake-session-id-that-nobody-was-given"

    answer = browser.get("/api/me")

    assert answer.status == 401
    assert answer.json()["error"]["code"] == "not_signed_in"
    assert "Connect with X" in answer.json()["error"]["message"]


def test_an_expired_session_is_not_signed_in(browser: ApiClient, store: Stores) -> None:

    session_id = browser.connect("demo")
    session = store.sessions.get_session(digest(session_id))
    assert session is not None
    store.sessions.put_session(replace(session, expires_at=datetime(2020, 1, 1, tzinfo=UTC)))

    assert browser.get("/api/me").status == 401


def test_a_session_slides_its_expiry_on_at_most_once_a_day(browser: ApiClient, store: Stores) -> None:

    session_id = browser.connect("demo")
    fresh = store.sessions.get_session(digest(session_id))
    assert fresh is not None
    browser.get("/api/me")
    assert store.sessions.get_session(digest(session_id)) == fresh  # young: not written again
    store.sessions.put_session(replace(fresh, expires_at=fresh.expires_at - timedelta(days=2)))

    browser.get("/api/me")

    slid = store.sessions.get_session(digest(session_id))
    assert slid is not None
    assert slid.expires_at > fresh.expires_at - timedelta(days=1)


def test_logout_ends_the_session_on_the_server(browser: ApiClient, store: Stores) -> None:

    session_id = browser.connect("demo")

    out = browser.request("POST", "/auth/logout")

    assert out.status == 204
    cleared = out.cookie("rl_session")
    assert cleared is not None
    assert "Max-Age=0" in cleared
    assert store.sessions.get_session(digest(session_id)) is None
    browser.cookies["rl_session"] = session_id  # a copy of the cookie is worth nothing now
    assert browser.get("/api/me").status == 401


def test_me_without_a_session_is_401(browser: ApiClient) -> None:
    answer = browser.get("/api/me")
    assert answer.status == 401
    assert answer.json()["error"]["code"] == "not_signed_in"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every line the api function logs, its domain loggers included (they copy the api logger's handlers and
    level at a cold start), at DEBUG."""
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(api_logger.registered_formatter)
    api_logger.addHandler(handler)
    api_logger.setLevel("DEBUG")
    cold_start()
    yield lines
    api_logger.removeHandler(handler)
    api_logger.setLevel("INFO")
    cold_start()


def test_no_secret_of_a_sign_in_reaches_a_log_line(
    browser: ApiClient, pipeline_x: XSim, log_lines: io.StringIO
) -> None:
    # Given a whole sign-in, a read, a denied one, a replay, a sign-out and a disconnect, every log line captured
    authorize = browser.start_login("/?u=demo")
    back = consent(authorize, "demo")
    binding = browser.cookies["rl_login"]
    browser.callback(back)
    session_id = browser.session_id()
    browser.get("/api/me")
    browser.callback(back)  # replayed
    browser.callback(consent(browser.start_login(), "demo", decision="deny"))
    browser.request("POST", "/auth/logout")
    browser.connect("demo")
    browser.request("DELETE", "/api/subscriptions/demo")

    # Then none of its secrets is in any of them
    query = {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}
    secrets = {
        "state": query["state"],
        "code": query["code"],
        "binding": binding,
        "session": session_id,
        "challenge": parse_qs(urlsplit(authorize).query)["code_challenge"][0],
        "client secret": pipeline_x.oauth2_client.client_secret,
    }
    captured = log_lines.getvalue()
    assert "account connected" in captured  # the log lines were captured
    assert [name for name, value in secrets.items() if value in captured] == []

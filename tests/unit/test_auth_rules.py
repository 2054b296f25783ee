"""The sign-in rules that need no table: where `next` may lead, which writes count as cross-site, and how a
pending login is used once and bound to its browser (with in-memory ports)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from api.guard import Origin, check_write, origin_of, safe_next
from shared.accounts import LoginFailed, digest, finish_login, pkce_challenge, start_login
from shared.errors import CrossSite, UnsupportedMediaType
from shared.models import PendingLogin
from tests.support.events import load_event

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
AWS = Origin("https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/")
LOCAL = Origin("http://127.0.0.1:3000/")


class Logins:
    def __init__(self) -> None:
        self.items: dict[str, PendingLogin] = {}

    def put_login(self, state_hash: str, login: PendingLogin) -> None:
        self.items[state_hash] = login

    def consume_login(self, state_hash: str) -> PendingLogin | None:
        return self.items.pop(state_hash, None)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "//evil.example",
        "https://evil.example/prod/",
        "/\\evil.example",
        "/prod/\\evil",
        "/%2F%2Fevil.example",
        "/prod%2F..%2F%2Fevil",
        "/%5Cevil",
        "/prod/\x00",
        "/prod/\u007f",
        "/other/",
        "prod/",
        "/" + "a" * 600,
    ],
)
def test_anything_but_a_path_under_the_stage_goes_to_the_start_page(raw: str | None) -> None:
    assert safe_next(raw, AWS) == "/prod/"


@pytest.mark.parametrize("raw", ["/prod/", "/prod/?u=demo", "/prod/assets/app.css", "/prod/?u=demo#card"])
def test_a_path_of_the_app_is_kept(raw: str) -> None:
    assert safe_next(raw, AWS) == raw


def test_locally_every_path_is_the_apps() -> None:
    assert safe_next("/?u=demo", LOCAL) == "/?u=demo"
    assert safe_next("//evil.example", LOCAL) == "/"


def event(**headers: str) -> APIGatewayProxyEventV2:
    raw: dict[str, Any] = load_event("api-patch-subscription")
    raw["headers"].update(headers)
    return APIGatewayProxyEventV2(raw)


def test_the_origin_comes_from_the_stage_and_domain_on_aws_and_from_the_host_locally() -> None:
    assert origin_of(event(), None).base == AWS.base
    local = load_event("api-page")
    local["requestContext"]["stage"] = "$default"
    local["headers"].update({"host": "127.0.0.1:3000", "x-forwarded-proto": "http"})
    assert origin_of(APIGatewayProxyEventV2(local), None).base == LOCAL.base
    assert origin_of(event(), "https://likes.example/").redirect_uri == "https://likes.example/auth/x/callback"


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"origin": "http://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"},  # not the same scheme
        {"sec-fetch-site": "cross-site"},
    ],
)
def test_a_write_from_another_site_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(CrossSite) as refused:
        check_write(event(**headers), AWS)
    assert refused.value.code == "cross_site"


def test_a_write_from_the_app_itself_passes_and_a_form_body_is_415() -> None:
    passed = [
        check_write(event(origin="https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"), AWS),
        check_write(event(**{"sec-fetch-site": "same-origin"}), AWS),
    ]
    assert passed == [None, None]
    with pytest.raises(UnsupportedMediaType) as refused:
        check_write(event(**{"content-type": "text/plain"}), AWS)
    assert refused.value.code == "unsupported_media_type"


def test_a_pending_login_is_used_once_and_only_by_its_browser() -> None:
    logins = Logins()
    started = start_login("/prod/", NOW, logins=logins)

    login = finish_login(started.state, started.binding, NOW + timedelta(minutes=1), logins=logins)

    assert login.next_path == "/prod/"
    assert pkce_challenge(login.verifier) == started.code_challenge
    assert started.state not in repr(started)
    assert started.binding not in repr(started)
    assert digest(started.state) not in logins.items  # spent
    with pytest.raises(LoginFailed) as replay:
        finish_login(started.state, started.binding, NOW, logins=logins)
    assert replay.value.reason == "expired"


@pytest.mark.parametrize(
    ("binding", "after", "reason"), [("fake-other", 1, "not_bound"), (None, 1, "not_bound"), ("own", 11, "expired")]
)
def test_a_pending_login_refuses_another_browser_and_old_age(binding: str | None, after: int, reason: str) -> None:
    logins = Logins()
    started = start_login("/", NOW, logins=logins)
    sent = started.binding if binding == "own" else binding

    with pytest.raises(LoginFailed) as refused:
        finish_login(started.state, sent, NOW + timedelta(minutes=after), logins=logins)

    assert refused.value.reason == reason
    assert not logins.items  # spent all the same: a second try needs a new login

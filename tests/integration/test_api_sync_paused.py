"""A subscription's JSON says when syncing is paused for everyone, until when and why (`sync_paused`); a pick
never pays for finding out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from api.app import handler
from local.provision import StackResources
from shared.models import SyncPause, Visibility
from shared.store import Stores
from shared.store.app_state import AppStateStore
from tests.support.accounts import AWS, ApiClient
from tests.support.fake_x import make_post
from tests.support.stored import store_likes


@pytest.fixture
def browser(stack: StackResources) -> ApiClient:
    """Someone signed out, reading a public subscription."""
    return ApiClient(handler, AWS)


def status_of(browser: ApiClient, username: str) -> dict[str, Any]:
    response = browser.get(f"/api/subscriptions/{username}")
    assert response.status == 200
    body: dict[str, Any] = response.json()
    # Every answer is one the served OpenAPI document allows
    spec = OpenAPI.from_dict(browser.get("/api/openapi.json").json())
    spec.validate_response(
        MockRequest("https://example.com", "get", f"/api/subscriptions/{username}"),
        MockResponse(json.dumps(body).encode(), status_code=200, content_type="application/json"),
    )
    return body


def test_nothing_paused_is_null(browser: ApiClient, store: Stores, username: str) -> None:
    store_likes(store, username, [make_post(1)], visibility=Visibility.PUBLIC)

    assert status_of(browser, username)["sync_paused"] is None


def test_a_spent_daily_budget_pauses_until_midnight_utc(browser: ApiClient, store: Stores, username: str) -> None:
    # Given today's budget (template.yaml's default, 2000 post reads) spent, as the workers settle their reads
    store_likes(store, username, [make_post(1)], visibility=Visibility.PUBLIC)
    now = datetime.now(UTC)
    store.app_state.settle(now, reserved=0, posts_read=2000, x_requests=20)

    # Then the subscription says syncing is paused until the next UTC midnight, and why
    tomorrow = (now + timedelta(days=1)).strftime("%Y-%m-%d")
    assert status_of(browser, username)["sync_paused"] == {"until": f"{tomorrow}T00:00:00Z", "reason": "daily_budget"}


def test_xs_usage_cap_pauses_too(browser: ApiClient, store: Stores, username: str) -> None:
    store_likes(store, username, [make_post(1)], visibility=Visibility.PUBLIC)
    until = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    store.app_state.save_pause(SyncPause(until, "x_usage_cap"))

    paused = status_of(browser, username)["sync_paused"]

    assert paused == {"until": until.isoformat().replace("+00:00", "Z"), "reason": "x_usage_cap"}


def test_a_pick_reads_no_app_state(
    browser: ApiClient, store: Stores, username: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a public subscription, and a note of every read of the app's counters and pause
    store_likes(store, username, [make_post(n) for n in range(3)], visibility=Visibility.PUBLIC)
    reads: list[str] = []
    usage, pause = AppStateStore.usage, AppStateStore.pause
    monkeypatch.setattr(AppStateStore, "usage", lambda self, period: reads.append(period) or usage(self, period))
    monkeypatch.setattr(AppStateStore, "pause", lambda self, now: reads.append("pause") or pause(self, now))

    # When someone picks, then asks for the status
    assert browser.get(f"/api/subscriptions/{username}/likes/random").status == 200
    picked = list(reads)
    status_of(browser, username)

    # Then the pick read none of them, the status its three items
    assert picked == []
    assert len(reads) == 3

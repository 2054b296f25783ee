"""Views of a subscription's page: remembered at most once a day (a pick stays reads), and a parked
subscription (nobody opened it for 30 days, so it is not synced) is due at once when someone opens it. A
failed write of a view never fails the page. The domain function on moto, then the api's two read routes."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.app import handler
from api.context import runtime
from local.context import LocalLambdaContext
from local.provision import StackResources
from shared.models import Activity, Subscriber, SubscriberStatus, SyncEnd, Visibility
from shared.schedule import SchedulePolicy
from shared.store import Stores
from shared.subscriptions import note_view
from tests.support.events import http_event
from tests.support.fake_x import ManualClock, make_post
from tests.support.stored import store_likes

EVERY = SchedulePolicy().view_every


class CountingViews:
    """The real store, counting the view writes asked of it (or failing them, as a throttled table would)."""

    def __init__(self, store: Stores, *, fail: bool = False) -> None:
        self._store = store
        self.writes = 0
        self.fail = fail

    def mark_viewed(self, key: str, now: datetime, *, every: timedelta) -> Subscriber | None:
        self.writes += 1
        if self.fail:
            raise RuntimeError("ProvisionedThroughputExceededException")
        return self._store.subscribers.mark_viewed(key, now, every=every)


def park(store: Stores, key: str, when: datetime) -> None:
    """A sync that found nobody had opened the subscription for 30 days: it leaves the due index."""
    end = SyncEnd(SubscriberStatus.READY, when, when + timedelta(days=7), activity=Activity(0.1, None, None, True))
    parked = store.subscribers.finish_sync(key, end)
    assert parked is not None
    assert (parked.parked, parked.next_sync_at) == (True, None)


def profile(store: Stores, key: str) -> Subscriber:
    sub = store.subscribers.get_subscriber(key, consistent=True)
    assert sub is not None
    return sub


def due_now(store: Stores, key: str, now: datetime) -> bool:
    return key in {sub.key for sub in store.subscribers.iter_subscribers(due_before=now)}


def test_a_subscription_viewed_twice_in_a_day_is_written_once(store: Stores, clock: ManualClock) -> None:
    # Given a subscription created three days ago, never viewed since
    store.subscribers.create_subscriber("ann", "ann", clock.now() - timedelta(days=3), clock.now())
    views = CountingViews(store)

    # When its page is opened, and again an hour later (each time with the profile the request read)
    note_view(profile(store, "ann"), store=views, now=clock.now(), every=EVERY)
    clock.advance(hours=1)
    note_view(profile(store, "ann"), store=views, now=clock.now(), every=EVERY)

    # Then one write remembered the first view; the second was only the read the page needed anyway
    assert views.writes == 1
    assert profile(store, "ann").last_viewed_at == clock.now() - timedelta(hours=1)

    # ... and a day after the first, a view is written again
    clock.advance(days=1)
    note_view(profile(store, "ann"), store=views, now=clock.now(), every=EVERY)
    assert views.writes == 2
    assert profile(store, "ann").last_viewed_at == clock.now()


def test_a_parked_subscription_is_due_now_when_its_page_is_opened(store: Stores, clock: ManualClock) -> None:
    # Given a subscription that its last sync parked (out of the due index)
    store.subscribers.create_subscriber("ann", "ann", clock.now() - timedelta(days=40), clock.now())
    park(store, "ann", clock.now() - timedelta(days=1))
    assert not due_now(store, "ann", clock.now() + timedelta(days=30))

    # When its page is opened
    seen = note_view(profile(store, "ann"), store=CountingViews(store), now=clock.now(), every=EVERY)

    # Then it is no longer parked and the fetcher finds it due now
    assert (seen.parked, seen.next_sync_at) == (False, clock.now())
    assert due_now(store, "ann", clock.now())


def test_a_failed_view_write_is_logged_and_the_page_goes_on(
    store: Stores, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a parked subscription, and a table that refuses the view's write
    store.subscribers.create_subscriber("ann", "ann", clock.now() - timedelta(days=40), clock.now())
    park(store, "ann", clock.now() - timedelta(days=1))
    sub = profile(store, "ann")

    # When its page is opened
    with caplog.at_level(logging.WARNING, logger="shared.subscriptions"):
        seen = note_view(sub, store=CountingViews(store, fail=True), now=clock.now(), every=EVERY)

    # Then the caller gets the profile it read, and the failure is in the log
    assert seen == sub
    assert "could not record a view" in caplog.text


# --- through the api's read routes -----------------------------------------------------------------------


def call(event: dict[str, Any]) -> tuple[int, Any]:
    event["cookies"] = []  # a visitor, signed out
    response = handler(event, LocalLambdaContext("random-likes-ApiFunction", 10))
    return response["statusCode"], json.loads(response["body"])


def parked_with_likes(store: Stores, username: str, visibility: Visibility) -> None:
    store_likes(store, username, [make_post(n) for n in range(3)], visibility=visibility)
    park(store, username, datetime.now(UTC) - timedelta(days=1))


@pytest.mark.parametrize("route", ["api-random-like", "api-get-subscription"])
def test_opening_a_parked_public_subscription_makes_it_due_now(
    route: str, stack: StackResources, store: Stores, username: str
) -> None:
    # Given a public subscription that its last sync parked
    parked_with_likes(store, username, Visibility.PUBLIC)

    # When a visitor opens its page (a pick, or its status)
    before = datetime.now(UTC).replace(microsecond=0)
    status, _ = call(http_event(route, username=username))

    # Then the page is answered, and the subscription is back in the schedule, due now
    assert status == 200
    sub = profile(store, username)
    assert not sub.parked
    assert sub.next_sync_at is not None
    assert sub.next_sync_at >= before
    assert due_now(store, username, datetime.now(UTC) + timedelta(seconds=1))


def test_someone_elses_private_subscription_is_not_viewed_by_a_visitor(
    stack: StackResources, store: Stores, username: str
) -> None:
    # Given a private subscription, parked
    parked_with_likes(store, username, Visibility.PRIVATE)

    # When a visitor asks for a pick
    status, body = call(http_event("api-random-like", username=username))

    # Then it is unknown to them, and it stays parked (only those allowed to see it count as views)
    assert (status, body["error"]["code"]) == (404, "not_subscribed")
    assert profile(store, username).parked


def test_a_pick_is_answered_when_the_view_cannot_be_written(
    stack: StackResources, store: Stores, username: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a parked public subscription, and a table that refuses the view's write (the api's own store)
    parked_with_likes(store, username, Visibility.PUBLIC)

    def refused(key: str, now: datetime, *, every: timedelta) -> Subscriber | None:
        raise RuntimeError("ProvisionedThroughputExceededException")

    monkeypatch.setattr(runtime().subscribers, "mark_viewed", refused)

    # When a visitor asks for a pick
    status, body = call(http_event("api-random-like", username=username))

    # Then the pick is answered all the same
    assert status == 200
    assert body["like_count"] == 3
    assert profile(store, username).parked

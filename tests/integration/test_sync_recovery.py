"""The sync after X's failures, on moto's DynamoDB: a 400 is a status of its own, a refused cursor restarts the
walk, and a transient failure says truthfully when SQS tries again while keeping the fetcher away.

X is the in-memory FakeX (tests/support/fake_x.py), so each failure lands on an exact request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from shared.errors import XInvalidCursor, XRejected, XUnavailable
from shared.models import LikesPage, SubscriberStatus
from shared.store import Stores
from shared.subscriptions import subscribe_own
from shared.sync import SyncPolicy
from shared.sync_queue import SyncRequest
from tests.integration.test_sync import assert_exactly, fake_x, run, subscribe
from tests.support.fake_x import FAKE_CURSOR as TOKEN
from tests.support.fake_x import FakeX, ManualClock
from tests.support.queues import SentQueue

LEASE = SyncPolicy().lease
RETRY_IN = SyncPolicy().retry_in


@dataclass
class RejectingX(FakeX):
    """X answering every likes request with a 400 invalid-request, in X's words."""

    message: str = "One or more parameters to your request was invalid: The `max_results` query parameter value [1]"

    def liked_posts(self, user_id: str, *, max_results: int, pagination_token: str | None) -> LikesPage:
        self.requests.append((max_results, pagination_token))
        raise XRejected(f"X answered 400: {self.message}")


@dataclass
class ForgetfulX(FakeX):
    """X that has forgotten the pagination tokens in `forgotten`: each is refused once, as X refuses stale ones."""

    forgotten: set[str] = field(default_factory=set)

    def liked_posts(self, user_id: str, *, max_results: int, pagination_token: str | None) -> LikesPage:
        if pagination_token in self.forgotten:
            self.forgotten.discard(pagination_token)
            self.requests.append((max_results, pagination_token))
            raise XInvalidCursor(f"The `pagination_token` query parameter value [{pagination_token}] is not valid")
        return super().liked_posts(user_id, max_results=max_results, pagination_token=pagination_token)


def failed_sync(store: Stores, username: str, clock: ManualClock, *, likes: int, on_request: int) -> FakeX:
    """A new subscriber whose first sync failed on X's `on_request`-th request (a 503): its SQS record failed."""
    x = fake_x(username, likes)
    x.fail_on = {on_request}
    subscribe(store, username, clock)
    with pytest.raises(XUnavailable, match="503"):
        run(store, x, clock, username)
    return x


def due(store: Stores, clock: ManualClock) -> set[str]:
    """Who the fetcher would find due now (its query; read only: the table is shared by the session's tests)."""
    return {sub.username for sub in store.subscribers.iter_subscribers(due_before=clock.now())}


def test_a_400_is_rejected_tried_again_in_a_day_and_raises_nothing(
    store: Stores, username: str, clock: ManualClock
) -> None:
    # Given X answering 400 to the likes request
    x = RejectingX(**vars(fake_x(username, 10)))
    subscribe(store, username, clock)

    # When the sync runs (no exception: the SQS record succeeds)
    status = run(store, x, clock, username)

    # Then the subscriber is rejected, with X's words, due again in a day, with no retry pending
    sub = store.subscribers.get_subscriber(username)
    assert status is SubscriberStatus.REJECTED
    assert sub is not None
    assert sub.last_error == f"X answered 400: {x.message}"
    assert sub.next_sync_at == clock.now() + timedelta(hours=24)
    assert sub.retry_at is None
    assert len(x.requests) == 1


def test_what_x_echoes_back_is_stored_without_its_secrets(store: Stores, username: str, clock: ManualClock) -> None:
    # Given a 400 whose message echoes a pagination token and an OAuth header
    x = RejectingX(**vars(fake_x(username, 10)))
    x.message = f'The `pagination_token` query parameter value [{TOKEN}] is not valid; oauth_signature="c2lnbmF0dXJl"'
    subscribe(store, username, clock)

    run(store, x, clock, username)

    sub = store.subscribers.get_subscriber(username)
    assert sub is not None
    assert sub.last_error == (
        "X answered 400: The `pagination_token` query parameter value [redacted] is not valid; "
        'oauth_signature="[redacted]"'
    )


def test_subscribing_again_rearms_a_rejected_subscriber(store: Stores, username: str, clock: ManualClock) -> None:
    # Given a subscriber X rejected
    x = RejectingX(**vars(fake_x(username, 10)))
    subscribe(store, username, clock)
    run(store, x, clock, username)

    # When its owner subscribes it again ("Try again" on the page)
    queue = SentQueue()
    own = store.subscribers.get_subscriber(username)
    assert own is not None
    sub, rearmed = subscribe_own(username, own, store=store.subscribers, queue=queue, clock=clock, lease=LEASE)

    # Then it is pending again, its error cleared, and a sync is enqueued at once
    assert (rearmed, sub.status, sub.last_error) == (True, SubscriberStatus.PENDING, None)
    assert queue.sent == [SyncRequest(subscriber=username, reason="retry")]


def test_a_refused_cursor_restarts_the_walk_from_the_top_and_loses_nothing(
    store: Stores, username: str, clock: ManualClock
) -> None:
    # Given a backfill paused by a rate limit after its first page, its walk saved with X's token
    x = ForgetfulX(**{**vars(fake_x(username, 250)), "rate_limit_after": 1})
    subscribe(store, username, clock)
    assert run(store, x, clock, username) is SubscriberStatus.RATE_LIMITED
    saved = store.subscribers.get_subscriber(username)
    assert saved is not None
    assert saved.walk is not None
    assert saved.walk.token is not None

    # When X has forgotten that token by the time the walk resumes
    x.forgotten = {saved.walk.token}
    x.rate_limit_after = None
    clock.current = x.reset_at
    status = run(store, x, clock, username)

    # Then the walk went back to the top (the 400 was not a rejection) and every like is stored exactly once
    assert status is SubscriberStatus.READY
    assert (100, saved.walk.token) in x.requests
    assert x.requests[x.requests.index((100, saved.walk.token)) + 1] == (100, None)
    assert_exactly(store, username, x.likes)


def test_a_transient_failure_says_when_sqs_retries_and_keeps_the_fetcher_away_until_the_lease_ends(
    store: Stores, username: str, clock: ManualClock
) -> None:
    # Given a sync that failed on its second page (X answered 503)
    failed_at = clock.now()
    x = failed_sync(store, username, clock, likes=250, on_request=2)

    # Then the subscriber shows the retry SQS will make, and the fetcher's lease lies a lease beyond it
    sub = store.subscribers.get_subscriber(username)
    assert sub is not None
    assert sub.status is SubscriberStatus.ERROR
    assert sub.retry_at == failed_at + RETRY_IN
    assert sub.next_sync_at == failed_at + RETRY_IN + LEASE
    assert sub.public_json()["retry_at"] is not None

    # And the fetcher does not find it due while the retry is pending, nor while the retried sync could run
    clock.advance(seconds=RETRY_IN.total_seconds() + 60)
    assert username not in due(store, clock)

    # And when the retry came (SQS delivered the message again), the announcement is gone with it
    assert run(store, x, clock, username) is SubscriberStatus.READY
    sub = store.subscribers.get_subscriber(username)
    assert sub is not None
    assert sub.retry_at is None
    assert_exactly(store, username, x.likes)


def test_if_the_dlq_took_the_message_the_fetcher_takes_over_after_the_lease(
    store: Stores, username: str, clock: ManualClock
) -> None:
    # Given a failed sync whose message never comes back (it went to the DLQ)
    failed_sync(store, username, clock, likes=50, on_request=1)

    # When the lease beyond the announced retry has run out
    clock.advance(seconds=(RETRY_IN + LEASE).total_seconds() + 1)

    # Then the fetcher finds it due, and its lease (taken before it enqueues) forgets the stale retry
    assert username in due(store, clock)
    stale = store.subscribers.get_subscriber(username)
    assert stale is not None
    assert stale.retry_at is not None
    assert store.subscribers.lease(username, stale.next_sync_at, clock.now() + LEASE)
    sub = store.subscribers.get_subscriber(username)
    assert sub is not None
    assert sub.retry_at is None
    assert sub.next_attempt_at(clock.now()) == clock.now() + LEASE

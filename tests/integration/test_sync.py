"""The sync on moto's DynamoDB: every like stored exactly once, whatever crashes, retries and limits do.

X here is the in-memory FakeX, so a fault lands on an exact request; the real X client over HTTP is tested
against the simulator elsewhere. Each test has a table of its own: the app-wide state (X's rate window, the
daily read budget) starts empty in every test, however often it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from shared.budget import ReadBudget
from shared.models import Post, SubscriberStatus
from shared.schedule import SchedulePolicy
from shared.store import LikeStore, Stores
from shared.store.items import Table
from shared.sync import SyncPolicy, SyncPorts, sync_subscriber
from tests.support.fake_x import FakeX, ManualClock, make_post

POLICY = SyncPolicy(schedule=SchedulePolicy(min_interval=timedelta(minutes=60)), lock_for=timedelta(minutes=5))


class Crash(BaseException):
    """A process that dies: no except clause of the sync sees it, nothing is cleaned up."""


class CrashingLikes(LikeStore):
    """The real like store, killed just before its n-th transaction (a page, or a 49-like chunk of one)."""

    def __init__(self, table: Table, crash_before_transaction: int) -> None:
        super().__init__(table)
        self.transactions = 0
        self.crash_at = crash_before_transaction

    def _transact(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        self.transactions += 1
        if self.transactions == self.crash_at:
            raise Crash
        super()._transact(*args, **kwargs)  # type: ignore[arg-type]


def subscribe(store: Stores, username: str, clock: ManualClock) -> None:
    store.subscribers.create_subscriber(username, username, clock.now(), clock.now())


def run(
    store: Stores,
    x: FakeX,
    clock: ManualClock,
    username: str,
    daily_budget: int = 0,
    likes: LikeStore | None = None,
) -> SubscriberStatus:
    budget = ReadBudget(store.app_state, clock, daily_budget)
    ports = SyncPorts(subscribers=store.subscribers, likes=likes or store.likes, x=x, budget=budget, clock=clock)
    return sync_subscriber(username, ports=ports, policy=POLICY, seconds_left=lambda: 60.0).status


def assert_exactly(store: Stores, username: str, posts: Sequence[Post]) -> None:
    """Dense slots 0..n-1, each post once, like_count == n."""
    stored = store.likes.all_post_ids(username)
    sub = store.subscribers.get_subscriber(username, consistent=True)
    assert sub is not None
    assert [slot for slot, _ in stored] == list(range(len(posts)))
    assert sorted(pid for _, pid in stored) == sorted(p.id for p in posts)
    assert sub.like_count == len(posts)


def fake_x(username: str, likes: int) -> FakeX:
    x = FakeX([make_post(n) for n in range(likes)])
    x.user = type(x.user)(id="1001", username=username, name=username)
    return x


def test_a_first_sync_stores_every_like_once_and_is_ready(store: Stores, username: str, clock: ManualClock) -> None:
    x = fake_x(username, 250)
    subscribe(store, username, clock)

    assert run(store, x, clock, username) is SubscriberStatus.READY

    assert_exactly(store, username, x.likes)
    sub = store.subscribers.get_subscriber(username)
    assert sub is not None
    assert sub.history_complete
    assert sub.walk is None
    # A backfill says nothing of the account's activity: its next sync follows the prior rate's cadence (a new
    # account starts at the shortest interval), spread by at most half the spread of the interval.
    schedule = POLICY.schedule
    cadence = schedule.min_interval
    assert sub.next_sync_at is not None
    assert abs(sub.next_sync_at - (clock.now() + cadence)) <= cadence * (schedule.spread / 2) + timedelta(seconds=1)
    assert [size for size, _ in x.requests] == [100, 100, 100]


def test_the_same_message_twice_changes_nothing(store: Stores, username: str, clock: ManualClock) -> None:
    x = fake_x(username, 120)
    subscribe(store, username, clock)
    run(store, x, clock, username)

    run(store, x, clock, username)  # SQS delivered it again

    assert_exactly(store, username, x.likes)
    assert x.requests[-1] == (5, None), "an incremental sync starts with a small page"


def test_a_sync_of_a_subscriber_another_sync_holds_is_skipped_and_reads_nothing(
    store: Stores, username: str, clock: ManualClock
) -> None:
    # Given a subscriber that another worker's sync holds
    x = fake_x(username, 20)
    subscribe(store, username, clock)
    assert store.subscribers.acquire(username, clock.now(), timedelta(minutes=5)) is not None
    ports = SyncPorts(
        subscribers=store.subscribers, likes=store.likes, x=x, budget=ReadBudget(store.app_state, clock, 0), clock=clock
    )

    # When a second sync of it runs
    outcome = sync_subscriber(username, ports=ports, policy=POLICY, seconds_left=lambda: 60.0)

    # Then it says it was skipped (the worker's write estimate counts no sync writes for it), and read nothing
    assert (outcome.skipped, outcome.detail, outcome.pages) == (True, "skipped: locked", 0)
    assert x.requests == []
    assert store.likes.all_post_ids(username) == []


def test_new_likes_are_appended_and_the_walk_stops_at_known_ones(
    store: Stores, username: str, clock: ManualClock
) -> None:
    x = fake_x(username, 40)
    subscribe(store, username, clock)
    run(store, x, clock, username)
    for n in range(1000, 1012):
        x.like(make_post(n))
    before = len(x.requests)

    run(store, x, clock, username)

    assert_exactly(store, username, x.likes)
    assert [size for size, _ in x.requests[before:]] == [5, 10], "pages grow only while every post is new"


@pytest.mark.parametrize("crash_at", [2, 3, 4])
def test_a_crash_between_pages_or_chunks_leaves_no_gap_and_no_duplicate(
    store: Stores, table: Table, username: str, clock: ManualClock, crash_at: int
) -> None:
    # 230 likes = pages of 100, 100, 30; a 100-post page takes three transactions (49 + 49 + 2).
    x = fake_x(username, 230)
    subscribe(store, username, clock)
    with pytest.raises(Crash):
        run(store, x, clock, username, likes=CrashingLikes(table, crash_before_transaction=crash_at))

    clock.advance(minutes=10)  # the dead sync's lock expires; SQS redelivers the message
    assert run(store, x, clock, username) is SubscriberStatus.READY

    assert_exactly(store, username, x.likes)


def test_likes_made_during_an_interrupted_backfill_are_caught_after_it(
    store: Stores, username: str, clock: ManualClock
) -> None:
    x = fake_x(username, 300)
    x.rate_limit_after = 2
    subscribe(store, username, clock)
    assert run(store, x, clock, username) is SubscriberStatus.RATE_LIMITED
    for n in range(2000, 2007):
        x.like(make_post(n))
    x.rate_limit_after = None
    clock.current = x.reset_at

    assert run(store, x, clock, username) is SubscriberStatus.READY

    assert_exactly(store, username, x.likes)


def test_a_rate_limit_defers_to_x_reset_and_fails_nothing(store: Stores, username: str, clock: ManualClock) -> None:
    x = fake_x(username, 300)
    x.rate_limit_after = 1
    subscribe(store, username, clock)

    status = run(store, x, clock, username)

    sub = store.subscribers.get_subscriber(username)
    assert status is SubscriberStatus.RATE_LIMITED
    assert sub is not None
    assert sub.next_sync_at == x.reset_at
    assert sub.like_count == 100
    assert sub.walk is not None
    assert sub.walk.token is not None
    assert store.app_state.rate_window("liked_tweets").remaining == 0


def test_a_refusal_from_x_is_a_status_retried_daily_not_a_loop(
    store: Stores, username: str, clock: ManualClock
) -> None:
    x = fake_x(username, 10)
    x.forbidden = True
    subscribe(store, username, clock)

    status = run(store, x, clock, username)

    sub = store.subscribers.get_subscriber(username)
    assert status is SubscriberStatus.FORBIDDEN
    assert sub is not None
    assert sub.next_sync_at == clock.now() + timedelta(hours=24)
    assert sub.last_error
    assert "will not give these likes" in sub.last_error


def test_an_unknown_x_user_is_not_found(store: Stores, username: str, clock: ManualClock) -> None:
    x = fake_x("somebodyelse", 10)
    subscribe(store, username, clock)

    assert run(store, x, clock, username) is SubscriberStatus.NOT_FOUND


def test_a_5xx_fails_the_record_keeps_what_is_stored_and_releases_the_lock(
    store: Stores, username: str, clock: ManualClock
) -> None:
    x = fake_x(username, 250)
    x.fail_on = {2}
    subscribe(store, username, clock)

    with pytest.raises(Exception, match="503"):
        run(store, x, clock, username)
    sub = store.subscribers.get_subscriber(username)
    assert sub is not None
    assert sub.status is SubscriberStatus.ERROR
    assert sub.like_count == 100

    assert run(store, x, clock, username) is SubscriberStatus.READY  # the retry, at once: no lock left behind
    assert_exactly(store, username, x.likes)


def test_the_depth_cap_ends_the_history(store: Stores, username: str, clock: ManualClock) -> None:
    x = fake_x(username, 150)
    x.depth_cap = 120
    subscribe(store, username, clock)

    run(store, x, clock, username)

    assert_exactly(store, username, x.likes[:120])


def test_the_daily_read_budget_stops_a_backfill_until_utc_midnight(
    store: Stores, username: str, clock: ManualClock
) -> None:
    x = fake_x(username, 500)
    clock.current = datetime(2031, 3, 4, 15, 0, tzinfo=UTC)  # a day of its own: usage is counted per UTC day
    subscribe(store, username, clock)

    status = run(store, x, clock, username, daily_budget=150)

    sub = store.subscribers.get_subscriber(username)
    assert status is SubscriberStatus.USAGE_CAPPED
    assert [size for size, _ in x.requests] == [100, 50], "the last page shrinks to what the budget has left"
    assert sub is not None
    assert sub.like_count == 150
    assert sub.next_sync_at == datetime(2031, 3, 5, tzinfo=UTC)
    assert store.app_state.usage("2031-03-04").posts_read == 150


def test_x_usage_cap_waits_for_the_next_utc_day_of_the_sync_clock(
    store: Stores, username: str, clock: ManualClock
) -> None:
    x = fake_x(username, 300)
    x.usage_capped_after = 1
    clock.current = datetime(2031, 7, 9, 22, 30, tzinfo=UTC)
    subscribe(store, username, clock)

    status = run(store, x, clock, username)

    sub = store.subscribers.get_subscriber(username)
    assert status is SubscriberStatus.USAGE_CAPPED
    assert sub is not None
    assert sub.like_count == 100, "the page read before the cap is kept"
    assert sub.next_sync_at == datetime(2031, 7, 10, tzinfo=UTC), "midnight after the injected clock's now"
    assert sub.last_error is not None
    assert "cap" in sub.last_error

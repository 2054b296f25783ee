"""A sync within the budget, on moto's DynamoDB: a fair share stops a backfill and the rest resumes later, and
a budget spent mid-backfill resumes the next UTC day from the saved walk, reading nothing twice.

X is the in-memory FakeX, extended to remember which posts it served with each request (X bills each one)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from shared.budget import ReadBudget
from shared.models import Budgets, LikesPage, SubscriberStatus, SyncOutcome
from shared.schedule import SchedulePolicy
from shared.store import Stores
from shared.sync import SyncPolicy, SyncPorts, sync_subscriber
from tests.support.fake_x import FakeX, ManualClock, make_post

POLICY = SyncPolicy(schedule=SchedulePolicy(min_interval=timedelta(minutes=60)), lock_for=timedelta(minutes=5))


@dataclass
class BilledX(FakeX):
    """FakeX that keeps the ids of the posts each request returned, in order."""

    served: list[list[str]] = field(default_factory=list)

    def liked_posts(self, user_id: str, *, max_results: int, pagination_token: str | None) -> LikesPage:
        page = super().liked_posts(user_id, max_results=max_results, pagination_token=pagination_token)
        self.served.append([post.id for post in page.posts])
        return page


def billed_x(username: str, likes: int) -> BilledX:
    x = BilledX([make_post(n) for n in range(likes)])
    x.user = type(x.user)(id="1001", username=username, name=username)
    return x


def sync(store: Stores, x: FakeX, clock: ManualClock, key: str, budgets: Budgets, policy: SyncPolicy) -> SyncOutcome:
    budget = ReadBudget(store.app_state, clock, budgets)
    ports = SyncPorts(subscribers=store.subscribers, likes=store.likes, x=x, budget=budget, clock=clock)
    return sync_subscriber(key, ports=ports, policy=policy, seconds_left=lambda: 60.0)


def stored_ids(store: Stores, key: str) -> list[str]:
    return [pid for _, pid in store.likes.all_post_ids(key)]


def test_a_fair_share_stops_the_backfill_and_the_next_sync_goes_on_from_there(
    store: Stores, username: str, clock: ManualClock
) -> None:
    # Given a new subscriber with 300 likes, and a sync whose fair share is 130 posts
    x = billed_x(username, 300)
    store.subscribers.create_subscriber(username, username, clock.now(), clock.now())

    # When it syncs
    first = sync(store, x, clock, username, Budgets(), replace(POLICY, max_posts=130))

    # Then it read a page of 100 and only the 30 left of its share, and stopped there, due again at once
    assert [size for size, _ in x.requests] == [100, 30]
    assert (first.status, first.posts_read) == (SubscriberStatus.SYNCING, 130)
    sub = store.subscribers.get_subscriber(username, consistent=True)
    assert sub is not None
    assert sub.walk is not None, "the walk is saved for the next sync"
    assert sub.next_sync_at == clock.now()

    # When the next sync has no cap
    clock.advance(minutes=5)
    second = sync(store, x, clock, username, Budgets(), POLICY)

    # Then it went on from the saved walk: every like stored once, no post served twice by the backfill
    assert second.status is SubscriberStatus.READY
    assert sorted(stored_ids(store, username)) == sorted(p.id for p in x.likes)
    backfill = [pid for page in x.served[:-1] for pid in page]
    assert sorted(backfill) == sorted(p.id for p in x.likes)


def test_a_budget_spent_mid_backfill_resumes_the_next_day_without_reading_anything_again(
    store: Stores, username: str, clock: ManualClock
) -> None:
    # Given a daily budget of 120 posts and a new subscriber with 200 likes (more than a day's budget)
    budgets = Budgets(daily=120)
    x = billed_x(username, 200)
    store.subscribers.create_subscriber(username, username, clock.now(), clock.now())

    # When it syncs today
    today = sync(store, x, clock, username, budgets, POLICY)

    # Then the budget stopped it: 120 posts read, the walk saved, and it waits for the next UTC midnight
    midnight = datetime(2026, 11, 29, tzinfo=UTC)
    assert (today.status, today.posts_read) == (SubscriberStatus.USAGE_CAPPED, 120)
    sub = store.subscribers.get_subscriber(username, consistent=True)
    assert sub is not None
    assert sub.walk is not None
    assert (sub.like_count, sub.next_sync_at) == (120, midnight)
    assert store.app_state.usage("2026-11-28").posts_read == 120

    # When the day has turned and it syncs again
    clock.current = midnight + timedelta(minutes=5)
    tomorrow = sync(store, x, clock, username, budgets, POLICY)

    # Then it finished from the saved walk: every like stored once
    assert tomorrow.status is SubscriberStatus.READY
    stored = stored_ids(store, username)
    assert len(stored) == len(set(stored)) == 200
    assert set(stored) == {p.id for p in x.likes}
    # ... X served each post once across both days; the one exception is the closing look at the top of the
    # list (5 posts, all known) that catches likes made while the walk was under way
    *backfill, closing = x.served
    assert sorted(pid for page in backfill for pid in page) == sorted(p.id for p in x.likes)
    assert x.requests[-1] == (5, None)
    assert set(closing) <= set(stored)
    # ... and no page was asked for twice
    tokens = [token for _, token in x.requests[:-1]]
    assert len(tokens) == len(set(tokens))
    assert store.app_state.usage("2026-11-29").posts_read == 80 + 5

"""Fairness under a tight budget, on moto's DynamoDB: the fetcher's ticks and the workers' syncs (the domain
functions, on a manual clock) over several simulated days, with far less budget than the accounts' backfills
want. Every account gets posts every day, none waits for another's backfill, and the budget holds."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from shared.budget import ReadBudget
from shared.clock import day_of
from shared.models import Budgets, LikesPage, XUser
from shared.schedule import SchedulePolicy
from shared.store import Stores
from shared.sync import SyncPolicy, SyncPorts, sync_subscriber
from tests.integration.test_fetcher import fetch
from tests.support.fake_x import FakeX, ManualClock, make_post

ACCOUNTS = 6
LIKES = 600  # each: a backfill of six 100-post pages
BUDGETS = Budgets(daily=150, monthly=100_000)  # a day pays for a quarter of one backfill
DAYS = 3
TICK = timedelta(hours=1)
POLICY = SyncPolicy(schedule=SchedulePolicy(min_interval=timedelta(hours=1)), lock_for=timedelta(minutes=5))


@dataclass
class ManyX:
    """The operator's X, reading each account's likes from its own FakeX (by X user id)."""

    accounts: dict[str, FakeX]

    def user_by_username(self, username: str) -> XUser:
        raise AssertionError("every subscription here knows its X user id")

    def liked_posts(self, user_id: str, *, max_results: int, pagination_token: str | None) -> LikesPage:
        return self.accounts[user_id].liked_posts(user_id, max_results=max_results, pagination_token=pagination_token)


def test_a_tight_budget_is_shared_so_that_no_account_starves(store: Stores) -> None:
    # Given six new subscriptions, each with a backfill of 600 likes, and a daily budget of 150 posts
    clock = ManualClock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    xs: dict[str, FakeX] = {}
    for i in range(ACCOUNTS):
        key = str(2000 + i)
        xs[key] = FakeX([make_post(i * 10_000 + n) for n in range(LIKES)], user=XUser(key, f"fan{i}", f"Fan {i}"))
        store.subscribers.create_subscriber(key, f"fan{i}", clock.now(), clock.now(), x_user_id=key)
    x = ManyX(xs)
    stored_by_day: dict[str, dict[str, int]] = defaultdict(dict)

    # When the fetcher runs every hour for three days, and the workers sync whatever it enqueued
    end = clock.now() + timedelta(days=DAYS)
    while clock.now() < end:
        _, sent = fetch(store, clock, BUDGETS)
        for request in sent:
            budget = ReadBudget(store.app_state, clock, BUDGETS)
            ports = SyncPorts(subscribers=store.subscribers, likes=store.likes, x=x, budget=budget, clock=clock)
            policy = replace(POLICY, max_posts=request.max_posts)
            sync_subscriber(request.subscriber, ports=ports, policy=policy, seconds_left=lambda: 60.0)
            clock.advance(seconds=20)  # syncs take time: each ends after the one before
        day = day_of(clock.now())
        for key in xs:
            sub = store.subscribers.get_subscriber(key, consistent=True)
            assert sub is not None
            stored_by_day[day][key] = sub.like_count
        clock.advance(seconds=TICK.total_seconds() - 20 * len(sent))

    # Then every account got posts on every day: none waited for another's backfill
    days = sorted(stored_by_day)
    assert len(days) == DAYS + 1  # 09:00 on the first day to 09:00 on the fourth
    for before, day in zip([None, *days], days, strict=False):
        got = {key: stored_by_day[day][key] - (stored_by_day[before][key] if before else 0) for key in xs}
        if day != days[-1]:  # the last day has only begun
            assert min(got.values()) > 0, f"an account starved on {day}: {got}"
            # ... and about equally: each about a sixth of the day's budget
            assert max(got.values()) - min(got.values()) <= BUDGETS.daily // ACCOUNTS, got
    # ... and the budget held every day
    for day in days:
        assert store.app_state.usage(day).posts_read <= BUDGETS.daily
    # ... and every post read was stored (a capped sync never threw its page away)
    total_read = sum(store.app_state.usage(day).posts_read for day in days)
    assert total_read == sum(stored_by_day[days[-1]].values())

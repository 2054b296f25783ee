"""Concurrent workers sharing one window and one budget, on moto's DynamoDB (the real store): each request is
taken from its window and each post reserved within the budget by one conditional write, so however many
workers ask at once, they never get more than there is between them."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier
from typing import TypeVar

from shared.budget import LIKES_ENDPOINT, WINDOW
from shared.models import AuthKind, Budgets
from shared.store import Stores
from tests.support.fake_x import ManualClock

T = TypeVar("T")
WORKERS = 12
LIMIT = 5  # requests in the window: fewer than the workers


def all_at_once(task: Callable[[int], T], workers: int = WORKERS) -> list[T]:
    """Run `task(i)` on `workers` threads released together, as concurrent Lambda workers would."""
    start = Barrier(workers)

    def run(i: int) -> T:
        start.wait()
        return task(i)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(workers)))


def test_workers_taking_from_the_operator_tokens_window_get_exactly_what_it_has(
    store: Stores, clock: ManualClock
) -> None:
    # Given the operator token's window, fresh (its first request opens it)
    now = clock.now()

    # When 12 workers each take a request from it at once, and it allows 5
    answers = all_at_once(lambda _: store.app_state.take_request(LIKES_ENDPOINT, now, limit=LIMIT, window=WINDOW))

    # Then exactly 5 got one, and the 7 others were told to wait for the window's reset
    taken = [a for a in answers if a is None]
    waits = {a for a in answers if a is not None}
    assert len(taken) == LIMIT
    assert waits == {now + WINDOW}
    window = store.app_state.rate_window(LIKES_ENDPOINT)
    assert (window.remaining, window.reset_at) == (0, now + WINDOW)


def test_workers_taking_from_a_connected_accounts_window_get_exactly_what_it_has(
    store: Stores, clock: ManualClock
) -> None:
    # Given a connected account whose window X's headers said has 5 requests left until 12:09
    now = clock.now()
    store.subscribers.create_subscriber("ann", "ann", now, now, x_user_id="1001", auth=AuthKind.OAUTH2)
    reset = now + timedelta(minutes=9)
    store.subscribers.save_rate_window("ann", LIMIT, reset)

    # When 12 workers take a request from it at once
    answers = all_at_once(lambda _: store.subscribers.take_request("ann", now, limit=75, window=WINDOW))

    # Then exactly 5 got one, the others wait for X's reset, and the window is empty
    assert sum(a is None for a in answers) == LIMIT
    assert {a for a in answers if a is not None} == {reset}
    assert store.subscribers.rate_window("ann").remaining == 0


def test_workers_reserving_posts_at_once_never_pass_the_budget(store: Stores, clock: ManualClock) -> None:
    # Given a daily budget of 100 posts and 12 workers, each asking for pages of 7 until none is granted
    now = clock.now()
    budgets = Budgets(daily=100, monthly=10_000)

    def reserve_until_spent(_: int) -> int:
        granted = 0
        while n := store.app_state.reserve_posts(now, 7, budgets):
            granted += n
        return granted

    # When they all reserve at once
    grants = all_at_once(reserve_until_spent)

    # Then between them they were granted no more than the budget, and every grant was counted in the day and
    # the month
    assert sum(grants) <= 100
    assert store.app_state.usage("2026-11-28").posts_read == sum(grants)
    assert store.app_state.usage("2026-11").posts_read == sum(grants)
    # ... and whatever they left is still there for the next request (a lost race never loses posts)
    assert store.app_state.reserve_posts(now, 1000, budgets) == 100 - sum(grants)


def test_a_reservation_after_the_day_turns_draws_on_the_new_day_but_the_same_month(
    store: Stores, clock: ManualClock
) -> None:
    # Given today's budget reserved to the last post
    budgets = Budgets(daily=50, monthly=80)
    assert store.app_state.reserve_posts(clock.now(), 50, budgets) == 50
    assert store.app_state.reserve_posts(clock.now(), 5, budgets) == 0

    # When workers reserve after midnight
    tomorrow = clock.now() + timedelta(days=1)
    grants = all_at_once(lambda _: store.app_state.reserve_posts(tomorrow, 10, budgets), workers=6)

    # Then the new day has its 50 again, but the month has only 30 left: no more than that was granted, and
    # what was not granted is still there
    assert 0 < sum(grants) <= 30
    assert store.app_state.usage("2026-11-29").posts_read == sum(grants)
    assert store.app_state.reserve_posts(tomorrow, 1000, budgets) == 30 - sum(grants)
    assert store.app_state.usage("2026-11").posts_read == 80

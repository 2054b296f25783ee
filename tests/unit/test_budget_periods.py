"""The read budget's arithmetic over a day and a month: which budget pauses syncing and until when (the next
UTC midnight for the daily one, the first of the next month for the monthly one), and how much a request may
still ask for. Over local/memstore.MemoryAppState: the table's semantics, without the table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from local.memstore import MemoryAppState
from shared.budget import ReadBudget, pause_for
from shared.errors import XUsageCapped
from shared.models import Budgets, RateLimit, SyncPause
from tests.support.fake_x import ManualClock

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
MIDNIGHT = datetime(2026, 11, 29, tzinfo=UTC)
FIRST_OF_DECEMBER = datetime(2026, 12, 1, tzinfo=UTC)
BUDGETS = Budgets(daily=300, monthly=1000)


def state_with(reads: dict[datetime, int]) -> MemoryAppState:
    """An app state whose budget has already paid for `reads` (posts read at those times)."""
    state = MemoryAppState()
    for when, posts in reads.items():
        state.count(when, {"posts_read": posts})
    return state


def pause_of(state: MemoryAppState, now: datetime, budgets: Budgets = BUDGETS) -> SyncPause | None:
    return pause_for(now, state.usage(now.strftime("%Y-%m-%d")), state.usage(now.strftime("%Y-%m")), budgets)


def test_a_spent_day_pauses_until_the_next_utc_midnight() -> None:
    # Given 296 of today's 300 reads spent (less than X's smallest page left), the month far from spent
    state = state_with({NOW: 296})

    # Then syncing pauses until midnight, for the daily budget
    assert pause_of(state, NOW) == SyncPause(MIDNIGHT, "daily_budget")
    # ... and a day later the day is new: nothing pauses
    assert pause_of(state, NOW + timedelta(days=1)) is None


def test_a_spent_month_pauses_until_the_first_of_the_next_month() -> None:
    # Given 998 of the month's 1000 reads spent on earlier days, and nothing today
    state = state_with({NOW - timedelta(days=20): 300, NOW - timedelta(days=5): 300, NOW - timedelta(days=1): 398})

    # Then the monthly budget pauses syncing, until December begins (not tomorrow)
    assert pause_of(state, NOW) == SyncPause(FIRST_OF_DECEMBER, "monthly_budget")
    assert pause_of(state, NOW + timedelta(days=1)) == SyncPause(FIRST_OF_DECEMBER, "monthly_budget")
    assert pause_of(state, FIRST_OF_DECEMBER) is None


def test_when_both_are_spent_the_month_says_until_when() -> None:
    # Given today's and this month's budgets both spent
    state = state_with({NOW - timedelta(days=3): 700, NOW: 300})

    # Then the later of the two ends the pause: the month's
    assert pause_of(state, NOW) == SyncPause(FIRST_OF_DECEMBER, "monthly_budget")


def test_no_budget_of_our_own_never_pauses() -> None:
    assert pause_of(state_with({NOW: 10**9}), NOW, Budgets()) is None


@pytest.mark.parametrize(
    ("reads", "left"),
    [
        ({NOW: 250}, 50),  # the day has less left than the month
        ({NOW - timedelta(days=2): 900, NOW: 20}, 80),  # the month has less left than the day
    ],
)
def test_what_is_left_is_the_lesser_of_the_day_and_the_month(reads: dict[datetime, int], left: int) -> None:
    # Given reads spent today and earlier this month
    state = state_with(reads)
    budget = ReadBudget(state, ManualClock(NOW), BUDGETS)

    # When a request asks for 100 posts
    size = budget.before_request(100)

    # Then it may ask only for what both budgets have left, and that is reserved
    assert state.posts_left(NOW, BUDGETS) == 0
    assert size == left


def test_a_request_past_the_monthly_budget_waits_for_the_next_month() -> None:
    # Given this month's budget spent up to 3 posts (less than X's smallest page)
    state = state_with({NOW - timedelta(days=2): 997})
    budget = ReadBudget(state, ManualClock(NOW), BUDGETS)

    # When a request asks for a page
    with pytest.raises(XUsageCapped) as capped:
        budget.before_request(5)

    # Then it is refused until the month turns, and nothing stays reserved
    assert capped.value.reset_at == FIRST_OF_DECEMBER
    assert state.usage("2026-11").posts_read == 997


def test_a_response_settles_the_reservation_with_what_x_returned() -> None:
    # Given a request that reserved 100 posts
    state = MemoryAppState()
    budget = ReadBudget(state, ManualClock(NOW), BUDGETS)
    budget.before_request(100)

    # When X returned 37 (the end of the list)
    budget.after_response(RateLimit(75, 74, NOW + timedelta(minutes=15)), 37)

    # Then the day and the month count 37, and the rest of the reservation is free again
    assert state.usage("2026-11-28").posts_read == 37
    assert state.usage("2026-11").posts_read == 37
    assert state.posts_left(NOW, BUDGETS) == 263

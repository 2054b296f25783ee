"""Budget decisions: X's shared rate-limit window, the daily post-read budget, and the like_count probe's count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from local.memstore import MemoryAppState
from shared.budget import LIKES_ENDPOINT, ReadBudget, next_utc_midnight
from shared.errors import XRateLimited, XUsageCapped
from tests.support.fake_x import ManualClock

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def budget(state: MemoryAppState, daily: int = 2000) -> ReadBudget:
    """The worker's budget over the in-memory app state (the operator token's window, a daily budget)."""
    return ReadBudget(state, ManualClock(NOW), daily)


def used(state: MemoryAppState, posts: int) -> None:
    state.count(NOW, {"posts_read": posts})


def test_a_spent_window_defers_until_x_resets_it() -> None:
    state = MemoryAppState()
    reset = NOW + timedelta(minutes=7)
    state.save_rate_window(LIKES_ENDPOINT, 0, reset)
    with pytest.raises(XRateLimited) as caught:
        budget(state).before_request(100)
    assert caught.value.reset_at == reset
    assert state.usage("2026-11-28").posts_read == 0  # nothing stays reserved for a request never sent


def test_a_window_past_its_reset_is_open_again() -> None:
    state = MemoryAppState()
    state.save_rate_window(LIKES_ENDPOINT, 0, NOW - timedelta(seconds=1))
    assert budget(state).before_request(100) == 100


def test_the_page_shrinks_to_what_is_left_of_the_daily_budget() -> None:
    state = MemoryAppState()
    used(state, 1970)
    assert budget(state).before_request(100) == 30


def test_a_spent_daily_budget_waits_for_utc_midnight() -> None:
    state = MemoryAppState()
    used(state, 1998)
    with pytest.raises(XUsageCapped) as caught:
        budget(state).before_request(100)
    assert caught.value.reset_at == datetime(2026, 11, 29, tzinfo=UTC)


def test_a_zero_budget_means_no_budget_of_our_own() -> None:
    state = MemoryAppState()
    used(state, 10**9)
    assert budget(state, daily=0).before_request(100) == 100


def test_next_midnight_is_the_start_of_the_next_utc_day() -> None:
    assert next_utc_midnight(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == datetime(2027, 1, 1, tzinfo=UTC)


def test_a_like_count_probe_counts_a_request_and_a_user_read_and_spends_no_post() -> None:
    # Given a daily budget of 100 post reads, kept in memory
    clock = ManualClock(NOW)
    state = MemoryAppState()
    budget = ReadBudget(state, clock, 100)

    # When a probe is answered
    budget.after_probe()

    # Then the day counts one X request and one user read, and every post of the budget is still there
    day = state.usage("2026-11-28")
    assert (day.x_requests, day.posts_read, day.count("user_reads")) == (1, 0, 1)
    assert budget.before_request(100) == 100

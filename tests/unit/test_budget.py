"""Budget decisions: X's shared rate-limit window, the daily post-read budget, and the like_count probe's count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from local.memstore import MemoryAppState
from shared.budget import ReadBudget, allowed_page_size, next_utc_midnight
from shared.errors import XRateLimited, XUsageCapped
from shared.models import RateLimit, Usage
from tests.support.fake_x import ManualClock

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_a_spent_window_defers_until_x_resets_it() -> None:
    reset = NOW + timedelta(minutes=7)
    with pytest.raises(XRateLimited) as caught:
        allowed_page_size(NOW, [RateLimit(None, 0, reset)], Usage("d", 0, 0), 2000, 100)
    assert caught.value.reset_at == reset


def test_a_window_past_its_reset_is_open_again() -> None:
    window = [RateLimit(None, 0, NOW - timedelta(seconds=1))]
    assert allowed_page_size(NOW, window, Usage("d", 0, 0), 2000, 100) == 100


def test_the_page_shrinks_to_what_is_left_of_the_daily_budget() -> None:
    assert allowed_page_size(NOW, [RateLimit(None, None, None)], Usage("d", 1970, 0), 2000, 100) == 30


def test_a_spent_daily_budget_waits_for_utc_midnight() -> None:
    with pytest.raises(XUsageCapped) as caught:
        allowed_page_size(NOW, [RateLimit(None, None, None)], Usage("d", 1998, 0), 2000, 100)
    assert caught.value.reset_at == datetime(2026, 11, 29, tzinfo=UTC)


def test_a_zero_budget_means_no_budget_of_our_own() -> None:
    assert allowed_page_size(NOW, [RateLimit(None, None, None)], Usage("d", 10**9, 0), 0, 100) == 100


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

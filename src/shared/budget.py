"""Staying inside X's limits: the shared rate-limit window and the app's daily post-read budget.

75 requests / 15 min per user token, and every post returned is billed ($0.005 each, once per post per UTC
day). Every worker reads and writes the same two app items, so one sync's 429 holds back all the others
until X's reset instead of each of them spending a request to learn it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from shared.clock import Clock, next_utc_midnight
from shared.errors import XRateLimited, XUsageCapped
from shared.models import RateLimit, Usage
from shared.x_api import MIN_PAGE

LIKES_ENDPOINT = "liked_tweets"  # the name the likes window is kept under (status shows it)


class BudgetStore(Protocol):
    def rate_window(self, endpoint: str) -> RateLimit: ...

    def save_rate_window(self, endpoint: str, remaining: int | None, reset_at: datetime | None) -> None: ...

    def usage(self, day: str) -> Usage: ...

    def add_usage(self, now: datetime, posts_read: int, x_requests: int) -> Usage: ...


def allowed_page_size(now: datetime, window: RateLimit, usage: Usage, daily_budget: int, wanted: int) -> int:
    """How many posts the next request may ask for, or the error that says why none and until when."""
    if window.remaining is not None and window.remaining <= 0 and window.reset_at and window.reset_at > now:
        raise XRateLimited(window.reset_at, "no requests left in X's rate-limit window")
    if daily_budget <= 0:  # 0 means no budget of our own; X's usage cap still answers 429
        return wanted
    left = daily_budget - usage.posts_read
    if left < MIN_PAGE:
        raise XUsageCapped(next_utc_midnight(now), f"today's budget of {daily_budget} post reads is spent")
    return min(wanted, left)


class ReadBudget:
    def __init__(self, store: BudgetStore, clock: Clock, daily_budget: int) -> None:
        self._store = store
        self._clock = clock
        self._daily_budget = daily_budget

    def before_request(self, wanted: int) -> int:
        now = self._clock.now()
        return allowed_page_size(
            now,
            self._store.rate_window(LIKES_ENDPOINT),
            self._store.usage(now.strftime("%Y-%m-%d")),
            self._daily_budget,
            wanted,
        )

    def after_response(self, rate: RateLimit, posts_read: int) -> None:
        self._store.save_rate_window(LIKES_ENDPOINT, rate.remaining, rate.reset_at)
        self._store.add_usage(self._clock.now(), posts_read, 1)

    def rate_limited(self, reset_at: datetime) -> None:
        self._store.save_rate_window(LIKES_ENDPOINT, 0, reset_at)
        self._store.add_usage(self._clock.now(), 0, 1)

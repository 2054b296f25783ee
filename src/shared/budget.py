"""Staying inside X's limits: each user token's rate-limit window and the app's daily post-read budget.

X counts user-context requests per user token (75 / 15 min on liked_tweets), so every connected account has
a window of its own, kept from the x-rate-limit-* headers of its own requests and stored with its
subscription: one account's sync never spends or waits for another's. Subscriptions read with the
operator's OAuth 1.0a credentials share that one token, so they share one window (the app item
`RATE#liked_tweets`). Every post returned is billed ($0.005 each, once per post per UTC day), so the read
budget stays app-wide. Should an X plan add an app-wide request cap, `app_wide_window` keeps one more
window that every request counts against (off by default; X documents none for user-context calls).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from shared.clock import Clock, next_utc_midnight
from shared.errors import XRateLimited, XUsageCapped
from shared.models import AuthKind, RateLimit, Usage
from shared.x_api import MIN_PAGE

LIKES_ENDPOINT = "liked_tweets"  # the operator token's likes window is kept under this name (status shows it)
APP_WIDE_ENDPOINT = "liked_tweets@app"  # the optional app-wide window (setting X_APP_RATE_WINDOW)


class BudgetStore(Protocol):
    def rate_window(self, endpoint: str) -> RateLimit: ...

    def save_rate_window(self, endpoint: str, remaining: int | None, reset_at: datetime | None) -> None: ...

    def usage(self, day: str) -> Usage: ...

    def add_usage(self, now: datetime, posts_read: int, x_requests: int) -> Usage: ...


class WindowOwner(Protocol):
    """What the budget needs to know of a subscriber: its key and which credentials read it."""

    @property
    def key(self) -> str: ...

    @property
    def auth(self) -> AuthKind: ...


class AccountWindowStore(Protocol):
    """Where a connected account's own window is kept (with its subscription)."""

    def rate_window(self, key: str) -> RateLimit: ...

    def save_rate_window(self, key: str, remaining: int | None, reset_at: datetime | None) -> None: ...


def allowed_page_size(now: datetime, windows: Sequence[RateLimit], usage: Usage, daily_budget: int, wanted: int) -> int:
    """How many posts the next request may ask for (every window it counts against has a request left), or
    the error that says why none and until when."""
    for w in windows:
        if w.remaining is not None and w.remaining <= 0 and w.reset_at and w.reset_at > now:
            raise XRateLimited(w.reset_at, "no requests left in X's rate-limit window")
    if daily_budget <= 0:  # 0 means no budget of our own; X's usage cap still answers 429
        return wanted
    left = daily_budget - usage.posts_read
    if left < MIN_PAGE:
        raise XUsageCapped(next_utc_midnight(now), f"today's budget of {daily_budget} post reads is spent")
    return min(wanted, left)


class ReadBudget:
    """The limits of one worker invocation's syncs. `accounts`: where connected accounts' windows live (without
    it every subscription spends the operator's window, as before accounts)."""

    def __init__(
        self,
        store: BudgetStore,
        clock: Clock,
        daily_budget: int,
        *,
        accounts: AccountWindowStore | None = None,
        app_wide_window: bool = False,
    ) -> None:
        self._store = store
        self._clock = clock
        self._daily_budget = daily_budget
        self._accounts = accounts
        self._app_wide = app_wide_window
        # An account's window as its own requests left it: only one sync of an account runs at a time (the
        # subscriber's lock), so after the first read the window is ours to keep in memory.
        self._known: dict[str, RateLimit] = {}

    def before_request(self, wanted: int, sub: WindowOwner | None = None) -> int:
        now = self._clock.now()
        windows = [self._window(sub)]
        if self._app_wide:
            windows.append(self._store.rate_window(APP_WIDE_ENDPOINT))
        return allowed_page_size(now, windows, self._store.usage(now.strftime("%Y-%m-%d")), self._daily_budget, wanted)

    def after_response(self, rate: RateLimit, posts_read: int, sub: WindowOwner | None = None) -> None:
        self._save(sub, rate.remaining, rate.reset_at)
        self._store.add_usage(self._clock.now(), posts_read, 1)

    def rate_limited(self, reset_at: datetime, sub: WindowOwner | None = None) -> None:
        self._save(sub, 0, reset_at)
        self._store.add_usage(self._clock.now(), 0, 1)

    def _own_window(self, sub: WindowOwner | None) -> str | None:
        """The subscription key whose own window a request spends; None: the operator token's shared one."""
        if sub is None or self._accounts is None or sub.auth is not AuthKind.OAUTH2:
            return None
        return sub.key

    def _window(self, sub: WindowOwner | None) -> RateLimit:
        key = self._own_window(sub)
        if key is None or self._accounts is None:
            return self._store.rate_window(LIKES_ENDPOINT)
        if key not in self._known:
            self._known[key] = self._accounts.rate_window(key)
        return self._known[key]

    def _save(self, sub: WindowOwner | None, remaining: int | None, reset_at: datetime | None) -> None:
        key = self._own_window(sub)
        if key is None or self._accounts is None:
            self._store.save_rate_window(LIKES_ENDPOINT, remaining, reset_at)
        else:
            self._accounts.save_rate_window(key, remaining, reset_at)
            self._known[key] = RateLimit(None, remaining, reset_at)
        if self._app_wide:
            self._store.save_rate_window(APP_WIDE_ENDPOINT, remaining, reset_at)

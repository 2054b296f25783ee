"""Staying inside X's limits and the app's own budget: request windows and post reads.

X counts user-context requests per user token (75 / 15 min on liked_tweets), so every connected account has
a window of its own, kept with its subscription: one account's sync never spends or waits for another's.
Subscriptions read with the operator's OAuth 1.0a credentials share that one token, so they share one window
(the app item `RATE#liked_tweets`). Should an X plan add an app-wide request cap, `app_wide_window` keeps one
more window that every request counts against (off by default; X documents none for user-context calls).

Every post returned is billed ($0.005 each, once per post per UTC day), so the read budget is app-wide: a
daily and a monthly number of posts. Both windows and budget are spent atomically in the table *before* a
request is sent (a request taken from its window, posts reserved within the budget), then corrected by what X
answered. Concurrent workers therefore never overspend either between them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal, Protocol

from shared.clock import Clock, day_of, month_of, next_utc_midnight, next_utc_month
from shared.errors import XRateLimited, XUsageCapped
from shared.models import AuthKind, Budgets, RateLimit, SyncPause, Usage
from shared.x_api import MIN_PAGE

LIKES_ENDPOINT = "liked_tweets"  # the operator token's likes window is kept under this name (status shows it)
APP_WIDE_ENDPOINT = "liked_tweets@app"  # the optional app-wide window (setting X_APP_RATE_WINDOW)
LIKES_LIMIT = 75  # requests per window on liked_tweets, per user token (X's docs; its headers correct it)
WINDOW = timedelta(minutes=15)


class WindowStore(Protocol):
    """Where windows are kept by name: the app's items (endpoint names) or the subscriptions (keys)."""

    def rate_window(self, name: str) -> RateLimit: ...

    def take_request(self, name: str, now: datetime, *, limit: int, window: timedelta) -> datetime | None: ...

    def save_rate_window(self, name: str, remaining: int | None, reset_at: datetime | None) -> None: ...


class UsageReader(Protocol):
    def usage(self, period: str) -> Usage: ...


def usage_now(store: UsageReader, now: datetime) -> tuple[Usage, Usage]:
    """Today's and this month's usage, the periods the daily and the monthly budget count in (two reads)."""
    return store.usage(day_of(now)), store.usage(month_of(now))


class BudgetStore(WindowStore, UsageReader, Protocol):
    def reserve_posts(self, now: datetime, wanted: int, budgets: Budgets) -> int: ...

    def settle(self, now: datetime, *, reserved: int, posts_read: int, x_requests: int, **counters: int) -> None: ...

    def save_pause(self, pause: SyncPause) -> None: ...

    def pause(self, now: datetime) -> SyncPause | None: ...


class WindowOwner(Protocol):
    """What the budget needs to know of a subscriber: its key and which credentials read it."""

    @property
    def key(self) -> str: ...

    @property
    def auth(self) -> AuthKind: ...


def pause_for(now: datetime, day: Usage, month: Usage, budgets: Budgets) -> SyncPause | None:
    """Whether the app's budget leaves no page to read (fewer than X's smallest page), and until when."""
    if budgets.monthly > 0 and budgets.monthly - month.posts_read < MIN_PAGE:
        return SyncPause(next_utc_month(now), "monthly_budget")
    if budgets.daily > 0 and budgets.daily - day.posts_read < MIN_PAGE:
        return SyncPause(next_utc_midnight(now), "daily_budget")
    return None


def pause_of(now: datetime, day: Usage, month: Usage, budgets: Budgets, x_pause: SyncPause | None) -> SyncPause | None:
    """Whether syncing is paused for everyone and until when: the budget's (pause_for) or X's usage cap's
    (saved by a worker), the one that lasts longer when both hold. The fetcher, the api and the CLI ask this."""
    held = [pause for pause in (pause_for(now, day, month, budgets), x_pause) if pause is not None]
    return max(held, key=lambda pause: pause.until) if held else None


class ReadBudget:
    """The limits of one worker invocation's syncs. `accounts`: where connected accounts' windows live (without
    it every subscription spends the operator's window, as before accounts). A fair share of a tight budget
    is the sync's to keep (SyncPolicy.max_posts, from the fetcher's message)."""

    def __init__(
        self,
        store: BudgetStore,
        clock: Clock,
        budgets: Budgets | int,
        *,
        accounts: WindowStore | None = None,
        app_wide_window: bool = False,
        limit: int = LIKES_LIMIT,
    ) -> None:
        self._store = store
        self._clock = clock
        self._budgets = budgets if isinstance(budgets, Budgets) else Budgets(daily=budgets)
        self._accounts = accounts
        self._app_wide = app_wide_window
        self._limit = limit
        self._reserved = 0  # posts reserved for the request in flight
        self._paused: SyncPause | Literal[False] | None = None  # X's pause, read at the first request

    @property
    def budgets(self) -> Budgets:
        return self._budgets

    def before_request(self, wanted: int, sub: WindowOwner | None = None) -> int:
        """Reserve the request's posts and take it from every window it counts against; the page size to ask
        for, or XUsageCapped / XRateLimited (nothing is left spent then)."""
        now = self._clock.now()
        if self._paused is None:  # once per invocation: X's usage cap, saved by a sync that met it
            self._paused = self._store.pause(now) or False
        if self._paused and self._paused.until > now:
            raise XUsageCapped(self._paused.until, "X's usage cap is reached; syncing waits until it lifts")
        granted = self._store.reserve_posts(now, wanted, self._budgets)  # `wanted` without a budget of our own
        if self._budgets.any:  # else nothing was reserved: settle counts what X returned
            if granted < min(wanted, MIN_PAGE):
                self._store.settle(now, reserved=granted, posts_read=0, x_requests=0)
                raise self._capped(now)
            self._reserved = granted
        for store, name in self._windows(sub):
            reset = store.take_request(name, now, limit=self._limit, window=WINDOW)
            if reset is not None:
                self._refund(now)
                raise XRateLimited(reset, "no requests left in X's rate-limit window")
        return granted

    def after_response(self, rate: RateLimit, posts_read: int, sub: WindowOwner | None = None) -> None:
        now = self._clock.now()
        for store, name in self._windows(sub):
            store.save_rate_window(name, rate.remaining, rate.reset_at)
        self._store.settle(now, reserved=self._reserved, posts_read=posts_read, x_requests=1)
        self._reserved = 0

    def after_probe(self) -> None:
        """A like_count probe (`GET /2/users/me`) was answered: one request and one user read ($0.010, billed
        once per user per UTC day), nothing reserved. It counts against no window of ours: X's users/me window
        (75 / 15 min per user) is its own, and a subscription is probed at most once per sync."""
        self._store.settle(self._clock.now(), reserved=0, posts_read=0, x_requests=1, user_reads=1)

    def rate_limited(self, reset_at: datetime, sub: WindowOwner | None = None) -> None:
        """X answered 429 (rate limit): the windows are empty until `reset_at`, the reserved posts go back."""
        for store, name in self._windows(sub):
            store.save_rate_window(name, 0, reset_at)
        self._store.settle(self._clock.now(), reserved=self._reserved, posts_read=0, x_requests=1)
        self._reserved = 0

    def usage_capped(self) -> None:
        """X answered usage-capped: its cap on the app's reads is reached. X does not say when it lifts; reads
        are billed per UTC day, so every sync pauses until midnight (the fetcher enqueues none meanwhile)."""
        now = self._clock.now()
        self._paused = SyncPause(next_utc_midnight(now), "x_usage_cap")
        self._store.save_pause(self._paused)
        self._refund(now, x_requests=1)

    def request_failed(self) -> None:
        """The request failed another way (X 5xx, a timeout, a refused cursor): its reserved posts go back."""
        self._refund(self._clock.now(), x_requests=1)

    def _refund(self, now: datetime, *, x_requests: int = 0) -> None:
        if self._reserved or x_requests:
            self._store.settle(now, reserved=self._reserved, posts_read=0, x_requests=x_requests)
        self._reserved = 0

    def _capped(self, now: datetime) -> XUsageCapped:
        day, month = usage_now(self._store, now)
        pause = pause_for(now, day, month, self._budgets) or SyncPause(next_utc_midnight(now), "daily_budget")
        if pause.reason == "monthly_budget":
            return XUsageCapped(pause.until, f"this month's budget of {self._budgets.monthly} post reads is spent")
        return XUsageCapped(pause.until, f"today's budget of {self._budgets.daily} post reads is spent")

    def _windows(self, sub: WindowOwner | None) -> list[tuple[WindowStore, str]]:
        """Every window a request for `sub` counts against: its own (connected accounts) or the operator
        token's, and the app-wide one when it is on."""
        own: tuple[WindowStore, str] = (self._store, LIKES_ENDPOINT)
        if sub is not None and self._accounts is not None and sub.auth is AuthKind.OAUTH2:
            own = (self._accounts, sub.key)
        if self._app_wide:
            return [own, (self._store, APP_WIDE_ENDPOINT)]
        return [own]

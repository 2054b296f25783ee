"""X's limits: request windows per endpoint (per user token, and per app for app-only calls), the post-read
usage cap, and billing.

As X documents them, user-context requests (OAuth 1.0a, OAuth 2.0 user tokens) count against the user's window
only, and app-only (bearer) requests against the app's. `app_window_for_users` also counts user-context
requests against the app's window, as a plan with an app-wide cap would (off by default).

A window opens with its first request and closes `window` seconds later; `x-rate-limit-reset` is that
moment in epoch seconds. Rejected requests (429) do not count. Post reads are billed once per post per
UTC day per app, as X bills pay-per-use reads, and user reads (a user object from a users endpoint) once per
user per UTC day per app; the usage cap counts billed post reads per day or month. Each billed read is also
counted for the user whose request billed it, and each 429 by its kind, so a benchmark can say what every
account cost and why X refused.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local.xsim.clock import SimClock


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds

    def headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.remaining),
            "x-rate-limit-reset": str(self.reset),
        }


@dataclass
class _Window:
    reset: int
    used: int = 0


class RateLimiter:
    """Fixed windows per (endpoint, app, user) for user-context requests and per (endpoint, app) for app-only
    ones (and for user-context ones too with `app_window_for_users`); a request needs room in each it counts in."""

    def __init__(
        self,
        clock: SimClock,
        *,
        user_limit: int,
        app_limit: int,
        window_seconds: int,
        app_window_for_users: bool = False,
    ) -> None:
        self._clock = clock
        self._user_limit = user_limit
        self._app_limit = app_limit
        self._window = window_seconds
        self._app_window_for_users = app_window_for_users
        self._windows: dict[tuple[str, ...], _Window] = {}
        self._lock = threading.Lock()

    def hit(self, endpoint: str, app_id: str, user_id: str | None) -> RateDecision:
        """Count one request if its windows have room; the answer carries the headers to send either way.
        `user_id` None: an app-only request."""
        now = int(self._clock.time())
        with self._lock:
            buckets = []
            if user_id is None or self._app_window_for_users:
                buckets.append((self._current(("app", endpoint, app_id), now), self._app_limit))
            if user_id is not None:
                buckets.append((self._current(("user", endpoint, app_id, user_id), now), self._user_limit))
            full = [(w, limit) for w, limit in buckets if w.used >= limit]
            if full:
                window, limit = min(full, key=lambda pair: pair[0].reset)
                return RateDecision(False, limit, 0, window.reset)
            for window, _ in buckets:
                window.used += 1
            # Show the window that will run out first, as a client should plan by the tighter one.
            window, limit = min(buckets, key=lambda pair: (pair[1] - pair[0].used, pair[0].reset))
            return RateDecision(True, limit, limit - window.used, window.reset)

    def _current(self, key: tuple[str, ...], now: int) -> _Window:
        window = self._windows.get(key)
        if window is None or now >= window.reset:
            window = _Window(reset=now + self._window)
            self._windows[key] = window
        return window


APP_ONLY_REQUESTER = "app-only"  # who billed a read made with the app's bearer token (no user)
RATE_LIMIT, USAGE_CAP = "rate_limit", "usage_cap"  # the two kinds of 429


@dataclass(frozen=True)
class Prices:
    per_post: float
    per_owned_post: float
    per_user: float = 0.010


class Billing:
    """Post and user reads per app per UTC day (each post, each user once a day), the usage cap on post reads,
    who billed each read, and the 429s answered."""

    def __init__(self, clock: SimClock, *, cap: int | None, period: str, prices: Prices) -> None:
        self._clock = clock
        self._cap = cap
        self._period = period
        self._prices = prices
        # (app, day) -> post id -> whether the read was of the app owner's own likes
        self._reads: dict[tuple[str, str], dict[str, bool]] = {}
        # (app, day) -> the ids of the users read
        self._user_reads: dict[tuple[str, str], set[str]] = {}
        # requesting user id -> {"posts": billed post reads, "users": billed user reads}
        self._billed_by: dict[str, dict[str, int]] = {}
        self._refusals: dict[str, int] = {RATE_LIMIT: 0, USAGE_CAP: 0}
        self._requests: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    @property
    def period(self) -> str:
        return self._period

    def set_cap(self, cap: int | None) -> None:
        """X's usage cap from now on (None: none); what is billed stays billed."""
        with self._lock:
            self._cap = cap

    def capped(self, app_id: str) -> bool:
        if self._cap is None:
            return False
        return self.reads_in_period(app_id) >= self._cap

    def reads_in_period(self, app_id: str) -> int:
        prefix = self._day(self._clock.now())[: 7 if self._period == "monthly" else 10]
        with self._lock:
            return sum(
                len(posts) for (app, day), posts in self._reads.items() if app == app_id and day.startswith(prefix)
            )

    def record_request(self, app_id: str, endpoint: str) -> None:
        with self._lock:
            self._requests[(app_id, endpoint)] = self._requests.get((app_id, endpoint), 0) + 1

    def record_reads(self, app_id: str, post_ids: list[str], *, owned: bool, requester: str | None = None) -> int:
        """Bill these posts (each at most once per UTC day); returns how many were newly billed. `requester`:
        the user whose request read them (None: an app-only request)."""
        day = self._day(self._clock.now())
        with self._lock:
            seen = self._reads.setdefault((app_id, day), {})
            new = [post_id for post_id in post_ids if post_id not in seen]
            for post_id in new:
                seen[post_id] = owned
            self._attribute(requester, "posts", len(new))
            return len(new)

    def record_user_reads(self, app_id: str, user_ids: list[str], *, requester: str | None = None) -> int:
        """Bill these user objects (each at most once per UTC day); returns how many were newly billed."""
        day = self._day(self._clock.now())
        with self._lock:
            seen = self._user_reads.setdefault((app_id, day), set())
            new = [user_id for user_id in dict.fromkeys(user_ids) if user_id not in seen]
            seen.update(new)
            self._attribute(requester, "users", len(new))
            return len(new)

    def record_refusal(self, kind: str) -> None:
        """A 429 answered: `rate_limit` (a window is full) or `usage_cap` (the app's reads are capped)."""
        if kind not in self._refusals:
            raise ValueError(f"unknown kind of 429: {kind}")
        with self._lock:
            self._refusals[kind] += 1

    def billed_by_user(self) -> dict[str, dict[str, int]]:
        """Billed reads (first read of a post or user in its UTC day) by the user whose request billed them:
        requesting user id -> {"posts": n, "users": m}; reads with the app-only token under "app-only"."""
        with self._lock:
            return {user: dict(counts) for user, counts in sorted(self._billed_by.items())}

    def refusals(self) -> dict[str, int]:
        """The 429s answered, by kind: {"rate_limit": n, "usage_cap": m}."""
        with self._lock:
            return dict(self._refusals)

    def _attribute(self, requester: str | None, kind: str, count: int) -> None:
        if count:
            counts = self._billed_by.setdefault(requester or APP_ONLY_REQUESTER, {"posts": 0, "users": 0})
            counts[kind] += count

    def snapshot(self) -> dict[str, Any]:
        """Per app and UTC day: posts and users read and what they cost (`cost_usd` is the day's whole bill)."""
        with self._lock:
            days: dict[str, dict[str, Any]] = {}
            for app, day in sorted(set(self._reads) | set(self._user_reads)):
                posts = self._reads.get((app, day), {})
                users = self._user_reads.get((app, day), set())
                owned = sum(posts.values())
                other = len(posts) - owned
                posts_cost = other * self._prices.per_post + owned * self._prices.per_owned_post
                users_cost = len(users) * self._prices.per_user
                days.setdefault(app, {})[day] = {
                    "posts_read": len(posts),
                    "owned_posts_read": owned,
                    "users_read": len(users),
                    "posts_cost_usd": round(posts_cost, 6),
                    "users_cost_usd": round(users_cost, 6),
                    "cost_usd": round(posts_cost + users_cost, 6),
                }
            requests: dict[str, dict[str, int]] = {}
            for (app, endpoint), count in sorted(self._requests.items()):
                requests.setdefault(app, {})[endpoint] = count
        apps = sorted(set(days) | set(requests))
        return {
            "usage_cap": self._cap,
            "usage_cap_period": self._period,
            "apps": {
                app: {
                    "days": days.get(app, {}),
                    "requests": requests.get(app, {}),
                    "posts_read_total": sum(d["posts_read"] for d in days.get(app, {}).values()),
                    "users_read_total": sum(d["users_read"] for d in days.get(app, {}).values()),
                    "cost_usd_total": round(sum(d["cost_usd"] for d in days.get(app, {}).values()), 6),
                }
                for app in apps
            },
            "billed_by_user": self.billed_by_user(),
            "refusals": self.refusals(),
        }

    @staticmethod
    def _day(when: datetime) -> str:
        return when.astimezone(UTC).strftime("%Y-%m-%d")

"""An in-memory store behind the same ports as the DynamoDB one (shared/store/), for the simulated month
(`python -m bench month`) and for tests of the domain's arithmetic: same answers, same atomicity (one lock
stands for DynamoDB's conditional writes), none of moto's cost.

Every write is counted as the DynamoDB write request units it would spend (`writes`), so the month can
report them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.models import Budgets, RateLimit, SyncPause, Usage
from shared.store.items import COUNTERS


def day_of(now: datetime) -> str:
    return now.strftime("%Y-%m-%d")


def month_of(now: datetime) -> str:
    return now.strftime("%Y-%m")


@dataclass
class _Window:
    remaining: int | None = None
    reset_at: datetime | None = None


class MemoryWindows:
    """Request windows by name (the app's endpoint names or the subscriptions' keys), as store/windows.py keeps
    them: taken before a request, corrected downwards by X's headers, emptied by a 429."""

    def __init__(self, lock: threading.RLock | None = None) -> None:
        self._lock = lock or threading.RLock()
        self._windows: dict[str, _Window] = {}
        self.writes = 0

    def rate_window(self, name: str) -> RateLimit:
        with self._lock:
            w = self._windows.get(name, _Window())
            return RateLimit(None, w.remaining, w.reset_at)

    def take_request(self, name: str, now: datetime, *, limit: int, window: timedelta) -> datetime | None:
        with self._lock:
            w = self._windows.setdefault(name, _Window())
            self.writes += 1
            if w.remaining is not None and w.reset_at is not None and w.reset_at > now:
                if w.remaining > 0:
                    w.remaining -= 1
                    return None
                return w.reset_at
            w.remaining, w.reset_at = limit - 1, now + window
            return None

    def save_rate_window(self, name: str, remaining: int | None, reset_at: datetime | None) -> None:
        if remaining is None or reset_at is None:
            return
        with self._lock:
            w = self._windows.setdefault(name, _Window())
            reset = reset_at.replace(microsecond=0)
            if remaining == 0 or w.remaining is None or w.reset_at != reset or w.remaining > remaining:
                w.remaining, w.reset_at = remaining, reset
                self.writes += 1


class MemoryAppState(MemoryWindows):
    """The app's windows, its read budget (day and month), its counters and X's pause."""

    def __init__(self, lock: threading.RLock | None = None) -> None:
        super().__init__(lock)
        self._usage: dict[str, dict[str, int]] = {}
        self._pause: SyncPause | None = None
        self._fetcher: tuple[datetime | None, dict[str, object]] = (None, {})

    def reserve_posts(self, now: datetime, wanted: int, budgets: Budgets) -> int:
        if budgets.daily <= 0 and budgets.monthly <= 0:
            return wanted
        with self._lock:
            n = min(wanted, self._left(now, budgets))
            if n <= 0:
                return 0
            for period in (day_of(now), month_of(now)):
                counters = self._usage.setdefault(period, {})
                counters["posts_read"] = counters.get("posts_read", 0) + n
            self.writes += 2
            return n

    def posts_left(self, now: datetime, budgets: Budgets) -> int:
        with self._lock:
            return self._left(now, budgets)

    def _left(self, now: datetime, budgets: Budgets) -> int:
        lefts = [1 << 40]
        if budgets.daily > 0:
            lefts.append(budgets.daily - self._usage.get(day_of(now), {}).get("posts_read", 0))
        if budgets.monthly > 0:
            lefts.append(budgets.monthly - self._usage.get(month_of(now), {}).get("posts_read", 0))
        return max(0, min(lefts))

    def settle(self, now: datetime, *, reserved: int, posts_read: int, x_requests: int, **counters: int) -> None:
        self.count(now, {"posts_read": posts_read - reserved, "x_requests": x_requests, **counters})

    def add_usage(self, now: datetime, posts_read: int, x_requests: int) -> Usage:
        self.count(now, {"posts_read": posts_read, "x_requests": x_requests})
        return self.usage(day_of(now))

    def count(self, now: datetime, counters: Mapping[str, int]) -> None:
        moved = {name: value for name, value in counters.items() if value}
        if not moved:
            return
        unknown = set(moved) - set(COUNTERS)
        if unknown:
            raise ValueError(f"unknown counters: {sorted(unknown)}")
        with self._lock:
            for period in (day_of(now), month_of(now)):
                kept = self._usage.setdefault(period, {})
                for name, value in moved.items():
                    kept[name] = kept.get(name, 0) + value
            self.writes += 2

    def usage(self, period: str) -> Usage:
        with self._lock:
            kept = dict(self._usage.get(period, {}))
        counters = {name: kept.get(name, 0) for name in COUNTERS}
        return Usage(period, counters["posts_read"], counters["x_requests"], counters)

    def save_pause(self, pause: SyncPause) -> None:
        with self._lock:
            self._pause = pause
            self.writes += 1

    def pause(self, now: datetime) -> SyncPause | None:
        with self._lock:
            pause = self._pause
        return pause if pause is not None and pause.until > now else None

    def record_fetcher_run(self, now: datetime, detail: dict[str, object]) -> None:
        with self._lock:
            self._fetcher = (now, dict(detail))
            self.writes += 1

    def fetcher_run(self) -> tuple[datetime | None, dict[str, object]]:
        with self._lock:
            return self._fetcher

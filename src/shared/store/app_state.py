"""App-wide state, apart from any subscriber: the operator token's (and an app-wide) request window, each UTC
day's and month's reads and counters, a pause X imposed (its usage cap), and the fetcher's last run.

Reads are counted twice, on a day item (`USAGE#2026-12-02`) and a month item (`USAGE#2026-12`), so the daily
and the monthly budget are each one conditional update: posts are reserved before a request, only while the
budget has them left, and settled after it with what X returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.clock import day_of, month_of
from shared.models import Budgets, RateLimit, SyncPause, Usage
from shared.store import windows
from shared.store.items import APP_PK, COUNTERS, AppItem, Table, counters_to_add, epoch, from_epoch

USAGE_KEPT = timedelta(days=90)  # then the table's TTL removes a day's counters
MONTH_KEPT = timedelta(days=400)
PAUSE_SK = "PAUSE"


class AppStateStore:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._items = table.app

    # --- request windows (the operator token's, and the optional app-wide one) -----------------------------

    def rate_window(self, endpoint: str) -> RateLimit:
        try:
            item = self._items.get(APP_PK, f"RATE#{endpoint}", consistent_read=True)
        except self._items.DoesNotExist:
            return RateLimit(None, None, None)
        remaining = None if item.remaining is None else int(item.remaining)
        return RateLimit(limit=None, remaining=remaining, reset_at=from_epoch(item.reset_at))

    def take_request(self, endpoint: str, now: datetime, *, limit: int, window: timedelta) -> datetime | None:
        """Spend one request of the window (shared/store/windows.py); the reset to wait for if it has none."""
        return windows.take(
            lambda: self._items(pk=APP_PK, sk=f"RATE#{endpoint}"),
            AppItem.remaining,
            AppItem.reset_at,
            now=now,
            limit=limit,
            window=window,
        )

    def save_rate_window(self, endpoint: str, remaining: int | None, reset_at: datetime | None) -> None:
        """What X's headers said of the window: kept if lower than ours, or of another window."""
        item = self._items(pk=APP_PK, sk=f"RATE#{endpoint}")
        if remaining == 0 and reset_at is not None:
            windows.exhaust(item, AppItem.remaining, AppItem.reset_at, reset=reset_at)
            return
        windows.observe(item, AppItem.remaining, AppItem.reset_at, left=remaining, reset=reset_at)

    # --- the read budget and the counters ------------------------------------------------------------------

    def reserve_posts(self, now: datetime, wanted: int, budgets: Budgets) -> int:
        """Reserve up to `wanted` post reads within today's and this month's budgets; how many were reserved
        (fewer when less is left, 0 when none is). With no budget of our own, nothing is reserved: `wanted`."""
        if not budgets.any:
            return wanted
        n = min(wanted, *(b for b in (budgets.daily, budgets.monthly) if b > 0))  # a first read of the period too
        for _ in range(windows.TAKE_ATTEMPTS):
            if n <= 0:
                return 0
            if self._reserve(now, n, budgets):
                return n
            n = min(n, self.posts_left(now, budgets))
        return 0

    def posts_left(self, now: datetime, budgets: Budgets) -> int:
        """Post reads left today and this month, whichever is fewer (a large number when there is no budget)."""
        return budgets.left(self.usage(day_of(now)).posts_read, self.usage(month_of(now)).posts_read)

    def _reserve(self, now: datetime, n: int, budgets: Budgets) -> bool:
        try:
            with TransactWrite(connection=self._table.connection) as tx:
                for sk, budget, kept in self._periods(now, budgets):
                    condition: Condition | None = None
                    if budget > 0:
                        condition = AppItem.posts_read.does_not_exist() | (AppItem.posts_read <= budget - n)
                    tx.update(
                        self._items(pk=APP_PK, sk=sk),
                        actions=[AppItem.posts_read.add(n), AppItem.expires_at.set(epoch(now + kept))],
                        condition=condition,
                    )
        except TransactWriteError as exc:
            if exc.cause_response_code == "TransactionCanceledException":
                return False
            raise
        return True

    def settle(self, now: datetime, *, reserved: int, posts_read: int, x_requests: int, **counters: int) -> None:
        """After a request: the posts X returned replace the ones reserved for it, and the counters move on."""
        self.count(now, {"posts_read": posts_read - reserved, "x_requests": x_requests, **counters})

    def count(self, now: datetime, counters: Mapping[str, int]) -> None:
        """Add to today's and this month's counters (names: shared/store/items.COUNTERS)."""
        moved = counters_to_add(counters)
        if not moved:
            return
        for sk, _, kept in self._periods(now, Budgets()):
            actions: list[Action] = [getattr(AppItem, name).add(value) for name, value in moved.items()]
            actions.append(AppItem.expires_at.set(epoch(now + kept)))
            self._items(pk=APP_PK, sk=sk).update(actions=actions)

    def usage(self, period: str) -> Usage:
        """A day's (`YYYY-MM-DD`) or a month's (`YYYY-MM`) reads and counters."""
        try:
            item = self._items.get(APP_PK, f"USAGE#{period}", consistent_read=True)
        except self._items.DoesNotExist:
            return Usage(period, 0, 0)
        counters = {name: int(getattr(item, name) or 0) for name in COUNTERS}
        return Usage(period, counters["posts_read"], counters["x_requests"], counters)

    @staticmethod
    def _periods(now: datetime, budgets: Budgets) -> list[tuple[str, int, timedelta]]:
        return [
            (f"USAGE#{day_of(now)}", budgets.daily, USAGE_KEPT),
            (f"USAGE#{month_of(now)}", budgets.monthly, MONTH_KEPT),
        ]

    # --- a pause X imposed: its usage cap ------------------------------------------------------------------

    def save_pause(self, pause: SyncPause) -> None:
        self._items(pk=APP_PK, sk=PAUSE_SK).update(
            actions=[AppItem.reset_at.set(epoch(pause.until)), AppItem.detail.set({"reason": pause.reason})]
        )

    def pause(self, now: datetime) -> SyncPause | None:
        """The pause X imposed, while it lasts."""
        try:
            item = self._items.get(APP_PK, PAUSE_SK)
        except self._items.DoesNotExist:
            return None
        until = from_epoch(item.reset_at)
        if until is None or until <= now:
            return None
        return SyncPause(until, str((item.detail or {}).get("reason", "x_usage_cap")))

    # --- the fetcher -------------------------------------------------------------------------------------------

    def record_fetcher_run(self, now: datetime, detail: dict[str, Any]) -> None:
        self._items(pk=APP_PK, sk="FETCHER").update(actions=[AppItem.last_run_at.set(now), AppItem.detail.set(detail)])

    def fetcher_run(self) -> tuple[datetime | None, dict[str, Any]]:
        try:
            item = self._items.get(APP_PK, "FETCHER")
        except self._items.DoesNotExist:
            return None, {}
        return item.last_run_at, dict(item.detail or {})

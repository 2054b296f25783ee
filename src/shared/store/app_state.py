"""App-wide state, apart from any subscriber: X's last rate-limit window, each day's reads, the fetcher's last run."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.expressions.update import Action

from shared.models import RateLimit, Usage
from shared.store.items import APP_PK, AppItem, Table, epoch, from_epoch

USAGE_KEPT = timedelta(days=90)  # then the table's TTL removes a day's counters


class AppStateStore:
    def __init__(self, table: Table) -> None:
        self._items = table.app

    def rate_window(self, endpoint: str) -> RateLimit:
        try:
            item = self._items.get(APP_PK, f"RATE#{endpoint}", consistent_read=True)
        except self._items.DoesNotExist:
            return RateLimit(None, None, None)
        remaining = None if item.remaining is None else int(item.remaining)
        return RateLimit(limit=None, remaining=remaining, reset_at=from_epoch(item.reset_at))

    def save_rate_window(self, endpoint: str, remaining: int | None, reset_at: datetime | None) -> None:
        actions: list[Action] = [
            AppItem.remaining.set(remaining) if remaining is not None else AppItem.remaining.remove(),
            AppItem.reset_at.set(epoch(reset_at)) if reset_at else AppItem.reset_at.remove(),
        ]
        self._items(pk=APP_PK, sk=f"RATE#{endpoint}").update(actions=actions)

    def add_usage(self, now: datetime, posts_read: int, x_requests: int) -> Usage:
        day = now.strftime("%Y-%m-%d")
        item = self._items(pk=APP_PK, sk=f"USAGE#{day}")
        item.update(
            actions=[
                AppItem.posts_read.add(posts_read),
                AppItem.x_requests.add(x_requests),
                AppItem.expires_at.set(epoch(now + USAGE_KEPT)),
            ]
        )
        return Usage(day, int(item.posts_read or 0), int(item.x_requests or 0))

    def usage(self, day: str) -> Usage:
        try:
            item = self._items.get(APP_PK, f"USAGE#{day}", consistent_read=True)
        except self._items.DoesNotExist:
            return Usage(day, 0, 0)
        return Usage(day, int(item.posts_read or 0), int(item.x_requests or 0))

    def record_fetcher_run(self, now: datetime, detail: dict[str, Any]) -> None:
        self._items(pk=APP_PK, sk="FETCHER").update(actions=[AppItem.last_run_at.set(now), AppItem.detail.set(detail)])

    def fetcher_run(self) -> tuple[datetime | None, dict[str, Any]]:
        try:
            item = self._items.get(APP_PK, "FETCHER")
        except self._items.DoesNotExist:
            return None, {}
        return item.last_run_at, dict(item.detail or {})

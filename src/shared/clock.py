"""Time as a collaborator, so tests and the offline stack can move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def day_of(now: datetime) -> str:
    """The UTC day a moment is counted in (`YYYY-MM-DD`): a daily budget's and usage counters' period."""
    return now.strftime("%Y-%m-%d")


def month_of(now: datetime) -> str:
    """The UTC month a moment is counted in (`YYYY-MM`): a monthly budget's and usage counters' period."""
    return now.strftime("%Y-%m")


def next_utc_midnight(now: datetime) -> datetime:
    """When X's per-UTC-day billing (and our daily budget) starts again."""
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def next_utc_month(now: datetime) -> datetime:
    """When a monthly budget starts again: the first of the next month, 00:00 UTC."""
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)

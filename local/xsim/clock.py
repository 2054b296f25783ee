"""The simulator's sense of time: real, accelerated or moved by hand, so no test waits out a 15-minute window."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

# Where a manual clock starts unless told otherwise: fixed, so the same seed gives the same bytes.
DEFAULT_START = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)


class SimClock(Protocol):
    """What the simulator asks of a clock. Every clock here can also be moved, by the tests or `/_sim/clock`."""

    def now(self) -> datetime: ...

    def time(self) -> float: ...

    def advance(self, seconds: float) -> None: ...

    def set(self, when: datetime) -> None: ...


class ManualClock:
    """Stands still until told to move."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        _require_aware(start)
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def time(self) -> float:
        return self.now().timestamp()

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock only moves forward; use set() to go back")
        with self._lock:
            self._now += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        _require_aware(when)
        with self._lock:
            self._now = when


class ScaledClock:
    """Real time multiplied by `factor` (1.0 = real time), starting at `start` (default: the real now)."""

    def __init__(self, factor: float = 1.0, start: datetime | None = None) -> None:
        if factor <= 0:
            raise ValueError("factor must be positive")
        self._factor = factor
        self._start = start or datetime.now(UTC)
        _require_aware(self._start)
        # monotonic, so a system clock change does not make simulated time jump.
        self._t0 = time.monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def factor(self) -> float:
        return self._factor

    def now(self) -> datetime:
        with self._lock:
            elapsed = (time.monotonic() - self._t0) * self._factor + self._offset
        return self._start + timedelta(seconds=elapsed)

    def time(self) -> float:
        return self.now().timestamp()

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock only moves forward; use set() to go back")
        with self._lock:
            self._offset += seconds

    def set(self, when: datetime) -> None:
        _require_aware(when)
        shift = (when - self.now()).total_seconds()
        with self._lock:
            self._offset += shift


def _require_aware(when: datetime) -> None:
    if when.tzinfo is None:
        raise ValueError("the simulator's clock works in aware (UTC) datetimes")

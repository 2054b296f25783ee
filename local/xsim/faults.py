"""Faults on demand: 5xx at a rate, in a burst or every Nth request, added latency, dropped connections, and
"storm" (all at once).

Random faults draw from their own generator seeded from the simulator's seed, so a run with the same
seed and the same requests fails the same requests; `error_every` needs no seed at all. Every fault can be
switched off again with `clear()`.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, replace
from typing import Any

SERVER_ERRORS = (500, 502, 503, 504)


@dataclass(frozen=True)
class FaultSettings:
    error_rate: float = 0.0  # share of requests answered with `error_status`
    error_status: int = 503
    error_every: int = 0  # every Nth request (counted from when this is set) is answered with `error_status`
    retry_after: int = 0  # seconds of Retry-After sent with every injected 5xx (0: no header)
    burst: int = 0  # the next N requests get `burst_status`
    burst_status: int = 503
    latency_ms: int = 0  # added before every answer
    drop_rate: float = 0.0  # share of requests whose connection is closed without an answer
    drop_next: int = 0  # the next N connections are closed without an answer

    def validate(self) -> None:
        for name in ("error_rate", "drop_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        for name in ("burst", "latency_ms", "drop_next", "error_every", "retry_after"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        for name in ("error_status", "burst_status"):
            if getattr(self, name) not in SERVER_ERRORS:
                raise ValueError(f"{name} must be one of {SERVER_ERRORS}")

    @property
    def active(self) -> bool:
        return self != FaultSettings()


@dataclass(frozen=True)
class FaultAction:
    """What to do to one request: nothing, answer with a 5xx, or drop the connection; after `delay` seconds."""

    kind: str  # "none" | "error" | "drop"
    status: int = 0
    delay: float = 0.0
    retry_after: int = 0


class Faults:
    def __init__(self, seed: int, *, storm: FaultSettings) -> None:
        self._rng = random.Random(f"{seed}:faults")
        self._storm = storm
        self._settings = FaultSettings()
        self._lock = threading.Lock()
        self._counted = 0  # requests seen since error_every was set
        self.injected = 0  # faults handed out (errors and drops), for tests that must see some happen

    @property
    def settings(self) -> FaultSettings:
        return self._settings

    def set(self, **changes: Any) -> FaultSettings:
        """Change some settings, keep the others; `set(preset="storm")` switches the storm on."""
        preset = changes.pop("preset", None)
        unknown = set(changes) - set(FaultSettings.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        if preset not in (None, "storm"):
            raise ValueError(f"unknown preset {preset!r}; the one preset is 'storm'")
        with self._lock:
            base = self._storm if preset == "storm" else self._settings
            updated = replace(base, **changes)
            updated.validate()
            self._settings = updated
            if "error_every" in changes:
                self._counted = 0
            return updated

    def storm(self) -> FaultSettings:
        return self.set(preset="storm")

    def clear(self) -> None:
        with self._lock:
            self._settings = FaultSettings()
            self._counted = 0
            self.injected = 0

    def decide(self) -> FaultAction:
        """The fault for the next request; counts down bursts."""
        with self._lock:
            action = self._decide()
            if action.kind != "none":
                self.injected += 1
            return action

    def _decide(self) -> FaultAction:
        """Called with the lock held."""
        s = self._settings
        delay = s.latency_ms / 1000
        if s.drop_next:
            self._settings = replace(s, drop_next=s.drop_next - 1)
            return FaultAction("drop", delay=delay)
        if s.burst:
            self._settings = replace(s, burst=s.burst - 1)
            return FaultAction("error", s.burst_status, delay, s.retry_after)
        if s.error_every:
            self._counted += 1
            if self._counted % s.error_every == 0:
                return FaultAction("error", s.error_status, delay, s.retry_after)
        if s.drop_rate and self._rng.random() < s.drop_rate:
            return FaultAction("drop", delay=delay)
        if s.error_rate and self._rng.random() < s.error_rate:
            return FaultAction("error", s.error_status, delay, s.retry_after)
        return FaultAction("none", delay=delay)

    def snapshot(self) -> dict[str, Any]:
        return {**asdict(self._settings), "active": self._settings.active}

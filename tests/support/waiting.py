"""Waiting for a state that other threads reach on their own, without guessing how long it takes.

`wait_until(condition, what)` polls until the condition holds; its deadline only keeps a broken program from
hanging the suite (nothing is measured). `waiting_on(cond)` says how many threads are blocked in a
`threading.Condition` right now, so a test can tell "blocked, as it should be" from "not there yet".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

HANG_GUARD_SECONDS = 30.0


def wait_until(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.001)


def waiting_on(cond: threading.Condition) -> int:
    # CPython's Condition keeps one lock per waiting thread.
    return len(cond._waiters)  # type: ignore[attr-defined]

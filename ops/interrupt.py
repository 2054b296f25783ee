"""Ctrl-C during a redrive: stop at the next safe point, not in the middle of an SQS call.

A KeyboardInterrupt raised inside a SendMessage leaves the tool not knowing whether the copy was sent,
and one inside a ReceiveMessage leaves messages hidden until their visibility timeout ends. So while a
redrive runs, the first Ctrl-C only asks to stop; the redrive checks between calls (`checkpoint()`), its
waits end at once (`wait()`), and it cleans up as for any interrupt. A second Ctrl-C aborts immediately.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class StopRequested(KeyboardInterrupt):
    """The operator's Ctrl-C, raised at a safe point: handled wherever a KeyboardInterrupt is."""


class StopSignal:
    def __init__(self) -> None:
        self._event = threading.Event()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self) -> None:
        self._event.set()

    def wait(self, seconds: float) -> None:
        """Sleep, but wake up as soon as a stop is requested."""
        self._event.wait(seconds)

    def checkpoint(self) -> None:
        if self._event.is_set():
            raise StopRequested

    @contextmanager
    def on_ctrl_c(self) -> Iterator[StopSignal]:
        """Route SIGINT here for the duration (main thread only: Python delivers signals there)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            if self._event.is_set():
                raise KeyboardInterrupt  # pressed twice: the operator means it
            self._event.set()

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)

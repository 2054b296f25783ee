"""What a person sees in a terminal: aligned tables, a little colour, relative times, a progress line.

Scripts use `--json` instead (ops/*.py build the dicts); nothing here decides what is shown, only how.
Colour only on a terminal, never with --no-color or NO_COLOR (https://no-color.org).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}

# How each subscriber status reads at a glance.
STATUS_COLOURS = {
    "ready": "green",
    "syncing": "cyan",
    "pending": "cyan",
    "rate_limited": "yellow",
    "usage_capped": "yellow",
    "forbidden": "red",
    "not_found": "red",
    "rejected": "red",
    "error": "red",
    "deleting": "dim",
}


class Style:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @classmethod
    def for_stream(cls, stream: TextIO, *, no_color: bool) -> Style:
        return cls(not no_color and "NO_COLOR" not in os.environ and stream.isatty())

    def paint(self, text: str, name: str) -> str:
        return f"\033[{_CODES[name]}m{text}\033[0m" if self.enabled and name in _CODES else text

    def bold(self, text: str) -> str:
        return self.paint(text, "bold")

    def dim(self, text: str) -> str:
        return self.paint(text, "dim")

    def status(self, status: str) -> str:
        return self.paint(status, STATUS_COLOURS.get(status, "bold"))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, indent: str = "") -> str:
    """Columns padded to their widest cell; cells may carry colour (its escape codes are not counted)."""
    widths = [len(_plain(h)) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(_plain(cell)))
    lines = []
    for row in [list(headers), *rows]:
        cells = [cell + " " * (widths[i] - len(_plain(cell))) for i, cell in enumerate(row)]
        lines.append((indent + "  ".join(cells)).rstrip())
    return "\n".join(lines)


def truncate(text: str | None, width: int) -> str:
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def iso(when: datetime | None) -> str | None:
    """The one time format of --json output: UTC, seconds, a Z."""
    if when is None:
        return None
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def when(moment: datetime | None, now: datetime) -> str:
    """'2026-11-28 11:40Z (3m ago)' or '… (in 12m)'; '-' for never."""
    if moment is None:
        return "-"
    seconds = (moment - now).total_seconds()
    relative = f"in {duration(seconds)}" if seconds > 0 else f"{duration(-seconds)} ago"
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M}Z ({relative})"


def duration(value: float) -> str:
    seconds = round(value)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds}s" if seconds and minutes < 10 else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{hours // 24}d {hours % 24}h"


def print_json(data: Any, stream: TextIO | None = None) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False), file=stream or sys.stdout)


class Progress:
    """One line on stderr, rewritten in place; silent unless stderr is a terminal (and not for --json)."""

    def __init__(self, stream: TextIO, *, enabled: bool) -> None:
        self._stream = stream
        self._enabled = enabled and stream.isatty()
        self._width = 0

    def update(self, text: str) -> None:
        if not self._enabled:
            return
        padding = " " * max(0, self._width - len(text))
        self._stream.write(f"\r{text}{padding}")
        self._stream.flush()
        self._width = len(text)

    def done(self) -> None:
        if self._enabled and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._width = 0


def _plain(text: str) -> str:
    while "\033[" in text:
        start = text.index("\033[")
        end = text.index("m", start)
        text = text[:start] + text[end + 1 :]
    return text

"""One readable log stream for the whole stack: time, source, request id, level, message, key fields.

Functions log Powertools JSON lines; this turns each into one compact line (the JSON keys an operator reads,
not the dozen every line repeats). The gateway, the poller and the scheduler report their decisions here
too. Colour on a terminal; every known secret value is masked before anything is written.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

# Keys every Powertools line repeats: shown once elsewhere (source, request id) or of no use when reading.
_REPEATED = {
    "level",
    "message",
    "name",  # the Python logger's name
    "timestamp",
    "location",
    "service",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "correlation_id",
    "xray_trace_id",
    "sampling_rate",
    "exception",
    "exception_name",
    "stack_trace",
}
_COLORS = {
    "api": "36",  # cyan
    "worker": "35",  # magenta
    "fetcher": "33",  # yellow
    "gateway": "34",  # blue
    "sqs": "32",  # green
    "schedule": "32",
    "aws": "90",
    "x": "90",
    "stack": "1",
}
_LEVEL_COLORS = {"ERROR": "31", "CRITICAL": "31", "WARNING": "33", "WARN": "33", "DEBUG": "90"}
_MAX_VALUE = 120
_WARNING = re.compile(r"^\S+:\d+: (\w+Warning): (.*)$")


def _short(request_id: str | None) -> str:
    return (request_id or "")[:8]


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)
    if " " in text and not text.startswith(("{", "[")):
        text = json.dumps(text)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def fields_text(fields: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={_value(v)}" for k, v in fields.items() if v is not None)


class LogStream:
    def __init__(self, out: TextIO, *, color: bool, verbose: bool = False, secrets: Iterable[str] = ()) -> None:
        self._out = out
        self._color = color
        self.verbose = verbose
        self._secrets: list[str] = []
        self._lock = threading.Lock()
        self._after_warning: set[tuple[str, str]] = set()
        self.add_secrets(secrets)

    def add_secrets(self, values: Iterable[str]) -> None:
        """Mask these wherever they appear (short values would mask ordinary words: only 8+ characters)."""
        with self._lock:
            self._secrets.extend(v for v in values if len(v) >= 8 and v not in self._secrets)
            self._secrets.sort(key=len, reverse=True)

    # --- what the stack's parts call --------------------------------------------------------------------

    def event(
        self,
        source: str,
        message: str,
        *,
        request_id: str | None = None,
        level: str = "INFO",
        fields: Mapping[str, Any] | None = None,
        debug: bool = False,
    ) -> None:
        """A decision of the gateway, poller, scheduler or the stack itself."""
        if debug and not self.verbose:
            return
        self._write(time.time(), source, request_id, level, message, fields_text(fields or {}))

    def function_line(self, source: str, request_id: str | None, stream: str, line: str) -> None:
        """A line a function process wrote (stdout/stderr), or the runtime's own note about it."""
        if not line.strip():
            return
        if stream == "runtime":
            self._write(time.time(), source, request_id, "INFO", line, "", dim=not line.startswith("Task timed out"))
            return
        parsed = _json(line)
        if parsed is None:
            self._plain(source, request_id, stream, line)
            return
        if "errorType" in parsed and "errorMessage" in parsed:  # the runtime's record of an unhandled error
            first = str(parsed["errorMessage"]).strip().split("\n", 1)[0]
            self._write(time.time(), source, request_id, "ERROR", f"{parsed['errorType']}: {first}", "")
            if self.verbose:
                for frame in parsed.get("stackTrace") or []:
                    for text in str(frame).rstrip().splitlines():
                        self._write(time.time(), source, request_id, "", text, "", dim=True)
            return
        if "_aws" in parsed:  # an embedded-metric-format record: numbers, not news
            if self.verbose:
                metrics = {
                    m["Name"]: parsed.get(m["Name"])
                    for d in parsed["_aws"].get("CloudWatchMetrics", [])
                    for m in d.get("Metrics", [])
                }
                self._write(time.time(), source, request_id, "DEBUG", "metrics", fields_text(metrics), dim=True)
            return
        level = str(parsed.get("level", "INFO")).upper()
        message = str(parsed.get("message", ""))
        extra = {k: v for k, v in parsed.items() if k not in _REPEATED}
        if parsed.get("exception"):
            last = str(parsed["exception"]).strip().splitlines()[-1:]
            extra["exception"] = last[0] if last else ""
        rid = parsed.get("function_request_id") or request_id
        self._write(time.time(), source, str(rid) if rid else None, level, message, fields_text(extra))

    def _plain(self, source: str, request_id: str | None, stream: str, line: str) -> None:
        """A line that is not JSON: a Python warning (one line, its source line dropped), or text as is."""
        key = (source, stream)
        if line.startswith((" ", "\t")) and key in self._after_warning:
            self._after_warning.discard(key)
            return
        self._after_warning.discard(key)
        warning = _WARNING.match(line)
        if warning:
            self._after_warning.add(key)
            self._write(
                time.time(), source, request_id, "WARN", f"{warning.group(1)}: {warning.group(2)}", "", dim=True
            )
            return
        level = "ERROR" if stream == "stderr" and line.startswith(("[ERROR]", "Traceback")) else ""
        self._write(time.time(), source, request_id, level, line, "", dim=stream == "stderr" and not level)

    # --- output ----------------------------------------------------------------------------------------

    def _paint(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self._color and code else text

    def _write(
        self,
        when: float,
        source: str,
        request_id: str | None,
        level: str,
        message: str,
        fields: str,
        *,
        dim: bool = False,
    ) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(when)) + f".{int(when % 1 * 1000):03d}"
        parts = [
            self._paint("90", stamp),
            self._paint(_COLORS.get(source, ""), f"{source:<8}"),
            self._paint("90", f"{_short(request_id):<8}"),
        ]
        shown_level = level if level and level != "INFO" else ""
        if shown_level:
            parts.append(self._paint(_LEVEL_COLORS.get(level, ""), f"{shown_level:<5}"))
        text = message + (f"  {fields}" if fields else "")
        parts.append(self._paint("90", text) if dim else text)
        line = " ".join(parts)
        with self._lock:
            for secret in self._secrets:
                line = line.replace(secret, "***")
            self._out.write(line + "\n")
            self._out.flush()


def _json(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None

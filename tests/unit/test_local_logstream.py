"""The stack's one log stream: Powertools lines made compact, errors made one line, secrets never shown."""

from __future__ import annotations

import io
import json

from local.stack.accelerate import Acceleration
from local.stack.logstream import LogStream


def stream(**kwargs: object) -> tuple[LogStream, io.StringIO]:
    out = io.StringIO()
    return LogStream(out, color=False, **kwargs), out  # type: ignore[arg-type]


POWERTOOLS = {
    "level": "INFO",
    "location": "sync:210",
    "message": "page stored",
    "timestamp": "2026-11-28 12:00:00,000+0000",
    "service": "worker",
    "cold_start": True,
    "function_name": "random-likes-WorkerFunction-X",
    "function_memory_size": "512",
    "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:x",
    "function_request_id": "0f1e2d3c-aaaa-bbbb-cccc-000000000000",
    "username": "demo",
    "new": 98,
}


def test_a_powertools_line_shows_source_request_message_and_its_own_keys_only() -> None:
    log, out = stream()
    log.function_line("worker", None, "stdout", json.dumps(POWERTOOLS))
    line = out.getvalue()
    assert "worker" in line
    assert "0f1e2d3c" in line
    assert "page stored  username=demo new=98" in line
    assert "function_arn" not in line
    assert "cold_start" not in line


def test_errors_are_marked_and_an_unhandled_error_is_one_line() -> None:
    log, out = stream()
    log.function_line("api", "r1", "stdout", json.dumps({**POWERTOOLS, "level": "ERROR", "message": "boom"}))
    record = {"errorType": "ValueError", "errorMessage": "bad\nmore", "stackTrace": ["  File x\n"], "requestId": "r1"}
    log.function_line("api", "r1", "stderr", json.dumps(record))
    lines = out.getvalue().splitlines()
    assert "ERROR boom" in lines[0]
    assert lines[1].endswith("ERROR ValueError: bad")
    assert len(lines) == 2  # the stack trace only with --verbose


def test_metrics_are_shown_only_when_verbose() -> None:
    emf = {"_aws": {"CloudWatchMetrics": [{"Metrics": [{"Name": "Picks"}]}]}, "Picks": [1.0]}
    quiet, quiet_out = stream()
    quiet.function_line("api", "r", "stdout", json.dumps(emf))
    assert quiet_out.getvalue() == ""
    verbose, verbose_out = stream(verbose=True)
    verbose.function_line("api", "r", "stdout", json.dumps(emf))
    assert "Picks=[1.0]" in verbose_out.getvalue()


def test_a_python_warning_is_one_line_without_its_source_line() -> None:
    log, out = stream()
    log.function_line("worker", "r", "stderr", "/x/base.py:213: UserWarning: No application metrics to publish.")
    log.function_line("worker", "r", "stderr", "  self.flush_metrics()")
    log.function_line("worker", "r", "stderr", "  an indented line that is not after a warning")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert "WARN  UserWarning: No application metrics to publish." in lines[0]


def test_known_secrets_are_masked_wherever_they_appear() -> None:
    log, out = stream(secrets=["xsim-consumer-secret-123"])
    log.function_line("worker", "r", "stdout", "signing with xsim-consumer-secret-123 now")
    log.event("stack", "creds", fields={"secret": "xsim-consumer-secret-123"})
    assert "xsim-consumer-secret-123" not in out.getvalue()
    assert out.getvalue().count("***") == 2


def test_decisions_of_the_stack_are_lines_too_and_debug_ones_need_verbose() -> None:
    log, out = stream()
    log.event("sqs", "batch of 2 -> WorkerFunction: success", request_id="abcdef123456", fields={"deleted": 2})
    log.event("schedule", "fires", debug=True)
    (line,) = out.getvalue().splitlines()
    assert "sqs" in line
    assert "abcdef12 " in line
    assert line.endswith("batch of 2 -> WorkerFunction: success  deleted=2")


def test_acceleration_shortens_whole_seconds_and_the_sync_interval_unless_given() -> None:
    fast = Acceleration(300)
    assert fast.seconds(720) == 3
    assert fast.seconds(1) == 1
    declared = {"SyncIntervalMinutes": {"Type": "Number", "Default": 60}}
    assert fast.parameters(declared, {})[0] == {"SyncIntervalMinutes": "1"}
    assert fast.parameters(declared, {"SyncIntervalMinutes": "30"})[0] == {"SyncIntervalMinutes": "30"}
    assert Acceleration(1).parameters(declared, {}) == ({}, [])

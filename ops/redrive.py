"""`random-likes dlq redrive`: move dead letters back to their queue (the fetch queue's, or the import queue's), on
AWS and where AWS's API is missing.

Two paths, one report:

- **move task** (AWS): `StartMessageMoveTask` from the DLQ to the fetch queue at `--rate` messages/s; SQS
  moves the messages itself. Progress comes from `ListMessageMoveTasks`; Ctrl-C sends
  `CancelMessageMoveTask` (messages already moved stay moved, the rest stay in the DLQ).
- **manual** (moto, which answers these APIs with HTTP 500; or `--manual`; or `--max`, which a move task
  cannot do): receive → send a copy → delete the original, one message at a time, rate-limited. A message
  is never deleted before its copy is sent, so an interruption can duplicate a message, never lose one —
  and the worker is idempotent (a duplicate sync stores nothing twice).

Ctrl-C stops either path at the next safe point between two SQS calls (ops/interrupt.py).
Redriven messages that fail again (the cause is not fixed) come back to the DLQ under the id of their
copy; the manual path remembers the ids of the copies it sent and never moves a message twice in one run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import ClientError

from ops.errors import OpsError, error_code
from ops.interrupt import StopSignal
from ops.queues import LONG_POLL_SECONDS, SQS_BATCH, QueueDepth, QueueMessage, depth, receive, release
from ops.render import Style, duration

MOVE_TASK, MANUAL = "move-task", "manual"
MAX_RATE = 500  # StartMessageMoveTask's own upper bound for MaxNumberOfMessagesPerSecond
DEFAULT_RATE = 10
POLL_SECONDS = 2.0
TERMINAL = {"COMPLETED", "CANCELLED", "FAILED"}
# What "this endpoint has no such API" looks like: moto's 500 page, or an explicit code.
_UNSUPPORTED_CODES = {
    "NotImplemented",
    "InvalidAction",
    "UnknownOperationException",
    "UnsupportedOperation",
    "AWS.SimpleQueueService.UnsupportedOperation",
}

Progress = Callable[[int, int | None], None]  # (moved so far, to move if known)


class Queues(Protocol):
    """A queue and its dead-letter queue (ops.discover.QueuePair; a Stack is its fetch pair)."""

    @property
    def queue_url(self) -> str: ...
    @property
    def queue_arn(self) -> str: ...
    @property
    def dlq_url(self) -> str: ...
    @property
    def dlq_arn(self) -> str: ...


@dataclass(frozen=True)
class NotMoved:
    message_id: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"message_id": self.message_id, "reason": self.reason}


@dataclass
class RedriveReport:
    path: str
    path_reason: str
    source_arn: str
    destination_arn: str
    rate: int
    dry_run: bool = False
    to_move: int | None = None  # what the DLQ held at the start (approximate), or what the task reports
    moved: int = 0
    moved_ids: list[str] = field(default_factory=list)  # the manual path knows which; a move task does not
    not_moved: list[NotMoved] = field(default_factory=list)
    # Copies sent whose originals could not be deleted: they will be redriven again, i.e. duplicated.
    duplicated: list[NotMoved] = field(default_factory=list)
    interrupted: bool = False
    task: dict[str, Any] | None = None  # the move task as SQS last described it
    remaining: QueueDepth | None = None

    @property
    def complete(self) -> bool:
        task_ok = self.task is None or self.task.get("status") == "COMPLETED"
        return not self.interrupted and not self.not_moved and not self.duplicated and task_ok

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "path_reason": self.path_reason,
            "dry_run": self.dry_run,
            "source_arn": self.source_arn,
            "destination_arn": self.destination_arn,
            "rate_per_second": self.rate,
            "to_move": self.to_move,
            "moved": self.moved,
            "moved_ids": self.moved_ids,
            "not_moved": [n.to_json() for n in self.not_moved],
            "duplicated": [n.to_json() for n in self.duplicated],
            "interrupted": self.interrupted,
            "complete": None if self.dry_run else self.complete,
            "task": self.task,
            "remaining": None if self.remaining is None else self.remaining.to_json(),
        }


class RateLimiter:
    """At most `per_second` calls to `wait()` return per second, evenly spaced."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self._interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None

    def wait(self) -> None:
        now = self._clock()
        if self._next is not None and self._next > now:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self._interval


def parse_rate(text: str) -> int:
    """'10/s' or '10' → 10; whole messages per second, 1..500 (what StartMessageMoveTask accepts)."""
    raw = text.strip().lower().removesuffix("/s").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_RATE:
        raise ValueError(f"rate must be N/s with N a whole number from 1 to {MAX_RATE}, got {text!r}")
    return int(raw)


def choose_path(sqs: Any, stack: Queues, *, manual: bool, max_messages: int | None) -> tuple[str, str]:
    """Which path, and why. Asks ListMessageMoveTasks (read-only) whether move tasks exist here."""
    if manual:
        return MANUAL, "--manual"
    if max_messages is not None:
        return MANUAL, "--max: a move task always moves every message"
    try:
        listed = sqs.list_message_move_tasks(SourceArn=stack.dlq_arn, MaxResults=1)
    except ClientError as exc:
        if unsupported(exc):
            return MANUAL, f"StartMessageMoveTask is not available here (ListMessageMoveTasks: {_status(exc)})"
        raise
    for task in listed.get("Results", []):
        if task.get("Status") in {"RUNNING", "CANCELLING"}:
            raise OpsError(
                f"a move task is already {task['Status'].lower()} on the dead-letter queue "
                f"({task.get('ApproximateNumberOfMessagesMoved', 0)} of "
                f"{task.get('ApproximateNumberOfMessagesToMove', '?')} moved)",
                hint="wait for it to finish, or cancel it: aws sqs cancel-message-move-task --task-handle "
                f"{task.get('TaskHandle', '<handle>')}",
            )
    return MOVE_TASK, "StartMessageMoveTask: SQS moves the messages itself"


def plan(sqs: Any, stack: Queues, *, rate: int, manual: bool, max_messages: int | None) -> RedriveReport:
    """--dry-run: which path, how many, how long; no message is received, moved or touched."""
    path, why = choose_path(sqs, stack, manual=manual, max_messages=max_messages)
    dlq = depth(sqs, stack.dlq_url)
    to_move = dlq.visible if max_messages is None else min(dlq.visible, max_messages)
    return RedriveReport(path, why, stack.dlq_arn, stack.queue_arn, rate, dry_run=True, to_move=to_move, remaining=dlq)


def redrive(
    sqs: Any,
    stack: Queues,
    *,
    rate: int,
    manual: bool = False,
    max_messages: int | None = None,
    progress: Progress | None = None,
    stop: StopSignal | None = None,
    sleep: Callable[[float], object] | None = None,
) -> RedriveReport:
    """Redrive by the path `choose_path` picks. `stop` is the operator's Ctrl-C (ops/interrupt.py)."""
    stop = stop or StopSignal()
    sleep = sleep or stop.wait
    path, why = choose_path(sqs, stack, manual=manual, max_messages=max_messages)
    if path == MOVE_TASK:
        # No fallback once a task may have started: two movers on one queue would only confuse the report.
        return run_move_task(sqs, stack, rate=rate, reason=why, progress=progress, stop=stop, sleep=sleep)
    return run_manual(
        sqs,
        stack,
        rate=rate,
        reason=why,
        max_messages=max_messages,
        progress=progress,
        stop=stop,
        limiter=RateLimiter(rate, sleep=sleep),
    )


def render(report: RedriveReport, style: Style) -> str:
    """The report in words: what moved, what did not and why, what is left."""
    source = report.source_arn.rsplit(":", 1)[-1]
    destination = report.destination_arn.rsplit(":", 1)[-1]
    path = f"{report.path} ({report.path_reason})"
    left = (
        "?"
        if report.remaining is None
        else f"{report.remaining.visible} waiting · {report.remaining.in_flight} in flight"
    )
    if report.dry_run:
        count = report.to_move or 0
        return "\n".join(
            [
                style.bold("Dry run: nothing was received, moved or deleted."),
                f"  path         {path}",
                f"  would move   ~{count} message(s) from {source} to {destination} at {report.rate}/s"
                f" (~{duration(count / report.rate)})",
            ]
        )
    if report.complete and report.moved == 0 and not report.to_move:
        return "Nothing to move: the dead-letter queue is empty."
    if report.interrupted:
        head = style.paint("Redrive interrupted.", "yellow")
    elif report.complete:
        head = style.paint("Redrive complete.", "green")
    else:
        head = style.paint("Redrive incomplete.", "red")
    lines = [
        head,
        f"  path         {path}",
        f"  moved        {report.moved}"
        + (f" of ~{report.to_move}" if report.to_move is not None else "")
        + f" from {source} to {destination}",
    ]
    if report.task:
        lines.append(
            f"  task         {report.task['status']}"
            + (f": {report.task['failure_reason']}" if report.task.get("failure_reason") else "")
        )
    for item in report.not_moved:
        lines.append(f"  not moved    {item.message_id}: {item.reason}")
    for item in report.duplicated:
        lines.append(f"  duplicated   {item.message_id}: {item.reason}")
    lines.append(f"  left in DLQ  {left}")
    if report.interrupted:
        lines.append(
            style.dim("  Run it again to move the rest: nothing was lost; at worst a message is enqueued twice.")
        )
    return "\n".join(lines)


# --- the AWS path ----------------------------------------------------------------------------------------


def run_move_task(
    sqs: Any,
    stack: Queues,
    *,
    rate: int,
    reason: str = "StartMessageMoveTask",
    progress: Progress | None = None,
    stop: StopSignal | None = None,
    sleep: Callable[[float], object] = time.sleep,
    poll_seconds: float = POLL_SECONDS,
) -> RedriveReport:
    stop = stop or StopSignal()
    report = RedriveReport(MOVE_TASK, reason, stack.dlq_arn, stack.queue_arn, rate)
    handle = sqs.start_message_move_task(
        SourceArn=stack.dlq_arn, DestinationArn=stack.queue_arn, MaxNumberOfMessagesPerSecond=rate
    )["TaskHandle"]
    report.task = {"handle": handle, "status": "RUNNING", "failure_reason": None}
    try:
        while True:
            sleep(poll_seconds)
            stop.checkpoint()
            task = _latest_task(sqs, stack.dlq_arn)
            if task is None:
                continue  # not listed yet: SQS lists a task shortly after it starts
            report.moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
            report.to_move = _int_or_none(task.get("ApproximateNumberOfMessagesToMove"))
            report.task = {"handle": handle, "status": task["Status"], "failure_reason": task.get("FailureReason")}
            if progress:
                progress(report.moved, report.to_move)
            if task["Status"] in TERMINAL:
                break
    except KeyboardInterrupt:
        report.interrupted = True
        cancelled = sqs.cancel_message_move_task(TaskHandle=handle)
        report.moved = int(cancelled.get("ApproximateNumberOfMessagesMoved", report.moved))
        report.task = {"handle": handle, "status": "CANCELLING", "failure_reason": None}
    if report.task.get("status") == "FAILED":
        report.not_moved.append(NotMoved("*", f"the move task failed: {report.task.get('failure_reason')}"))
    report.remaining = depth(sqs, stack.dlq_url)
    return report


def _latest_task(sqs: Any, source_arn: str) -> dict[str, Any] | None:
    results = sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=1).get("Results", [])
    return dict(results[0]) if results else None


# --- the manual path ---------------------------------------------------------------------------------------


def run_manual(
    sqs: Any,
    stack: Queues,
    *,
    rate: int,
    reason: str = "manual",
    max_messages: int | None = None,
    progress: Progress | None = None,
    stop: StopSignal | None = None,
    limiter: RateLimiter | None = None,
    hold_seconds: int | None = None,
    wait_seconds: int = LONG_POLL_SECONDS,
) -> RedriveReport:
    """Receive → send → delete until the DLQ is empty (or --max); see the module docstring for the rules."""
    stop = stop or StopSignal()
    limiter = limiter or RateLimiter(rate, sleep=stop.wait)
    report = RedriveReport(MANUAL, reason, stack.dlq_arn, stack.queue_arn, rate)
    report.to_move = depth(sqs, stack.dlq_url).visible
    if max_messages is not None:
        report.to_move = min(report.to_move, max_messages)
    batch_size = min(SQS_BATCH, rate, max_messages or SQS_BATCH)
    # Hidden long enough to work through a batch at this rate, short enough to come back soon after a crash.
    hold = hold_seconds or 30 + 2 * math.ceil(batch_size / rate)
    handled: set[str] = set()  # originals handled (or skipped) this run, and the ids of the copies sent
    in_hand: list[QueueMessage] = []
    copied: QueueMessage | None = None  # sent, not yet deleted: the one message an interrupt must finish
    try:
        while max_messages is None or report.moved < max_messages:
            wanted = batch_size if max_messages is None else min(batch_size, max_messages - report.moved)
            stop.checkpoint()
            batch = receive(sqs, stack.dlq_url, max_messages=wanted, visibility_timeout=hold, wait_seconds=wait_seconds)
            fresh = [m for m in batch if m.message_id not in handled]
            release(sqs, stack.dlq_url, [m for m in batch if m.message_id in handled])
            if not fresh:
                break
            in_hand = fresh
            while in_hand:
                message = in_hand[0]
                handled.add(message.message_id)
                limiter.wait()
                stop.checkpoint()  # before the send: after it, this message is only safe once deleted
                try:
                    copy_id = _send_copy(sqs, stack.queue_url, message)
                except ClientError as exc:
                    report.not_moved.append(NotMoved(message.message_id, f"SendMessage failed: {_describe(exc)}"))
                    release(sqs, stack.dlq_url, [message])
                    in_hand.pop(0)
                    continue
                handled.add(copy_id)
                copied = message
                _delete_original(sqs, stack.dlq_url, message, report)
                copied = None
                in_hand.pop(0)
                if progress:
                    progress(report.moved, report.to_move)
    except KeyboardInterrupt:
        report.interrupted = True
        # Finish what is safe to finish: an original whose copy is sent may go; the rest are shown again.
        if copied is not None:
            _delete_original(sqs, stack.dlq_url, copied, report)
        release(sqs, stack.dlq_url, [m for m in in_hand if m is not copied])
    report.remaining = depth(sqs, stack.dlq_url)
    return report


def _send_copy(sqs: Any, queue_url: str, message: QueueMessage) -> str:
    params: dict[str, Any] = {"QueueUrl": queue_url, "MessageBody": message.body}
    attributes = {name: _attribute(value) for name, value in message.message_attributes.items()}
    if attributes:
        params["MessageAttributes"] = attributes
    return str(sqs.send_message(**params)["MessageId"])


def _delete_original(sqs: Any, dlq_url: str, message: QueueMessage, report: RedriveReport) -> None:
    try:
        sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message.receipt_handle)
    except ClientError as exc:
        # The copy is in the fetch queue already: this original will be moved again by a later run.
        report.duplicated.append(NotMoved(message.message_id, f"copied, but DeleteMessage failed: {_describe(exc)}"))
        return
    # Idempotent: an interrupt just after a delete makes the cleanup delete the same message again.
    if message.message_id not in report.moved_ids:
        report.moved_ids.append(message.message_id)
        report.moved = len(report.moved_ids)


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    # ReceiveMessage also returns the reserved, empty StringListValues/BinaryListValues: send only the value.
    return {k: v for k, v in value.items() if k in {"DataType", "StringValue", "BinaryValue"}}


def unsupported(exc: ClientError) -> bool:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status in {500, 501} or error_code(exc) in _UNSUPPORTED_CODES


def _status(exc: ClientError) -> str:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = error_code(exc)
    return f"HTTP {status}" if code in {"", str(status)} else f"HTTP {status} {code}"


def _describe(exc: ClientError) -> str:
    message = " ".join(str(exc.response.get("Error", {}).get("Message", "")).split())[:120]
    return f"{error_code(exc)}: {message}" if message else error_code(exc)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)

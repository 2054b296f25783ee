"""EventBridge for the offline stack: each schedule of the template fires its function on a clock.

A rule delivers EventBridge's "Scheduled Event" envelope (shape as events/fetcher-scheduled.json); an
EventBridge Scheduler schedule delivers its target's Input as is. Every schedule fires once at start (so a
fresh `make dev` does not wait five minutes for its first run), then on its own clock, which `--accelerate`
speeds up: a rate's period is divided by the factor, and a cron runs on a clock that goes that much faster.
Invocations are asynchronous, as EventBridge's are, and Lambda's rules for them come from the function's
EventInvokeConfig: a failed one is retried (by default twice, after 1 and 2 minutes, accelerated too) unless
the event would be older than its maximum age by then; when Lambda gives up, the invocation record goes to
the on-failure destination if it is an SQS queue of the template (`send_failure`), as Lambda sends it, and
the event is dropped with a log line.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from local.stack.functions import Invocation
from local.stack.logstream import LogStream
from local.stack.schedule_expressions import Rate, Schedule, parse
from local.stack.spec import AsyncInvokeSpec, ScheduleSpec

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
RETRY_DELAYS = (60.0, 120.0)  # Lambda's asynchronous invocation: at most two retries, about this far apart

# (queue logical id, invocation record): where the stack sends a record for an on-failure destination.
FailureSink = Callable[[str, dict[str, Any]], None]


def failure_record(
    config: AsyncInvokeSpec, event: Any, last: Invocation, attempts: int, condition: str, when: datetime
) -> dict[str, Any]:
    """The record Lambda sends to an on-failure destination (Lambda developer guide, "Capturing records of
    Lambda asynchronous invocations"). `condition`: RetriesExhausted or EventAgeExceeded."""
    if last.error:
        payload: dict[str, Any] = dict(last.error)
    else:  # a timeout: Lambda reports it, not the function
        payload = {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {last.request_id} Error: Task timed out",
        }
    return {
        "version": "1.0",
        "timestamp": when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": last.request_id,
            "functionArn": f"{config.function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": payload,
    }


def sqs_failure_sink(sqs: Any, queue_urls: Mapping[str, str]) -> FailureSink:
    """Sends a record to the on-failure destination queue (by logical id; `queue_urls` as Ref gives them)."""

    def send(queue: str, record: dict[str, Any]) -> None:
        sqs.send_message(QueueUrl=queue_urls[queue], MessageBody=json.dumps(record))

    return send


def scheduled_event(spec: ScheduleSpec, when: datetime) -> Any:
    """What the target receives: EventBridge's envelope for a rule, the configured Input otherwise."""
    if spec.input is not None:
        try:
            return json.loads(spec.input)
        except ValueError:
            return spec.input
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [spec.arn],
        "detail": {},
    }


class AcceleratedClock:
    """Schedule time: starts at the real now and runs `factor` times faster."""

    def __init__(self, factor: float, start: datetime | None = None, monotonic: Callable[[], float] = time.monotonic):
        self.factor = factor
        self._start = start or datetime.now(UTC)
        self._monotonic = monotonic
        self._t0 = monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(self._monotonic() - self._t0) * self.factor)

    def real_seconds_until(self, moment: datetime) -> float:
        return max(0.0, (moment - self.now()).total_seconds() / self.factor)


class Scheduler:
    def __init__(
        self,
        schedules: tuple[ScheduleSpec, ...],
        invoke: Callable[[str, Any], Invocation],
        log: LogStream,
        *,
        accelerate: float = 1.0,
        fire_at_start: bool = True,
        async_invokes: Callable[[str], AsyncInvokeSpec] | None = None,
        send_failure: FailureSink | None = None,
    ) -> None:
        """`async_invokes`: each function's EventInvokeConfig (StackSpec.async_invoke); `send_failure` sends a
        record to an on-failure destination queue."""
        self._specs = [s for s in schedules if s.enabled]
        self._invoke = invoke
        self._async_invokes = async_invokes
        self._send_failure = send_failure
        self._log = log
        self._clock = AcceleratedClock(accelerate)
        self._fire_at_start = fire_at_start
        self._stop = threading.Event()
        self._parsed: dict[str, Schedule] = {s.logical_id: parse(s.expression, s.timezone) for s in self._specs}

    def describe(self) -> list[str]:
        lines = []
        for spec in self._specs:
            schedule = self._parsed[spec.logical_id]
            text = f"{spec.logical_id}: {spec.expression} -> {spec.function}"
            if isinstance(schedule, Rate) and self._clock.factor != 1:
                text += f" (every {schedule.seconds / self._clock.factor:g} s, accelerated x{self._clock.factor:g})"
            lines.append(text)
        return lines

    def start(self) -> None:
        for spec in self._specs:
            threading.Thread(target=self._run, args=(spec,), daemon=True, name=f"schedule-{spec.logical_id}").start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self, spec: ScheduleSpec) -> None:
        schedule = self._parsed[spec.logical_id]
        moment = self._clock.now()
        if self._fire_at_start:
            self._fire(spec, "at start")
        while not self._stop.is_set():
            following = schedule.next_after(moment)
            if following is None:
                return  # a one-time schedule that has fired
            if self._stop.wait(self._clock.real_seconds_until(following)):
                return
            moment = following
            self._fire(spec, "on schedule")

    def _fire(self, spec: ScheduleSpec, why: str) -> None:
        event = scheduled_event(spec, datetime.now(UTC))
        self._log.event("schedule", f"{spec.logical_id} fires {spec.function} ({why})", debug=why == "on schedule")
        threading.Thread(target=self._deliver, args=(spec, event), daemon=True).start()

    def _deliver(self, spec: ScheduleSpec, event: Any) -> None:
        if self._async_invokes is not None:
            config = self._async_invokes(spec.function)
        else:  # Lambda's defaults, and no destination
            config = AsyncInvokeSpec(spec.function, function_arn="")
        retries = RETRY_DELAYS[: config.maximum_retry_attempts]
        condition, attempts, last, queued_at = "RetriesExhausted", 0, None, self._clock.now()
        for delay in (0.0, *retries):
            # Lambda drops an event that would be older than its maximum age when the retry is due.
            if (self._clock.now() - queued_at).total_seconds() + delay > config.maximum_event_age:
                condition = "EventAgeExceeded"
                break
            if delay and self._stop.wait(delay / self._clock.factor):
                return
            try:
                result = self._invoke(spec.function, event)
            except Exception as exc:  # the pool is stopping or full: same as a failed delivery
                self._log.event("schedule", f"{spec.function} not invoked: {exc}", level="WARNING")
                continue
            if result.ok:
                return
            attempts, last = attempts + 1, result
            self._log.event(
                "schedule",
                f"{spec.function} failed (attempt {attempts} of {len(retries) + 1}): {result.error_summary}",
                request_id=result.request_id,
                level="WARNING",
            )
        destination = config.on_failure_queue
        if destination and last is not None and self._send_failure is not None:
            try:
                self._send_failure(
                    destination, failure_record(config, event, last, attempts, condition, datetime.now(UTC))
                )
            except Exception as exc:  # Lambda counts a failed delivery (DestinationDeliveryFailures) and moves on
                self._log.event(
                    "schedule", f"{spec.logical_id}: record not sent to {destination}: {exc}", level="ERROR"
                )
                return
            self._log.event(
                "schedule",
                f"{spec.logical_id}: event dropped ({condition}), record sent to {destination}",
                level="ERROR",
            )
            return
        self._log.event("schedule", f"{spec.logical_id}: event dropped ({condition})", level="ERROR")

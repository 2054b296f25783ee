"""EventBridge for the offline stack: each schedule of the template fires its function on a clock.

A rule delivers EventBridge's "Scheduled Event" envelope (shape as events/fetcher-scheduled.json); an
EventBridge Scheduler schedule delivers its target's Input as is. Every schedule fires once at start (so a
fresh `make dev` does not wait five minutes for its first run), then on its own clock, which `--accelerate`
speeds up: a rate's period is divided by the factor, and a cron runs on a clock that goes that much faster.
Invocations are asynchronous, as EventBridge's are: a failed one is retried twice, after 1 and 2 minutes
(accelerated too), then dropped with a log line.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from local.stack.functions import Invocation
from local.stack.logstream import LogStream
from local.stack.schedule_expressions import Rate, Schedule, parse
from local.stack.spec import ScheduleSpec

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
RETRY_DELAYS = (60.0, 120.0)  # Lambda's asynchronous invocation: two retries


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
    ) -> None:
        self._specs = [s for s in schedules if s.enabled]
        self._invoke = invoke
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
        for attempt, delay in enumerate((0.0, *RETRY_DELAYS)):
            if delay and self._stop.wait(delay / self._clock.factor):
                return
            try:
                result = self._invoke(spec.function, event)
            except Exception as exc:  # the pool is stopping or full: same as a failed delivery
                self._log.event("schedule", f"{spec.function} not invoked: {exc}", level="WARNING")
                continue
            if result.ok:
                return
            self._log.event(
                "schedule",
                f"{spec.function} failed (attempt {attempt + 1} of {len(RETRY_DELAYS) + 1}): {result.error_summary}",
                request_id=result.request_id,
                level="WARNING",
            )
        self._log.event("schedule", f"{spec.logical_id}: event dropped after retries", level="ERROR")

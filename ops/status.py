"""`random-likes status`: the whole pipeline at a glance — firing alarms, queues, subscribers, the fetcher,
X usage, errors. It is a report: whatever it finds, it exits 0.

The age of the dead-letter queue's oldest message has two honest sources. On AWS it is CloudWatch's
`ApproximateAgeOfOldestMessage` (SQS has no such queue attribute; the metric lags by a minute or so and has
no datapoint while the queue has been idle). moto has no SQS metrics, so against an endpoint the age is
derived from the SentTimestamp of the messages a peek sees. The output always names the source.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ops import alarms, cost
from ops.connect import Aws
from ops.discover import Stack
from ops.queues import QueueDepth, depth, peek
from ops.render import Style, iso, table, truncate, when
from ops.render import duration as human_duration
from shared.budget import LIKES_ENDPOINT
from shared.clock import day_of
from shared.models import RateLimit, Subscriber, Usage
from shared.store import Stores

AGE_SOURCES = ("auto", "cloudwatch", "peek")
PEEK_FOR_AGE = 100  # messages looked at to find the oldest (a standard queue has no order to rely on)
RECENT_ERRORS = 5


@dataclass(frozen=True)
class OldestAge:
    seconds: float | None
    source: str  # "cloudwatch" | "peek" | "none" (the queue is empty)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "source": self.source, "note": self.note}


@dataclass(frozen=True)
class FetcherFailures:
    """The fetcher's two failure queues: runs Lambda gave up on, ticks EventBridge could not deliver."""

    failed_runs: QueueDepth
    undelivered: QueueDepth

    @property
    def waiting(self) -> int:
        return sum(q.visible + q.in_flight for q in (self.failed_runs, self.undelivered))

    def to_json(self) -> dict[str, Any]:
        return {"failed_runs": self.failed_runs.to_json(), "undelivered": self.undelivered.to_json()}


@dataclass(frozen=True)
class ImportQueues:
    """The archive imports' queue (S3's notifications of uploads) and its dead-letter queue."""

    queue: QueueDepth
    dead_letter_queue: QueueDepth

    def to_json(self) -> dict[str, Any]:
        return {"queue": self.queue.to_json(), "dead_letter_queue": self.dead_letter_queue.to_json()}


@dataclass(frozen=True)
class Status:
    now: datetime
    stack: Stack
    alarms: alarms.Alarms
    fetch_queue: QueueDepth
    dead_letter_queue: QueueDepth
    oldest: OldestAge
    fetcher_failures: FetcherFailures | None  # None: a stack deployed before the fetcher had these queues
    subscribers: list[Subscriber]
    fetcher_last_run: datetime | None
    fetcher_detail: dict[str, Any]
    usage: Usage
    rate_window: RateLimit
    recent_errors: list[Subscriber] = field(default_factory=list)
    import_queues: ImportQueues | None = None  # None: a stack deployed before archive imports
    # This month's bill so far (`random-likes cost` in full), or why it could not be read.
    cost: cost.CostReport | str | None = None

    def by_status(self) -> dict[str, int]:
        counts = Counter(sub.status.value for sub in self.subscribers)
        return dict(sorted(counts.items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack.to_json(),
            "checked_at": iso(self.now),
            "alarms": self.alarms.to_json(),
            "fetch_queue": self.fetch_queue.to_json(),
            "dead_letter_queue": {**self.dead_letter_queue.to_json(), "oldest_age": self.oldest.to_json()},
            "fetcher_failures": self.fetcher_failures.to_json() if self.fetcher_failures else None,
            "import_queues": self.import_queues.to_json() if self.import_queues else None,
            "subscribers": {"total": len(self.subscribers), "by_status": self.by_status()},
            "fetcher": {"last_run_at": iso(self.fetcher_last_run), "detail": self.fetcher_detail},
            "x": {
                "day": self.usage.day,
                "requests": self.usage.x_requests,
                "posts_read": self.usage.posts_read,
                "rate_window": {
                    "endpoint": LIKES_ENDPOINT,
                    "remaining": self.rate_window.remaining,
                    "reset_at": iso(self.rate_window.reset_at),
                },
            },
            "cost": cost.status_json(self.cost),
            "sync_paused": self.cost.pause.to_json()
            if isinstance(self.cost, cost.CostReport) and self.cost.pause
            else None,
            "recent_errors": [
                {
                    "username": sub.username,
                    "status": sub.status.value,
                    "last_error": sub.last_error,
                    "last_sync_at": iso(sub.last_sync_at),
                    "next_attempt_at": iso(sub.next_attempt_at(self.now)),
                }
                for sub in self.recent_errors
            ],
        }


def gather(aws: Aws, stack: Stack, stores: Stores, *, now: datetime, age_from: str = "auto") -> Status:
    dlq = depth(aws.sqs, stack.dlq_url)
    subscribers = list(stores.subscribers.iter_subscribers())
    last_run, detail = stores.app_state.fetcher_run()
    with_errors = [sub for sub in subscribers if sub.last_error]
    with_errors.sort(key=lambda sub: sub.last_sync_at or sub.created_at, reverse=True)
    failures = None
    if stack.failed_runs_url and stack.undelivered_url:
        failures = FetcherFailures(depth(aws.sqs, stack.failed_runs_url), depth(aws.sqs, stack.undelivered_url))
    return Status(
        now=now,
        stack=stack,
        alarms=alarms.firing(aws.cloudwatch, stack.alarm_names),
        fetch_queue=depth(aws.sqs, stack.queue_url),
        dead_letter_queue=dlq,
        oldest=oldest_age(aws, stack, dlq, now=now, age_from=age_from),
        fetcher_failures=failures,
        subscribers=subscribers,
        fetcher_last_run=last_run,
        fetcher_detail=detail,
        usage=stores.app_state.usage(day_of(now)),
        rate_window=stores.app_state.rate_window(LIKES_ENDPOINT),
        recent_errors=with_errors[:RECENT_ERRORS],
        import_queues=None
        if stack.imports is None
        else ImportQueues(depth(aws.sqs, stack.imports.queue_url), depth(aws.sqs, stack.imports.dlq_url)),
        cost=cost.for_status(aws, stack, stores.app_state, now=now),
    )


def oldest_age(aws: Aws, stack: Stack, dlq: QueueDepth, *, now: datetime, age_from: str) -> OldestAge:
    if dlq.visible + dlq.in_flight == 0:
        return OldestAge(None, "none", "the queue is empty")
    source = age_from if age_from != "auto" else ("peek" if aws.endpoint_url else "cloudwatch")
    if source == "cloudwatch":
        return _from_cloudwatch(aws, stack, now)
    messages = peek(aws.sqs, stack.dlq_url, max_messages=PEEK_FOR_AGE)
    sent = [m.sent_at for m in messages if m.sent_at is not None]
    if not sent:
        return OldestAge(None, "peek", "no message was visible to peek (all in flight?)")
    return OldestAge(
        (now - min(sent)).total_seconds(),
        "peek",
        f"SentTimestamp of the oldest of {len(messages)} peeked message(s)",
    )


def _from_cloudwatch(aws: Aws, stack: Stack, now: datetime) -> OldestAge:
    queue_name = stack.dlq_arn.rsplit(":", 1)[-1]
    response = aws.cloudwatch.get_metric_statistics(
        Namespace="AWS/SQS",
        MetricName="ApproximateAgeOfOldestMessage",
        Dimensions=[{"Name": "QueueName", "Value": queue_name}],
        StartTime=now - timedelta(minutes=15),
        EndTime=now,
        Period=60,
        Statistics=["Maximum"],
    )
    points = sorted(response.get("Datapoints", []), key=lambda p: p["Timestamp"])
    if not points:
        return OldestAge(None, "cloudwatch", "no datapoint in the last 15 minutes (use --dlq-age peek)")
    latest = points[-1]
    return OldestAge(
        float(latest["Maximum"]),
        "cloudwatch",
        f"ApproximateAgeOfOldestMessage at {iso(latest['Timestamp'])}",
    )


def render_alarms(report: alarms.Alarms, now: datetime, style: Style) -> list[str]:
    if report.unavailable:
        return [style.bold("Alarms") + style.paint(f"  unknown: {report.unavailable}", "red")]
    if not report.checked:
        return [style.bold("Alarms") + "  none in this stack"]
    if not report.firing:
        return [style.bold("Alarms") + f"  none firing ({report.checked} checked)"]
    rows = [[alarm.name, when(alarm.since, now), truncate(alarm.reason, 70)] for alarm in report.firing]
    return [
        style.bold("Alarms") + style.paint(f"  {len(report.firing)} of {report.checked} firing", "red"),
        table(["NAME", "SINCE", "REASON"], rows, indent="  "),
        style.dim("  → docs/operations.md has a runbook entry for each alarm, under its name"),
    ]


def render_import_queues(imported: ImportQueues | None, style: Style) -> list[str]:
    if imported is None:
        return []
    iq, idlq = imported.queue, imported.dead_letter_queue
    waiting = idlq.visible + idlq.in_flight
    idlq_text = f"{idlq.visible} waiting · {idlq.in_flight} in flight"
    lines = [
        f"  import queue       {iq.visible} waiting · {iq.in_flight} in flight",
        f"  import DLQ         {style.paint(idlq_text, 'red') if waiting else idlq_text}",
    ]
    if waiting:
        lines.append(
            style.dim("  → random-likes dlq peek --queue import; then: random-likes dlq redrive --queue import")
        )
    return lines


def render(status: Status, style: Style) -> str:
    now = status.now
    stack = status.stack
    where = f"via {stack.endpoint_url}" if stack.endpoint_url else stack.region
    fq, dlq = status.fetch_queue, status.dead_letter_queue
    lines = [style.bold(f"{stack.name}") + style.dim(f"  ({where}, {iso(now)})"), ""]
    lines += [*render_alarms(status.alarms, now, style), ""]

    dlq_text = f"{dlq.visible} waiting · {dlq.in_flight} in flight"
    if status.oldest.seconds is not None:
        dlq_text += f" · oldest {human_duration(status.oldest.seconds)} ({status.oldest.source})"
    elif status.oldest.source != "none":
        dlq_text += f" · oldest unknown ({status.oldest.note})"
    if dlq.visible + dlq.in_flight:
        dlq_text = style.paint(dlq_text, "red")
    lines += [
        style.bold("Queues"),
        f"  fetch queue        {fq.visible} waiting · {fq.in_flight} in flight"
        + (f" · {fq.delayed} delayed" if fq.delayed else ""),
        f"  dead-letter queue  {dlq_text}",
    ]
    if dlq.visible + dlq.in_flight:
        lines.append(style.dim("  → random-likes dlq peek; once the cause is fixed: random-likes dlq redrive"))
    failures = status.fetcher_failures
    if failures is not None:
        runs = failures.failed_runs.visible + failures.failed_runs.in_flight
        ticks = failures.undelivered.visible + failures.undelivered.in_flight
        failures_text = (
            f"{runs} failed run{'' if runs == 1 else 's'} · {ticks} undelivered tick{'' if ticks == 1 else 's'}"
        )
        lines.append(f"  fetcher failures   {style.paint(failures_text, 'red') if failures.waiting else failures_text}")
        if failures.waiting:
            lines.append(style.dim("  → docs/operations.md, alarms fetcher-failed-runs and fetcher-undelivered"))
    lines += render_import_queues(status.import_queues, style)
    counts = status.by_status()
    summary = " · ".join(f"{style.status(name)} {count}" for name, count in counts.items()) or "none yet"
    lines += ["", style.bold(f"Subscribers  {len(status.subscribers)}"), f"  {summary}"]

    run = status.fetcher_last_run
    detail = ", ".join(f"{k} {v}" for k, v in status.fetcher_detail.items() if k in {"due", "leased", "sent", "failed"})
    lines += ["", style.bold("Fetcher"), f"  last run {when(run, now)}" + (f": {detail}" if detail else "")]

    window = status.rate_window
    if window.remaining is None and window.reset_at is None:
        window_text = "no request recorded yet"
    elif window.reset_at is not None and window.reset_at <= now:
        window_text = (
            f"a fresh window (the last one reset {human_duration((now - window.reset_at).total_seconds())} ago)"
        )
    else:
        left = "?" if window.remaining is None else str(window.remaining)
        window_text = f"{left} requests left, resets {when(window.reset_at, now)}"
    lines += [
        "",
        style.bold(f"X today ({status.usage.day}, UTC)"),
        f"  {status.usage.x_requests} requests · {status.usage.posts_read} posts read",
        f"  {LIKES_ENDPOINT} rate window: {window_text} (the operator's credentials; each connected account"
        " has its own, in `subscribers show`)",
    ]

    lines += cost.status_lines(status.cost, style)

    lines += ["", style.bold("Recent errors")]
    if not status.recent_errors:
        lines.append("  none")
    else:
        rows = [
            [
                sub.username,
                style.status(sub.status.value),
                when(sub.last_sync_at, now),
                when(sub.next_attempt_at(now), now),
                truncate(sub.last_error, 70),
            ]
            for sub in status.recent_errors
        ]
        lines.append(table(["USERNAME", "STATUS", "WHEN", "NEXT TRY", "ERROR"], rows, indent="  "))
    return "\n".join(lines)

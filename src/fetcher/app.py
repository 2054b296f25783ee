"""The scheduled fetcher: every run, enqueue one sync message per subscriber that is due, within the app's
budget and X's windows (shared/enqueue.py), and record what it did for `random-likes status`."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from time import monotonic
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.costs import fetcher_write_units
from shared.enqueue import EnqueueReport, enqueue_due
from shared.runtime import Runtime, load_runtime, observability

# No Powertools Tracer here: importing the X-Ray SDK costs ~0.4 s of every cold start for one query and a
# few sends; the function's own segment still comes from `Tracing: Active`.
logger, metrics = observability("fetcher")


@cache
def runtime() -> Runtime:
    return load_runtime(logger)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = monotonic()
    rt = runtime()
    lease = timedelta(seconds=rt.settings.lease_seconds)
    report = enqueue_due(
        store=rt.subscribers,
        queue=rt.queue,
        clock=rt.clock,
        lease=lease,
        limits=rt.app_state,
        budgets=rt.settings.budgets,
    )
    rt.app_state.record_fetcher_run(rt.clock.now(), {**report.to_json(), "event_time": str(event.get("time", ""))})
    rt.app_state.count(rt.clock.now(), run_usage(report, round((monotonic() - started) * 1000)))
    metrics.add_metric(name="SubscribersEnqueued", unit=MetricUnit.Count, value=report.sent)
    if report.failed:
        metrics.add_metric(name="EnqueueFailures", unit=MetricUnit.Count, value=report.failed)
    return report.to_json()


def run_usage(report: EnqueueReport, ms: int) -> dict[str, int]:
    """A run's share of the bill (`random-likes cost`): itself, the messages it sent, its time and writes."""
    return {
        "fetcher_runs": 1,
        "messages_sent": report.sent,
        "fetcher_ms": ms,
        "ddb_writes": fetcher_write_units(due=report.due),
    }

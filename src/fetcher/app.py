"""The scheduled fetcher: every run, enqueue one sync message per subscriber that is due."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.clock import SystemClock
from shared.enqueue import enqueue_due
from shared.settings import Settings
from shared.store import Store
from shared.sync_queue import SqsSyncQueue

# The function's identity is code, not configuration: named here, not read from the environment.
# No Powertools Tracer here: importing the X-Ray SDK costs ~0.4 s of every cold start, and a pick is two
# GetItems; the function's own segment still comes from `Tracing: Active`.
logger = Logger(service="fetcher")
metrics = Metrics(namespace="RandomLikes", service="fetcher")
# An invocation without a business metric (a purge, a poison record) is normal; Powertools would warn.
warnings.filterwarnings("ignore", message="No application metrics to publish")


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    store: Store
    queue: SqsSyncQueue
    clock: SystemClock


@cache
def runtime() -> Runtime:
    settings = Settings.from_env()
    copy_config_to_registered_loggers(source_logger=logger, include={"shared"})
    return Runtime(
        settings=settings,
        store=Store(settings.table_name, settings.region, settings.aws_endpoint_url),
        queue=SqsSyncQueue(settings.queue_url, settings.region, settings.aws_endpoint_url),
        clock=SystemClock(),
    )


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    rt = runtime()
    report = enqueue_due(
        store=rt.store, queue=rt.queue, clock=rt.clock, lease=timedelta(seconds=rt.settings.lease_seconds)
    )
    rt.store.record_fetcher_run(rt.clock.now(), {**report.to_json(), "event_time": str(event.get("time", ""))})
    metrics.add_metric(name="SubscribersEnqueued", unit=MetricUnit.Count, value=report.sent)
    if report.failed:
        metrics.add_metric(name="EnqueueFailures", unit=MetricUnit.Count, value=report.failed)
    return report.to_json()

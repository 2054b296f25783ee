"""What each function sets up once: its Powertools logger and metrics, then, on the first invocation of a cold
start, the settings, clock, stores and queue its handler works with.

The handlers' one shared start-up, in one place. Nothing here runs at import but the logger and metrics
objects (cheap, and Powertools' decorators need them at import); settings are read on first use.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from shared.clock import Clock, SystemClock
from shared.settings import Settings
from shared.store import AppStateStore, LikeStore, Stores, SubscriberStore
from shared.sync_queue import SqsSyncQueue

METRICS_NAMESPACE = "RandomLikes"


def observability(service: str) -> tuple[Logger, Metrics]:
    """The function's logger and metrics. Its name is code, not configuration: given here, never read from env."""
    # An invocation without a business metric (a purge, a page asset, a poison record) is normal; Powertools
    # would warn about each one.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    return Logger(service=service), Metrics(namespace=METRICS_NAMESPACE, service=service)


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    clock: Clock
    subscribers: SubscriberStore
    likes: LikeStore
    app_state: AppStateStore
    queue: SqsSyncQueue  # its SQS client is made on first use: a function that never sends never pays for it


def load_runtime(logger: Logger) -> Runtime:
    """Read the settings and open the table and queue; the domain's loggers (`shared.*`) log as `logger` does."""
    settings = Settings.from_env()
    copy_config_to_registered_loggers(source_logger=logger, include={"shared"})
    stores = Stores.open(settings.table_name, settings.region, settings.aws_endpoint_url)
    return Runtime(
        settings=settings,
        clock=SystemClock(),
        subscribers=stores.subscribers,
        likes=stores.likes,
        app_state=stores.app_state,
        queue=SqsSyncQueue(settings.queue_url, settings.region, settings.aws_endpoint_url),
    )

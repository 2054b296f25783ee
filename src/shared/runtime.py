"""What each function sets up once: its Powertools logger and metrics, then, on the first invocation of a cold
start, the settings, clock, stores and queue its handler works with.

The handlers' one shared start-up, in one place. Nothing here runs at import but the logger and metrics
objects (cheap, and Powertools' decorators need them at import); settings are read on first use.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from shared.clock import Clock, SystemClock
from shared.errors import XOAuthFailed
from shared.settings import Settings, SettingsError
from shared.store import AppStateStore, LikeStore, Stores, SubscriberStore
from shared.sync_queue import SqsSyncQueue
from shared.x_oauth2 import OAuth2ClientCredentials, XOAuth2

METRICS_NAMESPACE = "RandomLikes"
# A secret from SSM is read again at most this often per warm container: a rotated one takes effect within it.
SECRET_MAX_AGE = 300


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


def x_oauth2(settings: Settings) -> XOAuth2:
    """X's OAuth 2.0 endpoints with the app's client (the api exchanges codes with it, the worker refreshes and
    revokes tokens), its secret read from the SSM SecureString only when one of those is needed."""
    name = settings.x_oauth2_client_parameter
    if not name:
        raise SettingsError("X_OAUTH2_CLIENT_PARAMETER is not set")
    # Imported at first use: it brings boto3, which no pick should pay for.
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415

    try:
        raw = parameters.get_parameter(name, decrypt=True, max_age=SECRET_MAX_AGE)
    except Exception as exc:  # SSM down, the parameter missing or not allowed: the message names no secret
        raise XOAuthFailed(f"the app's OAuth 2.0 client could not be read ({type(exc).__name__})") from None
    return _x_oauth2(settings.x_api_base_url, OAuth2ClientCredentials.from_json(str(raw)))


@cache
def _x_oauth2(base_url: str, client: OAuth2ClientCredentials) -> XOAuth2:
    return XOAuth2(base_url, client)

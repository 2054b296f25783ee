"""The SQS worker: each message names one subscriber to sync (or purge); failures go back to the queue alone.

Powertools' BatchProcessor reports exactly the failed messageIds (ReportBatchItemFailures), so one bad record
never sends its batch-mates back. X's 429s, refusals, 400s and dead grants are not failures: they become
subscriber statuses. A connected account is read with its own OAuth 2.0 token (refreshed here when it is
about to expire, see shared/account_tokens.py); the operator's subscription with the SSM OAuth 1.0a keys.
X's passing failures are retried within the invocation (shared/x_retry.py); a record that fails
anyway comes back after a delay that grows with its receive count, not after the queue's 720 s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from functools import cache
from time import monotonic
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.budget import ReadBudget
from shared.costs import sync_write_units
from shared.errors import MalformedMessage
from shared.models import LikesPage, SubscriberStatus, SyncOutcome, XUser
from shared.purge import purge_subscriber, revoke_account
from shared.runtime import SECRET_MAX_AGE, Runtime, load_runtime, observability
from shared.schedule import SchedulePolicy
from shared.settings import Settings, SettingsError
from shared.store.likes import LIKES_PER_TRANSACTION
from shared.sync import SyncPolicy, SyncPorts, sync_subscriber
from shared.sync_queue import parse_request, redelivery_delay
from shared.x_client import XClient, XCredentials
from shared.x_retry import RetryingX, RetryPolicy
from worker.accounts import account_tokens, account_x

logger, metrics = observability("worker")
tracer = Tracer(service="worker")
# A batch where every record failed is reported like any other (every id listed) rather than raised:
# Lambda retries the same messages either way, and the log shows one failure per record, not a crash.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
X_RETRY = RetryPolicy()


@cache
def runtime() -> Runtime:
    return load_runtime(logger)


def sync_policy(settings: Settings) -> SyncPolicy:
    return SyncPolicy(
        schedule=SchedulePolicy(min_interval=timedelta(minutes=settings.sync_interval_minutes)),
        lease=timedelta(seconds=settings.lease_seconds),
    )


# The X port of the invocation running now, shared by its records (see RetryingX: an outage found by one record
# spares the others its retries). Keyed by request id; holds one entry, never a past invocation's.
_invocation_x: dict[str, RetryingX] = {}


def invocation_x(settings: Settings, request_id: str, seconds_left: Callable[[], float]) -> RetryingX:
    if request_id not in _invocation_x:
        _invocation_x.clear()
        _invocation_x[request_id] = RetryingX(_OperatorX(settings), X_RETRY, seconds_left=seconds_left)
    return _invocation_x[request_id]


class _OperatorX:
    """The operator's X client, made on its first call: a stack whose subscriptions are all connected accounts
    needs no OAuth 1.0a credentials in SSM."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def user_by_username(self, username: str) -> XUser:
        return x_client(self._settings).user_by_username(username)

    def liked_posts(self, user_id: str, *, max_results: int, pagination_token: str | None) -> LikesPage:
        return x_client(self._settings).liked_posts(user_id, max_results=max_results, pagination_token=pagination_token)

    def own_like_count(self) -> int:
        return x_client(self._settings).own_like_count()


@cache
def _x_client(raw_credentials: str, base_url: str) -> XClient:
    return XClient(XCredentials.from_json(raw_credentials), base_url)


def x_client(settings: Settings) -> XClient:
    if not settings.x_credentials_parameter:
        raise SettingsError("X_CREDENTIALS_PARAMETER is not set")
    raw: str = parameters.get_parameter(settings.x_credentials_parameter, decrypt=True, max_age=SECRET_MAX_AGE)
    return _x_client(raw, settings.x_api_base_url)


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    try:
        _handle(record, lambda_context)
    except Exception:
        _redeliver_later(record)
        raise


def _handle(record: SQSRecord, lambda_context: LambdaContext) -> None:
    try:
        request = parse_request(record.body)
    except MalformedMessage as exc:
        logger.error(
            "malformed message; it will reach the DLQ after maxReceiveCount",
            extra={"message_id": record.message_id, "reason": str(exc), "receive_count": _receives(record)},
        )
        raise
    rt = runtime()

    def seconds_left() -> float:
        return lambda_context.get_remaining_time_in_millis() / 1000

    logger.append_keys(subscriber=request.subscriber, message_id=record.message_id)
    tokens = account_tokens(rt.settings, rt.clock)
    try:
        if request.action == "purge":
            revoke_account(request.subscriber, subscribers=rt.subscribers, accounts=tokens)
            purge_subscriber(request.subscriber, store=rt.likes, seconds_left=seconds_left)
            return
        x = invocation_x(rt.settings, lambda_context.aws_request_id, seconds_left)
        budget = ReadBudget(
            rt.app_state,
            rt.clock,
            rt.settings.budgets,
            accounts=rt.subscribers,
            app_wide_window=rt.settings.app_rate_window,
        )
        ports = SyncPorts(
            subscribers=rt.subscribers,
            likes=rt.likes,
            x=x,
            budget=budget,
            clock=rt.clock,
            account_x=account_x(rt.settings, tokens, x),
        )
        # Locked for as long as this invocation can live: a crash frees the subscriber by the next retry.
        policy = replace(
            sync_policy(rt.settings),
            lock_for=timedelta(seconds=seconds_left() + 30),
            retry_in=timedelta(seconds=_redelivery(record)),
            max_posts=request.max_posts,
        )
        started = monotonic()
        outcome = sync_subscriber(request.subscriber, ports=ports, policy=policy, seconds_left=seconds_left)
        _count(outcome)
        _count_usage(rt, outcome, round((monotonic() - started) * 1000))
    finally:
        logger.remove_keys(["subscriber", "message_id"])


def _redelivery(record: SQSRecord) -> int:
    """Seconds until this record, should it fail now, is delivered again: grows with its receive count."""
    s = runtime().settings
    return redelivery_delay(_receives(record), first=s.redelivery_first_seconds, longest=s.redelivery_max_seconds)


def _redeliver_later(record: SQSRecord) -> None:
    """Bring a failed record back after its redelivery delay; Lambda's poller leaves its visibility as set here."""
    try:
        delay = _redelivery(record)
        runtime().queue.delay_redelivery(record.receipt_handle, delay)
    except Exception:
        logger.exception(
            "could not shorten the failed message's wait; it returns after the queue's visibility timeout",
            extra={"message_id": record.message_id},
        )
        return
    logger.info("failed message returns later", extra={"message_id": record.message_id, "delay_seconds": delay})


def _count(outcome: SyncOutcome) -> None:
    metrics.add_metric(name="LikesStored", unit=MetricUnit.Count, value=outcome.new_likes)
    metrics.add_metric(name="PostsRead", unit=MetricUnit.Count, value=outcome.posts_read)
    metrics.add_metric(name="LikesPagesFetched", unit=MetricUnit.Count, value=outcome.pages)
    if outcome.status in {SubscriberStatus.RATE_LIMITED, SubscriberStatus.USAGE_CAPPED}:
        metrics.add_metric(name="SyncsDeferred", unit=MetricUnit.Count, value=1)
    if outcome.status in {SubscriberStatus.FORBIDDEN, SubscriberStatus.NOT_FOUND}:
        metrics.add_metric(name="SyncsRefused", unit=MetricUnit.Count, value=1)
    if outcome.status is SubscriberStatus.RECONNECT_NEEDED:
        metrics.add_metric(name="SyncsReconnectNeeded", unit=MetricUnit.Count, value=1)
    if outcome.status is SubscriberStatus.REJECTED:
        # A 400 is our request's fault (a parameter X no longer takes): one is a bug to fix, so it has an alarm.
        metrics.add_metric(name="SyncsRejected", unit=MetricUnit.Count, value=1)


def _count_usage(rt: Runtime, outcome: SyncOutcome, ms: int) -> None:
    """The sync's share of the bill, on today's and this month's counters (`random-likes cost`): one `count`,
    whose own two writes the estimate includes. A sync that raised is not counted (SQS runs it again)."""
    settings = rt.settings
    units = sync_write_units(
        pages=outcome.pages,
        new_likes=outcome.new_likes,
        budgeted=settings.budgets.any,
        windows=2 if settings.app_rate_window else 1,
        acquired=not outcome.skipped,
        chunk=LIKES_PER_TRANSACTION,
    )
    try:
        rt.app_state.count(
            rt.clock.now(), {"syncs": 1, "new_likes": outcome.new_likes, "worker_ms": ms, "ddb_writes": units}
        )
    except Exception:
        # The likes are stored; only the cost report misses this sync. Retrying it would read X again.
        logger.exception("could not count the sync's usage", extra={"subscriber": outcome.username})


def _receives(record: SQSRecord) -> int:
    return int(record.attributes.approximate_receive_count or 0)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

"""The import function: each import-queue message is an upload's S3 notification, or our own continuation of an
import; shared/archive_import.py runs the import. S3's s3:TestEvent and stray objects end their message.

One record per batch (BatchSize 1); a record that fails (DynamoDB or S3 down: never a bad upload, which ends
the import `failed`) goes back to the queue, and to its DLQ after three receives.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from importer.continuation import SqsContinuations
from shared.archive_import import ImportOutcome, ImportPolicy, ImportPorts, import_message
from shared.runtime import load_runtime, observability
from shared.settings import SettingsError
from shared.store.imports import ImportSteps
from shared.store.items import bind
from shared.store.uploads import S3Uploads

logger, metrics = observability("importer")
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
POLICY = ImportPolicy()


@dataclass(frozen=True)
class ImporterRuntime:
    bucket: str
    ports: ImportPorts


@cache
def runtime() -> ImporterRuntime:
    rt = load_runtime(logger)
    s = rt.settings
    if not s.imports_bucket or not s.import_queue_url:
        raise SettingsError("IMPORTS_BUCKET and IMPORT_QUEUE_URL must be set")
    ports = ImportPorts(
        imports=ImportSteps(bind(s.table_name, s.region, s.aws_endpoint_url)),
        subscribers=rt.subscribers,
        likes=rt.likes,
        uploads=S3Uploads(s.imports_bucket, s.region, s.aws_endpoint_url),
        clock=rt.clock,
        continuations=SqsContinuations(s.import_queue_url, s.region, s.aws_endpoint_url),
    )
    return ImporterRuntime(s.imports_bucket, ports)


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    rt = runtime()

    def seconds_left() -> float:
        return lambda_context.get_remaining_time_in_millis() / 1000

    try:
        outcomes = import_message(
            record.body, bucket=rt.bucket, ports=rt.ports, policy=POLICY, seconds_left=seconds_left
        )
    except Exception:
        # Ours, not the upload's (DynamoDB, S3, a poison message): SQS delivers it again, then the DLQ takes it.
        logger.exception("import message failed; it returns to the queue", extra={"message_id": record.message_id})
        raise
    for outcome in outcomes:
        _count(outcome)


def _count(outcome: ImportOutcome) -> None:
    if outcome.status == "done":
        metrics.add_metric(name="ImportsDone", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="LikesImported", unit=MetricUnit.Count, value=outcome.extra.get("likes_stored", 0))
    elif outcome.status == "failed":
        # A bad upload (the person's to fix), not a fault of ours: those fail the record and reach the DLQ.
        metrics.add_metric(name="ImportsFailed", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

"""What the importer's tests share: a subscription with an import waiting for its upload, the upload itself in
the stack's bucket, the import queue's events, and the import function's ports on the test's stack."""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from local.context import LocalLambdaContext
from local.provision import StackResources, client
from shared.archive_import import ImportPolicy, ImportPorts
from shared.bundle import UPLOAD_SECONDS, object_key
from shared.clock import SystemClock
from shared.models import ArchiveImport, ImportOrigin, ImportProgress, ImportStatus, Post
from shared.store import Stores
from shared.store.imports import ImportSteps, ImportStore
from shared.store.items import Table
from shared.store.uploads import S3Uploads
from tests.support.events import load_event

OWNER_ID = "1001"  # the subscription's key and its owner's X user id
OWNER_NAME = "LikeFan"
FUNCTION = "random-likes-ImportFunction"


def now() -> datetime:
    return datetime.now(UTC)


def subscribe(store: Stores, key: str = OWNER_ID, name: str = OWNER_NAME) -> None:
    store.subscribers.create_subscriber(key, name, now(), now() + timedelta(hours=1), x_user_id=key)


def start_import(table: Table, key: str = OWNER_ID) -> ArchiveImport:
    at = now()
    import_id = secrets.token_urlsafe(16)
    imp = ArchiveImport(
        id=import_id,
        subscriber=key,
        status=ImportStatus.WAITING_FOR_UPLOAD,
        origin=ImportOrigin.OWNER,
        created_at=at,
        updated_at=at,
        upload_deadline=at + timedelta(seconds=UPLOAD_SECONDS),
        object_key=object_key(key, import_id),
    )
    return ImportStore(table).start(imp, now=at)


def upload(stack: StackResources, aws_endpoint: str, key: str, data: bytes) -> None:
    client("s3", aws_endpoint).put_object(Bucket=stack.imports_bucket, Key=key, Body=data)


def object_exists(stack: StackResources, aws_endpoint: str, key: str) -> bool:
    listed = client("s3", aws_endpoint).list_objects_v2(Bucket=stack.imports_bucket, Prefix=key)
    return any(o["Key"] == key for o in listed.get("Contents", []))


def upload_event(bucket: str, key: str, size: int = 1000) -> dict[str, Any]:
    """events/importer-upload.json for this object; its key URL-encoded as moto does it (even '/' as %2F)."""
    event = load_event("importer-upload")
    record = event["Records"][0]
    notification = json.loads(record["body"])
    s3 = notification["Records"][0]["s3"]
    s3["bucket"]["name"] = bucket
    s3["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    s3["object"].update(key=quote(key, safe=""), size=size)
    record["body"] = json.dumps(notification)
    return event


def continue_event(subscriber: str, import_id: str) -> dict[str, Any]:
    event = load_event("importer-continue")
    event["Records"][0]["body"] = json.dumps({"import": {"subscriber": subscriber, "id": import_id}})
    return event


def queue_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The event Lambda's poller builds from messages received from the import queue."""
    template = load_event("importer-upload")["Records"][0]
    records = []
    for message in messages:
        record = copy.deepcopy(template)
        record.update(messageId=message["MessageId"], receiptHandle=message["ReceiptHandle"], body=message["Body"])
        records.append(record)
    return {"Records": records}


def receive_all(aws_endpoint: str, queue_url: str) -> list[dict[str, Any]]:
    """Every message waiting in the queue now (each received once)."""
    sqs = client("sqs", aws_endpoint)
    found: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return found
        found += got


def invoke(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    import importer.app  # noqa: PLC0415 (after the stack's environment is set)

    result: dict[str, Any] = importer.app.handler(event, context or LocalLambdaContext(FUNCTION, 300))
    return result


@dataclass
class RunningOut(LocalLambdaContext):
    """A context with plenty of time for its first `calls` questions, then 1 s: the import must hand over."""

    calls: int = 1_000_000

    def get_remaining_time_in_millis(self) -> int:
        self.calls -= 1
        return 300_000 if self.calls >= 0 else 1_000


def ports(table: Table, store: Stores, stack: StackResources, aws_endpoint: str, **kwargs: Any) -> ImportPorts:
    """The import function's ports on this stack (as importer/app.py makes them), for domain-level tests."""
    from importer.continuation import SqsContinuations  # noqa: PLC0415

    defaults: dict[str, Any] = {
        "imports": ImportSteps(table),
        "subscribers": store.subscribers,
        "likes": store.likes,
        "uploads": S3Uploads(stack.imports_bucket, "us-east-1", aws_endpoint),
        "clock": SystemClock(),
        "continuations": SqsContinuations(stack.import_queue_url, "us-east-1", aws_endpoint),
        "sleep": lambda _seconds: None,
    }
    return ImportPorts(**{**defaults, **kwargs})


POLICY = ImportPolicy()


class HookedSteps(ImportSteps):
    """The real import steps, with a hook before and after each batch's transaction (its number, 1-based)."""

    def __init__(
        self,
        table: Table,
        before: Callable[[int], None] = lambda _n: None,
        after: Callable[[int], None] = lambda _n: None,
    ) -> None:
        super().__init__(table)
        self.batches = 0
        self._before, self._after = before, after

    def store_batch(
        self, imp: ArchiveImport, like_count: int, posts: Sequence[Post], progress: ImportProgress, *, now: datetime
    ) -> ArchiveImport:
        self.batches += 1
        self._before(self.batches)
        stored = super().store_batch(imp, like_count, posts, progress, now=now)
        self._after(self.batches)
        return stored

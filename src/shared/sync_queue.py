"""The fetch queue: its message contract (what a body says, and what is poison) and SQS behind a port.

The fetcher, the api and the operator CLI write these messages; the worker and `random-likes dlq` read them
with `parse_request`, so writer and reader cannot disagree about what a message means.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from shared.errors import InvalidUsername, MalformedMessage
from shared.models import valid_key

log = logging.getLogger(__name__)
SQS_BATCH = 10
ACTIONS = ("sync", "purge")
# A failed message comes back after 30 s, then 60, 120, 240, 480 (the 5th receive is the last before the DLQ):
# a blip costs half a minute, an outage of X about 15 minutes of attempts, instead of 720 s per attempt.
FIRST_REDELIVERY = 30  # seconds
MAX_REDELIVERY = 900  # X's rate-limit window; far below SQS's own ceiling of 12 hours
MAX_SHARE = 10_000_000  # a sync's fair share (max_posts) is a day's or a month's budget at most


def redelivery_delay(receives: int, *, first: int = FIRST_REDELIVERY, longest: int = MAX_REDELIVERY) -> int:
    """Seconds until a message that failed on its `receives`-th delivery is delivered again."""
    return min(longest, first << min(max(0, receives - 1), 16))


@dataclass(frozen=True)
class SyncRequest:
    """The body of one fetch-queue message. `subscriber` is the subscription's key (its owner's X user id), not
    a name: a rename on X between the send and the receive changes nothing."""

    subscriber: str
    reason: str = "schedule"  # schedule | subscribe | retry | manual | unsubscribe
    action: str = "sync"  # sync | purge
    # The sync's fair share of a tight budget: it stops paging once it has read this many posts (the rest of a
    # backfill waits for a later sync). None: no cap. Left out of the body when None, so older readers and
    # bodies written before it read as they always did.
    max_posts: int | None = None

    def to_json(self) -> dict[str, str | int]:
        body: dict[str, str | int] = {"subscriber": self.subscriber, "reason": self.reason, "action": self.action}
        if self.max_posts is not None:
            body["max_posts"] = self.max_posts
        return body

    def body(self) -> str:
        return json.dumps(self.to_json())


def parse_request(body: str) -> SyncRequest:
    """A message body as the fetcher, the api and the CLI send it; anything else is poison, said plainly.

    A body of the older form `{"username": ...}` (in flight during the deploy that keyed subscriptions by X user
    id) still reads: its subscription's key is that username, as it was stored then."""
    try:
        data = json.loads(body)
    except ValueError:
        raise MalformedMessage("message body is not JSON") from None
    if not isinstance(data, dict) or not ("subscriber" in data or "username" in data):
        raise MalformedMessage('message body must be a JSON object with a "subscriber"')
    action = data.get("action", "sync")
    if action not in ACTIONS:
        raise MalformedMessage(f"unknown action {str(action)[:20]!r}")
    try:
        key = valid_key(data["subscriber"]) if "subscriber" in data else valid_key(data["username"])
    except InvalidUsername as exc:
        raise MalformedMessage(f"bad subscriber in message: {exc}") from None
    max_posts = data.get("max_posts")
    # A bool is an int to Python; neither it nor a float, a string or a share below one post is a share.
    if max_posts is not None and (type(max_posts) is not int or not 1 <= max_posts <= MAX_SHARE):
        raise MalformedMessage(f"max_posts must be a whole number from 1 to {MAX_SHARE}")
    return SyncRequest(
        subscriber=key, reason=str(data.get("reason", "schedule"))[:20], action=action, max_posts=max_posts
    )


class SyncQueue(Protocol):
    def send(self, requests: Sequence[SyncRequest]) -> list[SyncRequest]:
        """Enqueue; returns the requests that could not be sent."""
        ...


class SqsSyncQueue:
    """SQS through a botocore client made on first use (the read path never pays for it), or the one given."""

    def __init__(self, queue_url: str, region: str, endpoint_url: str | None = None, *, client: Any = None) -> None:
        self.queue_url = queue_url
        self._region = region
        self._endpoint_url = endpoint_url
        self._client: Any = client

    def send(self, requests: Sequence[SyncRequest]) -> list[SyncRequest]:
        failed: list[SyncRequest] = []
        for start in range(0, len(requests), SQS_BATCH):
            chunk = list(requests[start : start + SQS_BATCH])
            entries = [{"Id": str(i), "MessageBody": r.body()} for i, r in enumerate(chunk)]
            try:
                response = self.client().send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except Exception:
                log.exception("SendMessageBatch failed", extra={"messages": len(chunk)})
                failed.extend(chunk)
                continue
            for failure in response.get("Failed", []):
                log.error(
                    "message not enqueued",
                    extra={"subscriber": chunk[int(failure["Id"])].subscriber, "code": failure.get("Code")},
                )
                failed.append(chunk[int(failure["Id"])])
        return failed

    def delay_redelivery(self, receipt_handle: str, seconds: int) -> None:
        """Have a received message come back in `seconds` (ChangeMessageVisibility), not the queue's timeout."""
        self.client().change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )

    def client(self) -> Any:
        if self._client is None:
            # botocore is already loaded by pynamodb; boto3 on top would add to every api cold start.
            import botocore.session  # noqa: PLC0415

            self._client = botocore.session.get_session().create_client(
                "sqs", region_name=self._region, endpoint_url=self._endpoint_url
            )
        return self._client

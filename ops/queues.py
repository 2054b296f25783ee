"""SQS as an operator handles it: how deep a queue is, and looking at its messages without consuming them.

SQS has no "peek". A look is a ReceiveMessage with a short visibility timeout followed at once by
ChangeMessageVisibility(0) for every message received, so they are visible again within a second, and
nothing is deleted. Two side effects remain and are documented: each look adds one to a message's
ApproximateReceiveCount, and for the few seconds of the look a consumer cannot receive those messages.
On the dead-letter queue neither matters (it has no consumer and no redrive policy of its own).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SQS_BATCH = 10  # ReceiveMessage, ChangeMessageVisibilityBatch: at most 10 per call
PEEK_HOLD_SECONDS = 20  # long enough to receive the next batches; released at once after
LONG_POLL_SECONDS = 1  # one empty short poll is not "empty" on AWS (it samples servers); a long poll is


@dataclass(frozen=True)
class QueueDepth:
    visible: int
    in_flight: int
    delayed: int

    def to_json(self) -> dict[str, int]:
        return {"visible": self.visible, "in_flight": self.in_flight, "delayed": self.delayed}


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    receipt_handle: str
    body: str
    receive_count: int  # as SQS reports it: this receive included
    sent_at: datetime | None
    first_received_at: datetime | None
    message_attributes: dict[str, Any]

    @classmethod
    def from_sqs(cls, message: dict[str, Any]) -> QueueMessage:
        attributes = message.get("Attributes", {})
        return cls(
            message_id=message["MessageId"],
            receipt_handle=message["ReceiptHandle"],
            body=message.get("Body", ""),
            receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
            sent_at=_millis(attributes.get("SentTimestamp")),
            first_received_at=_millis(attributes.get("ApproximateFirstReceiveTimestamp")),
            message_attributes=dict(message.get("MessageAttributes") or {}),
        )


def depth(sqs: Any, queue_url: str) -> QueueDepth:
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
    return QueueDepth(
        visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
    )


def receive(
    sqs: Any, queue_url: str, *, max_messages: int, visibility_timeout: int, wait_seconds: int = LONG_POLL_SECONDS
) -> list[QueueMessage]:
    response = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=max(1, min(SQS_BATCH, max_messages)),
        VisibilityTimeout=visibility_timeout,
        WaitTimeSeconds=wait_seconds,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return [QueueMessage.from_sqs(m) for m in response.get("Messages", [])]


def release(sqs: Any, queue_url: str, messages: Iterable[QueueMessage]) -> list[str]:
    """Make these messages visible again now; returns the ids SQS could not release (they return on timeout)."""
    pending = list(messages)
    failed: list[str] = []
    for start in range(0, len(pending), SQS_BATCH):
        chunk = pending[start : start + SQS_BATCH]
        entries = [
            {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0} for i, m in enumerate(chunk)
        ]
        response = sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)
        failed += [chunk[int(f["Id"])].message_id for f in response.get("Failed", [])]
    return failed


def peek(
    sqs: Any,
    queue_url: str,
    *,
    max_messages: int,
    hold_seconds: int = PEEK_HOLD_SECONDS,
    wait_seconds: int = LONG_POLL_SECONDS,
) -> list[QueueMessage]:
    """Up to max_messages of the queue's messages, oldest sent first, all of them visible again on return."""
    found: dict[str, QueueMessage] = {}
    held: list[QueueMessage] = []
    try:
        while len(found) < max_messages:
            batch = receive(
                sqs,
                queue_url,
                max_messages=max_messages - len(found),
                visibility_timeout=hold_seconds,
                wait_seconds=wait_seconds,
            )
            held += batch
            new = [m for m in batch if m.message_id not in found]
            if not new:  # empty, or only messages already seen (their hold ran out): everything is seen
                break
            found.update((m.message_id, m) for m in new)
    finally:
        # Also on Ctrl-C: a look never leaves messages hidden for longer than it has to.
        release(sqs, queue_url, held)
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(found.values(), key=lambda m: m.sent_at or epoch)


def _millis(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    return datetime.fromtimestamp(int(raw) / 1000, UTC)

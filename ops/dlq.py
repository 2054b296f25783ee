"""`random-likes dlq peek`: each dead letter with what it asked for and why it failed.

The reason is the one the worker left: for a readable message, the `last_error` the worker recorded on
that subscriber when the sync failed; for an unreadable one, what the queue's own `parse_request` says
about it ("malformed: ..."), so the CLI never second-guesses the worker's idea of a valid message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ops.queues import QueueMessage, peek
from ops.render import Style, iso, table, truncate, when
from shared.errors import MalformedMessage
from shared.models import Subscriber
from shared.store import SubscriberStore
from shared.sync_queue import parse_request


@dataclass(frozen=True)
class DeadLetter:
    message: QueueMessage
    username: str | None
    action: str | None
    reason: str | None
    subscriber: Subscriber | None
    last_error: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message.message_id,
            "body": self.message.body,
            "username": self.username,
            "action": self.action,
            "reason": self.reason,
            "receive_count": self.message.receive_count,
            "sent_at": iso(self.message.sent_at),
            "subscriber_status": None if self.subscriber is None else self.subscriber.status.value,
            "last_error": self.last_error,
        }


def explain(message: QueueMessage, store: SubscriberStore) -> DeadLetter:
    try:
        request = parse_request(message.body)
    except MalformedMessage as exc:
        return DeadLetter(message, None, None, None, None, f"malformed: {exc}")
    subscriber = store.get_subscriber(request.subscriber)
    if subscriber is None:
        error = "no such subscriber (unsubscribed and purged, or never subscribed)"
    else:
        error = subscriber.last_error or f"no error recorded (status {subscriber.status.value})"
    # The name an operator knows it by (the message names its key: an X user id).
    name = request.subscriber if subscriber is None else subscriber.display_username
    return DeadLetter(message, name, request.action, request.reason, subscriber, error)


def peek_dead_letters(sqs: Any, dlq_url: str, store: SubscriberStore, *, max_messages: int) -> list[DeadLetter]:
    return [explain(message, store) for message in peek(sqs, dlq_url, max_messages=max_messages)]


def to_json(dlq_url: str, letters: list[DeadLetter], visible: int) -> dict[str, Any]:
    return {
        "queue_url": dlq_url,
        "visible": visible,
        "peeked": len(letters),
        "messages": [letter.to_json() for letter in letters],
    }


def render(letters: list[DeadLetter], visible: int, now: datetime, style: Style) -> str:
    if not letters:
        return "The dead-letter queue is empty." if visible == 0 else f"{visible} message(s), none visible to peek."
    rows = [
        [
            letter.message.message_id[:8],
            # A malformed message has no username to show: its body is the clue.
            letter.username or style.paint(f"body: {truncate(letter.message.body, 30)}", "red"),
            letter.action or "-",
            str(letter.message.receive_count),
            when(letter.message.sent_at, now),
            truncate(letter.last_error, 60),
        ]
        for letter in letters
    ]
    head = f"{len(letters)} of ~{max(visible, len(letters))} dead letter(s), oldest first"
    notes = style.dim("RECEIVES counts every receive, this look included. Nothing was deleted; all are visible again.")
    return "\n".join(
        [style.bold(head), table(["MESSAGE", "USERNAME", "ACTION", "RECEIVES", "SENT", "LAST ERROR"], rows), notes]
    )

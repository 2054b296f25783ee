"""`random-likes dlq peek`: each dead letter with what it asked for and why it failed, in both dead-letter queues.

The fetch DLQ's reason is the one the worker left: for a readable message, the `last_error` the worker recorded
on that subscriber when the sync failed; for an unreadable one, what the queue's own `parse_request` says
about it ("malformed: ..."), so the CLI never second-guesses the worker's idea of a valid message.

The import DLQ holds S3's notification of an upload (or the import function's own message to go on with a long
import): its object key names the subscription and the import (shared/bundle.py), and the reason is that
import's status and error as its item records them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ops.queues import QueueMessage, peek
from ops.render import Style, iso, table, truncate, when
from shared.archive_import import ImportRequest, read_message
from shared.errors import MalformedMessage
from shared.models import ArchiveImport, Subscriber
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
    queue: str = "fetch"  # fetch | import
    import_id: str | None = None  # the import's, for the import queue's dead letters

    def to_json(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "message_id": self.message.message_id,
            "body": self.message.body,
            "username": self.username,
            "action": self.action,
            "reason": self.reason,
            "import_id": self.import_id,
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


class ImportRecords(Protocol):
    def get(self, subscriber: str, import_id: str) -> ArchiveImport | None: ...


def explain_import(message: QueueMessage, store: SubscriberStore, imports: ImportRecords) -> DeadLetter:
    """An import DLQ message: which subscription and import it is, and where that import stands."""
    named = upload_named(message.body)
    if named is None:
        return DeadLetter(message, None, None, None, None, "malformed: not an upload's notification", queue="import")
    key, import_id = named
    subscriber = store.get_subscriber(key)
    name = key if subscriber is None else subscriber.display_username
    imp = imports.get(key, import_id)
    if imp is None:
        error = "no such import (an import's record is kept 30 days)"
    elif imp.error_code:
        error = f"{imp.status.value}: {imp.error_code}: {imp.error_message}"
    else:
        error = f"no error recorded (import {imp.status.value}, {imp.position:,} of {imp.likes_found:,} likes)"
    return DeadLetter(message, name, "import", None, subscriber, error, queue="import", import_id=import_id)


def upload_named(body: str) -> tuple[str, str] | None:
    """(subscription key, import id) of the import a message names, read as the import function reads it (S3's
    ObjectCreated record, or its own continuation); None for anything else."""
    try:
        found = read_message(body, bucket=None)
    except MalformedMessage:
        return None
    request = next((item for item in found if isinstance(item, ImportRequest)), None)
    return None if request is None else (request.subscriber, request.import_id)


def peek_dead_letters(sqs: Any, dlq_url: str, store: SubscriberStore, *, max_messages: int) -> list[DeadLetter]:
    return [explain(message, store) for message in peek(sqs, dlq_url, max_messages=max_messages)]


def peek_import_dead_letters(
    sqs: Any, dlq_url: str, store: SubscriberStore, imports: ImportRecords, *, max_messages: int
) -> list[DeadLetter]:
    return [explain_import(message, store, imports) for message in peek(sqs, dlq_url, max_messages=max_messages)]


@dataclass(frozen=True)
class QueuePeek:
    queue: str  # fetch | import
    dlq_url: str
    visible: int
    letters: list[DeadLetter]

    def to_json(self) -> dict[str, Any]:
        return {"queue": self.queue, "queue_url": self.dlq_url, "visible": self.visible, "peeked": len(self.letters)}


def to_json_all(peeks: list[QueuePeek]) -> dict[str, Any]:
    """Every queue peeked: the totals and every message (each names its queue) at the top, as a peek of the
    fetch DLQ alone always printed them, and each queue's own figures under `queues`."""
    return {
        "queue_url": peeks[0].dlq_url,
        "visible": sum(p.visible for p in peeks),
        "peeked": sum(len(p.letters) for p in peeks),
        "messages": [letter.to_json() for p in peeks for letter in p.letters],
        "queues": [p.to_json() for p in peeks],
    }


def render_all(peeks: list[QueuePeek], now: datetime, style: Style) -> str:
    if len(peeks) == 1:
        return render(peeks[0].letters, peeks[0].visible, now, style)
    blocks = []
    for p in peeks:
        if p.letters:
            blocks.append(style.bold(f"{p.queue} dead-letter queue") + "\n" + render(p.letters, p.visible, now, style))
        else:
            left = "empty" if p.visible == 0 else f"{p.visible} message(s), none visible to peek"
            blocks.append(f"{p.queue} dead-letter queue: {left}")
    return "\n\n".join(blocks)


def render(letters: list[DeadLetter], visible: int, now: datetime, style: Style) -> str:
    if not letters:
        return "The dead-letter queue is empty." if visible == 0 else f"{visible} message(s), none visible to peek."
    imports = letters[0].queue == "import"
    rows = [
        [
            letter.message.message_id[:8],
            # A malformed message has no username to show: its body is the clue.
            letter.username or style.paint(f"body: {truncate(letter.message.body, 30)}", "red"),
            (letter.import_id if imports else letter.action) or "-",
            str(letter.message.receive_count),
            when(letter.message.sent_at, now),
            truncate(letter.last_error, 60),
        ]
        for letter in letters
    ]
    head = f"{len(letters)} of ~{max(visible, len(letters))} dead letter(s), oldest first"
    notes = style.dim("RECEIVES counts every receive, this look included. Nothing was deleted; all are visible again.")
    columns = ["MESSAGE", "USERNAME", "IMPORT" if imports else "ACTION", "RECEIVES", "SENT"]
    columns.append("IMPORT STATUS" if imports else "LAST ERROR")
    return "\n".join([style.bold(head), table(columns, rows), notes])

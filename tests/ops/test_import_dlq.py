"""`random-likes dlq peek|redrive` on the import queue's dead letters (issue 11 §3: the command covers both
dead-letter queues): each names its subscription and import and where that import stands, and a redrive moves
them back to the import queue, never to the fetch queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from local.provision import REGION, StackResources
from shared.archive_import import ImportRequest
from shared.bundle import object_key
from shared.models import ArchiveImport, ImportOrigin, ImportStatus
from shared.store import Stores
from shared.store.imports import ImportStore
from shared.store.items import bind
from tests.ops.conftest import Cli

X_USER_ID = "288061445489330665"
IMPORT_ID = "AbCdEfGhIjKlMnOp"
SYNC = '{"username": "ada_writes", "reason": "schedule", "action": "sync"}'


def s3_record(key: str) -> str:
    """S3's ObjectCreated notification as it lands in the import queue (the key URL-encoded)."""
    return json.dumps(
        {
            "Records": [
                {
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:Post",
                    "s3": {"bucket": {"name": "random-likes-imports-x"}, "object": {"key": key, "size": 1234}},
                }
            ]
        }
    )


def stuck_import(store: Stores, stack: StackResources, endpoint: str) -> None:
    """demo's import that the import function crashed on three times: importing, its checkpoint at 41,200."""
    now = datetime.now(UTC)
    store.subscribers.create_subscriber(X_USER_ID, "Demo", now, now, x_user_id=X_USER_ID)
    imports = ImportStore(bind(stack.table_name, REGION, endpoint))
    imports.start(
        ArchiveImport(
            id=IMPORT_ID,
            subscriber=X_USER_ID,
            status=ImportStatus.IMPORTING,
            origin=ImportOrigin.OWNER,
            created_at=now,
            updated_at=now,
            upload_deadline=now + timedelta(minutes=15),
            object_key=object_key(X_USER_ID, IMPORT_ID),
            likes_found=152_318,
            position=41_200,
            validated=True,
        ),
        now=now,
    )


def messages(sqs: Any, url: str) -> list[str]:
    """The queue's messages but S3's test event (sent to the import queue when the notification was set)."""
    found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return sorted(m["Body"] for m in found if "s3:TestEvent" not in m["Body"])


def test_peek_names_the_import_of_each_dead_letter_beside_the_fetch_ones(
    cli: Cli, store: Stores, sqs: Any, ops_stack: StackResources, ops_endpoint: str
) -> None:
    # Given an upload's notification in the import DLQ (its key URL-encoded, as S3 sends it), one that is not
    # an upload's, and a failed sync in the fetch DLQ
    stuck_import(store, ops_stack, ops_endpoint)
    upload = s3_record(object_key(X_USER_ID, IMPORT_ID).replace("/", "%2F"))
    sqs.send_message(QueueUrl=ops_stack.import_dlq_url, MessageBody=upload)
    sqs.send_message(QueueUrl=ops_stack.import_dlq_url, MessageBody='{"what": "else"}')
    # and the import function's own continuation of that import, in the shape it sends
    continuation = ImportRequest(X_USER_ID, IMPORT_ID).continuation_body()
    sqs.send_message(QueueUrl=ops_stack.import_dlq_url, MessageBody=continuation)
    sqs.send_message(QueueUrl=ops_stack.dlq_url, MessageBody=SYNC)

    # When the operator peeks at both
    data = json.loads(cli("--json", "dlq", "peek").out)

    # Then each message says its queue, and the import's says whose import it is and where it stands
    assert (data["visible"], data["peeked"]) == (4, 4)
    assert [(q["queue"], q["visible"]) for q in data["queues"]] == [("fetch", 1), ("import", 3)]
    by_body = {m["body"]: m for m in data["messages"]}
    assert by_body[SYNC]["queue"] == "fetch"
    imported = by_body[upload]
    assert (imported["queue"], imported["username"], imported["import_id"]) == ("import", "Demo", IMPORT_ID)
    assert imported["last_error"] == "no error recorded (import importing, 41,200 of 152,318 likes)"
    assert by_body['{"what": "else"}']["last_error"] == "malformed: not an upload's notification"
    assert (by_body[continuation]["username"], by_body[continuation]["import_id"]) == ("Demo", IMPORT_ID)

    # And in a terminal, the import queue's own table
    text = cli("dlq", "peek", "--queue", "import").out
    assert text.splitlines()[1].split() == ["MESSAGE", "USERNAME", "IMPORT", "RECEIVES", "SENT", "IMPORT", "STATUS"]
    assert IMPORT_ID in text


def test_redrive_moves_import_dead_letters_back_to_the_import_queue_only(
    cli: Cli, store: Stores, sqs: Any, ops_stack: StackResources, ops_endpoint: str
) -> None:
    stuck_import(store, ops_stack, ops_endpoint)
    upload = s3_record(object_key(X_USER_ID, IMPORT_ID))
    sqs.send_message(QueueUrl=ops_stack.import_dlq_url, MessageBody=upload)
    sqs.send_message(QueueUrl=ops_stack.dlq_url, MessageBody=SYNC)

    planned = json.loads(cli("--json", "dlq", "redrive", "--queue", "import", "--dry-run").out)
    result = cli("--json", "dlq", "redrive", "--queue", "import")

    assert (planned["queue"], planned["to_move"], planned["dry_run"]) == ("import", 1, True)
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["queue"] == "import"
    assert report["source_arn"].endswith(f"{ops_stack.stack_name}-import-dlq")
    assert report["destination_arn"].endswith(f"{ops_stack.stack_name}-import")
    assert (report["moved"], report["complete"]) == (1, True)
    assert messages(sqs, ops_stack.import_queue_url) == [upload]
    assert messages(sqs, ops_stack.dlq_url) == [SYNC]  # the fetch DLQ untouched


def test_redrive_all_moves_each_queues_dead_letters_home(
    cli: Cli, sqs: Any, ops_stack: StackResources, store: Stores, ops_endpoint: str
) -> None:
    stuck_import(store, ops_stack, ops_endpoint)
    upload = s3_record(object_key(X_USER_ID, IMPORT_ID))
    sqs.send_message(QueueUrl=ops_stack.import_dlq_url, MessageBody=upload)
    sqs.send_message(QueueUrl=ops_stack.dlq_url, MessageBody=SYNC)

    result = cli("--json", "dlq", "redrive", "--queue", "all")
    text = cli("dlq", "redrive", "--queue", "all").out  # then nothing is left to move

    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert [(q["queue"], q["moved"]) for q in report["queues"]] == [("fetch", 1), ("import", 1)]
    assert report["complete"] is True
    assert messages(sqs, ops_stack.queue_url) == [SYNC]
    assert messages(sqs, ops_stack.import_queue_url) == [upload]
    assert "fetch queue\nNothing to move" in text
    assert "import queue\nNothing to move" in text

"""`random-likes dlq peek` against moto: each dead letter explained, and every one of them left in place."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from local.provision import StackResources
from shared.models import SubscriberStatus, SyncEnd
from shared.store import Stores
from tests.ops.conftest import Cli

NOW = datetime.now(UTC)
SYNC_ADA = '{"username": "ada_writes", "reason": "schedule", "action": "sync"}'
NOT_JSON = "this is not json"
BAD_NAME = '{"username": "<script>", "action": "sync"}'  # events/worker-bad-username.json
GHOST = '{"username": "ghost", "reason": "manual", "action": "sync"}'
PURGE = '{"username": "pixel_pablo", "action": "purge"}'


def dead_letters(store: Stores, sqs: Any, stack: StackResources) -> None:
    store.subscribers.create_subscriber("ada_writes", "ada_writes", NOW, NOW)
    store.subscribers.finish_sync(
        "ada_writes", SyncEnd(SubscriberStatus.ERROR, NOW, NOW + timedelta(hours=1), "XUnavailable: X answered 503")
    )
    store.subscribers.create_subscriber("pixel_pablo", "pixel_pablo", NOW, NOW)
    store.subscribers.mark_deleting("pixel_pablo")
    for body in (SYNC_ADA, NOT_JSON, BAD_NAME, GHOST, PURGE):
        sqs.send_message(QueueUrl=stack.dlq_url, MessageBody=body)


def depth(sqs: Any, url: str) -> tuple[str, str]:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]


def test_peek_explains_each_dead_letter_with_the_workers_own_words(
    cli: Cli, store: Stores, sqs: Any, ops_stack: StackResources
) -> None:
    # Given five dead letters: a failed sync, two the worker cannot parse, one for nobody, a purge
    dead_letters(store, sqs, ops_stack)

    # When the operator peeks
    result = cli("--json", "dlq", "peek")

    # Then each carries its body, receive count, sent time and the reason the worker would give
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert (data["visible"], data["peeked"]) == (5, 5)
    by_body = {m["body"]: m for m in data["messages"]}
    assert by_body[SYNC_ADA]["username"] == "ada_writes"
    assert by_body[SYNC_ADA]["action"] == "sync"
    assert by_body[SYNC_ADA]["reason"] == "schedule"
    assert by_body[SYNC_ADA]["subscriber_status"] == "error"
    assert by_body[SYNC_ADA]["last_error"] == "XUnavailable: X answered 503"
    assert by_body[NOT_JSON]["last_error"] == "malformed: message body is not JSON"
    assert by_body[NOT_JSON]["username"] is None
    assert by_body[BAD_NAME]["last_error"].startswith("malformed: bad subscriber in message: username may contain only")
    assert by_body[GHOST]["last_error"].startswith("no such subscriber")
    assert (by_body[PURGE]["action"], by_body[PURGE]["subscriber_status"]) == ("purge", "deleting")
    for message in data["messages"]:
        assert message["receive_count"] == 1  # this look was the first receive
        assert message["sent_at"].endswith("Z")
        assert set(message) == {
            "queue",
            "import_id",
            "message_id",
            "body",
            "username",
            "action",
            "reason",
            "receive_count",
            "sent_at",
            "subscriber_status",
            "last_error",
        }
    # And nothing was consumed: all five are visible again at once, none left hidden
    assert depth(sqs, ops_stack.dlq_url) == ("5", "0")


def test_peek_counts_its_own_receive_and_can_look_again(cli: Cli, sqs: Any, ops_stack: StackResources) -> None:
    sqs.send_message(QueueUrl=ops_stack.dlq_url, MessageBody=GHOST)

    first = json.loads(cli("--json", "dlq", "peek").out)
    second = json.loads(cli("--json", "dlq", "peek").out)

    assert first["messages"][0]["message_id"] == second["messages"][0]["message_id"]
    assert [first["messages"][0]["receive_count"], second["messages"][0]["receive_count"]] == [1, 2]


def test_peek_max_limits_what_is_shown_not_what_stays(cli: Cli, sqs: Any, ops_stack: StackResources) -> None:
    for n in range(4):
        sqs.send_message(QueueUrl=ops_stack.dlq_url, MessageBody=f'{{"username": "user{n}"}}')

    data = json.loads(cli("--json", "dlq", "peek", "--max", "2").out)

    assert (data["visible"], data["peeked"], len(data["messages"])) == (4, 2, 2)
    assert depth(sqs, ops_stack.dlq_url) == ("4", "0")


def test_peek_in_a_terminal_is_a_table(cli: Cli, store: Stores, sqs: Any, ops_stack: StackResources) -> None:
    dead_letters(store, sqs, ops_stack)

    result = cli("dlq", "peek")

    lines = result.out.splitlines()
    assert lines[0] == "fetch dead-letter queue"
    assert lines[1] == "5 of ~5 dead letter(s), oldest first"
    assert lines[2].split() == ["MESSAGE", "USERNAME", "ACTION", "RECEIVES", "SENT", "LAST", "ERROR"]
    assert lines[-1] == "import dead-letter queue: empty"
    assert "malformed: message body is not JSON" in result.out
    assert "body: this is not json" in result.out  # no username to show: the body is the clue
    assert "Nothing was deleted" in result.out


def test_peek_at_an_empty_dlq_says_so(cli: Cli) -> None:
    result = cli("dlq", "peek")
    assert (result.code, result.out.strip()) == (0, "fetch dead-letter queue: empty\n\nimport dead-letter queue: empty")
    one = cli("dlq", "peek", "--queue", "fetch")
    assert (one.code, one.out.strip()) == (0, "The dead-letter queue is empty.")

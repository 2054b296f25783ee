"""The worker handler with SQS events: partial batch failures name exactly the failed messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.context import LocalLambdaContext
from shared.errors import MalformedMessage
from shared.store import Stores
from shared.sync_queue import parse_request
from tests.support.events import load_event, sqs_event
from tests.support.fake_x import make_post
from tests.support.stored import store_likes
from worker.app import handler


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = handler(event, LocalLambdaContext("random-likes-WorkerFunction", 120))
    return result


def test_one_poison_record_fails_alone_and_its_batch_mates_are_done(store: Stores, username: str) -> None:
    store_likes(store, username, [make_post(n) for n in range(60)])
    store.subscribers.mark_deleting(username)
    event = sqs_event(
        json.dumps({"username": username, "action": "purge"}),
        "this is not json",
        json.dumps({"username": "someone_gone", "action": "purge"}),
    )

    result = invoke(event)

    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    assert store.subscribers.get_subscriber(username) is None
    assert store.likes.all_post_ids(username) == []


@pytest.mark.parametrize("name", ["worker-malformed", "worker-bad-username"])
def test_a_batch_of_only_poison_goes_back_whole(name: str) -> None:
    event = load_event(name)

    result = invoke(event)

    assert result == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "not JSON"),
        ("[]", "JSON object"),
        ('{"user": "demo"}', "JSON object"),
        ('{"subscriber": "demo", "action": "explode"}', "unknown action"),
        ('{"subscriber": "<script>"}', "bad subscriber"),
        ('{"subscriber": "123456789012345678901"}', "bad subscriber"),  # 21 digits: no X user id, no username
        ('{"username": "<script>"}', "bad subscriber"),
    ],
)
def test_malformed_messages_are_named_plainly(body: str, reason: str) -> None:
    with pytest.raises(MalformedMessage) as refused:
        parse_request(body)

    assert reason in str(refused.value)


def test_a_sample_sync_message_parses() -> None:
    request = parse_request(load_event("worker-sync")["Records"][0]["body"])
    assert (request.subscriber, request.action, request.reason) == ("demo", "sync", "schedule")


def test_a_message_keyed_by_x_user_id_parses_and_so_does_one_sent_before_the_key_change() -> None:
    by_id = parse_request('{"subscriber": "1234567890123456789", "reason": "connect"}')
    in_flight = parse_request('{"username": "Demo", "reason": "schedule", "action": "purge"}')

    assert (by_id.subscriber, by_id.action) == ("1234567890123456789", "sync")
    assert (in_flight.subscriber, in_flight.action) == ("demo", "purge")
    assert by_id.to_json() == {"subscriber": "1234567890123456789", "reason": "connect", "action": "sync"}

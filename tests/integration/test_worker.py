"""The worker handler with SQS events: partial batch failures name exactly the failed messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.context import LocalLambdaContext
from shared.errors import MalformedMessage
from shared.models import SubscriberStatus, Walk
from shared.store import Store
from tests.support.events import load_event, sqs_event
from tests.support.fake_x import ManualClock, make_post
from worker.app import handler, parse_request


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = handler(event, LocalLambdaContext("random-likes-WorkerFunction", 120))
    return result


def stored_subscriber(store: Store, username: str, likes: int) -> None:
    clock = ManualClock()
    sub, _ = store.create_subscriber(username, username, clock.now(), clock.now())
    store.append_likes(
        sub,
        [make_post(n) for n in range(likes)],
        now=clock.now(),
        walk=Walk(0, None, 100),
        next_walk=None,
        history_complete=True,
        posts_read=likes,
        x_requests=1,
        status=SubscriberStatus.READY,
    )


def test_one_poison_record_fails_alone_and_its_batch_mates_are_done(store: Store, username: str) -> None:
    stored_subscriber(store, username, 60)
    store.mark_deleting(username)
    event = sqs_event(
        json.dumps({"username": username, "action": "purge"}),
        "this is not json",
        json.dumps({"username": "someone_gone", "action": "purge"}),
    )

    result = invoke(event)

    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    assert store.get_subscriber(username) is None
    assert store.all_post_ids(username) == []


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
        ('{"username": "demo", "action": "explode"}', "unknown action"),
        ('{"username": "<script>"}', "bad username"),
    ],
)
def test_malformed_messages_are_named_plainly(body: str, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        parse_request(body)


def test_a_sample_sync_message_parses() -> None:
    request = parse_request(load_event("worker-sync")["Records"][0]["body"])
    assert (request.username, request.action, request.reason) == ("demo", "sync", "schedule")

"""The fetcher handler with its sample event: due subscribers found through the sparse index, enqueued once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fetcher.app import handler
from local.context import LocalLambdaContext
from local.provision import StackResources
from shared.store import Stores
from tests.support.events import load_event


def invoke() -> dict[str, Any]:
    result: dict[str, Any] = handler(
        load_event("fetcher-scheduled"), LocalLambdaContext("random-likes-FetcherFunction", 60)
    )
    return result


def received(sqs: Any, stack: StackResources) -> list[dict[str, str]]:
    bodies = []
    while messages := sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10).get("Messages"):
        bodies += [json.loads(m["Body"]) for m in messages]
        for m in messages:
            sqs.delete_message(QueueUrl=stack.queue_url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def test_due_subscribers_are_enqueued_once_even_when_runs_overlap(
    store: Stores, sqs: Any, stack: StackResources
) -> None:
    # Given, in this test's own table, 23 subscribers due (more than one SendMessageBatch of 10) and one not yet
    now = datetime.now(UTC)
    due = {f"due{i}" for i in range(23)}
    for name in due:
        store.subscribers.create_subscriber(name, name, now, now - timedelta(minutes=1))
    store.subscribers.create_subscriber("notyet", "notyet", now, now + timedelta(hours=1))

    # When the fetcher runs, and runs again before any message is handled (an overlapping or repeated run)
    first = invoke()
    second = invoke()

    # Then the first run enqueued each due subscriber once, and the second found them all leased
    assert (first["due"], first["sent"], first["failed"]) == (23, 23, 0)
    assert (second["due"], second["sent"]) == (0, 0)
    bodies = received(sqs, stack)
    assert sorted(b["subscriber"] for b in bodies) == sorted(due)
    assert {b["reason"] for b in bodies} == {"schedule"}
    # ... and each lease holds the subscriber back for most of the sync interval
    leased = store.subscribers.get_subscriber("due0")
    assert leased is not None
    assert leased.next_sync_at is not None
    assert leased.next_sync_at > now + timedelta(minutes=50)


def test_the_run_is_recorded_for_operators(store: Stores) -> None:
    # When the fetcher runs (on the system clock, as deployed)
    before = datetime.now(UTC)
    invoke()
    after = datetime.now(UTC)

    # Then its time and what it did are kept for `random-likes status`
    when, detail = store.app_state.fetcher_run()
    assert when is not None
    assert before - timedelta(seconds=1) <= when <= after  # stored to the second
    assert detail == {"due": 0, "leased": 0, "sent": 0, "failed": 0, "event_time": "2026-11-28T12:00:00Z"}

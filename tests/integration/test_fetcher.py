"""The fetcher handler with its sample event: due subscribers found through the sparse index, enqueued once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

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


@pytest.mark.usefixtures("drain")
def test_due_subscribers_are_enqueued_once_even_when_runs_overlap(
    store: Stores, sqs: Any, stack: StackResources
) -> None:
    now = datetime.now(UTC)
    due = [f"due{i}" for i in range(23)]  # more than one SendMessageBatch of 10
    for name in due:
        store.subscribers.create_subscriber(name, name, now, now - timedelta(minutes=1))
    store.subscribers.create_subscriber("notyet", "notyet", now, now + timedelta(hours=1))

    first = invoke()
    second = invoke()  # an overlapping or repeated run finds them leased

    assert first["sent"] >= 23
    assert second["sent"] == 0
    bodies = received(sqs, stack)
    names = [b["username"] for b in bodies]
    assert set(due) <= set(names)
    assert "notyet" not in names
    assert len(names) == len(set(names)), "nobody is enqueued twice"
    assert all(b["reason"] == "schedule" for b in bodies)
    lease = store.subscribers.get_subscriber("due0")
    assert lease is not None
    assert lease.next_sync_at is not None
    assert lease.next_sync_at > now + timedelta(minutes=50)


@pytest.mark.usefixtures("drain")
def test_the_run_is_recorded_for_operators(store: Stores) -> None:
    invoke()

    when, detail = store.app_state.fetcher_run()

    assert when is not None
    assert abs((datetime.now(UTC) - when).total_seconds()) < 60
    assert set(detail) >= {"due", "leased", "sent", "failed", "event_time"}
    assert detail["event_time"] == "2026-11-28T12:00:00Z"

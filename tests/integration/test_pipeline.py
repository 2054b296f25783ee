"""The whole pipeline on moto and the simulator: subscribe -> fetcher -> worker -> picks, through the handlers.

The api, fetcher and worker handlers run with the sample events' shapes; the worker reads the simulator's
credentials from SSM and talks to it over HTTP with tweepy; the queue is moto's, drained the way Lambda's
poller would (receive, invoke with the batch, delete what did not fail). Each test has its own table and queue.

That picks are uniform is a statistical property of the picker alone, tested with a seeded generator and a
stated power in tests/unit/test_pick_uniformity.py; here, every stored post is shown reachable, once each.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from api.app import handler as api_handler
from fetcher.app import handler as fetcher_handler
from local.context import LocalLambdaContext
from local.provision import StackResources
from local.xsim import XSim
from shared.pick import Picker
from shared.store import Stores
from tests.support.accounts import AWS, ApiClient
from tests.support.events import load_event, sqs_event, sqs_event_from
from worker.app import handler as worker_handler


def run_worker(sqs: Any, stack: StackResources) -> list[dict[str, Any]]:
    """Poll the fetch queue until it is empty, as Lambda's event source mapping does; return each result."""
    arn = sqs.get_queue_attributes(QueueUrl=stack.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    results = []
    while messages := sqs.receive_message(
        QueueUrl=stack.queue_url, MaxNumberOfMessages=5, AttributeNames=["All"], VisibilityTimeout=30
    ).get("Messages"):
        result = worker_handler(sqs_event_from(messages, arn), LocalLambdaContext("random-likes-WorkerFunction", 120))
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=stack.queue_url, ReceiptHandle=message["ReceiptHandle"])
        results.append(result)
        if failed:
            break
    return results


def visible_likes(sim: XSim, username: str) -> set[str]:
    return {i for i in sim.like_ids(username)[: sim.config.depth_cap] if not sim.app.world.posts[i].deleted}


def test_subscribe_sync_and_every_stored_like_can_be_picked(
    store: Stores, sqs: Any, stack: StackResources, pipeline_x: XSim
) -> None:
    # Given demo connected with X (its subscription made and its first sync enqueued at once) and a fetcher
    # run after it
    browser = ApiClient(api_handler, AWS)
    browser.connect("demo")
    key = pipeline_x.user_id("demo")
    report = fetcher_handler(load_event("fetcher-scheduled"), LocalLambdaContext("fetcher", 60))
    assert report["sent"] == 0, "a subscriber whose first sync is already queued is not enqueued again"

    # When the worker drains the queue
    results = run_worker(sqs, stack)

    # Then every like X shows is stored exactly once, in dense slots
    assert all(r == {"batchItemFailures": []} for r in results)
    expected = visible_likes(pipeline_x, "demo")
    stored = store.likes.all_post_ids(key)
    assert [slot for slot, _ in stored] == list(range(len(expected)))
    assert {pid for _, pid in stored} == expected
    sub = store.subscribers.get_subscriber(key)
    assert sub is not None
    assert sub.status.value == "ready"
    assert sub.like_count == len(expected)

    # And its owner's picks through the api succeed, each with one of the stored posts
    for _ in range(20):
        response = browser.get("/api/subscriptions/demo/likes/random")
        assert response.status == 200
        assert response.json()["post"]["id"] in expected

    # And the api's picker, its random slot replaced by each slot in turn, deals every stored post once:
    # it draws among exactly like_count slots, and every slot holds a post
    asked: list[int] = []
    slots = iter(range(sub.like_count))

    def each_slot_in_turn(count: int) -> int:
        asked.append(count)
        return next(slots)

    picker = Picker(store.likes, randbelow=each_slot_in_turn)
    dealt = [picker.pick(sub).like.post.id for _ in range(sub.like_count)]
    assert set(asked) == {sub.like_count}
    assert sorted(dealt) == sorted(expected)


def test_a_due_subscriber_is_synced_again_and_gains_only_its_new_likes(
    store: Stores, sqs: Any, stack: StackResources, pipeline_x: XSim
) -> None:
    # Given demo fully synced, two new likes on X, and demo due again
    ApiClient(api_handler, AWS).connect("demo")
    key = pipeline_x.user_id("demo")
    run_worker(sqs, stack)
    before = store.subscribers.get_subscriber(key, consistent=True)
    assert before is not None
    new_ids = pipeline_x.add_likes("demo", 2)
    assert store.subscribers.lease(key, None, before.created_at)  # due now

    # When the scheduled fetcher runs and the worker drains the queue
    report = fetcher_handler(load_event("fetcher-scheduled"), LocalLambdaContext("fetcher", 60))
    run_worker(sqs, stack)

    # Then demo was enqueued once, and exactly the two new likes were appended
    assert report["sent"] == 1
    after = store.subscribers.get_subscriber(key, consistent=True)
    assert after is not None
    assert after.like_count == before.like_count + 2
    newest = {pid for slot, pid in store.likes.all_post_ids(key) if slot >= before.like_count}
    assert newest == set(new_ids)


def test_a_batch_with_one_poison_record_fails_exactly_that_one_and_stores_the_others(
    store: Stores, pipeline_x: XSim
) -> None:
    # Given a batch: demo's sync, a body that is not a sync request, and a purge of nobody
    store.subscribers.create_subscriber("demo", "demo", datetime.now(UTC), datetime.now(UTC))
    event = sqs_event(
        json.dumps({"subscriber": "demo", "reason": "schedule", "action": "sync"}),
        '{"user": "demo"}',
        json.dumps({"subscriber": "nobody_here", "action": "purge"}),
    )

    # When the worker handles it
    result = worker_handler(event, LocalLambdaContext("random-likes-WorkerFunction", 120))

    # Then only the poison record is reported failed, and demo's likes are all stored
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    assert {pid for _, pid in store.likes.all_post_ids("demo")} == visible_likes(pipeline_x, "demo")

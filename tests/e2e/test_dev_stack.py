"""`make dev` end to end: the stack runs as a subprocess on free ports and is used over real HTTP, as a person
(curl), the simulated X API's management endpoint and an operator (boto3 against its moto) would use it.

The clock is accelerated 300 times: the schedule fires every second, a failed message is back 1 s later (the
worker's own redelivery delay, shortened alike; the queue's visibility timeout stays at the worker's 120 s
timeout, the shortest Lambda allows), and X's rate-limit window is 3 s.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1

from local.provision import client
from tests.support.dev_stack import DevStack, running_stack

pytestmark = pytest.mark.e2e

ACCELERATE = "300"
MAX_RECEIVE_COUNT = 5  # template.yaml: FetchQueue RedrivePolicy


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with running_stack(tmp_path_factory.mktemp("dev"), "--accelerate", ACCELERATE) as running:
        yield running


def likes_on_x(stack: DevStack, username: str) -> list[str]:
    """Every like X lists for `username` (deleted posts are reported in `errors`, not listed), newest first."""
    credentials = stack.sim("GET", f"/_sim/credentials/{username}")
    keys = credentials["oauth1"]
    auth = OAuth1(keys["consumer_key"], keys["consumer_secret"], keys["access_token"], keys["access_token_secret"])
    ids: list[str] = []
    token: str | None = None
    while True:
        params = {"max_results": "100", **({"pagination_token": token} if token else {})}
        answer = requests.get(
            f"{stack.x_url}/2/users/{credentials['user_id']}/liked_tweets", params=params, auth=auth, timeout=10
        )
        answer.raise_for_status()
        body = answer.json()
        ids.extend(post["id"] for post in body.get("data", []))
        token = body.get("meta", {}).get("next_token")
        if not token:
            return ids


def liked_tweets_requests(stack: DevStack) -> int:
    billing = stack.sim("GET", "/_sim/billing")
    return sum(app["requests"].get("GET /2/users/:id/liked_tweets", 0) for app in billing["apps"].values())


def test_subscribing_demo_stores_every_like_exactly_once_through_an_x_fault_storm(stack: DevStack) -> None:
    # Given X answers slowly, and what it lists for @demo right now
    stack.sim("POST", "/_sim/faults", {"latency_ms": 300})
    on_x_before = likes_on_x(stack, "demo")
    asked = liked_tweets_requests(stack)
    # When demo connects with X (which subscribes it: the first sync starts at connect)
    person = stack.connect("demo")
    status, answer = stack.request("GET", "/api/subscriptions/demo", session=person)
    assert status == 200, answer
    assert answer["visibility"] == "private"
    # ... and, once the first page is on its way, X drops a connection and answers four 503s in a row: more
    # than the worker's retries within one invocation (the call and three retries), so SQS delivers it again
    stack.wait_until(lambda: liked_tweets_requests(stack) > asked, 20, "the worker asks X for likes")
    stack.sim("POST", "/_sim/faults", {"drop_next": 1, "burst": 4, "burst_status": 503})
    # (Mostly it hits the walk under way; on a slow machine the walk may end first, and then it hits the next
    # sync, a minute later: either way one sync meets it, which is what this test is about.)
    stack.wait_until(
        lambda: (f := stack.sim("GET", "/_sim/faults"))["drop_next"] == 0 and f["burst"] == 0, 90, "the storm has hit"
    )
    stack.sim("DELETE", "/_sim/faults")

    # Then the storm really failed an attempt: the worker recorded X's failure ... (waited for, not read at
    # once: when the first walk ended before the storm, the storm hits the next sync, and demo still shows that
    # walk's `ready` until this attempt has failed)
    stack.wait_until(lambda: re.search(r"sync finished .*status=error", stack.output()), 30, "a failed attempt")

    # ... and the sync recovers and finishes
    def synced() -> dict[str, Any] | None:
        code, body = stack.request("GET", "/api/subscriptions/demo", session=person)
        return body if code == 200 and body["status"] == "ready" else None

    subscription = stack.wait_until(synced, 60, "demo is synced")

    # ... on a later delivery of the same message (the poller logs the batch once the invocation returned)
    def redeliveries() -> list[int]:
        return [n for n in map(int, re.findall(r"receives=\[(\d+)\]", stack.output())) if n > 1]

    assert stack.wait_until(redeliveries, 30, "the message is delivered again")[0] in {2, 3}
    # ... and every like X lists is stored exactly once, nothing else
    stored = stack.stored_likes("demo")
    on_x_after = likes_on_x(stack, "demo")
    assert len(stored) == len(set(stored)) == subscription["like_count"]
    assert set(on_x_before) <= set(stored) <= set(on_x_after)

    # When its owner asks for random picks over HTTP, Then each is one of demo's stored likes
    for _ in range(5):
        code, pick = stack.request("GET", "/api/subscriptions/demo/likes/random", session=person)
        assert code == 200, pick
        assert pick["post"]["id"] in stored
        assert pick["like_count"] == len(stored)


def test_a_poison_message_reaches_the_dead_letter_queue_after_exactly_max_receive_count_receives(
    stack: DevStack,
) -> None:
    # Given a message the worker can never parse, sent straight to the fetch queue
    sqs = client("sqs", stack.aws_endpoint)
    sent = sqs.send_message(QueueUrl=stack.queue_url("FetchQueue"), MessageBody="poison: this is not JSON")
    dlq = stack.queue_url("FetchDeadLetterQueue")

    # When the poller has received it again and again, Then it is in the DLQ
    def in_dlq() -> dict[str, Any] | None:
        got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=1)
        return next((m for m in got.get("Messages", []) if m["MessageId"] == sent["MessageId"]), None)

    message = stack.wait_until(in_dlq, 60, "the poison message is in the DLQ")
    assert message["Body"] == "poison: this is not JSON"
    # ... having been delivered exactly maxReceiveCount times: SQS keeps the count when it moves a message to
    # the DLQ, and our receive from the DLQ is one more.
    assert int(message["Attributes"]["ApproximateReceiveCount"]) - 1 == MAX_RECEIVE_COUNT
    # ... and the worker saw it exactly that many times, receive counts 1 to 5
    seen = [int(n) for n in re.findall(rf"message_id={sent['MessageId']} .*?receive_count=(\d+)", stack.output())]
    assert seen == list(range(1, MAX_RECEIVE_COUNT + 1))

"""`random-likes status` against moto: what it shows, its JSON shape, and where the DLQ's age comes from."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from local.provision import StackResources
from ops.connect import Aws
from ops.queues import QueueDepth
from ops.render import iso
from ops.status import oldest_age
from shared.models import SubscriberStatus, SyncEnd
from shared.store import Stores
from tests.ops.conftest import Cli, Pipeline
from tests.ops.test_redrive_move_task import STACK

RETRY_IN = timedelta(minutes=10)


def seed(store: Stores, sqs: Any, stack: StackResources) -> datetime:
    """Three subscribers (one failing), a fetcher run, today's X usage and window, two dead letters; returns
    the time it was seeded (the status reads "today" from the clock too: a module-level time would be old)."""
    now = datetime.now(UTC)
    for name in ("demo", "ada_writes", "pixel_pablo"):
        store.subscribers.create_subscriber(name, name, now, now)
    # As the worker records a failure: SQS retries at retry_at; next_sync_at, the fetcher's lease, lies beyond.
    failed = SyncEnd(
        SubscriberStatus.ERROR, now, now + timedelta(minutes=70), "XUnavailable: X answered 503", now + RETRY_IN
    )
    store.subscribers.finish_sync("ada_writes", failed)
    store.subscribers.finish_sync("demo", SyncEnd(SubscriberStatus.READY, now, now + timedelta(hours=1), None))
    store.app_state.record_fetcher_run(now - timedelta(minutes=3), {"due": 2, "leased": 2, "sent": 2, "failed": 0})
    store.app_state.count(now, {"posts_read": 120, "x_requests": 4})
    store.app_state.save_rate_window("liked_tweets", 71, now + timedelta(minutes=9))
    for body in ('{"username": "ada_writes", "reason": "schedule", "action": "sync"}', "not json"):
        sqs.send_message(QueueUrl=stack.dlq_url, MessageBody=body)
    return now


def test_status_shows_queues_subscribers_fetcher_usage_and_errors(
    cli: Cli, store: Stores, sqs: Any, ops_stack: StackResources
) -> None:
    # Given a stack with some history
    seed(store, sqs, ops_stack)

    # When the operator asks for the status
    result = cli("status")

    # Then each part is there, in words
    assert result.code == 0, result.err
    out = result.out
    assert "fetch queue        0 waiting · 0 in flight" in out
    assert "dead-letter queue  2 waiting · 0 in flight · oldest" in out
    assert "(peek)" in out  # moto has no CloudWatch metrics: the age comes from a peek, and says so
    assert "random-likes dlq peek" in out  # the next step, when there are dead letters
    assert "Subscribers  3" in out
    assert "error 1 · pending 1 · ready 1" in out
    assert "due 2, leased 2, sent 2, failed 0" in out
    assert "4 requests · 120 posts read" in out
    assert "Cost  This month: $0.60 on X, <$0.0001 on AWS; forecast $" in out
    assert "liked_tweets rate window: 71 requests left" in out
    assert "ada_writes" in out
    assert "XUnavailable: X answered 503" in out
    # And looking did not consume the dead letters
    visible = sqs.get_queue_attributes(QueueUrl=ops_stack.dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
    assert visible["Attributes"]["ApproximateNumberOfMessages"] == "2"


def test_status_json_has_the_documented_shape(cli: Cli, store: Stores, sqs: Any, ops_stack: StackResources) -> None:
    seeded_at = seed(store, sqs, ops_stack)

    data = json.loads(cli("--json", "status").out)
    since_seeded = (datetime.now(UTC) - seeded_at).total_seconds()

    assert set(data) == {
        "stack",
        "checked_at",
        "alarms",
        "fetch_queue",
        "fetcher_failures",
        "import_queues",
        "dead_letter_queue",
        "subscribers",
        "fetcher",
        "x",
        "cost",
        "sync_paused",
        "recent_errors",
    }
    assert set(data["cost"]) == {"headline", "x", "aws", "forecast", "budgets", "unavailable"}
    assert data["cost"]["x"] == pytest.approx(120 * 0.005)  # the 120 posts read today, this month's only
    assert data["sync_paused"] is None
    assert set(data["stack"]) == {
        "name",
        "region",
        "endpoint_url",
        "table",
        "fetch_queue_url",
        "dead_letter_queue_url",
    }
    assert data["stack"]["name"] == cli.stack_name
    assert data["fetch_queue"] == {"visible": 0, "in_flight": 0, "delayed": 0}
    dlq = data["dead_letter_queue"]
    assert (dlq["visible"], dlq["in_flight"], dlq["oldest_age"]["source"]) == (2, 0, "peek")
    assert 0 <= dlq["oldest_age"]["seconds"] <= since_seeded + 1  # no older than the dead letters (SQS: ms)
    assert data["subscribers"] == {"total": 3, "by_status": {"error": 1, "pending": 1, "ready": 1}}
    assert data["fetcher"]["detail"] == {"due": 2, "leased": 2, "sent": 2, "failed": 0}
    assert data["fetcher"]["last_run_at"].endswith("Z")
    assert data["x"]["day"] == seeded_at.strftime("%Y-%m-%d")
    assert (data["x"]["requests"], data["x"]["posts_read"]) == (4, 120)
    assert data["x"]["rate_window"]["endpoint"] == "liked_tweets"
    assert data["x"]["rate_window"]["remaining"] == 71
    assert data["recent_errors"] == [
        {
            "username": "ada_writes",
            "status": "error",
            "last_error": "XUnavailable: X answered 503",
            "last_sync_at": data["recent_errors"][0]["last_sync_at"],
            "next_attempt_at": iso(seeded_at + RETRY_IN),  # the retry, not the lease
        }
    ]


def test_status_of_a_new_stack_says_nothing_has_happened_yet(cli: Cli) -> None:
    result = cli("status")
    data = json.loads(cli("status", "--json").out)  # the flags work after the command too

    assert result.code == 0
    assert "none yet" in result.out
    assert "last run -" in result.out
    assert "no request recorded yet" in result.out
    assert data["dead_letter_queue"]["oldest_age"] == {"seconds": None, "source": "none", "note": "the queue is empty"}
    assert data["recent_errors"] == []


def test_status_after_a_real_poison_message_points_at_it(pipeline: Pipeline, cli: Cli) -> None:
    # Given X down while demo subscribed, until its message went to the DLQ
    pipeline.xsim.faults.set(error_rate=1.0)
    pipeline.subscribe("demo")
    pipeline.worker.drain()

    data = json.loads(cli("--json", "status").out)

    assert data["dead_letter_queue"]["visible"] == 1
    assert data["subscribers"]["by_status"] == {"error": 1}
    (error,) = data["recent_errors"]
    assert error["username"] == "demo"
    assert "503" in error["last_error"]


@pytest.fixture
def cloudwatch() -> Any:
    return boto3.client("cloudwatch", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


def test_on_aws_the_age_is_cloudwatchs_latest_approximate_age_of_oldest_message(cloudwatch: Any) -> None:
    # Given CloudWatch with two datapoints for the DLQ (SQS itself has no such queue attribute)
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    aws = Aws(boto3.Session(), region="eu-west-1", endpoint_url=None)
    aws.cloudwatch = cloudwatch  # the stubbed client in place of the one the session would make
    with Stubber(cloudwatch) as stub:
        stub.add_response(
            "get_metric_statistics",
            {
                "Datapoints": [
                    {"Timestamp": now - timedelta(minutes=2), "Maximum": 300.0},
                    {"Timestamp": now - timedelta(minutes=1), "Maximum": 360.0},
                ]
            },
            {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateAgeOfOldestMessage",
                "Dimensions": [{"Name": "QueueName", "Value": "random-likes-fetch-dlq"}],
                "StartTime": now - timedelta(minutes=15),
                "EndTime": now,
                "Period": 60,
                "Statistics": ["Maximum"],
            },
        )
        stub.add_response("get_metric_statistics", {"Datapoints": []}, None)

        # When the status asks how old the oldest dead letter is
        found = oldest_age(aws, STACK, QueueDepth(2, 0, 0), now=now, age_from="auto")
        idle = oldest_age(aws, STACK, QueueDepth(2, 0, 0), now=now, age_from="auto")

    # Then it is the latest datapoint, named as CloudWatch's; no datapoint is said plainly, not guessed
    assert (found.seconds, found.source) == (360.0, "cloudwatch")
    assert (idle.seconds, idle.source) == (None, "cloudwatch")
    assert "no datapoint" in idle.note

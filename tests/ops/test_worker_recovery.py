"""The worker handler recovering from X's faults, on this test's own stack (tests/ops/conftest.py's pipeline):
a passing failure costs a retry within the invocation, a lasting one a growing wait in SQS, a 400 neither.

X is the simulator over loopback; the fetch queue is moto's, with the template's redrive policy.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import worker.app
from local.context import LocalLambdaContext
from local.xsim import XSim
from shared.models import SubscriberStatus
from tests.ops.conftest import Pipeline
from tests.support.events import sqs_event_from
from tests.support.moto_sqs import visible_at


def visible_likes(sim: XSim, username: str) -> list[str]:
    return [i for i in sim.like_ids(username) if not sim.app.world.posts[i].deleted]


def emitted_metrics(out: str) -> dict[str, Any]:
    """The EMF documents the worker printed (Powertools Metrics flushes one per invocation), merged."""
    merged: dict[str, Any] = {}
    for line in out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            merged.update(json.loads(line))
    return merged


def test_x_failing_every_fourth_request_still_finishes_a_first_sync_in_one_invocation(pipeline: Pipeline) -> None:
    # Given X failing every fourth request (503), and demo subscribed
    pipeline.xsim.faults.set(error_every=4)
    pipeline.subscribe("demo")

    # When the worker gets the one message, once
    received = pipeline.worker.poll()

    # Then X's 503s were met, yet the sync finished in that invocation: every like stored, nothing failed
    sub = pipeline.store.subscribers.get_subscriber("demo", consistent=True)
    assert sub is not None
    assert received == 1
    assert pipeline.xsim.faults.injected >= 1
    assert pipeline.worker.failures == 0
    assert sub.status is SubscriberStatus.READY
    assert sub.like_count == len(visible_likes(pipeline.xsim, "demo"))
    assert sub.last_error is None
    assert pipeline.worker.poll() == 0  # the message was deleted


def test_a_400_ends_in_rejected_naming_the_parameter_and_the_message_is_done(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given demo subscribed with an X user id that X will not take (a 400 invalid-request on liked_tweets)
    pipeline.subscribe("demo")
    sub = pipeline.store.subscribers.get_subscriber("demo", consistent=True)
    assert sub is not None
    pipeline.store.subscribers.set_x_user(sub, "12ab", "demo")
    capsys.readouterr()

    # When the worker handles the message
    before = datetime.now(UTC)
    pipeline.worker.poll()
    after = datetime.now(UTC)

    # Then the subscriber is rejected with X's words naming the parameter, and tried again in a day
    sub = pipeline.store.subscribers.get_subscriber("demo", consistent=True)
    assert sub is not None
    assert sub.status is SubscriberStatus.REJECTED
    assert sub.last_error == (
        "X answered 400: One or more parameters to your request was invalid: "
        "The `id` query parameter value [12ab] does not match ^[0-9]{1,19}$"
    )
    assert sub.next_sync_at is not None
    assert before + timedelta(hours=24) - timedelta(seconds=1) <= sub.next_sync_at <= after + timedelta(hours=24)
    assert sub.retry_at is None
    # And the record succeeded: not retried by SQS, nowhere near the DLQ
    assert pipeline.worker.failures == 0
    assert pipeline.worker.poll() == 0
    # And it counted once in SyncsRejected, with the worker's service dimension
    metrics = emitted_metrics(capsys.readouterr().out)
    (directive,) = metrics["_aws"]["CloudWatchMetrics"]
    assert {"Name": "SyncsRejected", "Unit": "Count"} in directive["Metrics"]
    assert (directive["Namespace"], directive["Dimensions"]) == ("RandomLikes", [["service"]])
    assert (metrics["SyncsRejected"], metrics["service"]) == ([1.0], "worker")


def test_a_failed_record_comes_back_after_a_delay_that_doubles_with_each_receive(pipeline: Pipeline) -> None:
    # Given X answering 500 to everything (not a blip the worker asks again about), and demo subscribed
    pipeline.xsim.faults.set(error_rate=1.0, error_status=500)
    pipeline.subscribe("demo")
    queue = pipeline.stack.queue_url

    for receives, delay in ((1, 30), (2, 60)):
        # When Lambda hands the message to the worker, and the sync fails
        (message,) = pipeline.sqs.receive_message(  # type: ignore[attr-defined]
            QueueUrl=queue, MaxNumberOfMessages=1, MessageSystemAttributeNames=["All"]
        )["Messages"]
        assert message["Attributes"]["ApproximateReceiveCount"] == str(receives)
        started = time.time()
        result = worker.app.handler(
            sqs_event_from([message], pipeline.queue_arn), LocalLambdaContext("WorkerFunction", 120)
        )
        ended = time.time()

        # Then the record is reported failed and comes back `delay` seconds later, not after the queue's 720 s
        assert result == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
        assert started + delay <= visible_at(queue, message["MessageId"]) <= ended + delay
        # And the subscriber says when: the retry, with the fetcher's lease an hour beyond it
        sub = pipeline.store.subscribers.get_subscriber("demo", consistent=True)
        assert sub is not None
        assert sub.status is SubscriberStatus.ERROR
        assert sub.retry_at is not None
        assert int(started) + delay <= sub.retry_at.timestamp() <= ended + delay
        assert sub.next_sync_at == sub.retry_at + timedelta(hours=1)
        assert sub.next_attempt_at(datetime.now(UTC)) == sub.retry_at

        # (time passes: the message is due again)
        pipeline.sqs.change_message_visibility(  # type: ignore[attr-defined]
            QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )

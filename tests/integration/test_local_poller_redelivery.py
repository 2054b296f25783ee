"""The offline stack's SQS poller leaves a failed message's visibility as the function set it, as Lambda's event
source mapping does: the worker's growing redelivery delay holds locally too, and the queue's own timeout
applies only where the function set none."""

from __future__ import annotations

import io
import itertools
import threading
import time
from typing import Any

from local.provision import client
from local.stack.functions import Invocation
from local.stack.logstream import LogStream
from local.stack.poller import QueuePoller
from local.stack.spec import QueueMappingSpec
from tests.support.moto_sqs import visible_at

_queues = itertools.count()
QUEUE_TIMEOUT = 600
FUNCTION_DELAY = 42


def test_a_failed_message_keeps_the_visibility_the_function_gave_it(aws_endpoint: str) -> None:
    # Given a queue with a 600 s visibility timeout and two messages
    sqs = client("sqs", aws_endpoint)
    url = sqs.create_queue(
        QueueName=f"poller-redelivery-{next(_queues)}", Attributes={"VisibilityTimeout": str(QUEUE_TIMEOUT)}
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    ids = {body: sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"] for body in ("delayed", "plain")}

    # ... and a function that fails both, setting the visibility of "delayed" to 42 s first
    seen: dict[str, str] = {}
    both_seen = threading.Event()

    def invoke(event: dict[str, Any]) -> Invocation:
        for record in event["Records"]:
            if record["body"] == "delayed":
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=FUNCTION_DELAY
                )
            seen[record["body"]] = record["messageId"]
        if len(seen) == len(ids):
            both_seen.set()
        failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"]]
        return Invocation("req", True, {"batchItemFailures": failures})

    mapping = QueueMappingSpec("Mapping", "Function", "Queue", 10, 0.0, True, 1)
    log = LogStream(io.StringIO(), color=False)
    poller = QueuePoller(
        mapping, queue_url=url, queue_arn=arn, fifo=False, sqs=sqs, invoke=invoke, log=log, concurrency=1
    )

    # When the poller hands them to the function
    started = time.time()
    poller.start()
    assert both_seen.wait(30)
    poller.stop()
    ended = time.time()

    # Then neither was deleted; "delayed" returns after the function's 42 s, "plain" after the queue's 600 s
    assert seen == ids
    assert started + FUNCTION_DELAY <= visible_at(url, ids["delayed"]) <= ended + FUNCTION_DELAY
    assert started + QUEUE_TIMEOUT <= visible_at(url, ids["plain"]) <= ended + QUEUE_TIMEOUT

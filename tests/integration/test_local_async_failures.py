"""The offline scheduler treats a failing function as Lambda treats an asynchronous invocation: it retries as
the function's EventInvokeConfig says, then sends Lambda's invocation record to the on-failure destination.

The record's shape is AWS's ("Capturing records of Lambda asynchronous invocations"): version, timestamp,
requestContext {requestId, functionArn, condition, approximateInvokeCount}, requestPayload, responseContext,
responsePayload. The schedule fires once (an `at()` in the past fires only at start), on a clock 1000 times
faster than real time, so Lambda's retries after 1 and 2 minutes take 60 and 120 ms.
"""

from __future__ import annotations

import io
import itertools
import json
import threading
from typing import Any

from local.provision import client, provision, stack_refs
from local.stack.cfn import Resolver
from local.stack.functions import Invocation
from local.stack.logstream import LogStream
from local.stack.scheduler import Scheduler, sqs_failure_sink
from local.stack.spec import AsyncInvokeSpec, ScheduleSpec, StackSpec, read_stack
from local.template import TEMPLATE_PATH, load, translated
from tests.unit.test_local_template_reading import stack as read_template_stack

ERROR = {"errorType": "ConnectionError", "errorMessage": "the table is unreachable", "stackTrace": ["  File ..."]}
ONCE = ScheduleSpec(
    logical_id="FetcherFunctionSchedule",
    name="rl-FetcherFunctionSchedule",
    arn="arn:aws:events:us-east-1:123456789012:rule/rl-FetcherFunctionSchedule",
    expression="at(2020-01-01T00:00:00)",
    function="FetcherFunction",
    input=None,
    kind="rule",
)
_stacks = itertools.count()


class FakeFunction:
    """Fails its first `failures` invocations, then succeeds; remembers each event it got."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.events: list[Any] = []
        self.succeeded = threading.Event()

    def __call__(self, function: str, event: Any) -> Invocation:
        self.events.append(event)
        request_id = f"req-{len(self.events)}"
        if len(self.events) <= self.failures:
            return Invocation(request_id, ok=False, error=ERROR)
        self.succeeded.set()
        return Invocation(request_id, ok=True, result=None)


class Sink:
    def __init__(self) -> None:
        self.records: list[tuple[str, dict[str, Any]]] = []
        self.sent = threading.Event()

    def __call__(self, queue: str, record: dict[str, Any]) -> None:
        self.records.append((queue, record))
        self.sent.set()


def run_once(function: FakeFunction, config: AsyncInvokeSpec, sink: Any, accelerate: float = 1000) -> Scheduler:
    scheduler = Scheduler(
        (ONCE,),
        function,
        LogStream(io.StringIO(), color=False),
        accelerate=accelerate,
        async_invokes=lambda name: config,
        send_failure=sink,
    )
    scheduler.start()
    return scheduler


def template_stack(aws_endpoint: str, name: str) -> StackSpec:
    refs = {logical_id: ref for logical_id, (_, ref) in stack_refs(aws_endpoint, name).items()}
    template = translated()
    return read_stack(template, load(), Resolver(template, name, {}, refs), TEMPLATE_PATH.parent)


def test_the_fetchers_invoke_config_comes_from_the_template_and_others_get_lambdas_defaults() -> None:
    spec = read_template_stack()

    fetcher = spec.async_invoke("FetcherFunction")
    worker = spec.async_invoke("WorkerFunction")

    assert (fetcher.maximum_retry_attempts, fetcher.maximum_event_age) == (2, 3600)
    assert fetcher.on_failure_queue == "FetcherFailureQueue"
    assert fetcher.function_arn == spec.functions["FetcherFunction"].arn
    assert (worker.maximum_retry_attempts, worker.maximum_event_age, worker.on_failure_queue) == (2, 21600, None)


def test_a_run_that_fails_every_attempt_lands_in_the_failure_queue_as_lambdas_record(aws_endpoint: str) -> None:
    # Given the template's stack in moto, and a fetcher that always fails
    name = f"async-failures-{next(_stacks)}"
    provision(aws_endpoint, name)
    spec = template_stack(aws_endpoint, name)
    refs = {logical_id: ref for logical_id, (_, ref) in stack_refs(aws_endpoint, name).items()}
    sqs = client("sqs", aws_endpoint)
    fetcher = FakeFunction(failures=99)

    # When the schedule fires once
    scheduler = run_once(fetcher, spec.async_invoke("FetcherFunction"), sqs_failure_sink(sqs, refs))
    messages: list[dict[str, Any]] = []
    for _ in range(10):  # up to 10 long polls of 1 s: the retries take ~0.2 s
        messages = sqs.receive_message(QueueUrl=refs["FetcherFailureQueue"], WaitTimeSeconds=1).get("Messages", [])
        if messages:
            break
    scheduler.stop()

    # Then Lambda's three attempts were made, and their record is in the failure queue
    assert len(fetcher.events) == 3
    (message,) = messages
    record = json.loads(message["Body"])
    assert set(record) == {
        "version",
        "timestamp",
        "requestContext",
        "requestPayload",
        "responseContext",
        "responsePayload",
    }
    assert record["version"] == "1.0"
    assert record["timestamp"].endswith("Z")
    assert record["requestContext"] == {
        "requestId": "req-3",
        "functionArn": f"{spec.functions['FetcherFunction'].arn}:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == fetcher.events[0]
    assert record["requestPayload"]["detail-type"] == "Scheduled Event"
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"] == ERROR


def test_a_run_a_retry_repairs_sends_no_record() -> None:
    fetcher = FakeFunction(failures=1)
    sink = Sink()
    config = AsyncInvokeSpec("FetcherFunction", "arn:fn", on_failure_queue="FetcherFailureQueue")

    scheduler = run_once(fetcher, config, sink)
    assert fetcher.succeeded.wait(timeout=5.0)  # a success ends the delivery: nothing is sent after it
    scheduler.stop()

    assert len(fetcher.events) == 2
    assert not sink.sent.is_set()
    assert sink.records == []


def test_an_event_too_old_for_its_next_retry_is_dropped_for_age_with_a_record() -> None:
    # Given a maximum event age of 150 s: the first retry (at ~60 s) is allowed, the second (at ~180 s) is not.
    # (A clock only 100 times faster, so a slow thread cannot age the event by the 90 s margin: 0.9 s.)
    fetcher = FakeFunction(failures=99)
    sink = Sink()
    config = AsyncInvokeSpec("FetcherFunction", "arn:fn", maximum_event_age=150, on_failure_queue="FetcherFailureQueue")

    scheduler = run_once(fetcher, config, sink, accelerate=100)
    assert sink.sent.wait(timeout=5.0)
    scheduler.stop()

    ((queue, record),) = sink.records
    assert queue == "FetcherFailureQueue"
    assert len(fetcher.events) == 2
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 2

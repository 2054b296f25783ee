"""The events the offline stack builds, held against the shapes AWS sends: the samples in events/ (which match
`sam local generate-event`). Keys and types must be equal all the way down; values may differ, except the
ones a handler routes on. By design the local gateway serves the `$default` stage: no `/prod` prefix.
"""

from __future__ import annotations

import http.client
import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from local.provision import StackResources, client
from local.stack.functions import Invocation
from local.stack.gateway import Gateway
from local.stack.logstream import LogStream
from local.stack.poller import QueuePoller
from local.stack.scheduler import scheduled_event
from local.stack.spec import QueueMappingSpec
from tests.support.events import EVENTS_DIR, load_event
from tests.support.waiting import wait_until
from tests.unit.test_local_template_reading import stack as read_template_stack

API_SAMPLES = sorted(p.stem for p in EVENTS_DIR.glob("api-*.json"))
# Added by API Gateway's edge, whatever the client sends.
EDGE_HEADERS = {"x-amzn-trace-id", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto", "content-length", "host"}


def shape(value: Any) -> Any:
    """Keys and types, recursively; a list's shape is its first item's."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def quiet_log() -> LogStream:
    return LogStream(io.StringIO(), color=False)


@pytest.fixture(scope="module")
def gateway() -> Iterator[tuple[Gateway, list[dict[str, Any]]]]:
    (api,) = read_template_stack().http_apis
    seen: list[dict[str, Any]] = []

    def record(function: str, event: dict[str, Any], request_id: str, wait: float) -> Invocation:
        seen.append(event)
        return Invocation(request_id, True, {"statusCode": 200, "body": "{}"})

    gw = Gateway(quiet_log(), host="127.0.0.1", port=0)
    gw.attach(api, record, function_timeouts={"ApiFunction": 10})
    gw.start()
    yield gw, seen
    gw.stop()


@pytest.mark.parametrize("name", API_SAMPLES)
def test_the_gateway_builds_the_http_api_event_aws_sends(
    name: str, gateway: tuple[Gateway, list[dict[str, Any]]]
) -> None:
    server, seen = gateway
    sample = load_event(name)
    # Given the request a client sent to produce the sample (what the edge added taken away)
    path = sample["rawPath"].removeprefix("/prod")
    target = path + (f"?{sample['rawQueryString']}" if sample["rawQueryString"] else "")
    headers = {k: v for k, v in sample["headers"].items() if k not in EDGE_HEADERS}
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.putrequest(sample["requestContext"]["http"]["method"], target, skip_accept_encoding=True)
    body = sample.get("body", "").encode()
    for key, value in headers.items():
        connection.putheader(key, value)
    if sample.get("cookies"):  # payload 2.0 lifts them out of the Cookie header
        connection.putheader("cookie", "; ".join(sample["cookies"]))
    if body or sample["requestContext"]["http"]["method"] == "POST":
        connection.putheader("content-length", str(len(body)))
    connection.endheaders(body or None)
    # When the gateway serves it
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 200
    event = seen[-1]
    # Then the event has the sample's shape, and the values a handler routes on
    assert shape(event) == shape(sample)
    assert event["routeKey"] == sample["routeKey"]
    assert event["rawPath"] == path
    assert event["requestContext"]["stage"] == "$default"
    for key in ("rawQueryString", "queryStringParameters", "pathParameters", "body", "isBase64Encoded", "cookies"):
        assert event.get(key) == sample.get(key), key
    assert {k: event["headers"][k] for k in headers} == {k.lower(): v for k, v in headers.items()}


def test_the_poller_builds_the_sqs_event_lambda_sends(stack: StackResources, aws_endpoint: str) -> None:
    sample = load_event("worker-sync")
    sqs = client("sqs", aws_endpoint)
    seen: list[dict[str, Any]] = []
    got = threading.Event()

    def record(event: dict[str, Any]) -> Invocation:
        seen.append(event)
        got.set()
        return Invocation("r", True, {"batchItemFailures": []})

    mapping = QueueMappingSpec("Map", "WorkerFunction", "FetchQueue", 5, 0.0, True, 1)
    log = io.StringIO()
    arn = "arn:aws:sqs:us-east-1:123456789012:" + stack.queue_url.rsplit("/", 1)[-1]
    poller = QueuePoller(
        mapping,
        queue_url=stack.queue_url,
        queue_arn=arn,
        fifo=False,
        sqs=sqs,
        invoke=record,
        log=LogStream(log, color=False),
        concurrency=1,
    )
    # Given a message in the fetch queue
    sqs.send_message(QueueUrl=stack.queue_url, MessageBody=sample["Records"][0]["body"])
    # When the poller picks it up
    poller.start()
    try:
        assert got.wait(10)
    finally:
        poller.stop()
    # Then the worker gets the record shape Lambda sends, and the message is deleted after success
    (record_,) = seen[0]["Records"]
    assert shape(seen[0]) == shape(sample)
    assert record_["body"] == sample["Records"][0]["body"]
    assert record_["eventSourceARN"] == arn
    assert record_["attributes"]["ApproximateReceiveCount"] == "1"
    wait_until(lambda: "deleted=1" in log.getvalue(), "the poller deletes the message it handled")


def test_the_schedule_builds_the_scheduled_event_eventbridge_sends() -> None:
    sample = json.loads(Path(EVENTS_DIR / "fetcher-scheduled.json").read_text())
    (spec,) = read_template_stack().schedules
    event = scheduled_event(spec, datetime.now(UTC))
    assert shape(event) == shape(sample)
    assert (event["source"], event["detail-type"]) == (sample["source"], sample["detail-type"])
    assert event["resources"][0].startswith(sample["resources"][0].rsplit("-", 1)[0])

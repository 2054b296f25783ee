"""The sample events in events/, shared by every test (and by `sam local invoke -e`)."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"


@cache
def _read(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return data


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of events/<name>.json, safe to modify."""
    return copy.deepcopy(_read(name))


def http_event(
    name: str, *, username: str | None = None, body: str | None = None, query: str | None = None
) -> dict[str, Any]:
    """An api sample event, re-aimed at another username, body or query string."""
    event = load_event(name)
    if username is not None:
        old = event["pathParameters"]["username"]
        event["pathParameters"]["username"] = username
        for holder, key in ((event, "rawPath"), (event["requestContext"]["http"], "path")):
            holder[key] = holder[key].replace(f"/{old}", f"/{username}", 1)
    if body is not None:
        event["body"] = body
        event["headers"]["content-length"] = str(len(body.encode()))
    if query is not None:
        event["rawQueryString"] = query
        event["queryStringParameters"] = dict(part.split("=", 1) for part in query.split("&")) if query else None
        if not query:
            event.pop("queryStringParameters")
    return event


def sqs_event(*bodies: str, receive_count: int = 1) -> dict[str, Any]:
    """The worker sample event with these bodies, one record each."""
    template = load_event("worker-sync")["Records"][0]
    records = []
    for index, body in enumerate(bodies):
        record = copy.deepcopy(template)
        record["messageId"] = f"{template['messageId'][:-7]}{index:07d}"
        record["receiptHandle"] = f"{template['receiptHandle']}-{index}"
        record["body"] = body
        record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
        records.append(record)
    return {"Records": records}


def sqs_event_from(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's poller builds from a ReceiveMessage response (AttributeNames=All)."""
    template = load_event("worker-sync")["Records"][0]
    records = []
    for message in messages:
        record = copy.deepcopy(template)
        record.update(
            messageId=message["MessageId"],
            receiptHandle=message["ReceiptHandle"],
            body=message["Body"],
            md5OfBody=message["MD5OfBody"],
            eventSourceARN=queue_arn,
        )
        record["attributes"].update(
            {k: v for k, v in message.get("Attributes", {}).items() if k in record["attributes"]}
        )
        records.append(record)
    return {"Records": records}

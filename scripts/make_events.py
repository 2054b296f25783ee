"""Write the sample events in events/: one per function and per route, bad requests included.

They have the shapes AWS delivers (and `sam local generate-event` produces): API Gateway HTTP API payload
format 2.0 on the deployed `prod` stage, SQS records, an EventBridge "Scheduled Event". Tests load them with
`tests.events.load_event(name)`; `sam local invoke -e events/<name>.json` takes them as they are.
Run again after changing this file: `python scripts/make_events.py`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent / "events"
ACCOUNT = "123456789012"
REGION = "us-east-1"
API_ID = "a1b2c3d4e5"
STAGE = "prod"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:random-likes-fetch"
TIME, EPOCH_MS = "28/Nov/2026:12:00:00 +0000", 1795867200000


def http(
    method: str,
    route: str,
    path: str,
    *,
    body: str | None = None,
    query: str = "",
    cookies: tuple[str, ...] = (),
    **params: str,
) -> dict[str, Any]:
    headers = {
        "accept": "application/json",
        "content-length": str(len(body or "")),
        "host": f"{API_ID}.execute-api.{REGION}.amazonaws.com",
        "user-agent": "curl/8.5.0",
        "x-amzn-trace-id": "Root=1-6748a3c0-0a1b2c3d4e5f60718293a4b5",
        "x-forwarded-for": "203.0.113.10",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    if body is not None:
        headers["content-type"] = "application/json"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": f"/{STAGE}{path}",
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "domainName": f"{API_ID}.execute-api.{REGION}.amazonaws.com",
            "domainPrefix": API_ID,
            "http": {
                "method": method,
                "path": f"/{STAGE}{path}",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "curl/8.5.0",
            },
            "requestId": "Cw1XJhyRoAMEPYw=",
            "routeKey": f"{method} {route}",
            "stage": STAGE,
            "time": TIME,
            "timeEpoch": EPOCH_MS,
        },
        "isBase64Encoded": False,
    }
    if cookies:  # payload 2.0 carries the request's cookies apart from its headers
        event["cookies"] = list(cookies)
    if query:
        event["queryStringParameters"] = dict(part.split("=", 1) for part in query.split("&"))
    if params:
        event["pathParameters"] = params
    if body is not None:
        event["body"] = body
    return event


def sqs(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"059f36b4-87a3-44ab-83d2-66197{index:07d}",
                "receiptHandle": f"AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a{index}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795867200000",
                    "SenderId": "AROAEXAMPLEROLEID:random-likes-FetcherFunction",
                    "ApproximateFirstReceiveTimestamp": "1795867200100",
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": QUEUE_ARN,
                "awsRegion": REGION,
            }
            for index, body in enumerate(bodies)
        ]
    }


# --- the import queue: S3's ObjectCreated notification (the body S3 sends to SQS), S3's test event, and the
# import function's own continuation. S3 URL-encodes the key in the notification.
IMPORT_QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:random-likes-import"
IMPORTS_BUCKET = "random-likes-imports-4f1c2a7e9b3d"
UPLOAD_KEY = "uploads/1001/xsimImportId0002.tar.gz"


def import_sqs(body: dict[str, Any], sender: str) -> dict[str, Any]:
    event = sqs(json.dumps(body))
    record = event["Records"][0]
    record["eventSourceARN"] = IMPORT_QUEUE_ARN
    record["attributes"]["SenderId"] = sender
    return event


S3_NOTIFICATION = {
    "Records": [
        {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": REGION,
            "eventTime": "2026-11-28T12:00:00.000Z",
            "eventName": "ObjectCreated:Post",
            "userIdentity": {"principalId": "AWS:AROAEXAMPLEROLEID:random-likes-ApiFunction"},
            "requestParameters": {"sourceIPAddress": "203.0.113.10"},
            "responseElements": {
                "x-amz-request-id": "C3D13FE58DE4C810",
                "x-amz-id-2": "xsim-example-s3-host-id",
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "archive-uploads",
                "bucket": {
                    "name": IMPORTS_BUCKET,
                    "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                    "arn": f"arn:aws:s3:::{IMPORTS_BUCKET}",
                },
                "object": {
                    "key": UPLOAD_KEY,
                    "size": 18342,
                    "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                    "sequencer": "0066F1A2B3C4D5E6F7",
                },
            },
        }
    ]
}
S3_TEST_EVENT = {
    "Service": "Amazon S3",
    "Event": "s3:TestEvent",
    "Time": "2026-11-28T11:59:00.000Z",
    "Bucket": IMPORTS_BUCKET,
    "RequestId": "5582815E1AEA5ADF",
    "HostId": "xsim-example-s3-host-id",
}
S3_SENDER = "AIDAEXAMPLES3SENDER"  # S3's own sender id in messages it sends to a queue
IMPORTER_EVENTS: dict[str, dict[str, Any]] = {
    "importer-upload": import_sqs(S3_NOTIFICATION, S3_SENDER),
    "importer-test-event": import_sqs(S3_TEST_EVENT, S3_SENDER),
    "importer-continue": import_sqs(
        {"import": {"subscriber": "1001", "id": "xsimImportId0002"}},
        "AROAEXAMPLEROLEID:random-likes-ImportFunction",
    ),
}


SUBS, ONE, RANDOM = "/api/subscriptions", "/api/subscriptions/{username}", "/api/subscriptions/{username}/likes/random"
# Obviously fake secrets: a session id, a pending login's state, its binding nonce and an authorization code.
SESSION = ("__Host-rl_session=fake-session-id",)
IMPORTS = "/api/subscriptions/{username}/imports"
IMPORT = "/api/subscriptions/{username}/imports/{id}"

EVENTS: dict[str, dict[str, Any]] = {
    "fetcher-scheduled": {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": "2026-11-28T12:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/random-likes-FetcherFunctionSchedule-1A2B3C4D5E6F"],
        "detail": {},
    },
    "worker-sync": sqs(json.dumps({"subscriber": "demo", "reason": "schedule", "action": "sync"})),
    "worker-batch": sqs(
        json.dumps({"subscriber": "demo", "reason": "schedule", "action": "sync"}),
        json.dumps({"subscriber": "bigfan", "reason": "subscribe", "action": "sync"}),
    ),
    "worker-purge": sqs(json.dumps({"subscriber": "demo", "reason": "unsubscribe", "action": "purge"})),
    "worker-malformed": sqs("this is not json"),
    "worker-bad-username": sqs(json.dumps({"subscriber": "<script>", "action": "sync"})),
    "api-subscribe": http("POST", SUBS, SUBS, body=json.dumps({"username": "demo"})),
    "api-subscribe-at-sign": http("POST", SUBS, SUBS, body=json.dumps({"username": "@Demo"})),
    "api-subscribe-too-long": http("POST", SUBS, SUBS, body=json.dumps({"username": "a" * 16})),
    "api-subscribe-illegal-chars": http("POST", SUBS, SUBS, body=json.dumps({"username": "demo-user!"})),
    "api-subscribe-empty-username": http("POST", SUBS, SUBS, body=json.dumps({"username": ""})),
    # Cyrillic a (U+0430) in place of the Latin one: looks like "admin", is not a username X allows.
    "api-subscribe-lookalike": http(
        "POST", SUBS, SUBS, body=json.dumps({"username": "\u0430dmin"}, ensure_ascii=False)
    ),
    "api-subscribe-fullwidth": http(
        "POST", SUBS, SUBS, body=json.dumps({"username": "\uff44\uff45\uff4d\uff4f"}, ensure_ascii=False)
    ),
    "api-subscribe-number": http("POST", SUBS, SUBS, body=json.dumps({"username": 12345})),
    "api-subscribe-missing-username": http("POST", SUBS, SUBS, body=json.dumps({"user": "demo"})),
    "api-subscribe-not-json": http("POST", SUBS, SUBS, body="username=demo"),
    "api-subscribe-array": http("POST", SUBS, SUBS, body='["demo"]'),
    "api-subscribe-no-body": http("POST", SUBS, SUBS),
    "api-subscribe-huge-body": http("POST", SUBS, SUBS, body=json.dumps({"username": "demo", "pad": "x" * 20000})),
    "api-get-subscription": http("GET", ONE, "/api/subscriptions/demo", username="demo"),
    "api-get-subscription-invalid": http("GET", ONE, "/api/subscriptions/not%20valid", username="not valid"),
    "api-delete-subscription": http("DELETE", ONE, "/api/subscriptions/demo", username="demo"),
    "api-random-like": http("GET", RANDOM, "/api/subscriptions/demo/likes/random", username="demo"),
    "api-random-like-deck": http(
        "GET", RANDOM, "/api/subscriptions/demo/likes/random", query="deck=8675309&draw=3", username="demo"
    ),
    "api-random-like-bad-deck": http(
        "GET", RANDOM, "/api/subscriptions/demo/likes/random", query="deck=abc&draw=1", username="demo"
    ),
    "api-random-like-invalid": http("GET", RANDOM, "/api/subscriptions/%D0%B0dmin/likes/random", username="\u0430dmin"),
    "api-openapi": http("GET", "/api/openapi.json", "/api/openapi.json"),
    "api-page": http("GET", "/", "/"),
    "api-asset": http("GET", "/assets/{name}", "/assets/app.js", name="app.js"),
    "api-asset-traversal": http("GET", "/assets/{name}", "/assets/..%2Fapi%2Fapp.py", name="../api/app.py"),
    "api-patch-subscription": http(
        "PATCH",
        ONE,
        "/api/subscriptions/demo",
        body=json.dumps({"visibility": "public"}),
        cookies=SESSION,
        username="demo",
    ),
    "api-me": http("GET", "/api/me", "/api/me", cookies=SESSION),
    "api-login": http("GET", "/auth/x/login", "/auth/x/login", query="next=/prod/"),
    "api-callback": http(
        "GET",
        "/auth/x/callback",
        "/auth/x/callback",
        query="state=fake-state&code=fake-code",
        cookies=("rl_login=fake-binding",),
    ),
    "api-callback-denied": http(
        "GET",
        "/auth/x/callback",
        "/auth/x/callback",
        query="error=access_denied&state=fake-state",
        cookies=("rl_login=fake-binding",),
    ),
    "api-logout": http("POST", "/auth/logout", "/auth/logout", cookies=SESSION),
    "api-start-import": http(
        "POST", IMPORTS, "/api/subscriptions/demo/imports", body="{}", cookies=SESSION, username="demo"
    ),
    "api-start-import-no-body": http(
        "POST", IMPORTS, "/api/subscriptions/demo/imports", cookies=SESSION, username="demo"
    ),
    "api-get-import": http(
        "GET",
        IMPORT,
        "/api/subscriptions/demo/imports/xsimImportId0001",
        cookies=SESSION,
        username="demo",
        id="xsimImportId0001",
    ),
    "api-get-import-invalid-id": http(
        "GET", IMPORT, "/api/subscriptions/demo/imports/not..an..id", cookies=SESSION, username="demo", id="not..an..id"
    ),
}


def main() -> None:
    ROOT.mkdir(exist_ok=True)
    for old in ROOT.glob("*.json"):
        old.unlink()
    for name, event in {**EVENTS, **IMPORTER_EVENTS}.items():
        (ROOT / f"{name}.json").write_text(json.dumps(event, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(EVENTS) + len(IMPORTER_EVENTS)} events to {ROOT}")


if __name__ == "__main__":
    main()

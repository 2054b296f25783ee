"""The api handler, invoked with the sample events of events/ against moto: the contract of DESIGN.md."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from api.app import handler
from local.context import LocalLambdaContext
from local.provision import StackResources
from local.xsim import XSim
from shared.models import Visibility
from shared.store import Stores
from tests.support.accounts import AWS, ApiClient
from tests.support.events import http_event, load_event
from tests.support.fake_x import make_post
from tests.support.stored import store_likes

Invoke = Callable[[dict[str, Any]], tuple[int, dict[str, str], Any]]


@pytest.fixture
def demo(stack: StackResources) -> str:
    """demo connected with X (through the simulator's consent form): its session id."""
    return ApiClient(handler, AWS).connect("demo")


@pytest.fixture
def invoke(stack: StackResources, demo: str) -> Invoke:
    """The api handler with the sample events, sent by demo's browser (its session cookie on every request)."""

    def call(event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        if event.get("cookies") != []:  # an empty list: this request is sent signed out
            others = [c for c in event.get("cookies", []) if not c.startswith("__Host-rl_session=")]
            event["cookies"] = [*others, f"__Host-rl_session={demo}"]
        response = handler(event, LocalLambdaContext("random-likes-ApiFunction", 10))
        headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        body = response.get("body") or ""
        parsed = json.loads(body) if headers.get("content-type", "").startswith("application/json") and body else body
        return response["statusCode"], headers, parsed

    return call


def subscribe_event(username: str) -> dict[str, Any]:
    return http_event("api-subscribe", body=json.dumps({"username": username}))


def queued(sqs: Any, stack: StackResources) -> list[dict[str, str]]:
    """Every message in this test's fetch queue (its own: nothing else sends there), each received once."""
    bodies: list[dict[str, str]] = []
    while messages := sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10).get("Messages"):
        bodies += [json.loads(m["Body"]) for m in messages]
    return bodies


def test_connecting_made_the_subscription_and_enqueued_its_first_sync_once(
    invoke: Invoke, sqs: Any, stack: StackResources, pipeline_x: XSim
) -> None:
    status, _, body = invoke(subscribe_event("DEMO"))

    assert status == 202
    assert body["created"] is False  # connecting created it
    assert body["username"] == "demo"
    assert body["status"] == "pending"
    assert body["visibility"] == "private"
    assert body["owner"] is True
    key = pipeline_x.user_id("demo")
    assert queued(sqs, stack) == [{"subscriber": key, "reason": "connect", "action": "sync"}]


def test_the_body_may_leave_the_username_out(invoke: Invoke) -> None:
    status, _, body = invoke(http_event("api-subscribe", body="{}"))
    assert (status, body["username"]) == (202, "demo")


def test_subscribing_another_account_is_403(invoke: Invoke, username: str) -> None:
    status, _, body = invoke(subscribe_event(username))
    assert status == 403
    assert body["error"]["code"] == "forbidden"


def test_the_sample_subscribe_event_works_as_sam_local_would_send_it(invoke: Invoke) -> None:
    status, _, body = invoke(load_event("api-subscribe"))
    assert status == 202
    assert body["username"].lower() == "demo"


def test_a_subscription_shows_its_status_and_count(invoke: Invoke, username: str, store: Stores) -> None:
    store_likes(store, username, [make_post(n) for n in range(3)], visibility=Visibility.PUBLIC)

    status, headers, body = invoke(http_event("api-get-subscription", username=username))

    assert status == 200
    assert body["like_count"] == 3
    assert body["status"] == "ready"
    assert body["visibility"] == "public"
    assert body["owner"] is False
    assert headers["cache-control"] == "no-store"


def test_an_unknown_subscription_is_404(invoke: Invoke, username: str) -> None:
    status, _, body = invoke(http_event("api-get-subscription", username=username))
    assert status == 404
    assert body["error"]["code"] == "not_subscribed"


def test_a_random_pick_returns_a_stored_post(invoke: Invoke, username: str, store: Stores) -> None:
    posts = [make_post(n) for n in range(5)]
    store_likes(store, username, posts, visibility=Visibility.PUBLIC)

    status, _, body = invoke(http_event("api-random-like", username=username))

    assert status == 200
    assert body["username"] == username
    assert body["like_count"] == 5
    assert body["post"]["id"] in {p.id for p in posts}
    assert body["post"]["url"].startswith("https://x.com/")


def test_a_deck_deals_every_stored_post_once(invoke: Invoke, username: str, store: Stores) -> None:
    posts = [make_post(n) for n in range(7)]
    store_likes(store, username, posts, visibility=Visibility.PUBLIC)

    dealt = [
        invoke(http_event("api-random-like-deck", username=username, query=f"deck=99&draw={d}"))[2]["post"]["id"]
        for d in range(7)
    ]

    assert sorted(dealt) == sorted(p.id for p in posts)


def test_a_pick_before_anything_is_stored_is_409_with_the_status(invoke: Invoke) -> None:
    status, _, body = invoke(http_event("api-random-like", username="demo"))

    assert status == 409
    assert body["error"]["status"] == "pending"


def test_a_pick_for_an_unknown_username_is_404(invoke: Invoke, username: str) -> None:
    status, _, _ = invoke(http_event("api-random-like", username=username))
    assert status == 404


def test_disconnecting_hides_the_subscription_ends_the_session_and_enqueues_the_purge(
    invoke: Invoke, sqs: Any, stack: StackResources, pipeline_x: XSim, demo: str
) -> None:
    key = pipeline_x.user_id("demo")
    queued(sqs, stack)  # the first sync, enqueued at connect

    status, _, body = invoke(http_event("api-delete-subscription", username="demo"))

    assert (status, body) == (204, "")
    assert invoke(http_event("api-get-subscription", username="demo"))[0] == 404
    assert invoke(http_event("api-random-like", username="demo"))[0] == 404
    assert invoke(subscribe_event("demo"))[0] == 401, "the session ended with the subscription"
    assert queued(sqs, stack) == [{"subscriber": key, "reason": "unsubscribe", "action": "purge"}]


def test_disconnecting_a_name_nobody_subscribed_is_404(invoke: Invoke, username: str) -> None:
    status, _, body = invoke(http_event("api-delete-subscription", username=username))
    assert (status, body["error"]["code"]) == (404, "not_subscribed")


BAD_REQUESTS = [
    ("api-subscribe-too-long", 400, "longer than 15"),
    ("api-subscribe-illegal-chars", 400, "only the letters"),
    ("api-subscribe-empty-username", 400, "empty"),
    ("api-subscribe-lookalike", 400, "only the letters"),
    ("api-subscribe-fullwidth", 400, "only the letters"),
    ("api-subscribe-number", 400, "must be a string"),
    ("api-subscribe-not-json", 400, "not valid JSON"),
    ("api-subscribe-array", 400, "JSON object"),
    ("api-subscribe-no-body", 400, "empty"),
    ("api-subscribe-huge-body", 413, "larger than"),
    ("api-get-subscription-invalid", 400, "only the letters"),
    ("api-random-like-invalid", 400, "only the letters"),
    ("api-random-like-bad-deck", 400, "whole numbers"),
    ("api-asset-traversal", 404, "no such file"),
]


@pytest.mark.parametrize(("event_name", "status", "message"), BAD_REQUESTS)
def test_bad_input_gets_a_4xx_json_error_with_a_message(
    invoke: Invoke, event_name: str, status: int, message: str
) -> None:
    got, headers, body = invoke(load_event(event_name))

    assert got == status
    assert headers["content-type"] == "application/json"
    assert set(body) == {"error"}
    assert message in body["error"]["message"]
    assert "Traceback" not in json.dumps(body)


@pytest.mark.parametrize(
    "body",
    ["{", "null", '"demo"', '{"username": null}', '{"username": ["demo"]}', "\x00", "[]" * 400, "\u00e9" * 600],
)
def test_a_body_of_any_shape_gets_a_4xx_with_a_message_never_a_5xx(invoke: Invoke, body: str) -> None:
    status, _, parsed = invoke(http_event("api-subscribe", body=body))
    assert 400 <= status < 500
    assert parsed["error"]["message"]


def test_a_base64_body_that_is_not_utf8_is_a_400(invoke: Invoke) -> None:
    event = http_event("api-subscribe", body="//79")  # the bytes ff fe fd
    event["isBase64Encoded"] = True

    status, _, body = invoke(event)

    assert status == 400
    assert "UTF-8" in body["error"]["message"]


def test_the_openapi_document_describes_every_route(invoke: Invoke) -> None:
    status, _, doc = invoke(load_event("api-openapi"))

    assert status == 200
    assert set(doc["paths"]) == {
        "/api/subscriptions",
        "/api/subscriptions/{username}",
        "/api/subscriptions/{username}/likes/random",
        "/api/subscriptions/{username}/imports",
        "/api/subscriptions/{username}/imports/{id}",
        "/api/me",
        "/api/openapi.json",
        "/auth/x/login",
        "/auth/x/callback",
        "/auth/logout",
    }


def test_the_page_is_served_with_a_strict_content_security_policy(invoke: Invoke) -> None:
    status, headers, body = invoke(load_event("api-page"))

    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "<html" in body


def test_page_files_are_revalidated_so_a_deploy_never_mixes_old_and_new(invoke: Invoke) -> None:
    status, headers, body = invoke(load_event("api-asset"))
    assert status == 200
    assert headers["cache-control"] == "no-cache"

    event = load_event("api-asset")
    event["headers"]["if-none-match"] = headers["etag"]
    again, again_headers, again_body = invoke(event)

    assert (again, again_body) == (304, "")
    assert again_headers["etag"] == headers["etag"]
    assert body


def test_every_answer_matches_the_published_openapi_document(invoke: Invoke, username: str, store: Stores) -> None:
    # Given the document the api serves, and a subscriber with likes
    _, _, document = invoke(load_event("api-openapi"))
    spec = OpenAPI.from_dict(document)
    store_likes(store, username, [make_post(n) for n in range(4)], visibility=Visibility.PUBLIC)
    signed_out = load_event("api-me")
    signed_out["cookies"] = []
    calls = [
        ("POST", "/api/subscriptions", http_event("api-subscribe", body=json.dumps({"username": "demo"}))),
        ("POST", "/api/subscriptions", load_event("api-subscribe-too-long")),
        ("POST", "/api/subscriptions", subscribe_event(username)),
        ("GET", f"/api/subscriptions/{username}", http_event("api-get-subscription", username=username)),
        ("GET", "/api/subscriptions/nobody_at_all", http_event("api-get-subscription", username="nobody_at_all")),
        ("GET", f"/api/subscriptions/{username}/likes/random", http_event("api-random-like", username=username)),
        ("GET", "/api/subscriptions/demo/likes/random", http_event("api-random-like", username="demo")),
        ("GET", "/api/me", load_event("api-me")),
        ("GET", "/api/me", signed_out),
        ("PATCH", "/api/subscriptions/demo", load_event("api-patch-subscription")),
        ("PATCH", "/api/subscriptions/demo", http_event("api-patch-subscription", body="{}")),
        ("DELETE", f"/api/subscriptions/{username}", http_event("api-delete-subscription", username=username)),
        ("DELETE", "/api/subscriptions/demo", http_event("api-delete-subscription", username="demo")),
    ]
    answered = []
    for method, path, event in calls:
        # When the api answers
        status, headers, body = invoke(event)
        # Then the answer is one the document allows for that operation and status (this raises if not)
        raw = b"" if status == 204 else json.dumps(body).encode()
        spec.validate_response(
            MockRequest("https://example.com", method.lower(), path, data=(event.get("body") or "").encode()),
            MockResponse(raw, status_code=status, content_type=headers.get("content-type", "application/json")),
        )
        answered.append(status)
    # ... and every kind of answer was among them: subscribed, refused, forbidden, found, unknown, picked,
    # nothing yet, signed in, signed out, shared, refused, not the owner's, deleted
    assert answered == [202, 400, 403, 200, 404, 200, 409, 200, 401, 200, 400, 403, 204]

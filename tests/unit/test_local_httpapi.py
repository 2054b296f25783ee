"""API Gateway HTTP API semantics as the local gateway applies them: route selection, the 2.0 event, the
mapping of a function's answer, CORS, and the token bucket behind throttling."""

from __future__ import annotations

import base64
import json

import pytest

from local.stack.httpapi import (
    BadFunctionResponse,
    IncomingRequest,
    Match,
    apply_cors,
    build_event,
    gateway_error,
    map_response,
    match_route,
    preflight,
)
from local.stack.spec import Cors, Route
from local.stack.throttle import TokenBucket

ROUTES = (
    Route("GET", "/", "Api"),
    Route("GET", "/api/subscriptions/{username}", "Api"),
    Route("DELETE", "/api/subscriptions/{username}", "Api"),
    Route("GET", "/api/subscriptions/{username}/likes/random", "Api"),
    Route("GET", "/api/subscriptions/me", "Me"),
    Route("ANY", "/files/{proxy+}", "Files"),
    Route("GET", "/files/{proxy+}", "FilesGet"),
)


# --- routes ---------------------------------------------------------------------------------------------


def test_a_literal_path_beats_a_variable_and_a_named_method_beats_any() -> None:
    me = match_route(ROUTES, "GET", "/api/subscriptions/me")
    assert me is not None
    assert me.route.function == "Me"
    files = match_route(ROUTES, "GET", "/files/a/b")
    assert files is not None
    assert files.route.function == "FilesGet"
    other = match_route(ROUTES, "PUT", "/files/a/b")
    assert other is not None
    assert other.route.function == "Files"


def test_path_parameters_are_url_decoded_and_greedy_ones_take_the_rest() -> None:
    found = match_route(ROUTES, "GET", "/api/subscriptions/not%20valid")
    assert found is not None
    assert found.path_parameters == {"username": "not valid"}
    greedy = match_route(ROUTES, "GET", "/files/a/b%2Fc")
    assert greedy is not None
    assert greedy.path_parameters == {"proxy": "a/b/c"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/"),  # the path exists, the method does not
        ("GET", "/api/subscriptions/"),  # a variable never matches an empty segment
        ("GET", "/api/subscriptions/demo/likes"),
        ("GET", "/files"),  # a greedy variable needs at least one segment
        ("GET", "/nope"),
    ],
)
def test_unmatched_requests_find_no_route(method: str, path: str) -> None:
    assert match_route(ROUTES, method, path) is None


def test_default_route_catches_what_nothing_else_matches() -> None:
    found = match_route((*ROUTES, Route("ANY", "$default", "Fallback")), "POST", "/nope")
    assert found is not None
    assert found.route.key == "$default"


def test_api_gateway_answers_unmatched_and_throttled_requests_itself() -> None:
    response = gateway_error(404, "abc")
    assert (response.status, json.loads(response.body)) == (404, {"message": "Not Found"})
    assert ("apigw-requestid", "abc") in response.headers
    assert json.loads(gateway_error(429, "x").body) == {"message": "Too Many Requests"}


# --- the event ------------------------------------------------------------------------------------------


def request(method: str = "GET", target: str = "/", body: bytes = b"", **headers: str) -> IncomingRequest:
    pairs = [("Host", "127.0.0.1:3000"), *((k.replace("_", "-"), v) for k, v in headers.items())]
    return IncomingRequest(method, target, pairs, body, "127.0.0.1", 3000)


def test_the_event_joins_repeated_headers_and_query_values_and_moves_cookies_to_their_own_list() -> None:
    incoming = IncomingRequest(
        "GET",
        "/api/subscriptions/demo?a=1&a=2&flag",
        [("Host", "h:1"), ("X-Thing", "1"), ("x-thing", "2"), ("Cookie", "a=1; b=2")],
        b"",
        "10.0.0.1",
        3000,
    )
    match = Match(ROUTES[1], {"username": "demo"})
    event = build_event(incoming, match, api_id="abcdefghij", request_id="r", now=0)
    assert event["headers"]["x-thing"] == "1,2"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["queryStringParameters"] == {"a": "1,2", "flag": ""}
    assert event["rawQueryString"] == "a=1&a=2&flag"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "GET /api/subscriptions/{username}"
    assert event["requestContext"]["stage"] == "$default"
    assert event["rawPath"] == event["requestContext"]["http"]["path"] == "/api/subscriptions/demo"
    assert event["headers"]["x-forwarded-for"] == "10.0.0.1"
    assert event["headers"]["content-length"] == "0"
    assert event["requestContext"]["time"] == "01/Jan/1970:00:00:00 +0000"


def test_a_json_body_arrives_as_text_and_a_binary_one_base64_encoded() -> None:
    match = Match(ROUTES[0])
    text = build_event(
        request("POST", "/", b'{"a": 1}', content_type="application/json"), match, api_id="a", request_id="r"
    )
    assert (text["body"], text["isBase64Encoded"]) == ('{"a": 1}', False)
    form = build_event(
        request("POST", "/", b"a=1", content_type="application/x-www-form-urlencoded"),
        match,
        api_id="a",
        request_id="r",
    )
    assert form["isBase64Encoded"] is True
    assert base64.b64decode(form["body"]) == b"a=1"
    empty = build_event(request(), match, api_id="a", request_id="r")
    assert "body" not in empty
    assert "queryStringParameters" not in empty
    assert "pathParameters" not in empty


# --- the answer -----------------------------------------------------------------------------------------


def test_a_full_answer_maps_status_headers_cookies_and_body() -> None:
    response = map_response(
        {
            "statusCode": 201,
            "headers": {"X-A": "1", "Content-Type": "text/plain"},
            "cookies": ["a=1", "b=2"],
            "body": "hi",
        }
    )
    assert response.status == 201
    assert ("x-a", "1") in response.headers
    assert [v for k, v in response.headers if k == "set-cookie"] == ["a=1", "b=2"]
    assert response.body == b"hi"


def test_a_base64_body_is_decoded() -> None:
    body = base64.b64encode(b"\x89PNG").decode()
    assert map_response({"statusCode": 200, "body": body, "isBase64Encoded": True}).body == b"\x89PNG"


def test_an_answer_without_status_is_inferred_as_json_200() -> None:
    response = map_response({"hello": "world"})
    assert (response.status, json.loads(response.body)) == (200, {"hello": "world"})
    assert ("content-type", "application/json") in response.headers


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"statusCode": "200"}, "statusCode must be an integer HTTP status, got '200'"),
        ({"statusCode": 99}, "statusCode must be an integer HTTP status, got 99"),
        ({"statusCode": 200, "body": {"not": "a string"}}, "body must be a string"),
        ({"statusCode": 200, "cookies": "a=1"}, "cookies must be a list of strings"),
        ({"statusCode": 200, "body": "%%%", "isBase64Encoded": True}, "the body is not base64"),
    ],
)
def test_a_malformed_answer_is_refused_with_the_reason(answer: dict[str, object], reason: str) -> None:
    with pytest.raises(BadFunctionResponse) as refused:
        map_response(answer)

    assert reason in str(refused.value)


# --- CORS -----------------------------------------------------------------------------------------------

CORS = Cors(
    allow_origins=("https://a.example",), allow_methods=("GET", "POST"), allow_headers=("content-type",), max_age=600
)


def test_a_preflight_from_an_allowed_origin_gets_the_cors_headers() -> None:
    answer = preflight(CORS, {"origin": "https://a.example", "access-control-request-method": "POST"}, "r")
    headers = dict(answer.headers)
    assert answer.status == 204
    assert headers["access-control-allow-origin"] == "https://a.example"
    assert headers["access-control-allow-methods"] == "GET,POST"
    assert headers["access-control-max-age"] == "600"


def test_a_preflight_from_another_origin_gets_none() -> None:
    answer = preflight(CORS, {"origin": "https://evil.example", "access-control-request-method": "POST"}, "r")
    assert not any(k.startswith("access-control-") for k, _ in answer.headers)


def test_the_functions_own_cors_headers_are_replaced_by_the_gateways() -> None:
    response = map_response({"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "*"}})
    allowed = dict(apply_cors(CORS, "https://a.example", response).headers)
    assert allowed["access-control-allow-origin"] == "https://a.example"
    refused = dict(apply_cors(CORS, "https://evil.example", response).headers)
    assert "access-control-allow-origin" not in refused


# --- throttling -----------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_allows_a_burst_then_the_steady_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2, burst=3, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now = 0.5  # half a second at 2/s: one token back
    assert [bucket.take() for _ in range(2)] == [True, False]
    clock.now = 100  # refills only up to the burst
    assert sum(bucket.take() for _ in range(10)) == 3

"""The local gateway over real HTTP: API Gateway's own answers (404, 429, 500, 503), keep-alive, CORS when the
template configures it, and the one local addition, images passed through from the simulated X API."""

from __future__ import annotations

import http.client
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.stack.functions import Invocation, Throttled
from local.stack.gateway import Gateway
from local.stack.logstream import LogStream
from local.stack.spec import Cors, HttpApiSpec, Route, Throttle
from local.xsim import XSim, XSimConfig

Answer = Callable[[dict[str, Any]], Invocation]
ROUTES = (Route("GET", "/hello/{name}", "Fn"), Route("POST", "/echo", "Fn"))


def api(**overrides: Any) -> HttpApiSpec:
    fields: dict[str, Any] = {
        "logical_id": "Api",
        "api_id": "abcdefghij",
        "stage": "prod",
        "routes": ROUTES,
        "cors": None,
        "default_throttle": None,
    }
    fields.update(overrides)
    return HttpApiSpec(**fields)


@pytest.fixture
def serve() -> Iterator[Callable[..., Gateway]]:
    started: list[Gateway] = []

    def start(answer: Answer, spec: HttpApiSpec | None = None, media_origin: str | None = None) -> Gateway:
        def invoke(function: str, event: dict[str, Any], request_id: str, wait: float) -> Invocation:
            return answer(event)

        gateway = Gateway(LogStream(io.StringIO(), color=False), host="127.0.0.1", port=0)
        gateway.attach(spec or api(), invoke, function_timeouts={"Fn": 10}, media_origin=media_origin)
        gateway.start()
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


def ok(body: dict[str, Any]) -> Answer:
    return lambda event: Invocation("r", True, {"statusCode": 200, "body": json.dumps(body)})


def call(
    gateway: Gateway, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=5)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_an_unknown_route_gets_api_gateways_not_found(serve: Callable[..., Gateway]) -> None:
    gateway = serve(ok({}))
    status, headers, body = call(gateway, "GET", "/nope")
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})
    assert headers["apigw-requestid"]
    assert call(gateway, "DELETE", "/hello/x")[0] == 404  # a known path with another method


def test_the_function_answers_matched_routes_over_one_kept_alive_connection(serve: Callable[..., Gateway]) -> None:
    gateway = serve(lambda event: Invocation("r", True, {"statusCode": 200, "body": event["pathParameters"]["name"]}))
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=5)
    try:
        answers = []
        for name in ("ada", "bob"):
            connection.request("GET", f"/hello/{name}")
            response = connection.getresponse()
            answers.append(response.read())
            sock = connection.sock
            assert sock is not None  # still open: HTTP/1.1 keep-alive
        assert answers == [b"ada", b"bob"]
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("invocation", "status", "message"),
    [
        (
            Invocation("r", False, error={"errorType": "ValueError", "errorMessage": "boom"}),
            500,
            "Internal Server Error",
        ),
        (Invocation("r", False, timed_out=True), 500, "Internal Server Error"),
        (Invocation("r", True, {"statusCode": "two hundred"}), 500, "Internal Server Error"),
    ],
)
def test_a_failing_function_gets_api_gateways_error_answer(
    serve: Callable[..., Gateway], invocation: Invocation, status: int, message: str
) -> None:
    gateway = serve(lambda event: invocation)
    code, _, body = call(gateway, "GET", "/hello/x")
    assert (code, json.loads(body)) == (status, {"message": message})


def test_no_free_environment_in_time_is_service_unavailable(serve: Callable[..., Gateway]) -> None:
    def busy(event: dict[str, Any]) -> Invocation:
        raise Throttled("all environments are busy")

    code, _, body = call(serve(busy), "GET", "/hello/x")
    assert (code, json.loads(body)) == (503, {"message": "Service Unavailable"})


def test_throttling_lets_a_burst_through_then_answers_429(serve: Callable[..., Gateway]) -> None:
    gateway = serve(ok({}), api(default_throttle=Throttle(rate=0.001, burst=2)))
    statuses = [call(gateway, "GET", "/hello/x")[0] for _ in range(3)]
    assert statuses == [200, 200, 429]
    status, _, body = call(gateway, "GET", "/hello/x")
    assert (status, json.loads(body)) == (429, {"message": "Too Many Requests"})


def test_the_request_body_reaches_the_function_and_chunked_bodies_are_read(serve: Callable[..., Gateway]) -> None:
    gateway = serve(lambda event: Invocation("r", True, {"statusCode": 200, "body": event.get("body", "")}))
    assert call(gateway, "POST", "/echo", {"content-type": "application/json"}, b'{"a":1}')[2] == b'{"a":1}'
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=5)
    connection.request(
        "POST", "/echo", body=iter([b'{"a"', b":2}"]), headers={"content-type": "application/json"}, encode_chunked=True
    )
    assert connection.getresponse().read() == b'{"a":2}'
    connection.close()


def test_with_cors_configured_the_gateway_answers_preflights_and_sets_the_headers(
    serve: Callable[..., Gateway],
) -> None:
    cors = Cors(
        allow_origins=("https://a.example",), allow_methods=("GET",), allow_headers=("content-type",), max_age=60
    )
    gateway = serve(ok({}), api(cors=cors))
    status, headers, _ = call(
        gateway, "OPTIONS", "/hello/x", {"Origin": "https://a.example", "Access-Control-Request-Method": "GET"}
    )
    assert status == 204
    assert headers["access-control-allow-origin"] == "https://a.example"
    status, headers, _ = call(gateway, "GET", "/hello/x", {"Origin": "https://a.example"})
    assert (status, headers["access-control-allow-origin"]) == (200, "https://a.example")
    assert "access-control-allow-origin" not in call(gateway, "GET", "/hello/x", {"Origin": "https://b.example"})[1]


def test_without_cors_a_preflight_is_just_an_unmatched_route(serve: Callable[..., Gateway]) -> None:
    gateway = serve(ok({}))
    status, _, _ = call(
        gateway, "OPTIONS", "/hello/x", {"Origin": "https://a.example", "Access-Control-Request-Method": "GET"}
    )
    assert status == 404


def test_images_of_the_simulated_x_api_come_through_the_gateways_origin(serve: Callable[..., Gateway]) -> None:
    with XSim(XSimConfig()) as simulator:
        state = simulator.state()
        demo = next(a for a in state["accounts"] if a["username"] == "demo")
        gateway = serve(ok({}), media_origin=simulator.base_url)
        status, headers, body = call(gateway, "GET", f"/x-media/profile_images/{demo['id']}/demo_normal.svg")
        assert status == 200, body
        assert headers["content-type"] == "image/svg+xml"
        assert body.startswith(b"<svg")
        assert call(gateway, "GET", "/x-media/profile_images/0/nobody_normal.svg")[0] == 404


def test_the_access_log_never_shows_a_query_string() -> None:
    # Given a gateway in front of the app's OAuth callback route, its access log kept
    routes = (Route("GET", "/auth/x/callback", "Fn"), Route("GET", "/hello/{name}", "Fn"))
    out = io.StringIO()
    gateway = Gateway(LogStream(out, color=False), host="127.0.0.1", port=0)
    gateway.attach(api(routes=routes), lambda *_: ok({})({}), function_timeouts={"Fn": 10})
    gateway.start()
    try:
        # When X sends the browser back with a code and a state, and another route gets a query too
        assert call(gateway, "GET", "/auth/x/callback?state=stateNotForLogs&code=codeNotForLogs")[0] == 200
        assert call(gateway, "GET", "/hello/x?deck=queryNotForLogs")[0] == 200
    finally:
        gateway.stop()

    # Then each request has its access line, by path, and no line holds anything of a query string
    log = out.getvalue()
    assert "GET /auth/x/callback 200" in log
    assert "GET /hello/x 200" in log
    for secret in ("stateNotForLogs", "codeNotForLogs", "queryNotForLogs", "?"):
        assert secret not in log, log

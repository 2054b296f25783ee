"""The HTTP API gateway on loopback: HTTP/1.1 with keep-alive in front of the api function.

Each request goes through what API Gateway does (`httpapi.py`): CORS preflight when CORS is configured, route
selection (unmatched: 404 `{"message":"Not Found"}`), throttling per route (429), the payload format 2.0
event, a synchronous invocation, and the mapping of the answer (a function error or timeout: 500; no answer
within the integration timeout: 503). The stack serves the `$default` stage, so paths have no stage prefix.

The access log (one line per request) shows the path without its query string, which may hold a secret.

One addition that API Gateway does not have: `/x-media/...` is passed through to the simulated X API's
avatars and media, so the page loads every image from its own origin.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from local.stack.functions import Invocation, Throttled
from local.stack.httpapi import (
    BadFunctionResponse,
    HttpResponse,
    IncomingRequest,
    apply_cors,
    build_event,
    gateway_error,
    is_preflight,
    map_response,
    match_route,
    new_request_id,
    preflight,
)
from local.stack.logstream import LogStream
from local.stack.spec import HttpApiSpec
from local.stack.throttle import TokenBucket

INTEGRATION_TIMEOUT = 30.0  # seconds: an HTTP API's maximum (and default) integration timeout
MAX_BODY = 10 * 1024 * 1024  # an HTTP API's payload limit
MEDIA_PREFIX = "/x-media/"

Invoke = Callable[[str, dict[str, Any], str, float], Invocation]  # (function, event, request id, wait)


class Gateway:
    """Binds at once (so the port is known early), serves once `attach` has given it the API to serve."""

    def __init__(self, log: LogStream, *, host: str, port: int) -> None:
        self.log = log
        self.api: HttpApiSpec | None = None
        self._invoke: Invoke | None = None
        self._media_origin: str | None = None
        self._timeouts: dict[str, int] = {}
        self._buckets: dict[str, TokenBucket] = {}
        # Only for functions whose Timeout outlasts the integration timeout: the gateway stops waiting first.
        self._slow = ThreadPoolExecutor(max_workers=8, thread_name_prefix="slow-integration")
        self._server = _Server((host, port), _handler(self))
        self._thread: threading.Thread | None = None

    def attach(
        self, api: HttpApiSpec, invoke: Invoke, *, function_timeouts: dict[str, int], media_origin: str | None = None
    ) -> None:
        self.api = api
        self._invoke = invoke
        self._timeouts = dict(function_timeouts)
        self._media_origin = media_origin
        for route in api.routes:
            throttle = api.route_throttles.get(route.key) or api.default_throttle
            if throttle is not None:
                self._buckets[route.key] = TokenBucket(throttle.rate, throttle.burst)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        if self.api is None:
            raise RuntimeError("attach() the API before start()")
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True, name="gateway")
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
        self._server.server_close()
        self._slow.shutdown(wait=False, cancel_futures=True)

    # --- one request --------------------------------------------------------------------------------------

    def handle(self, request: IncomingRequest) -> tuple[HttpResponse, str | None]:
        """The response for `request`, and the Lambda request id if a function was invoked."""
        request_id = new_request_id()
        headers = {k.lower(): v for k, v in request.headers}
        if self.api is None:
            return gateway_error(503, request_id), None
        cors = self.api.cors
        if cors is not None and is_preflight(request.method, headers):
            return preflight(cors, headers, request_id), None
        match = match_route(self.api.routes, request.method, request.raw_path)
        if match is None:
            return gateway_error(404, request_id), None
        bucket = self._buckets.get(match.route.key)
        if bucket is not None and not bucket.take():
            return gateway_error(429, request_id), None
        event = build_event(request, match, api_id=self.api.api_id, request_id=request_id)
        lambda_request = str(uuid.uuid4())
        response = self._call(match.route.function, event, lambda_request, request_id)
        if cors is not None:
            response = apply_cors(cors, headers.get("origin"), response)
        return response, lambda_request

    def _call(self, function: str, event: dict[str, Any], lambda_request: str, request_id: str) -> HttpResponse:
        if self._invoke is None:
            return gateway_error(503, request_id)
        try:
            if self._timeouts.get(function, 0) > INTEGRATION_TIMEOUT:
                future = self._slow.submit(self._invoke, function, event, lambda_request, INTEGRATION_TIMEOUT)
                invocation = future.result(timeout=INTEGRATION_TIMEOUT)
            else:
                invocation = self._invoke(function, event, lambda_request, INTEGRATION_TIMEOUT)
        except (Throttled, FutureTimeout):
            return gateway_error(503, request_id)
        if not invocation.ok:
            return gateway_error(500, request_id)
        try:
            mapped = map_response(invocation.result)
        except BadFunctionResponse as exc:
            self.log.event("gateway", f"malformed function response: {exc}", request_id=lambda_request, level="ERROR")
            return gateway_error(500, request_id)
        return HttpResponse(mapped.status, (*mapped.headers, ("apigw-requestid", request_id)), mapped.body)

    def media(self, method: str, target: str) -> HttpResponse | None:
        """`GET /x-media/<path>` -> the simulator's `/<path>`; None for anything else."""
        if self._media_origin is None or method != "GET" or not target.startswith(MEDIA_PREFIX):
            return None
        path = target.split("?", 1)[0]
        origin = urlsplit(self._media_origin)
        connection = http.client.HTTPConnection(origin.hostname or "127.0.0.1", origin.port or 80, timeout=10)
        try:
            connection.request("GET", "/" + path[len(MEDIA_PREFIX) :])
            upstream = connection.getresponse()
            body = upstream.read()
            kept = ("content-type", "cache-control", "content-security-policy", "x-content-type-options")
            headers = tuple((k.lower(), v) for k, v in upstream.getheaders() if k.lower() in kept)
            return HttpResponse(upstream.status, headers, body)
        except OSError:
            return HttpResponse(502, (("content-type", "text/plain"),), b"the simulated X API is not answering")
        finally:
            connection.close()


def access_log_path(target: str) -> str:
    """What the access log shows of a request target: the path, never the query string.

    A query can carry secrets (the OAuth callback's `code` and `state`) and nothing an operator needs from an
    access line; on AWS the access log (template.yaml, AccessLogSettings) names the route key, no query either.
    """
    return target.split("?", 1)[0].split("#", 1)[0]


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # idle keep-alive connections must not hold up a stop
    block_on_close = False
    allow_reuse_address = True


def _handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes; no 40 ms Nagle stalls

        def version_string(self) -> str:
            return "local-apigw"

        def do_GET(self) -> None:
            self._serve()

        do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_GET

        def _serve(self) -> None:
            started = time.monotonic()
            body = self._body()
            if body is None:
                response, lambda_request = gateway_error(413, new_request_id()), None
                self.close_connection = True
            elif (media := gateway.media(self.command, self.path)) is not None:
                response, lambda_request = media, None
            else:
                request = IncomingRequest(
                    method=self.command,
                    target=self.path,
                    headers=list(self.headers.items()),
                    body=body,
                    source_ip=self.client_address[0],
                    port=gateway.port,
                    protocol=self.request_version,
                )
                response, lambda_request = gateway.handle(request)
            self._write(response)
            if not self.path.startswith(MEDIA_PREFIX):
                gateway.log.event(
                    "gateway",
                    f"{self.command} {access_log_path(self.path)} {response.status} "
                    f"{(time.monotonic() - started) * 1000:.0f} ms",
                    request_id=lambda_request,
                    level="INFO" if response.status < 500 else "WARNING",
                )

        def _body(self) -> bytes | None:
            if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
                chunks: list[bytes] = []
                size = 0
                while True:
                    length = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                    if length == 0:
                        while self.rfile.readline().strip():  # trailers
                            pass
                        return b"".join(chunks)
                    size += length
                    if size > MAX_BODY:
                        return None
                    chunks.append(self.rfile.read(length))
                    self.rfile.readline()
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                return None
            return self.rfile.read(length) if length else b""

        def _write(self, response: HttpResponse) -> None:
            self.send_response_only(response.status)
            names = set()
            for name, value in response.headers:
                names.add(name)
                self.send_header(name, value)
            if "date" not in names:
                self.send_header("date", formatdate(usegmt=True))
            self.send_header("content-length", str(len(response.body)))
            if self.close_connection:
                self.send_header("connection", "close")
            self.end_headers()
            if self.command != "HEAD" and response.body:
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the gateway logs one line per request itself

        def handle(self) -> None:
            with contextlib.suppress(ConnectionError, socket.timeout):
                super().handle()

    return Handler

"""API Gateway HTTP API semantics, without the sockets: route selection, the payload format 2.0 event, the
mapping of a function's answer to an HTTP response, CORS, and API Gateway's own error answers.

The gateway (`gateway.py`) does the I/O; everything here is a pure function a test can hold against what
AWS documents and against the sample events in events/.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from local.stack.spec import Cors, Route

# HTTP APIs pass these bodies as text; anything else arrives base64-encoded with isBase64Encoded (form posts too).
_TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml")
_TEXT_SUFFIXES = ("+json", "+xml")


class BadFunctionResponse(ValueError):
    """The function answered something API Gateway cannot turn into a response: the client gets a 500."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


def gateway_error(status: int, request_id: str, extra: Iterable[tuple[str, str]] = ()) -> HttpResponse:
    """API Gateway's own answers: `{"message": "Not Found"}` and friends, as JSON."""
    messages = {
        404: "Not Found",
        413: "Request Entity Too Large",
        429: "Too Many Requests",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }
    body = json.dumps({"message": messages[status]}, separators=(",", ":")).encode()
    headers = (("content-type", "application/json"), ("apigw-requestid", request_id), *extra)
    return HttpResponse(status, headers, body)


def new_request_id() -> str:
    """API Gateway's requestId shape: 16 characters of base64, e.g. "Cw1XJhyRoAMEPYw="."""
    return base64.b64encode(secrets.token_bytes(11)).decode()


# --- routes ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    route: Route
    path_parameters: Mapping[str, str] = field(default_factory=dict)


def _segments(path: str) -> list[str]:
    return path.split("/")[1:] if path.startswith("/") else path.split("/")


def _match_path(pattern: str, path: str) -> dict[str, str] | None:
    wanted, given = _segments(pattern), _segments(path)
    params: dict[str, str] = {}
    for index, part in enumerate(wanted):
        if part.startswith("{") and part.endswith("+}"):  # greedy: the rest, one segment at least
            rest = given[index:]
            if not rest or rest == [""]:
                return None
            params[part[1:-2]] = unquote("/".join(rest))
            return params
        if index >= len(given):
            return None
        if part.startswith("{") and part.endswith("}"):
            if not given[index]:
                return None
            params[part[1:-1]] = unquote(given[index])
        elif part != given[index]:
            return None
    return params if len(wanted) == len(given) else None


def match_route(routes: Sequence[Route], method: str, path: str) -> Match | None:
    """The route API Gateway picks: the most specific path (literal segments beat variables, variables beat a
    greedy variable), then a named method over ANY; `$default` when nothing else matches."""
    best: tuple[tuple[int, int, int, int], Match] | None = None
    default: Route | None = None
    for route in routes:
        if route.path == "$default":
            default = route
            continue
        if route.method not in (method, "ANY"):
            continue
        params = _match_path(route.path, path)
        if params is None:
            continue
        parts = _segments(route.path)
        greedy = any(p.endswith("+}") for p in parts)
        literal = sum(1 for p in parts if not p.startswith("{"))
        score = (0 if greedy else 1, literal, len(parts), 1 if route.method == method else 0)
        if best is None or score > best[0]:
            best = (score, Match(route, params))
    if best is not None:
        return best[1]
    return Match(default) if default is not None else None


# --- the event ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    target: str  # path and query as sent: "/api/subscriptions/demo?deck=1"
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str
    port: int
    protocol: str = "HTTP/1.1"

    @property
    def raw_path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def raw_query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""


def is_text(content_type: str | None) -> bool:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind.startswith(_TEXT_TYPES) or kind.endswith(_TEXT_SUFFIXES)


def build_event(
    request: IncomingRequest,
    match: Match,
    *,
    api_id: str,
    request_id: str,
    stage: str = "$default",
    now: float | None = None,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway sends for `request` (shape as events/api-*.json)."""
    moment = time.time() if now is None else now
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    # API Gateway's edge adds these (and a content-length, "0" for a GET), whatever the client sent.
    headers.setdefault("content-length", str(len(request.body)))
    headers["x-amzn-trace-id"] = f"Root=1-{int(moment):08x}-{secrets.token_hex(12)}"
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip
    headers["x-forwarded-port"] = str(request.port)
    headers["x-forwarded-proto"] = "http"
    host = headers.get("host", f"127.0.0.1:{request.port}")
    domain = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    raw_path = request.raw_path if stage == "$default" else f"/{stage}{request.raw_path}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.key,
        "rawPath": raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if request.raw_query:
        params: dict[str, str] = {}
        for key, value in parse_qsl(request.raw_query, keep_blank_values=True):
            params[key] = f"{params[key]},{value}" if key in params else value
        event["queryStringParameters"] = params
    event["requestContext"] = {
        "accountId": "123456789012",
        "apiId": api_id,
        "domainName": domain,
        "domainPrefix": domain.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": match.route.key,
        "stage": stage,
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(moment)),
        "timeEpoch": int(moment * 1000),
    }
    event["isBase64Encoded"] = False
    if match.path_parameters:
        event["pathParameters"] = dict(match.path_parameters)
    if request.body:
        if is_text(headers.get("content-type")):
            try:
                event["body"] = request.body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(request.body).decode()
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(request.body).decode()
            event["isBase64Encoded"] = True
    return event


# --- the answer -----------------------------------------------------------------------------------------


def map_response(result: Any) -> HttpResponse:
    """A function's answer as API Gateway turns it into HTTP (payload format 2.0).

    With a `statusCode`: status, headers, cookies (one set-cookie each) and body, base64-decoded if it says so.
    Without one, API Gateway infers: 200, application/json, the answer itself as the JSON body.
    """
    if not (isinstance(result, dict) and "statusCode" in result):
        return HttpResponse(200, (("content-type", "application/json"),), json.dumps(result).encode())
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise BadFunctionResponse(f"statusCode must be an integer HTTP status, got {status!r}")
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        if not isinstance(value, str | int | float | bool):
            raise BadFunctionResponse(f"header {name} must be a string")
        headers.append((str(name).lower(), str(value).lower() if isinstance(value, bool) else str(value)))
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise BadFunctionResponse("cookies must be a list of strings")
    headers.extend(("set-cookie", cookie) for cookie in cookies)
    body = result.get("body")
    if body is None:
        payload = b""
    elif not isinstance(body, str):
        raise BadFunctionResponse("body must be a string")
    elif result.get("isBase64Encoded"):
        try:
            payload = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadFunctionResponse("isBase64Encoded is true but the body is not base64") from None
    else:
        payload = body.encode("utf-8")
    return HttpResponse(status, tuple(headers), payload)


# --- CORS -----------------------------------------------------------------------------------------------


def _allowed_origin(cors: Cors, origin: str | None) -> str | None:
    if not origin:
        return None
    if origin in cors.allow_origins:
        return origin
    if "*" in cors.allow_origins:
        return origin if cors.allow_credentials else "*"
    return None


def preflight(cors: Cors, headers: Mapping[str, str], request_id: str) -> HttpResponse:
    """API Gateway answers an OPTIONS preflight itself when CORS is configured (no route needed): 204, with the
    CORS headers only if the origin and method are allowed."""
    out: list[tuple[str, str]] = [("apigw-requestid", request_id)]
    origin = _allowed_origin(cors, headers.get("origin"))
    method = (headers.get("access-control-request-method") or "").upper()
    if origin and (method in cors.allow_methods or "*" in cors.allow_methods):
        out.append(("access-control-allow-origin", origin))
        out.append(("access-control-allow-methods", ",".join(cors.allow_methods)))
        if cors.allow_headers:
            out.append(("access-control-allow-headers", ",".join(cors.allow_headers)))
        if cors.max_age is not None:
            out.append(("access-control-max-age", str(cors.max_age)))
        if cors.allow_credentials:
            out.append(("access-control-allow-credentials", "true"))
    return HttpResponse(204, tuple(out))


def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
    return method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers


def apply_cors(cors: Cors, origin: str | None, response: HttpResponse) -> HttpResponse:
    """With CORS configured, API Gateway ignores the function's CORS headers and sets its own."""
    kept = tuple((k, v) for k, v in response.headers if not k.startswith("access-control-"))
    allowed = _allowed_origin(cors, origin)
    if allowed is None:
        return HttpResponse(response.status, kept, response.body)
    added = [("access-control-allow-origin", allowed)]
    if cors.expose_headers:
        added.append(("access-control-expose-headers", ",".join(cors.expose_headers)))
    if cors.allow_credentials:
        added.append(("access-control-allow-credentials", "true"))
    return HttpResponse(response.status, (*kept, *added), response.body)

"""The HTTP API: subscriptions, random picks, the OpenAPI document and the page. It never calls X.

Routes parse and validate, call one domain function and shape the response; domain errors become HTTP
statuses in one place (`_domain_error`), and nothing a client sends can turn into a 5xx or a stack trace.
"""

from __future__ import annotations

import binascii
import json
from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from api import web
from shared.deck import MAX_DECK
from shared.errors import (
    BeingDeleted,
    DomainError,
    InvalidRequest,
    InvalidUsername,
    NothingStoredYet,
    NotSubscribed,
)
from shared.models import normalize_username
from shared.pick import Draw, Picker
from shared.runtime import Runtime, load_runtime, observability
from shared.subscriptions import subscribe, subscription, unsubscribe

MAX_BODY_BYTES = 1024  # {"username": "..."} fits in far less
JSON = "application/json"
NO_STORE = {"Cache-Control": "no-store"}

# No Powertools Tracer here: importing the X-Ray SDK costs ~0.4 s of every cold start, and a pick is two
# GetItems; the function's own segment still comes from `Tracing: Active`.
logger, metrics = observability("api")
app = APIGatewayHttpResolver()


@cache
def runtime() -> Runtime:
    """Built on the first invocation of a cold start (not at import), then kept while the container is warm."""
    return load_runtime(logger)


@cache
def picker() -> Picker:
    rt = runtime()
    return Picker(rt.likes, cache_seconds=rt.settings.pick_count_cache_seconds)


# --- routes ------------------------------------------------------------------------------------------------


@app.post("/api/subscriptions")
def post_subscription() -> Response[str]:
    body = _json_body()
    if "username" not in body:
        raise InvalidRequest('the body must be a JSON object with a "username"')
    rt = runtime()
    lease = timedelta(seconds=rt.settings.lease_seconds)
    sub, created = subscribe(body["username"], store=rt.subscribers, queue=rt.queue, clock=rt.clock, lease=lease)
    metrics.add_metric(name="Subscriptions" if created else "Resubscriptions", unit=MetricUnit.Count, value=1)
    return _json(202, {**sub.public_json(), "created": created})


@app.get("/api/subscriptions/<username>")
def get_subscription(username: str) -> Response[str]:
    sub = subscription(username, store=runtime().subscribers)
    return _json(200, sub.public_json())


@app.delete("/api/subscriptions/<username>")
def delete_subscription(username: str) -> Response[str]:
    rt = runtime()
    unsubscribe(username, store=rt.subscribers, queue=rt.queue)
    return Response(status_code=204, content_type=JSON, body="", headers=NO_STORE)


@app.get("/api/subscriptions/<username>/likes/random")
def random_like(username: str) -> Response[str]:
    name = normalize_username(username)
    pick = picker().pick(name, _draw())
    metrics.add_metric(name="Picks", unit=MetricUnit.Count, value=1)
    like = pick.like
    return _json(
        200,
        {
            "username": name,
            "like_count": pick.like_count,
            "post": like.post.to_json(),
            "liked": {"source": like.source, "first_seen_at": like.first_seen_at.isoformat()},
        },
    )


@app.get("/api/openapi.json")
def openapi() -> Response[str]:
    return Response(200, JSON, web.openapi_document(), headers={"Cache-Control": "max-age=300"})


@app.get("/")
def page() -> Response[str]:
    return _static(web.asset("index.html"))


@app.get("/assets/<name>")
def page_asset(name: str) -> Response[str]:
    return _static(web.asset(name))


def _static(asset: web.Asset) -> Response[str]:
    headers = web.page_headers(asset)
    if web.not_modified(asset, app.current_event.headers.get("if-none-match")):
        return Response(304, asset.content_type, "", headers=headers)
    return Response(200, asset.content_type, asset.body, headers=headers)


# --- input -------------------------------------------------------------------------------------------------


def _json_body() -> dict[str, Any]:
    try:
        raw = app.current_event.decoded_body or ""
    except (ValueError, binascii.Error):  # UnicodeDecodeError is a ValueError
        raise InvalidRequest("the body must be UTF-8 JSON") from None
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
        raise _TooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        raise InvalidRequest('the body is empty; send {"username": "..."}')
    try:
        body = json.loads(raw)
    except ValueError:
        raise InvalidRequest("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidRequest('the body must be a JSON object with a "username"')
    return body


def _draw() -> Draw | None:
    params = app.current_event.query_string_parameters or {}
    if "deck" not in params and "draw" not in params:
        return None
    try:
        deck, draw = int(params.get("deck", "")), int(params.get("draw", ""))
    except ValueError:
        raise InvalidRequest("deck and draw must both be whole numbers") from None
    if not (0 <= deck <= MAX_DECK and 0 <= draw <= MAX_DECK):
        raise InvalidRequest(f"deck and draw must be between 0 and {MAX_DECK}")
    return Draw(deck=deck, draw=draw)


class _TooLarge(InvalidRequest):
    code = "body_too_large"


# --- errors: each domain error mapped to a status here, and only here -------------------------------------

_STATUS: dict[type[DomainError], int] = {
    _TooLarge: 413,
    InvalidUsername: 400,
    InvalidRequest: 400,
    NotSubscribed: 404,
    NothingStoredYet: 409,
    BeingDeleted: 409,
    web.AssetNotFound: 404,
}


@app.exception_handler(DomainError)  # type: ignore[untyped-decorator]
def _domain_error(exc: DomainError) -> Response[str]:
    status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 500)
    error: dict[str, Any] = {"code": exc.code, "message": str(exc)}
    if isinstance(exc, NothingStoredYet):
        error["status"] = exc.status
    if status >= 500:
        logger.exception("unmapped domain error")
        error = {"code": "internal_error", "message": "something went wrong on our side; try again"}
    return _json(status, {"error": error})


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def _unexpected(exc: Exception) -> Response[str]:
    logger.exception("unhandled error")
    return _json(500, {"error": {"code": "internal_error", "message": "something went wrong on our side; try again"}})


@app.not_found
def _no_route(exc: Exception) -> Response[str]:
    return _json(404, {"error": {"code": "not_found", "message": "no such route"}})


def _json(status: int, payload: dict[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type=JSON, body=json.dumps(payload), headers=NO_STORE)


# --- the handler -------------------------------------------------------------------------------------------


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

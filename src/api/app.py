"""The HTTP API: subscriptions, random picks, the OpenAPI document and the page; the sign-in routes come from
api/auth.py. It calls X only at sign-in (the code exchange and `/2/users/me`).

Routes parse and validate, call one domain function and shape the response; domain errors become HTTP
statuses in one place (`_domain_error`), and nothing a client sends can turn into a 5xx or a stack trace.
Who may do what (shared/subscriptions.py), checked in this order for every write: a cross-site request (403),
a body that is not JSON (415), no session (401), a name that is unknown or someone else's private one (404,
the same answer for both), someone else's public one (403); reads skip the first three. Imports are the
owner's only: reading one needs a session (401), and anyone but the owner gets the 404 of an unknown name.
"""

from __future__ import annotations

import binascii
import json
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from api import auth, web
from api.context import imports, logger, metrics, picker, runtime, upload_origin
from api.guard import check_write, session_cookie
from shared.accounts import SignedIn
from shared.deck import MAX_DECK
from shared.errors import (
    BeingDeleted,
    CrossSite,
    DomainError,
    Forbidden,
    InvalidRequest,
    InvalidUsername,
    NothingStoredYet,
    NotSignedIn,
    NotSubscribed,
    UnsupportedMediaType,
)
from shared.imports import ImportNotFound, import_json, import_status, start_import
from shared.models import Subscriber, Visibility
from shared.pick import Draw
from shared.schedule import SchedulePolicy
from shared.store.imports import ImportRunning
from shared.subscriptions import note_view, set_visibility, subscribe_own, sync_paused, unsubscribe, visible

__all__ = ["app", "handler", "picker", "runtime"]

MAX_BODY_BYTES = 1024  # {"username": "..."} fits in far less
JSON = "application/json"
NO_STORE = {"Cache-Control": "no-store"}

app = APIGatewayHttpResolver()
app.include_router(auth.router)


# --- routes ------------------------------------------------------------------------------------------------


@app.post("/api/subscriptions")
def post_subscription() -> Response[str]:
    own = _signed_in_write()
    body = _json_body()
    rt = runtime()
    lease = timedelta(seconds=rt.settings.lease_seconds)
    # Leaving the username out names the signed-in account; `null` is a username that is not a string (400).
    named = body.get("username", own.subscriber.username)
    sub, rearmed = subscribe_own(
        named, own.subscriber, store=rt.subscribers, queue=rt.queue, clock=rt.clock, lease=lease
    )
    metrics.add_metric(name="Resubscriptions" if rearmed else "Subscriptions", unit=MetricUnit.Count, value=1)
    return _json(202, {**_view(sub, own.session.x_user_id), "created": False})


@app.get("/api/subscriptions/<username>")
def get_subscription(username: str) -> Response[str]:
    viewer = auth.current_session()
    sub = _viewed(_visible(username, viewer))
    return _json(200, _view(sub, viewer.session.x_user_id if viewer else None))


@app.patch("/api/subscriptions/<username>")
def patch_subscription(username: str) -> Response[str]:
    own = _signed_in_write()
    body = _json_body()
    try:
        visibility = Visibility(str(body.get("visibility")))
    except ValueError:
        raise InvalidRequest('the body must be {"visibility": "public"} or {"visibility": "private"}') from None
    sub = set_visibility(username, own.session.x_user_id, visibility, store=runtime().subscribers)
    return _json(200, _view(sub, own.session.x_user_id))


@app.delete("/api/subscriptions/<username>")
def delete_subscription(username: str) -> Response[str]:
    own = _signed_in_write()
    rt = runtime()
    unsubscribe(username, own.session.x_user_id, store=rt.subscribers, queue=rt.queue)
    metrics.add_metric(name="Disconnections", unit=MetricUnit.Count, value=1)
    # The owner's sessions ended with the subscription: the cookie goes too.
    clear = session_cookie(auth.request_origin(), "", 0)
    return Response(status_code=204, content_type=JSON, body="", headers=NO_STORE, cookies=[clear])


@app.get("/api/subscriptions/<username>/likes/random")
def random_like(username: str) -> Response[str]:
    draw = _draw()
    sub = _viewed(_visible(username, auth.current_session()))
    pick = picker().pick(sub, draw)
    metrics.add_metric(name="Picks", unit=MetricUnit.Count, value=1)
    like = pick.like
    return _json(
        200,
        {
            "username": sub.username,
            "like_count": pick.like_count,
            "post": like.post.to_json(),
            "liked": {"source": like.source, "first_seen_at": like.first_seen_at.isoformat()},
        },
    )


@app.post("/api/subscriptions/<username>/imports")
def post_import(username: str) -> Response[str]:
    own = _signed_in_write()
    _optional_json_body()  # nothing to say yet: an empty body, or {}
    rt, im = runtime(), imports()
    started = start_import(
        username,
        own.session.x_user_id,
        subscriptions=rt.subscribers,
        imports=im.store,
        presigner=im.presigner,
        clock=rt.clock,
    )
    imp = started.archive_import
    metrics.add_metric(name="ImportsStarted", unit=MetricUnit.Count, value=1)
    logger.info("import started", extra={"subscriber": imp.subscriber, "import_id": imp.id})
    location = f"{auth.request_origin().base}api/subscriptions/{started.subscriber.username}/imports/{imp.id}"
    body = {**import_json(imp), "upload": started.upload.to_json()}
    return Response(201, JSON, json.dumps(body), headers={**NO_STORE, "Location": location})


@app.get("/api/subscriptions/<username>/imports/<import_id>")
def get_import(username: str, import_id: str) -> Response[str]:
    own = auth.require_session()
    rt = runtime()
    imp = import_status(
        username,
        own.session.x_user_id,
        import_id,
        subscriptions=rt.subscribers,
        imports=imports().store,
        clock=rt.clock,
        own=own.subscriber,
    )
    return _json(200, import_json(imp))


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
    headers = web.page_headers(asset, upload_origin())
    if web.not_modified(asset, app.current_event.headers.get("if-none-match")):
        return Response(304, asset.content_type, "", headers=headers)
    return Response(200, asset.content_type, asset.body, headers=headers)


# --- who is asking ------------------------------------------------------------------------------------------


def _visible(username: str, viewer: SignedIn | None) -> Subscriber:
    """A read's subscription (a read works signed out: public subscriptions). The owner's own was read with
    the session: a pick of one's own likes is the session, that profile and the slot."""
    if viewer is None:
        return visible(username, None, store=runtime().subscribers)
    return visible(username, viewer.session.x_user_id, store=runtime().subscribers, own=viewer.subscriber)


def _viewed(sub: Subscriber) -> Subscriber:
    """A page of the subscription was opened by someone allowed to see it: the schedule hears of it (at most
    one write a day per subscription; a parked one is due now)."""
    rt = runtime()
    return note_view(sub, store=rt.subscribers, now=rt.clock.now(), every=SchedulePolicy().view_every)


def _signed_in_write() -> SignedIn:
    """A write's first checks, in their order: cross-site, then JSON, then a session."""
    check_write(app.current_event, auth.request_origin())
    return auth.require_session()


def _view(sub: Subscriber, viewer: str | None) -> dict[str, Any]:
    """A subscription as this viewer may see it: the owner's view says so (the page shows its controls), and
    whether syncing is paused for everyone (three GetItems: the status routes only, never a pick)."""
    rt = runtime()
    paused = sync_paused(rt.clock.now(), store=rt.app_state, budgets=rt.settings.budgets)
    return {**sub.public_json(), "owner": sub.owned_by(viewer), "sync_paused": paused.to_json() if paused else None}


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
        raise InvalidRequest("the body must be a JSON object")
    return body


def _optional_json_body() -> dict[str, Any]:
    """A body that may be left out: none (or blank) is {}; otherwise as `_json_body`."""
    return _json_body() if (app.current_event.body or "").strip() else {}


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
    CrossSite: 403,
    Forbidden: 403,
    UnsupportedMediaType: 415,
    NotSignedIn: 401,
    NotSubscribed: 404,
    ImportNotFound: 404,
    NothingStoredYet: 409,
    ImportRunning: 409,
    BeingDeleted: 409,
    web.AssetNotFound: 404,
}


@app.exception_handler(DomainError)  # type: ignore[untyped-decorator]
def _domain_error(exc: DomainError) -> Response[str]:
    status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 500)
    error: dict[str, Any] = {"code": exc.code, "message": str(exc)}
    if isinstance(exc, NothingStoredYet):
        error["status"] = exc.status
    if isinstance(exc, ImportRunning):
        error["message"] = "another import of this subscription is still running; wait for it to end"
        error["import"] = import_json(exc.running)
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

"""Connect with X, sign out, and who is signed in: the `/auth` routes and `/api/me`.

`GET /auth/x/login` stores a pending login and sends the browser to X's consent page (PKCE S256, a random
state, a binding cookie); `GET /auth/x/callback` consumes it, exchanges the code, reads `/2/users/me`, connects
the account and signs the browser in. Anything that goes wrong there ends on a small page that says what
happened and offers to try again: never a 5xx, never a secret. The domain is shared/accounts.py.
"""

from __future__ import annotations

import html
import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.shared.cookies import Cookie

from api import web
from api.context import accounts, logger, metrics, runtime
from api.guard import (
    LOGIN_COOKIE,
    LOGIN_PATH,
    Origin,
    check_write,
    cookie,
    login_cookie,
    origin_of,
    safe_next,
    session_cookie,
    session_cookie_name,
)
from shared.accounts import (
    LOGIN_LIFETIME,
    SESSION_LIFETIME,
    LoginFailed,
    SignedIn,
    connect,
    digest,
    end_session,
    finish_login,
    open_session,
    signed_in,
    start_login,
)
from shared.errors import BeingDeleted, NotSignedIn, XError, XGrantInvalid
from shared.settings import SettingsError
from shared.x_oauth2 import SCOPES

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
NO_STORE = {"Cache-Control": "no-store"}
# The callback's URL carries the code and the state: no page it leads to may pass it on as a Referer.
NO_REFERRER = {**NO_STORE, "Referrer-Policy": "no-referrer"}


def request_origin() -> Origin:
    return origin_of(router.current_event, runtime().settings.app_url)


def current_session() -> SignedIn | None:
    """The request's valid session, if its cookie names one (reads nothing when there is no cookie)."""
    session_id = cookie(router.current_event, session_cookie_name(request_origin()))
    if not session_id:
        return None
    rt = runtime()
    return signed_in(session_id, rt.clock.now(), sessions=accounts().sessions, subscribers=rt.subscribers)


def require_session() -> SignedIn:
    found = current_session()
    if found is None:
        raise NotSignedIn("sign in first: Connect with X")
    return found


@router.get("/auth/x/login")
def login() -> Response[str]:
    origin = request_origin()
    params = router.current_event.query_string_parameters or {}
    rt = runtime()
    try:
        client_id = accounts().oauth().client_id
    except (XError, SettingsError) as exc:
        logger.warning("login not started", extra={"error": type(exc).__name__})
        return _failed("x_failed", origin, login_cookie(origin, "", 0))
    started = start_login(safe_next(params.get("next"), origin), rt.clock.now(), logins=accounts().logins)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": origin.redirect_uri,
            "scope": " ".join(SCOPES),
            "state": started.state,
            "code_challenge": started.code_challenge,
            "code_challenge_method": "S256",
        }
    )
    binding = login_cookie(origin, started.binding, int(LOGIN_LIFETIME.total_seconds()))
    headers = {**NO_REFERRER, "Location": f"{rt.settings.x_authorize_url}?{query}"}
    return Response(302, "text/plain; charset=utf-8", "", headers=headers, cookies=[binding])


@router.get("/auth/x/callback")
def callback() -> Response[str]:
    origin = request_origin()
    event = router.current_event
    params = event.query_string_parameters or {}
    rt = runtime()
    now = rt.clock.now()
    clear_binding = login_cookie(origin, "", 0)
    try:
        if params.get("error"):
            # The pending login is spent either way; then say what X said.
            accounts().logins.consume_login(digest(params.get("state") or ""))
            raise LoginFailed("denied" if params["error"] == "access_denied" else "x_failed", "X did not connect")
        login = finish_login(params.get("state"), cookie(event, LOGIN_COOKIE), now, logins=accounts().logins)
        code = params.get("code")
        if not code:
            raise LoginFailed("x_failed", "X sent no authorization code")
        oauth = accounts().oauth()
        tokens = oauth.exchange_code(code, login.verifier, origin.redirect_uri, now)
        x_user = oauth.me(tokens.access_token)
        lease = timedelta(seconds=rt.settings.lease_seconds)
        connect(x_user, tokens, now, store=rt.subscribers, token_store=accounts().tokens, queue=rt.queue, lease=lease)
        session_id = open_session(x_user, now, sessions=accounts().sessions)
    except LoginFailed as exc:
        return _failed(exc.reason, origin, clear_binding)
    except XGrantInvalid:
        return _failed("expired", origin, clear_binding)
    except BeingDeleted:
        return _failed("being_deleted", origin, clear_binding)
    except (XError, SettingsError, ValueError) as exc:
        logger.warning("connect failed", extra={"error": type(exc).__name__})
        return _failed("x_failed", origin, clear_binding)
    except Exception:
        # Ours (DynamoDB, KMS): logged with its traceback (no secret is in one), and still a page, not a 5xx.
        logger.exception("connect failed on our side")
        return _failed("ours", origin, clear_binding)
    metrics.add_metric(name="Connections", unit=MetricUnit.Count, value=1)
    logger.info("account connected", extra={"x_user_id": x_user.id})
    session = session_cookie(origin, session_id, int(SESSION_LIFETIME.total_seconds()))
    headers = {**NO_REFERRER, "Location": login.next_path}
    return Response(302, "text/plain; charset=utf-8", "", headers=headers, cookies=[session, clear_binding])


@router.post("/auth/logout")
def logout() -> Response[str]:
    origin = request_origin()
    check_write(router.current_event, origin)
    name = session_cookie_name(origin)
    end_session(cookie(router.current_event, name), sessions=accounts().sessions)
    return Response(204, "application/json", "", headers=NO_STORE, cookies=[session_cookie(origin, "", 0)])


@router.get("/api/me")
def me() -> Response[str]:
    found = require_session()
    sub, session = found.subscriber, found.session
    body: dict[str, Any] = {
        "username": sub.display_username,
        "x_user_id": session.x_user_id,
        "name": session.name or sub.display_username,
        "profile_image_url": session.profile_image_url,
        "subscription": owner_json(found),
    }
    return Response(200, "application/json", _dumps(body), headers=NO_STORE)


def owner_json(found: SignedIn) -> dict[str, Any]:
    return {**found.subscriber.public_json(), "owner": True}


# --- the page a failed sign-in ends on -------------------------------------------------------------------

_FAILURES = {
    "denied": (403, "You did not connect your X account", "X says you chose not to connect. Nothing was stored."),
    "expired": (
        400,
        "This sign-in has expired",
        "The link was already used, is more than a few minutes old, or X no longer accepts it.",
    ),
    "not_bound": (
        400,
        "This sign-in was started in another browser",
        "For your safety, finish connecting in the browser where you clicked Connect with X.",
    ),
    "being_deleted": (
        409,
        "Your data is still being deleted",
        "Disconnecting takes a minute. Connect again once it is done.",
    ),
    "x_failed": (400, "X could not connect your account", "X did not answer as expected. Please try again."),
    "ours": (400, "Connecting did not finish", "Something went wrong on our side. Please try again in a minute."),
}


def _failed(reason: str, origin: Origin, clear_binding: Cookie) -> Response[str]:
    status, title, detail = _FAILURES.get(reason, _FAILURES["x_failed"])
    metrics.add_metric(name="ConnectFailures", unit=MetricUnit.Count, value=1)
    logger.info("connect not finished", extra={"reason": reason})
    start = html.escape(origin.path, quote=True)
    retry = html.escape(origin.path + LOGIN_PATH, quote=True)
    body = (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · Random likes</title>"
        f'<link rel="stylesheet" href="{start}assets/app.css"></head>'
        f"<body><main><h1>{html.escape(title)}</h1><p>{html.escape(detail)}</p>"
        f'<p><a href="{retry}">Try again: Connect with X</a></p>'
        f'<p><a href="{start}">Back to the start page</a></p></main></body></html>\n'
    )
    headers = {**web.error_page_headers(), **NO_STORE}
    return Response(status, "text/html; charset=utf-8", body, headers=headers, cookies=[clear_binding])


def _dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload)

"""The management API under `/_sim/` (JSON, loopback only): state, the clock, faults, billing, reset, likes,
deleted posts, the demo credentials and archive exports. Tests and the offline stack drive the simulator here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from ipaddress import ip_address
from typing import Any, Protocol

from local.xsim.archive import export_archive
from local.xsim.clock import SimClock
from local.xsim.config import XSimConfig
from local.xsim.credentials import Credentials
from local.xsim.data import Account, World
from local.xsim.exchange import Request, Response
from local.xsim.faults import Faults
from local.xsim.limits import Billing

MAX_ADDED_LIKES = 10_000


class Simulator(Protocol):
    """What the management API drives, as `app.XSimApp` provides it. A protocol, so the app that routes here
    and this module do not import each other."""

    config: XSimConfig
    clock: SimClock
    faults: Faults
    billing: Billing
    credentials: Credentials
    world: World

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    def reset(self) -> None: ...

    def catch_up(self) -> None: ...

    def state(self) -> dict[str, Any]: ...


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def handle(app: Simulator, request: Request) -> Response:
    if not _loopback(request.client_ip):
        # The credentials are fake, but the clock and faults are not for anyone on the network to move.
        return _error(403, "forbidden", "the management API answers on loopback only")
    try:
        return _route(app, request)
    except _Refused as exc:
        return _error(exc.status, exc.code, exc.message)


def _route(app: Simulator, request: Request) -> Response:
    path = request.path.removeprefix("/_sim")
    for method, pattern, action in ROUTES:
        found = pattern.fullmatch(path)
        if found and method == request.method:
            return action(app, request, found.groups())
    raise _Refused(404, "not_found", f"no management route {request.method} {request.path}")


def _state(app: Simulator, request: Request, args: tuple[str, ...]) -> Response:
    return Response.json(200, app.state())


def _get_clock(app: Simulator, request: Request, args: tuple[str, ...]) -> Response:
    return Response.json(200, _clock(app))


def _advance_clock(app: Simulator, request: Request, args: tuple[str, ...]) -> Response:
    seconds = _number(_body(request), "seconds")
    if seconds < 0:
        raise _Refused(400, "invalid_request", "seconds must be >= 0; use /_sim/clock/set to go back")
    app.clock.advance(seconds)
    return Response.json(200, _clock(app))


def _set_clock(app: Simulator, request: Request, args: tuple[str, ...]) -> Response:
    raw = _body(request).get("now")
    try:
        when = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise _Refused(400, "invalid_request", "now must be an ISO 8601 date-time") from None
    if when.tzinfo is None:
        raise _Refused(400, "invalid_request", "now needs a time zone (e.g. 2026-01-15T12:00:00Z)")
    app.clock.set(when)
    return Response.json(200, _clock(app))


def _get_faults(app: Simulator, request: Request, args: tuple[str, ...]) -> Response:
    return Response.json(200, app.faults.snapshot())


def _set_faults(app: Simulator, request: Request, args: tuple[str, ...]) -> Response:
    try:
        app.faults.set(**_body(request))
    except (TypeError, ValueError) as exc:
        raise _Refused(400, "invalid_request", str(exc)) from None
    return Response.json(200, app.faults.snapshot())


def _clear_faults(app: Simulator, request: Request, args: tuple[str, ...]) -> Response:
    app.faults.clear()
    return Response.json(200, app.faults.snapshot())


def _billing(app: Simulator, request: Request, args: tuple[str, ...]) -> Response:
    return Response.json(200, app.billing.snapshot())


def _reset(app: Simulator, request: Request, args: tuple[str, ...]) -> Response:
    app.reset()
    return Response.json(200, app.state())


def _accounts(app: Simulator, request: Request, args: tuple[str, ...]) -> Response:
    return Response.json(200, {"accounts": app.state()["accounts"]})


def _add_likes(app: Simulator, request: Request, args: tuple[str, ...]) -> Response:
    count = int(_number(_body(request), "count"))
    if not 1 <= count <= MAX_ADDED_LIKES:
        raise _Refused(400, "invalid_request", f"count must be between 1 and {MAX_ADDED_LIKES}")
    with app.lock:
        app.catch_up()
        account = _account(app, args[0])
        added = app.world.add_likes(account.username, count, app.clock.now())
        total = len(app.world.likes_of(account.id))
    return Response.json(201, {"username": account.username, "added": added, "like_count": total})


def _rename(app: Simulator, request: Request, args: tuple[str, ...]) -> Response:
    new_name = _body(request).get("username")
    if not isinstance(new_name, str) or not re.fullmatch(_NAME, new_name):
        raise _Refused(400, "invalid_request", "username must be 1-15 letters, digits or underscores")
    with app.lock:
        account = _account(app, args[0])
        try:
            renamed = app.world.rename(account.username, new_name)
        except ValueError as exc:
            raise _Refused(409, "conflict", str(exc)) from None
    return Response.json(200, {"id": renamed.id, "username": renamed.username})


def _delete_post(app: Simulator, request: Request, args: tuple[str, ...]) -> Response:
    with app.lock:
        if args[0] not in app.world.posts:
            raise _Refused(404, "not_found", "no such post")
        app.world.delete_post(args[0])
    return Response.json(200, {"id": args[0], "deleted": True})


def _credentials(app: Simulator, request: Request, args: tuple[str, ...]) -> Response:
    return Response.json(200, credentials(app, args[0]))


def _archive(app: Simulator, request: Request, args: tuple[str, ...]) -> Response:
    with app.lock:
        account = _account(app, args[0])
        app.catch_up()
        data = export_archive(
            app.world,
            account.username,
            part_size=app.config.archive_part_size,
            media_bytes=app.config.archive_media_bytes,
            seed=app.config.seed,
        )
    disposition = f'attachment; filename="twitter-archive-{account.username}.zip"'
    return Response(200, data, "application/zip", {"content-disposition": disposition})


Action = Callable[[Simulator, Request, tuple[str, ...]], Response]
_NAME = r"([A-Za-z0-9_]{1,15})"
ROUTES: tuple[tuple[str, re.Pattern[str], Action], ...] = tuple(
    (method, re.compile(pattern), action)
    for method, pattern, action in (
        ("GET", "/state", _state),
        ("GET", "/clock", _get_clock),
        ("POST", "/clock/advance", _advance_clock),
        ("POST", "/clock/set", _set_clock),
        ("GET", "/faults", _get_faults),
        ("POST", "/faults", _set_faults),
        ("DELETE", "/faults", _clear_faults),
        ("GET", "/billing", _billing),
        ("POST", "/reset", _reset),
        ("GET", "/accounts", _accounts),
        ("POST", f"/accounts/{_NAME}/likes", _add_likes),
        ("POST", f"/accounts/{_NAME}/rename", _rename),
        ("POST", "/posts/([0-9]{1,19})/delete", _delete_post),
        ("GET", f"/credentials/{_NAME}", _credentials),
        ("GET", rf"/archive/{_NAME}\.zip", _archive),
    )
)


def credentials(app: Simulator, username: str) -> dict[str, Any]:
    """The demo app's fake keys and `username`'s user token: everything a client needs to call the simulator."""
    account = _account(app, username)
    creds = app.credentials
    return {
        "username": account.username,
        "user_id": account.id,
        "app_id": creds.app_id,
        "oauth1": creds.oauth1(account.username).as_dict(),
        "bearer_token": creds.bearer_token,
        "oauth2": {"client_id": creds.oauth2.client_id, "client_secret": creds.oauth2.client_secret},
    }


def _account(app: Simulator, username: str) -> Account:
    account = app.world.account_by_username(username)
    if account is None:
        raise _Refused(404, "not_found", f"no demo account @{username}")
    return account


def _clock(app: Simulator) -> dict[str, Any]:
    now = app.clock.now()
    return {"now": now.isoformat(), "epoch": now.timestamp()}


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        raise _Refused(400, "invalid_request", "the body must be JSON") from None
    if not isinstance(body, dict):
        raise _Refused(400, "invalid_request", "the body must be a JSON object")
    return body


def _number(body: dict[str, Any], name: str) -> float:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Refused(400, "invalid_request", f"{name} must be a number")
    return float(value)


def _loopback(address: str) -> bool:
    try:
        return ip_address(address.split("%", maxsplit=1)[0]).is_loopback
    except ValueError:
        return False


def _error(status: int, code: str, message: str) -> Response:
    return Response.json(status, {"error": {"code": code, "message": message}})

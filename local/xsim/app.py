"""What happens to every request, in X's order: faults, who is calling, the rate windows, what the caller may
do, the usage cap, the endpoint itself, billing and the x-rate-limit-* headers.

It also routes the rest: the OAuth 2.0 endpoints and consent page, the images, and the management API.
All state lives here, behind one lock: the simulator serves a handful of clients, not X's traffic.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from local.xsim import authorize, management, problems, svg
from local.xsim.auth import APP_ONLY, Authenticator, Principal
from local.xsim.clock import SimClock
from local.xsim.config import XSimConfig
from local.xsim.credentials import Credentials
from local.xsim.data import DATA_EPOCH, World, build_world
from local.xsim.endpoints import Answer, Endpoints
from local.xsim.exchange import Request, Response
from local.xsim.faults import Faults, FaultSettings
from local.xsim.limits import RATE_LIMIT, USAGE_CAP, Billing, Prices, RateLimiter
from local.xsim.oauth1 import OAuth1Verifier
from local.xsim.oauth2 import OAuth2Error, OAuth2Server
from local.xsim.paging import Pager
from local.xsim.render import Renderer

log = logging.getLogger("xsim")

READ = frozenset({"tweet.read", "users.read"})
LIKES = READ | {"like.read"}


@dataclass(frozen=True)
class Route:
    name: str  # the rate-limit window's name: one window per endpoint, as X counts
    pattern: re.Pattern[str]
    user_only: bool  # an app-only bearer token is refused (X: unsupported-authentication)
    scopes: frozenset[str]  # OAuth 2.0 scopes it needs
    reads_posts: bool  # billed per post, and stopped by the usage cap (user reads are billed, never capped)


ROUTES = (
    Route("GET /2/users/me", re.compile(r"/2/users/me"), True, READ, False),
    Route("GET /2/users/by/username/:username", re.compile(r"/2/users/by/username/([^/]*)"), False, READ, False),
    Route("GET /2/users/:id/liked_tweets", re.compile(r"/2/users/([^/]*)/liked_tweets"), True, LIKES, True),
    Route("GET /2/users/:id", re.compile(r"/2/users/([^/]*)"), False, READ, False),
    Route("GET /2/tweets", re.compile(r"/2/tweets"), False, READ, True),
)


class XSimApp:
    def __init__(self, config: XSimConfig, clock: SimClock, *, wall_clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self._wall_clock = wall_clock
        storm = FaultSettings(
            error_rate=config.storm_error_rate, drop_rate=config.storm_drop_rate, latency_ms=config.storm_latency_ms
        )
        self.faults = Faults(config.seed, storm=storm)
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Back to the state at start (likes, tokens, windows, billing, faults); the clock stays where it is."""
        with self.lock:
            config = self.config
            self.world: World = build_world(
                config.seed, demo_likes=config.demo_likes, bigfan_likes=config.bigfan_like_count
            )
            owner = self.world.account("demo")
            self.credentials = Credentials(config.seed, self.world.accounts.values(), owner=owner)
            self.oauth2 = OAuth2Server(
                self.credentials,
                self.clock,
                seed=config.seed,
                access_ttl=config.access_token_ttl_seconds,
                code_ttl=config.auth_code_ttl_seconds,
                redirect_uris=config.redirect_uris,
                wall_clock=self._wall_clock,
            )
            oauth1 = OAuth1Verifier(
                self.credentials, skew_seconds=config.oauth1_timestamp_skew_seconds, wall_clock=self._wall_clock
            )
            self.auth = Authenticator(self.credentials, oauth1, self.oauth2)
            self.limiter = RateLimiter(
                self.clock,
                user_limit=config.rate_limit,
                app_limit=config.app_rate_limit,
                window_seconds=config.window_seconds,
                app_window_for_users=config.app_window_for_users,
            )
            self.billing = Billing(
                self.clock,
                cap=config.usage_cap,
                period=config.usage_cap_period,
                prices=Prices(config.price_per_post, config.price_per_owned_post, config.price_per_user),
            )
            self.endpoints = Endpoints(
                self.world, Pager(config.seed), depth_cap=config.depth_cap, renderer=self._renderer
            )
            self.faults.clear()
            self.arrivals_since: datetime = config.arrivals_since or self.clock.now()
            self._arrived: dict[str, int] = {}

    # --- every request --------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        try:
            return self._route(request)
        except Exception:  # one request must not take the server down; say what broke, answer 500
            log.exception("xsim failed on %s %s", request.method, request.path)
            return _problem(problems.server_error(500))

    def _route(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path.startswith("/_sim/"):
            return management.handle(self, request)
        if path.startswith("/2/"):
            return self._api(request)
        if method == "GET" and path.startswith(("/profile_images/", "/media/")):
            return self._image(path)
        if path == "/i/oauth2/authorize" and method in ("GET", "POST"):
            with self.lock:
                page = authorize.show if method == "GET" else authorize.decide
                return page(request, self.oauth2, self.world)
        return Response.json(404, problems.no_such_route())

    def _api(self, request: Request) -> Response:
        fault = self.faults.decide()
        if fault.kind != "none":
            # X can fail a request after its front door has seen it, so a client never knows whether a failed
            # request's OAuth 1.0a nonce was spent. Here it always is: a replay of the same signed request (a
            # transport-level retry) is refused with 401, as X may refuse it. A retry must be signed anew.
            with self.lock:
                self.auth.identify(request)
        if fault.kind == "drop":
            return Response(0, drop=True, delay=fault.delay)
        if fault.kind == "error":
            headers = {"retry-after": str(fault.retry_after)} if fault.retry_after else None
            response = _problem(problems.server_error(fault.status), headers)
            response.delay = fault.delay
            return response
        with self.lock:
            response = self._api_locked(request)
        response.delay = fault.delay
        return response

    def _api_locked(self, request: Request) -> Response:  # noqa: PLR0911 - one return per gate, in X's order
        path = request.path
        if path in ("/2/oauth2/token", "/2/oauth2/revoke"):
            return self._oauth2(request)
        route, arg = _match(request.method, path)
        if route is None:
            return Response.json(404, problems.no_such_route())
        self._catch_up()
        principal = self.auth.identify(request)
        if principal is None:
            return _problem(problems.unauthorized())
        decision = self.limiter.hit(route.name, principal.app_id, principal.user_id)
        headers = decision.headers()
        if not decision.allowed:
            self.billing.record_refusal(RATE_LIMIT)
            return _problem(problems.rate_limit_exceeded(), headers)
        self.billing.record_request(principal.app_id, route.name)
        if route.user_only and principal.kind == APP_ONLY:
            return _problem(problems.unsupported_authentication(), headers)
        missing = principal.lacks(route.scopes)
        if missing:
            return _problem(problems.forbidden(f"Missing OAuth 2.0 scopes: {' '.join(sorted(missing))}"), headers)
        answer = self._endpoint(route, arg, principal, request)
        # The cap stops reads, not bad requests: a 400 or 403 stays what it is (endpoints have no side effects).
        if route.reads_posts and answer.status == 200 and self.billing.capped(principal.app_id):
            self.billing.record_refusal(USAGE_CAP)
            return _problem(problems.usage_capped(self.billing.period), headers)
        if answer.posts_read:
            owned = principal.user_id == self.credentials.owner_id
            self.billing.record_reads(principal.app_id, answer.posts_read, owned=owned, requester=principal.user_id)
        if answer.users_read:
            self.billing.record_user_reads(principal.app_id, answer.users_read, requester=principal.user_id)
        if answer.problem:
            return _problem(answer.body, headers, status=answer.status)
        return Response.json(answer.status, answer.body, headers=headers)

    def _endpoint(self, route: Route, arg: str, principal: Principal, request: Request) -> Answer:
        media_base = self.media_base_url(request)
        query = request.query
        if route.name == "GET /2/users/me":
            return self.endpoints.users_me(principal, query, media_base)
        if route.name == "GET /2/users/by/username/:username":
            return self.endpoints.user_by_username(arg, query, media_base)
        if route.name == "GET /2/users/:id/liked_tweets":
            return self.endpoints.liked_tweets(principal, arg, query, media_base)
        if route.name == "GET /2/users/:id":
            return self.endpoints.user_by_id(arg, query, media_base)
        return self.endpoints.tweets(query, media_base)

    def _oauth2(self, request: Request) -> Response:
        if request.method != "POST":
            return Response.json(404, problems.no_such_route())
        form = dict(request.form())
        try:
            if request.path == "/2/oauth2/token":
                body = self.oauth2.token(form, request.header("authorization"))
            else:
                body = self.oauth2.revoke(form, request.header("authorization"))
        except OAuth2Error as exc:
            return Response.json(exc.status, exc.body(), headers={"cache-control": "no-store"})
        return Response.json(200, body, headers={"cache-control": "no-store"})

    # --- the rest -------------------------------------------------------------------------------------

    def media_base_url(self, request: Request) -> str:
        return (self.config.media_base_url or request.base_url).rstrip("/")

    def _renderer(self, media_base: str) -> Renderer:
        return Renderer(self.world, media_base)

    def _image(self, path: str) -> Response:
        headers = {
            "cache-control": "public, max-age=86400",
            "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
            "x-content-type-options": "nosniff",
        }
        with self.lock:
            avatar = re.fullmatch(r"/profile_images/([0-9]+)/[A-Za-z0-9_]+_normal\.svg", path)
            if avatar and avatar.group(1) in self.world.accounts:
                return Response(200, svg.avatar(self.world.accounts[avatar.group(1)]), "image/svg+xml", headers)
            media = re.fullmatch(r"/media/([0-9]+_[0-9]+)(_preview)?\.svg", path)
            if media and media.group(1) in self.world.media:
                body = svg.media(self.world.media[media.group(1)], preview=bool(media.group(2)))
                return Response(200, body, "image/svg+xml", headers)
        return Response(404, b"not found", "text/plain; charset=utf-8")

    def _catch_up(self) -> None:
        """Add the likes that have arrived by now: one per `like_every_minutes` since `arrivals_since`."""
        now = self.clock.now()
        for username, minutes in self.config.like_every_minutes.items():
            if minutes <= 0 or self.world.account_by_username(username) is None:
                continue
            interval = timedelta(minutes=minutes)
            due = int((now - self.arrivals_since) / interval) if now > self.arrivals_since else 0
            done = self._arrived.get(username, 0)
            for n in range(done + 1, due + 1):
                self.world.add_likes(username, 1, self.arrivals_since + interval * n, source="arrival")
            self._arrived[username] = max(done, due)

    def catch_up(self) -> None:
        with self.lock:
            self._catch_up()

    # --- the simulated month (bench/month.py), in-process ---------------------------------------------

    def add_account(self, username: str, history: int) -> str:
        """A plain account with `history` likes dated before the data epoch (posts made on demand); its id."""
        with self.lock:
            account = self.world.add_plain_account(username)
            self.world.add_cheap_likes(account.id, history, DATA_EPOCH - timedelta(days=1))
            return account.id

    def like(self, user_id: str, at: datetime | None = None) -> str:
        """The account likes a new post (at `at`, default now); the post's id."""
        with self.lock:
            return self.world.add_cheap_likes(user_id, 1, at or self.clock.now())[0]

    def unlike(self, user_id: str, post_id: str) -> bool:
        with self.lock:
            return self.world.unlike(user_id, post_id)

    def grant(self, user_id: str, *, access_ttl: int | None = None) -> str:
        """An OAuth 2.0 access token of `user_id` with the app's scopes, as after Connect with X (no consent
        page); `access_ttl` seconds long (default: X's two hours)."""
        scopes = frozenset({"tweet.read", "users.read", "like.read", "offline.access"})
        with self.lock:
            return str(self.oauth2.issue_for(user_id, scopes, access_ttl=access_ttl)["access_token"])

    def revoke(self, user_id: str) -> None:
        """The account removes the app on X: its tokens stop working at once."""
        with self.lock:
            self.oauth2.revoke_user(user_id)

    def set_usage_cap(self, cap: int | None) -> None:
        """X's usage cap from now on (None: none). Billing keeps what it has billed."""
        with self.lock:
            self.billing.set_cap(cap)

    def state(self) -> dict[str, Any]:
        with self.lock:
            self._catch_up()
            return {
                "seed": self.config.seed,
                "now": self.clock.now().isoformat(),
                "arrivals_since": self.arrivals_since.isoformat(),
                "depth_cap": self.config.depth_cap,
                "rate_limit": {
                    "per_user": self.config.rate_limit,
                    "per_app": self.config.app_rate_limit,
                    "app_window_for_users": self.config.app_window_for_users,
                    "window_seconds": self.config.window_seconds,
                },
                "usage_cap": self.config.usage_cap,
                "accounts": [
                    {"id": a.id, "username": a.username, "like_count": len(self.world.likes_of(a.id))}
                    for a in self.world.accounts.values()
                ],
                "faults": self.faults.snapshot(),
            }


def _match(method: str, path: str) -> tuple[Route | None, str]:
    if method != "GET":
        return None, ""
    for route in ROUTES:
        found = route.pattern.fullmatch(path)
        if found:
            return route, found.group(1) if found.groups() else ""
    return None, ""


def _problem(body: dict[str, Any], headers: dict[str, str] | None = None, *, status: int | None = None) -> Response:
    return Response.json(
        status or int(body.get("status", 400)), body, content_type=problems.PROBLEM_JSON, headers=headers
    )

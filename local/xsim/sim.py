"""The simulator as tests and the offline stack hold it: `XSim(config).start()` serves on loopback in a
background thread, and the object answers the questions a test asks (base URL, credentials, the clock,
faults, billing) without going through HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from local.xsim.app import XSimApp
from local.xsim.archive import export_archive
from local.xsim.clock import ScaledClock, SimClock
from local.xsim.config import XSimConfig
from local.xsim.credentials import OAuth1Credentials, OAuth2Client
from local.xsim.faults import Faults
from local.xsim.server import XSimServer

DEFAULT_SCOPES = ("tweet.read", "users.read", "like.read", "offline.access")


@dataclass(frozen=True)
class OAuth2Tokens:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_in: int
    scope: str


class XSim:
    def __init__(
        self,
        config: XSimConfig | None = None,
        *,
        clock: SimClock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.config = config or XSimConfig()
        self.clock: SimClock = clock or ScaledClock(1.0)
        self.app = XSimApp(self.config, self.clock, wall_clock=wall_clock)
        self._host = host
        self._port = port
        self._sleep = sleep  # how the server waits out injected latency (faults: latency_ms)
        self._server: XSimServer | None = None

    # --- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> XSim:
        if self._server is None:
            self._server = XSimServer(self.app, self._host, self._port, sleep=self._sleep)
            self._server.start_background()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> XSim:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        host = self._host if self._host not in ("0.0.0.0", "::", "") else "127.0.0.1"  # noqa: S104 - reading
        return f"http://{host}:{self._server.port}"

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return self._server.port

    # --- what tests ask -------------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        return self.app.faults

    def oauth1_credentials(self, username: str = "demo") -> OAuth1Credentials:
        """The demo app's consumer key/secret with `username`'s access token/secret (OAuth 1.0a user context)."""
        return self.app.credentials.oauth1(username)

    @property
    def app_bearer_token(self) -> str:
        """The demo app's app-only bearer token (no user: liked_tweets refuses it, as X does)."""
        return self.app.credentials.bearer_token

    @property
    def oauth2_client(self) -> OAuth2Client:
        return self.app.credentials.oauth2

    def user_id(self, username: str) -> str:
        return self.app.world.account(username).id

    def like_ids(self, username: str) -> list[str]:
        """`username`'s liked post ids, newest first, the whole list (the API stops at the depth cap)."""
        with self.app.lock:
            self.app.catch_up()
            return [like.post_id for like in reversed(self.app.world.likes_of(self.user_id(username)))]

    def add_likes(self, username: str, count: int = 1) -> list[str]:
        with self.app.lock:
            self.app.catch_up()
            return self.app.world.add_likes(username, count, self.clock.now())

    def delete_post(self, post_id: str) -> None:
        with self.app.lock:
            self.app.world.delete_post(post_id)

    def billing(self) -> dict[str, Any]:
        return self.app.billing.snapshot()

    def state(self) -> dict[str, Any]:
        return self.app.state()

    def archive(self, username: str) -> bytes:
        with self.app.lock:
            self.app.catch_up()
            return export_archive(
                self.app.world,
                username,
                part_size=self.config.archive_part_size,
                media_bytes=self.config.archive_media_bytes,
                seed=self.config.seed,
            )

    def reset(self) -> None:
        self.app.reset()

    def oauth2_login(
        self,
        username: str = "demo",
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        redirect_uri: str = "http://127.0.0.1/callback",
    ) -> OAuth2Tokens:
        """What a person and an app do together, over HTTP: consent with PKCE (S256), then the code exchange."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state = secrets.token_urlsafe(16)
        client = self.oauth2_client
        consent = {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "username": username,
            "decision": "approve",
        }
        status, headers, _ = self._post("/i/oauth2/authorize", consent)
        returned = parse_qs(urlsplit(headers.get("location", "")).query)
        if status != 302 or returned.get("state") != [state] or "code" not in returned:
            raise RuntimeError(f"the consent step failed (HTTP {status})")
        form = {
            "grant_type": "authorization_code",
            "code": returned["code"][0],
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        basic = base64.b64encode(f"{client.client_id}:{client.client_secret}".encode()).decode()
        status, _, body = self._post("/2/oauth2/token", form, {"authorization": f"Basic {basic}"})
        if status != 200:
            raise RuntimeError(f"the token exchange failed (HTTP {status})")
        tokens = json.loads(body)
        return OAuth2Tokens(
            tokens["access_token"], tokens.get("refresh_token"), int(tokens["expires_in"]), tokens["scope"]
        )

    def _post(
        self, path: str, form: dict[str, str], headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            all_headers = {"content-type": "application/x-www-form-urlencoded", **(headers or {})}
            connection.request("POST", path, body=urlencode(form), headers=all_headers)
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

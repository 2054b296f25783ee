"""OAuth 2.0 as X runs it for user context: authorization code + PKCE, 2-hour access tokens, and refresh tokens
that rotate and work once (RFC 6749, RFC 7636, RFC 7009 for revoke).

Access tokens expire on the simulated clock (tests move it two hours on); authorization codes expire on the
wall clock (X gives 30 s, and a person clicks through the consent page in real time, whatever the clock).

Live tokens are kept by their SHA-256, as a careful server would: `grants()` exports them (and how many tokens
were issued, so a restarted server never hands out one of them again) and `restore_grants()` reads them back,
which is how `make dev` keeps connected accounts connected across a restart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from ipaddress import ip_address
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from local.xsim.clock import SimClock
from local.xsim.credentials import Credentials

# X's OAuth 2.0 scopes (the spec's OAuth2UserToken scheme lists them).
SCOPES = frozenset(
    {
        "block.read", "bookmark.read", "bookmark.write", "dm.read", "dm.write", "follows.read", "follows.write",
        "like.read", "like.write", "list.read", "list.write", "media.write", "mute.read", "mute.write",
        "offline.access", "space.read", "timeline.read", "tweet.moderate.write", "tweet.read", "tweet.write",
        "users.read",
    }
)  # fmt: skip
VERIFIER_RE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class OAuth2Error(Exception):
    """An OAuth error response: `{"error": ..., "error_description": ...}` with an HTTP status."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class AuthorizeRequest:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    code_challenge: str
    code_challenge_method: str

    def as_params(self) -> dict[str, str]:
        return {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(self.scopes),
            "state": self.state,
            "code_challenge": self.code_challenge,
            "code_challenge_method": self.code_challenge_method,
        }


@dataclass(frozen=True)
class Grant:
    """What a token or code stands for."""

    user_id: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float = 0.0  # epoch seconds (simulated clock for tokens, wall clock for codes)


@dataclass(frozen=True)
class _Code:
    grant: Grant
    redirect_uri: str
    challenge: str
    method: str


class OAuth2Server:
    def __init__(
        self,
        credentials: Credentials,
        clock: SimClock,
        *,
        seed: int,
        access_ttl: int,
        code_ttl: int,
        redirect_uris: tuple[str, ...] = (),
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = credentials.oauth2
        self._clock = clock
        self._wall_clock = wall_clock
        self._key = f"xsim-oauth2:{seed}".encode()
        self._access_ttl = access_ttl
        self._code_ttl = code_ttl
        self._redirect_uris = redirect_uris
        self._codes: dict[str, _Code] = {}
        # Keyed by the token's SHA-256 (_digest), never by the token itself.
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}
        self._issued = 0
        self._lock = threading.Lock()

    # --- authorize ------------------------------------------------------------------------------------

    def check_authorize(self, params: Mapping[str, str]) -> AuthorizeRequest:
        """The consent request if it is one X would show a consent page for; OAuth2Error (400) if not."""
        if params.get("client_id") != self._client.client_id:
            raise OAuth2Error(400, "invalid_request", "Unknown client_id.")
        redirect_uri = params.get("redirect_uri", "")
        if not self._redirect_allowed(redirect_uri):
            raise OAuth2Error(400, "invalid_request", "redirect_uri is not registered for this app.")
        if params.get("response_type") != "code":
            raise OAuth2Error(400, "unsupported_response_type", "response_type must be code.")
        scopes = tuple(params.get("scope", "").split())
        if not scopes or not set(scopes) <= SCOPES:
            raise OAuth2Error(400, "invalid_scope", "scope is missing or names an unknown scope.")
        if not params.get("state"):
            raise OAuth2Error(400, "invalid_request", "state is required.")
        method = params.get("code_challenge_method", "plain")
        if not params.get("code_challenge") or method not in ("S256", "plain"):
            raise OAuth2Error(400, "invalid_request", "code_challenge (S256 or plain) is required.")
        return AuthorizeRequest(
            params["client_id"], redirect_uri, scopes, params["state"], params["code_challenge"], method
        )

    def approve(self, request: AuthorizeRequest, user_id: str) -> str:
        """Where the browser goes after the user approves: the redirect URI with `state` and a fresh `code`."""
        with self._lock:
            code = self._token("code")
            grant = Grant(user_id, request.client_id, frozenset(request.scopes), self._wall_clock() + self._code_ttl)
            self._codes[code] = _Code(
                grant, request.redirect_uri, request.code_challenge, request.code_challenge_method
            )
        return _with_query(request.redirect_uri, {"state": request.state, "code": code})

    @staticmethod
    def deny(request: AuthorizeRequest) -> str:
        return _with_query(request.redirect_uri, {"error": "access_denied", "state": request.state})

    # --- token, revoke --------------------------------------------------------------------------------

    def token(self, form: Mapping[str, str], authorization: str | None) -> dict[str, Any]:
        self._authenticate_client(form, authorization)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange_code(form)
        if grant_type == "refresh_token":
            return self._refresh_grant(form)
        raise OAuth2Error(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token.")

    def revoke(self, form: Mapping[str, str], authorization: str | None) -> dict[str, Any]:
        self._authenticate_client(form, authorization)
        token = form.get("token", "")
        with self._lock:
            self._access.pop(_digest(token), None)
            self._refresh.pop(_digest(token), None)
        # RFC 7009: revoking an unknown token is not an error.
        return {"revoked": True}

    def access(self, token: str) -> Grant | None:
        """What an access token stands for, if it is live."""
        with self._lock:
            grant = self._access.get(_digest(token))
        if grant is None or self._clock.time() >= grant.expires_at:
            return None
        return grant

    def issue_for(self, user_id: str, scopes: frozenset[str], *, access_ttl: int | None = None) -> dict[str, Any]:
        """Tokens for `user_id` as if its owner had just approved the app (no consent page, no code): the
        token endpoint's answer. `access_ttl` overrides the access token's lifetime (the month's long ones)."""
        body = self._issue(user_id, self._client.client_id, scopes)
        if access_ttl is not None:
            with self._lock:
                digest = _digest(body["access_token"])
                self._access[digest] = replace(self._access[digest], expires_at=self._clock.time() + access_ttl)
            body["expires_in"] = access_ttl
        return body

    def revoke_user(self, user_id: str) -> int:
        """The account removes the app in its settings: every token it granted dies. Returns how many."""
        with self._lock:
            gone = [k for k, g in self._access.items() if g.user_id == user_id]
            gone_refresh = [k for k, g in self._refresh.items() if g.user_id == user_id]
            for k in gone:
                del self._access[k]
            for k in gone_refresh:
                del self._refresh[k]
            return len(gone) + len(gone_refresh)

    def granted(self, user_id: str) -> bool:
        """Whether any refresh token of `user_id` is live (its grant stands)."""
        with self._lock:
            return any(g.user_id == user_id for g in self._refresh.values())

    # --- state across a restart ----------------------------------------------------------------------

    def grants(self) -> dict[str, Any]:
        """The live access and refresh tokens (by digest) and the issue counter, as JSON."""

        def dump(grants: dict[str, Grant]) -> dict[str, Any]:
            return {k: [g.user_id, g.client_id, sorted(g.scopes), g.expires_at] for k, g in grants.items()}

        with self._lock:
            return {"issued": self._issued, "access": dump(self._access), "refresh": dump(self._refresh)}

    def restore_grants(self, saved: Mapping[str, Any]) -> None:
        """Take back what `grants()` exported (codes are not kept: they live 30 s)."""

        def load(grants: Mapping[str, Any]) -> dict[str, Grant]:
            return {k: Grant(str(u), str(c), frozenset(s), float(e)) for k, (u, c, s, e) in grants.items()}

        with self._lock:
            self._issued = max(self._issued, int(saved.get("issued", 0)))
            self._access.update(load(saved.get("access", {})))
            self._refresh.update(load(saved.get("refresh", {})))

    # --- internals ------------------------------------------------------------------------------------

    def _exchange_code(self, form: Mapping[str, str]) -> dict[str, Any]:
        with self._lock:
            # A code works once, even when the exchange fails.
            code = self._codes.pop(form.get("code", ""), None)
        invalid = OAuth2Error(400, "invalid_request", "Value passed for the authorization code was invalid.")
        if code is None or self._wall_clock() >= code.grant.expires_at:
            raise invalid
        if (
            form.get("redirect_uri") != code.redirect_uri
            or form.get("client_id", code.grant.client_id) != code.grant.client_id
        ):
            raise invalid
        verifier = form.get("code_verifier", "")
        if not VERIFIER_RE.fullmatch(verifier) or not _pkce_matches(verifier, code.challenge, code.method):
            raise OAuth2Error(
                400, "invalid_request", "Value passed for the code_verifier did not match the code_challenge."
            )
        return self._issue(code.grant.user_id, code.grant.client_id, code.grant.scopes)

    def _refresh_grant(self, form: Mapping[str, str]) -> dict[str, Any]:
        with self._lock:
            # Single use: the old refresh token is gone the moment it is presented.
            grant = self._refresh.pop(_digest(form.get("refresh_token", "")), None)
        if grant is None:
            raise OAuth2Error(400, "invalid_request", "Value passed for the token was invalid.")
        return self._issue(grant.user_id, grant.client_id, grant.scopes)

    def _issue(self, user_id: str, client_id: str, scopes: frozenset[str]) -> dict[str, Any]:
        with self._lock:
            access = self._token("access")
            self._access[_digest(access)] = Grant(user_id, client_id, scopes, self._clock.time() + self._access_ttl)
            body: dict[str, Any] = {
                "token_type": "bearer",
                "expires_in": self._access_ttl,
                "access_token": access,
                "scope": " ".join(sorted(scopes)),
            }
            if "offline.access" in scopes:
                refresh = self._token("refresh")
                self._refresh[_digest(refresh)] = Grant(user_id, client_id, scopes)
                body["refresh_token"] = refresh
            return body

    def _authenticate_client(self, form: Mapping[str, str], authorization: str | None) -> None:
        """A confidential client: Basic auth (or client_id + client_secret in the body) must match."""
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            user, _, password = decoded.partition(":")
            client_id, secret = unquote(user), unquote(password)
        if not client_id or not secret:
            raise OAuth2Error(401, "unauthorized_client", "Missing valid authorization header")
        ok_id = hmac.compare_digest(client_id.encode(), self._client.client_id.encode())
        ok_secret = hmac.compare_digest(secret.encode(), self._client.client_secret.encode())
        if not (ok_id and ok_secret):
            raise OAuth2Error(401, "unauthorized_client", "Missing valid authorization header")

    def _redirect_allowed(self, uri: str) -> bool:
        if self._redirect_uris:
            return uri in self._redirect_uris
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        if parts.hostname == "localhost":
            return True
        try:
            return ip_address(parts.hostname).is_loopback
        except ValueError:
            return False

    def _token(self, kind: str) -> str:
        """Opaque, unguessable without the seed, and the same sequence for the same seed."""
        self._issued += 1
        digest = hmac.new(self._key, f"{kind}:{self._issued}".encode(), hashlib.sha512).digest()
        number = int.from_bytes(digest, "big")
        chars = []
        for _ in range(60):
            number, index = divmod(number, len(_ALPHABET))
            chars.append(_ALPHABET[index])
        return f"xsim-{kind}-" + "".join(chars)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    if method == "plain":
        return hmac.compare_digest(verifier.encode(), challenge.encode())
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return hmac.compare_digest(expected.encode(), challenge.encode())


def _with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)

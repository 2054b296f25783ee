"""OAuth 1.0a user context, checked as X checks it: an HMAC-SHA1 signature over the request, a fresh timestamp
and a nonce never seen before (RFC 5849).

The signature base string uses the URL this server actually received (scheme, Host header, path): a client
that re-signs for its real target (as our X client does when it rewrites tweepy's host) passes, and one that
signed for another host fails, as it would against X. Timestamps are compared with the wall clock, not the
simulated one, because clients stamp requests with their own real time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote

from local.xsim.credentials import Credentials, UserToken


@dataclass(frozen=True)
class SignedRequest:
    method: str
    scheme: str
    host: str  # the Host header as received, port included
    path: str
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]  # body parameters of an application/x-www-form-urlencoded request
    authorization: str


def parse_authorization(value: str) -> dict[str, str] | None:
    """The parameters of an `Authorization: OAuth k="v", ...` header, decoded; None if it is not one."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "oauth":
        return None
    params: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, raw = item.strip().partition("=")
        if not sep or not (raw.startswith('"') and raw.endswith('"') and len(raw) >= 2):
            return None
        params[unquote(key)] = unquote(raw[1:-1])
    return params


def encode(value: str) -> str:
    """RFC 3986 percent-encoding: everything but unreserved characters."""
    return quote(value, safe="~")


def base_string_uri(scheme: str, host: str, path: str) -> str:
    """RFC 5849 3.4.1.2: lowercase scheme and host, the port only if it is not the scheme's default."""
    scheme, host = scheme.lower(), host.lower()
    name, sep, port = host.rpartition(":")
    # A bare IPv6 literal ("[::1]") ends with "]": its colons are not a port separator.
    if sep and not host.endswith("]") and port == {"http": "80", "https": "443"}.get(scheme):
        host = name
    return f"{scheme}://{host}{path}"


def base_string(method: str, uri: str, params: list[tuple[str, str]]) -> str:
    pairs = sorted((encode(k), encode(v)) for k, v in params)
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    return "&".join((method.upper(), encode(uri), encode(normalized)))


def hmac_sha1(base: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{encode(consumer_secret)}&{encode(token_secret)}"
    digest = hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class OAuth1Verifier:
    def __init__(
        self, credentials: Credentials, *, skew_seconds: int = 300, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self._credentials = credentials
        self._skew = skew_seconds
        self._wall_clock = wall_clock
        self._nonces: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def verify(self, request: SignedRequest) -> UserToken | None:
        """The user the request is signed for, or None (X answers 401 and says no more)."""
        oauth = parse_authorization(request.authorization)
        if oauth is None or not self._well_formed(oauth):
            return None
        token = self._credentials.user_token(oauth["oauth_token"])
        if token is None:
            return None
        signed = [(k, v) for k, v in oauth.items() if k not in ("oauth_signature", "realm")]
        params = request.query + request.form + signed
        uri = base_string_uri(request.scheme, request.host, request.path)
        expected = hmac_sha1(base_string(request.method, uri, params), self._credentials.consumer_secret, token.secret)
        if not hmac.compare_digest(expected.encode(), oauth["oauth_signature"].encode()):
            return None
        fresh = self._fresh_nonce(oauth["oauth_token"], oauth["oauth_nonce"], int(oauth["oauth_timestamp"]))
        return token if fresh else None

    def _well_formed(self, oauth: dict[str, str]) -> bool:
        """Our consumer, HMAC-SHA1, version 1.0, every parameter present, and a timestamp within the skew."""
        stamp = oauth.get("oauth_timestamp", "")
        return (
            oauth.get("oauth_consumer_key") == self._credentials.consumer_key
            and oauth.get("oauth_signature_method") == "HMAC-SHA1"
            and oauth.get("oauth_version", "1.0") == "1.0"
            and all(oauth.get(name) for name in ("oauth_token", "oauth_signature", "oauth_nonce"))
            and stamp.isascii()
            and stamp.isdigit()
            and abs(self._wall_clock() - int(stamp)) <= self._skew
        )

    def _fresh_nonce(self, token: str, nonce: str, stamp: int) -> bool:
        """True the first time a nonce is seen; it is remembered as long as its timestamp could still pass."""
        with self._lock:
            horizon = self._wall_clock() - 2 * self._skew
            for key in [k for k, seen in self._nonces.items() if seen < horizon]:
                del self._nonces[key]
            key = (token, nonce)
            if key in self._nonces:
                return False
            self._nonces[key] = stamp
            return True

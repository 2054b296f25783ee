"""X's OAuth 2.0 endpoints for a confidential client: the code exchange, refresh, revoke, and who a token is.

Used by the api (exchange the code at callback, then `GET /2/users/me`) and by the worker (refresh before a
sync, revoke on disconnect). Plain HTTPS through urllib3, which every function already has (botocore's), so
the api does not carry tweepy. The client id and secret go in a Basic authorization header (RFC 6749 §2.3.1);
no token, code, verifier or secret is ever put in an exception message or a log line.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import urllib3

from shared.errors import XGrantInvalid, XOAuthFailed, XTransient
from shared.models import XUser
from shared.tokens import TokenSet

SCOPES = ("tweet.read", "users.read", "like.read", "offline.access")
TIMEOUT = urllib3.Timeout(connect=3.0, read=5.0)


@dataclass(frozen=True)
class OAuth2ClientCredentials:
    """The X app's OAuth 2.0 client, from its SSM SecureString `{"client_id", "client_secret"}`."""

    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)

    @classmethod
    def from_json(cls, raw: str) -> OAuth2ClientCredentials:
        try:
            data = json.loads(raw)
            return cls(client_id=str(data["client_id"]), client_secret=str(data["client_secret"]))
        except (ValueError, KeyError, TypeError):
            raise ValueError("the OAuth 2.0 client parameter must be JSON with client_id and client_secret") from None


class XOAuth2:
    def __init__(
        self, base_url: str, client: OAuth2ClientCredentials, *, http: urllib3.PoolManager | None = None
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._client = client
        self._http = http or urllib3.PoolManager(retries=False, timeout=TIMEOUT)

    @property
    def client_id(self) -> str:
        return self._client.client_id

    def exchange_code(self, code: str, verifier: str, redirect_uri: str, now: datetime) -> TokenSet:
        """Trade an authorization code (with its PKCE verifier) for tokens. XGrantInvalid: expired or used."""
        body = self._token_call(
            "/2/oauth2/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
                "client_id": self._client.client_id,
            },
        )
        return TokenSet.from_token_response(body, now)

    def refresh(self, refresh_token: str, now: datetime) -> TokenSet:
        """Spend a (single-use) refresh token for new tokens. XGrantInvalid: used, revoked or expired."""
        body = self._token_call(
            "/2/oauth2/token",
            {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": self._client.client_id},
        )
        return TokenSet.from_token_response(body, now)

    def revoke(self, token: str, hint: str) -> None:
        """Revoke an access or refresh token at X (RFC 7009: an unknown token is no error)."""
        self._token_call(
            "/2/oauth2/revoke", {"token": token, "token_type_hint": hint, "client_id": self._client.client_id}
        )

    def me(self, access_token: str) -> XUser:
        """Who the access token belongs to (`GET /2/users/me`). XGrantInvalid if X refuses the token."""
        response = self._request(
            "GET",
            "/2/users/me?user.fields=profile_image_url",
            headers={"Authorization": f"Bearer {access_token}"},
        )
        if response.status in (401, 403):
            raise XGrantInvalid(f"X refused the access token (HTTP {response.status})")
        data = _json(response).get("data") if response.status == 200 else None
        if not isinstance(data, dict) or "id" not in data or "username" not in data:
            raise XTransient(f"X answered users/me with HTTP {response.status} and no user")
        return XUser(
            id=str(data["id"]),
            username=str(data["username"]),
            name=str(data.get("name") or data["username"]),
            profile_image_url=data.get("profile_image_url"),
        )

    # --- internals ------------------------------------------------------------------------------------------

    def _token_call(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        basic = base64.b64encode(
            f"{quote(self._client.client_id, safe='')}:{quote(self._client.client_secret, safe='')}".encode()
        ).decode()
        response = self._request(
            "POST",
            path,
            headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
            body=urlencode(form),
        )
        body = _json(response)
        if response.status == 200:
            return body
        error = str(body.get("error", ""))[:40] or f"HTTP {response.status}"
        if response.status == 400 and error in ("invalid_grant", "invalid_request"):
            # X answers invalid_request ("Value passed for the token was invalid") for a used refresh token.
            raise XGrantInvalid(f"X refused the grant ({error})")
        if response.status >= 500 or response.status == 429:
            raise XTransient(f"X's token endpoint answered HTTP {response.status}")
        raise XOAuthFailed(f"X's token endpoint refused the request: {error} (HTTP {response.status})")

    def _request(
        self, method: str, path: str, *, headers: dict[str, str], body: str | None = None
    ) -> urllib3.BaseHTTPResponse:
        try:
            return self._http.request(method, self._base_url + path, headers=headers, body=body, redirect=False)
        except urllib3.exceptions.HTTPError as exc:
            raise XTransient(f"X could not be reached ({type(exc).__name__})") from None


def _json(response: urllib3.BaseHTTPResponse) -> dict[str, Any]:
    try:
        data = json.loads(response.data or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}

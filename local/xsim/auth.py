"""Who is calling: an `Authorization` header resolved to a principal, whichever of X's three schemes it uses.

OAuth 1.0a user context (`OAuth ...`, signature checked), an OAuth 2.0 user access token (`Bearer`, issued by
our token endpoint) or the app-only bearer token (`Bearer`, no user). Anything else is no one: X answers 401.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from local.xsim.credentials import Credentials
from local.xsim.exchange import Request
from local.xsim.oauth1 import OAuth1Verifier, SignedRequest
from local.xsim.oauth2 import OAuth2Server

OAUTH1 = "oauth1"
OAUTH2_USER = "oauth2_user"
APP_ONLY = "app_only"


@dataclass(frozen=True)
class Principal:
    kind: str  # OAUTH1 | OAUTH2_USER | APP_ONLY
    app_id: str
    user_id: str | None  # None for app-only
    scopes: frozenset[str] | None = None  # OAuth 2.0 scopes; None where scopes do not apply

    def lacks(self, required: frozenset[str]) -> frozenset[str]:
        """The required OAuth 2.0 scopes this principal was not granted (nothing, outside OAuth 2.0)."""
        return frozenset() if self.scopes is None else required - self.scopes


class Authenticator:
    def __init__(self, credentials: Credentials, oauth1: OAuth1Verifier, oauth2: OAuth2Server) -> None:
        self._credentials = credentials
        self._oauth1 = oauth1
        self._oauth2 = oauth2

    def identify(self, request: Request) -> Principal | None:
        header = (request.header("authorization") or "").strip()
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "oauth":
            signed = SignedRequest(
                method=request.method,
                scheme=request.scheme,
                host=request.host,
                path=request.path,
                query=request.query,
                form=request.form(),
                authorization=header,
            )
            token = self._oauth1.verify(signed)
            return None if token is None else Principal(OAUTH1, self._credentials.app_id, token.user_id)
        if scheme.lower() == "bearer" and value.strip():
            bearer = value.strip()
            if hmac.compare_digest(bearer.encode(), self._credentials.bearer_token.encode()):
                return Principal(APP_ONLY, self._credentials.app_id, None)
            grant = self._oauth2.access(bearer)
            if grant is not None:
                return Principal(OAUTH2_USER, self._credentials.app_id, grant.user_id, grant.scopes)
        return None

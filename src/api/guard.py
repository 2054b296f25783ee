"""What the api reads off a request besides its route: the app's own base URL, whether it came over HTTPS, the
session cookie, and the checks every write passes first (cross-site, content type).

How HTTPS is told apart: API Gateway always sets `x-forwarded-proto: https`; the offline gateway
(local/stack/httpapi.py) sets `x-forwarded-proto: http` and gives no other sign, so that header decides. A
request without it is taken as HTTPS (the safe side: the cookie gets `Secure`). `Settings.app_url`, when set
(a custom domain in front of API Gateway), decides both the scheme and the base instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from shared.errors import CrossSite, UnsupportedMediaType

SESSION_COOKIE = "rl_session"
SECURE_SESSION_COOKIE = "__Host-rl_session"
LOGIN_COOKIE = "rl_login"
CALLBACK_PATH = "auth/x/callback"
LOGIN_PATH = "auth/x/login"
MAX_NEXT_LENGTH = 512


@dataclass(frozen=True)
class Origin:
    """Where the app lives for this request: `base` is its URL ending in `/` (with the stage on AWS)."""

    base: str

    @property
    def https(self) -> bool:
        return self.base.startswith("https://")

    @property
    def path(self) -> str:
        """The app's path: `/` locally, `/{stage}/` on AWS; the start page, and the session cookie's path."""
        return urlsplit(self.base).path or "/"

    @property
    def site(self) -> str:
        """scheme://host[:port], as a browser's Origin header names it."""
        parts = urlsplit(self.base)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def redirect_uri(self) -> str:
        return self.base + CALLBACK_PATH


def origin_of(event: APIGatewayProxyEventV2, app_url: str | None) -> Origin:
    if app_url:
        return Origin(app_url)
    headers = event.headers or {}
    scheme = "http" if headers.get("x-forwarded-proto", "https").lower() == "http" else "https"
    stage = event.request_context.stage or "$default"
    if stage == "$default":
        # The offline gateway's domainName drops the port; its host header keeps it.
        host = headers.get("host") or event.request_context.domain_name
        return Origin(f"{scheme}://{host}/")
    return Origin(f"{scheme}://{event.request_context.domain_name}/{stage}/")


def cookie(event: APIGatewayProxyEventV2, name: str) -> str | None:
    """A request cookie's value (payload 2.0 puts them in `cookies`, one `name=value` each)."""
    for raw in event.cookies or []:
        key, _, value = raw.partition("=")
        if key.strip() == name:
            return value.strip()
    return None


def session_cookie_name(origin: Origin) -> str:
    return SECURE_SESSION_COOKIE if origin.https else SESSION_COOKIE


def session_cookie(origin: Origin, value: str, max_age: int) -> Cookie:
    """`__Host-rl_session` (Secure, Path=/) over HTTPS; `rl_session` at the app's path over plain http, where a
    Secure cookie would never come back."""
    name, path = (SECURE_SESSION_COOKIE, "/") if origin.https else (SESSION_COOKIE, origin.path)
    return Cookie(
        name, value, path=path, secure=origin.https, http_only=True, max_age=max_age, same_site=SameSite.LAX_MODE
    )


def login_cookie(origin: Origin, value: str, max_age: int) -> Cookie:
    """The short-lived cookie that binds a pending login to the browser that started it (sent to the callback
    only)."""
    return Cookie(
        LOGIN_COOKIE,
        value,
        path=origin.path + CALLBACK_PATH,
        secure=origin.https,
        http_only=True,
        max_age=max_age,
        same_site=SameSite.LAX_MODE,
    )


def safe_next(raw: str | None, origin: Origin) -> str:
    """`next` if it is a path of this app (under its stage prefix), else the start page.

    Refused: anything with a scheme or a host (`https://evil.example`, `//evil.example`), a backslash (browsers
    read `/\\evil.example` as `//evil.example`), control characters, and any of these percent-encoded once
    (`/%2F%2Fevil`), since something on the way may decode it."""
    start = origin.path
    if not raw or len(raw) > MAX_NEXT_LENGTH:
        return start
    for candidate in (raw, unquote(raw)):
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in candidate) or "\\" in candidate:
            return start
        if not candidate.startswith(start) or candidate.startswith("//"):
            return start
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return start
    return raw


def check_write(event: APIGatewayProxyEventV2, origin: Origin, *, needs_json: bool = True) -> None:
    """A state-changing request from another site is refused (403 cross_site): its `Origin` is not this app's,
    or the browser says `Sec-Fetch-Site: cross-site`. Then a body that is not JSON (415)."""
    headers = event.headers or {}
    if headers.get("sec-fetch-site", "").lower() == "cross-site":
        raise CrossSite("requests from other sites may not change anything here")
    sent = headers.get("origin")
    if sent is not None and sent.rstrip("/").lower() not in _own_sites(event, origin):
        raise CrossSite("requests from other sites may not change anything here")
    if needs_json and (event.body or ""):
        kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind != "application/json":
            raise UnsupportedMediaType("send the body as application/json")


def _own_sites(event: APIGatewayProxyEventV2, origin: Origin) -> set[str]:
    """The request's own origin (scheme and the host it was sent to) and the app's configured one."""
    headers = event.headers or {}
    scheme = "http" if headers.get("x-forwarded-proto", "https").lower() == "http" else "https"
    host = headers.get("host") or event.request_context.domain_name
    return {origin.site.lower(), f"{scheme}://{host}".lower()}

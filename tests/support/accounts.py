"""Connect a demo account of the simulated X the way a person does: the app's login, the simulator's consent form
(fetched and posted over HTTP, as a browser would), then the app's callback. Returns the session cookie.

Two drivers share the consent step:
- `ApiClient` invokes the api handler in-process with payload 2.0 events, keeping cookies as a browser would
  (integration tests); `Site` says whether it looks like AWS (https, a stage) or the offline gateway (http).
- `connect_over_http` talks to a running app over HTTP (`make dev`'s stack, e2e tests, bench) with a
  `requests.Session` as the cookie jar.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import requests

from tests.support.events import load_event

SESSION_COOKIES = ("rl_session", "__Host-rl_session")
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


# --- the consent step ------------------------------------------------------------------------------------


class _ConsentForm(HTMLParser):
    """The simulator's consent page: its form's action and hidden fields, and the accounts one can pick."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.accounts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a.get("action", "")
        elif tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("type") == "radio" and a.get("name") == "username":
            self.accounts.append(a.get("value", ""))


def consent(authorize_url: str, username: str = "demo", decision: str = "approve") -> str:
    """Open X's consent page at `authorize_url`, pick `username`, press approve (or deny); returns where X sends
    the browser back (the app's callback URL with `code` and `state`, or `error`)."""
    page = requests.get(authorize_url, timeout=10)
    if page.status_code != 200:
        raise AssertionError(f"the consent page answered HTTP {page.status_code}: {page.text[:200]}")
    form = _ConsentForm()
    form.feed(page.text)
    if username not in form.accounts:
        raise AssertionError(f"@{username} is not offered on the consent page ({form.accounts})")
    answer = requests.post(
        urljoin(authorize_url, form.action),
        data={**form.fields, "username": username, "decision": decision},
        allow_redirects=False,
        timeout=10,
    )
    if answer.status_code != 302:
        raise AssertionError(f"the consent form answered HTTP {answer.status_code}")
    return str(answer.headers["location"])


# --- an app over HTTP (make dev, e2e, bench) --------------------------------------------------------------


def connect_over_http(
    app_base: str, http: requests.Session | None = None, username: str = "demo", next_path: str | None = None
) -> str:
    """Connect `username` to the app at `app_base` (its URL ending in /) with `http` as the browser's cookie
    jar; returns the session cookie's value (the jar keeps it too)."""
    http = http or requests.Session()
    query = f"?{urlencode({'next': next_path})}" if next_path else ""
    login = http.get(app_base + "auth/x/login" + query, allow_redirects=False, timeout=10)
    if login.status_code != 302:
        raise AssertionError(f"login answered HTTP {login.status_code}")
    back = consent(login.headers["location"], username)
    done = http.get(back, allow_redirects=False, timeout=10)
    if done.status_code != 302:
        raise AssertionError(f"the callback answered HTTP {done.status_code}: {done.text[:300]}")
    for name in SESSION_COOKIES:
        value = http.cookies.get(name)
        if value:
            return str(value)
    raise AssertionError("the callback set no session cookie")


# --- the api handler in-process ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """Where the app seems to be served: AWS (https, a stage prefix) or the offline gateway (http, `$default`).
    `localhost` and `127.0.0.1` because the simulator accepts only loopback redirect URIs."""

    scheme: str
    host: str
    stage: str

    @property
    def prefix(self) -> str:
        return "" if self.stage == "$default" else f"/{self.stage}"

    @property
    def base(self) -> str:
        return f"{self.scheme}://{self.host}{self.prefix}/"

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}"


AWS = Site("https", "localhost", "prod")
LOCAL = Site("http", "127.0.0.1:3000", "$default")


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    set_cookies: list[str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)

    def cookie(self, name: str) -> str | None:
        """The Set-Cookie line for `name`, whole (with its attributes)."""
        return next((c for c in self.set_cookies if c.split("=", 1)[0] == name), None)


@dataclass
class ApiClient:
    """A browser in front of the api handler: events shaped as API Gateway sends them, cookies kept by name."""

    handler: Handler
    site: Site = LOCAL
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        body: Any = None,
        headers: dict[str, str] | None = None,
        send_cookies: bool = True,
    ) -> ApiResponse:
        """`path` is the app's own (`/api/me`); the site's stage prefix is added. A dict or list body is sent as
        JSON (with its content type, and this site as Origin, as a browser's fetch does)."""
        event = self.event(method, path, query=query, headers=headers, send_cookies=send_cookies)
        if body is not None:
            raw = body if isinstance(body, str) else json.dumps(body)
            if not isinstance(body, str):
                event["headers"].setdefault("content-type", "application/json")
            event["body"] = raw
            event["headers"]["content-length"] = str(len(raw.encode()))
        if method != "GET":
            event["headers"].setdefault("origin", self.site.origin)
        from local.context import LocalLambdaContext  # noqa: PLC0415 - only where the handler runs in-process

        result = self.handler(event, LocalLambdaContext("random-likes-ApiFunction", 10))
        response = ApiResponse(
            status=int(result["statusCode"]),
            headers={k.lower(): v for k, v in (result.get("headers") or {}).items()},
            set_cookies=list(result.get("cookies") or []),
            body=result.get("body") or "",
        )
        self._keep(response.set_cookies)
        return response

    def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("GET", path, **kwargs)

    def event(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        headers: dict[str, str] | None = None,
        send_cookies: bool = True,
    ) -> dict[str, Any]:
        event = copy.deepcopy(load_event("api-page"))
        raw_path = self.site.prefix + path
        event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
        event["rawPath"] = event["requestContext"]["http"]["path"] = raw_path
        event["requestContext"]["http"]["method"] = method
        event["requestContext"]["stage"] = self.site.stage
        event["requestContext"]["domainName"] = self.site.host.split(":", 1)[0]
        event["requestContext"]["domainPrefix"] = self.site.host.split(".", 1)[0]
        event["headers"].update(
            {
                "host": self.site.host,
                "x-forwarded-proto": self.site.scheme,
                "x-forwarded-port": "443" if self.site.scheme == "https" else self.site.host.rsplit(":", 1)[-1],
                "accept": "text/html,application/json",
            }
        )
        event["headers"].update({k.lower(): v for k, v in (headers or {}).items()})
        event["rawQueryString"] = query
        if query:
            event["queryStringParameters"] = dict(parse_qsl(query, keep_blank_values=True))
        if send_cookies and self.cookies:
            event["cookies"] = [f"{k}={v}" for k, v in self.cookies.items()]
        return event

    def _keep(self, set_cookies: list[str]) -> None:
        for line in set_cookies:
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in line or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    # --- Connect with X ---------------------------------------------------------------------------------

    def start_login(self, next_path: str | None = None) -> str:
        """`GET /auth/x/login`: returns X's authorize URL (the binding cookie is kept)."""
        response = self.get("/auth/x/login", query=urlencode({"next": next_path}) if next_path is not None else "")
        if response.status != 302:
            raise AssertionError(f"login answered HTTP {response.status}: {response.body[:200]}")
        return response.headers["location"]

    def callback(self, location: str) -> ApiResponse:
        """Follow X's redirect back to the app (`location` is the redirect URI with its query)."""
        parts = urlsplit(location)
        if not location.startswith(self.site.base):
            raise AssertionError(f"X sent the browser to {location!r}, not to this app ({self.site.base})")
        return self.get(parts.path.removeprefix(self.site.prefix), query=parts.query)

    def connect(self, username: str = "demo", next_path: str | None = None) -> str:
        """Connect `username` through the consent form; returns the session id (the client keeps its cookie)."""
        done = self.callback(consent(self.start_login(next_path), username))
        if done.status != 302:
            raise AssertionError(f"the callback answered HTTP {done.status}: {done.body[:300]}")
        return self.session_id()

    def session_id(self) -> str:
        for name in SESSION_COOKIES:
            if name in self.cookies:
                return self.cookies[name]
        raise AssertionError("no session cookie")


def signed_in(handler: Handler, username: str = "demo") -> ApiClient:
    """A browser in front of `handler` that connected `username` through the consent form."""
    browser = ApiClient(handler, LOCAL)
    browser.connect(username)
    return browser

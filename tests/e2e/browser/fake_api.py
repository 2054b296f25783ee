"""The page against an API of our own making, in Chromium: every account state on demand, no stack.

`FakeApi` keeps subscriptions and answers the page's requests as the accounts contract says (DESIGN.md,
"Contracts"): a private subscription answers its owner only and everyone else exactly as an unknown name;
writes are the owner's. Each browser context is one person (`viewer`: the account they connected, or None).
The page's own files are served as the api function serves them (same CSP). The real stack's flow is
test_accounts_flow.py; this is for the states that are slow or awkward to reach there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.e2e.browser.conftest import MODULE_ORIGIN, serve_web
from tests.e2e.browser.watched import PAGE_OPTIONS, Watched, watch

ORIGIN = MODULE_ORIGIN
NAMES = {"demo": ("Demo Person", "1000000000000000001"), "bigfan": ("Big Fan", "1000000000000000002")}


def post(n: int, username: str = "author") -> dict[str, Any]:
    return {
        "id": str(1_900_000_000_000_000_000 + n),
        "text": f"Liked post number {n}, with plain words.",
        "url": f"https://x.com/{username}/status/{1_900_000_000_000_000_000 + n}",
        "created_at": "2026-01-02T03:04:05.000Z",
        "lang": "en",
        "author": {"id": "7", "username": username, "name": "An Author", "verified": False},
        "links": [],
        "media": [],
    }


@dataclass
class Sub:
    username: str
    status: str = "ready"
    like_count: int = 12
    visibility: str = "private"
    history_complete: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "status": self.status,
            "like_count": self.like_count,
            "visibility": self.visibility,
            "history_complete": self.history_complete,
            "last_sync_at": "2026-01-02T03:04:05+00:00",
            "next_sync_at": "2026-01-02T04:04:05+00:00",
        }


@dataclass
class FakeApi:
    subs: dict[str, Sub] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)  # "METHOD /path" of every API request, in order
    ended: set[str] = field(default_factory=set)  # viewers whose session ended (sign out, disconnect)

    def answer(self, viewer: str | None, method: str, path: str, body: str | None) -> tuple[int, Any]:
        self.calls.append(f"{method} {path}")
        if viewer in self.ended:
            viewer = None
        if path == "/api/me":
            return self._me(viewer)
        if path == "/auth/logout" and method == "POST":
            if viewer is not None:
                self.ended.add(viewer)
            return 204, None
        parts = path.split("/")  # ["", "api", "subscriptions", name, ...]
        if len(parts) < 4 or parts[1:3] != ["api", "subscriptions"]:
            return 404, {"error": {"code": "not_found", "message": "no such route"}}
        return self._subscription(viewer, method, unquote(parts[3]).lower(), parts[4:], body)

    def _me(self, viewer: str | None) -> tuple[int, Any]:
        if viewer is None:
            return 401, {"error": {"code": "not_signed_in", "message": "connect with X first"}}
        name, user_id = NAMES[viewer]
        sub = self.subs.get(viewer)
        return 200, {
            "username": viewer,
            "x_user_id": user_id,
            "name": name,
            "profile_image_url": f"{ORIGIN}/assets/icon.svg",
            "subscription": sub.as_json() if sub else None,
        }

    def _subscription(
        self, viewer: str | None, method: str, name: str, rest: list[str], body: str | None
    ) -> tuple[int, Any]:
        """The contract's order: no session for a write, unknown or someone else's private, not the owner."""
        sub = self.subs.get(name)
        own = viewer is not None and viewer == name
        refused = self._refused(method, name, sub, signed_in=viewer is not None, own=own)
        if refused is not None:
            return refused
        assert sub is not None
        if method == "PATCH":
            sub.visibility = json.loads(body or "{}")["visibility"]
        elif method == "DELETE":
            del self.subs[name]
            self.ended.add(name)
            return 204, None
        elif rest == ["likes", "random"]:
            if sub.like_count == 0:
                error = {"code": "nothing_stored_yet", "message": "no likes stored yet", "status": sub.status}
                return 409, {"error": error}
            return 200, {"username": name, "like_count": sub.like_count, "post": post(1 + len(self.calls) % 50)}
        return 200, sub.as_json()

    @staticmethod
    def _refused(method: str, name: str, sub: Sub | None, *, signed_in: bool, own: bool) -> tuple[int, Any] | None:
        if method != "GET" and not signed_in:
            return 401, {"error": {"code": "not_signed_in", "message": "connect with X first"}}
        if sub is None or (sub.visibility == "private" and not own):
            return 404, {"error": {"code": "not_subscribed", "message": f"@{name} is not subscribed"}}
        if method != "GET" and not own:
            return 403, {"error": {"code": "forbidden", "message": "only its owner may change it"}}
        return None


@contextmanager
def person(browser: Any, api: FakeApi, viewer: str | None, **options: Any) -> Iterator[Watched]:
    """A browser context of its own (cookies, storage) for one person, on the fake app."""
    context = browser.new_context(**{**PAGE_OPTIONS, **options})

    def route(route: Any) -> None:
        request = route.request
        url = urlsplit(request.url)
        if url.path.startswith(("/api/", "/auth/logout")) and url.path != "/api/openapi.json":
            status, data = api.answer(viewer, request.method, url.path, request.post_data)
            body = "" if data is None else json.dumps(data)
            route.fulfill(status=status, headers={"content-type": "application/json"}, body=body)
        elif url.path == "/auth/x/login":
            api.calls.append(f"GET /auth/x/login?next={parse_qs(url.query).get('next', [''])[0]}")
            route.fulfill(status=200, headers={"content-type": "text/plain"}, body="X's consent page")
        else:
            serve_web(route)

    context.route(f"{ORIGIN}/**", route)
    try:
        yield watch(context.new_page(), ORIGIN)
    finally:
        context.close()

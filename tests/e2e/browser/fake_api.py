"""The page against an API of our own making, in Chromium: every account state on demand, no stack.

`FakeApi` keeps subscriptions and answers the page's requests as the accounts contract says (DESIGN.md,
"Contracts"): a private subscription answers its owner only and everyone else exactly as an unknown name;
writes are the owner's. Each browser context is one person (`viewer`: the account they connected, or None).
The page's own files are served as the api function serves them (same CSP). The real stack's flow is
test_accounts_flow.py; this is for the states that are slow or awkward to reach there.

Archive imports: `POST .../imports` answers a presigned POST to UPLOAD_PATH (S3 stands there: it keeps each
multipart upload, fields and file, in `uploads`); `GET .../imports/{id}` answers the next state of `import_states`
once the upload has arrived (the last one stays). `import_running` makes the POST answer 409.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.e2e.browser.conftest import MODULE_ORIGIN, serve_web
from tests.e2e.browser.watched import PAGE_OPTIONS, Watched, watch

ORIGIN = MODULE_ORIGIN
# Where the fake presigned POST goes. Same origin as the page: the page's CSP (connect-src) is the api's to
# widen for the real bucket; the flow against the stack's S3 is test_archive_import_flow.py.
UPLOAD_PATH = "/_s3/imports"
SIGNATURE = "xsim-signature-never-to-be-shown"  # a presigned field's value the page must never show
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


def archive_post(n: int) -> dict[str, Any]:
    """A like from the X archive as a pick gives it: no author, no media, the date derived from the id."""
    post_id = str(1_900_000_000_000_000_000 + n)
    return {
        "id": post_id,
        "text": f"Archived like {n}: read https://t.co/arch{n} later",
        "url": f"https://x.com/i/status/{post_id}",
        "created_at": "2025-03-01T12:00:00.000Z",
        "author": None,
        "links": [
            {"url": f"https://t.co/arch{n}", "expanded_url": f"https://example.com/article/{n}",
             "display_url": f"example.com/article/{n}"},
        ],
        "media": [],
    }  # fmt: skip


@dataclass
class Sub:
    username: str
    status: str = "ready"
    like_count: int = 12
    visibility: str = "private"
    history_complete: bool = True
    sync_paused: dict[str, str] | None = None  # {"until", "reason"}: syncing is paused for everyone

    def as_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "status": self.status,
            "like_count": self.like_count,
            "visibility": self.visibility,
            "history_complete": self.history_complete,
            "last_sync_at": "2026-01-02T03:04:05+00:00",
            "next_sync_at": "2026-01-02T04:04:05+00:00",
            "sync_paused": self.sync_paused,
        }


@dataclass
class Upload:
    """One multipart POST as S3 received it: the form's fields in order, the file part's bytes and type."""

    field_names: list[str]
    fields: dict[str, str]
    file: bytes
    file_type: str


def parse_multipart(content_type: str, body: bytes) -> Upload:
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    assert boundary is not None, content_type
    names: list[str] = []
    fields: dict[str, str] = {}
    file, file_type = b"", ""
    for part in body.split(b"--" + boundary.group(1).encode())[1:-1]:
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers = head.decode("utf-8")
        name = re.search(r'name="([^"]*)"', headers)
        assert name is not None, headers
        names.append(name.group(1))
        if 'filename="' in headers:
            file = data
            found = re.search(r"(?im)^content-type:\s*(\S+)", headers)
            file_type = found.group(1) if found else ""
        else:
            fields[name.group(1)] = data.decode("utf-8")
    return Upload(field_names=names, fields=fields, file=file, file_type=file_type)


def import_state(status: str, **counts: Any) -> dict[str, Any]:
    """An import's status as GET .../imports/{id} answers it."""
    base: dict[str, Any] = {
        "status": status,
        "likes_found": 0,
        "likes_stored": 0,
        "likes_already_stored": 0,
        "likes_processed": 0,
        "validated": False,
        "error": None,
    }
    return {**base, **counts}


@dataclass
class FakeApi:
    subs: dict[str, Sub] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)  # "METHOD /path" of every API request, in order
    ended: set[str] = field(default_factory=set)  # viewers whose session ended (sign out, disconnect)
    import_states: list[dict[str, Any]] = field(default_factory=list)
    import_running: bool = False
    running_import_id: str | None = None  # the 409's error.import.id, for the page to follow
    uploads: list[Upload] = field(default_factory=list)
    upload_status: int = 204  # S3's answer to the upload (403: the policy expired or was broken)
    imports_started: int = 0
    archive_picks: bool = False  # picks answer archive likes (no author, no media, liked.source archive)

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
            return self._pick(sub)
        elif rest and rest[0] == "imports":
            return self._import(name, method, rest[1:])
        return 200, sub.as_json()

    def _pick(self, sub: Sub) -> tuple[int, Any]:
        if sub.like_count == 0:
            error = {"code": "nothing_stored_yet", "message": "no likes stored yet", "status": sub.status}
            return 409, {"error": error}
        n = 1 + len(self.calls) % 50
        pick = {"username": sub.username, "like_count": sub.like_count, "post": post(n)}
        if self.archive_picks:
            pick["post"] = archive_post(n)
            pick["liked"] = {"source": "archive", "first_seen_at": "2026-01-02T03:04:05+00:00"}
        return 200, pick

    def _import(self, name: str, method: str, rest: list[str]) -> tuple[int, Any]:
        if method == "POST" and not rest:
            if self.import_running:
                error: dict[str, Any] = {"code": "import_running", "message": "an import of these likes is running"}
                if self.running_import_id:
                    error["import"] = {"id": self.running_import_id, **import_state("importing")}
                return 409, {"error": error}
            self.imports_started += 1
            import_id = f"imp{self.imports_started:013d}abcdef"
            fields = {
                "key": f"uploads/{name}/{import_id}.tar.gz",
                "Content-Type": "application/gzip",
                "policy": "eyJjb25kaXRpb25zIjpbXX0=",
                "x-amz-signature": SIGNATURE,
            }
            upload = {"url": f"{ORIGIN}{UPLOAD_PATH}", "fields": fields}
            return 201, {"id": import_id, "upload": upload, **import_state("waiting_for_upload")}
        if method == "GET" and len(rest) == 1:
            if not self.uploads and rest[0] != self.running_import_id:
                return 200, {"id": rest[0], **import_state("waiting_for_upload")}
            state = self.import_states.pop(0) if len(self.import_states) > 1 else self.import_states[0]
            if state["status"] == "done":
                self.subs[name].like_count += int(state["likes_stored"])
            return 200, {"id": rest[0], **state}
        return 404, {"error": {"code": "not_found", "message": "no such route"}}

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
        elif url.path == UPLOAD_PATH and request.method == "POST":
            content_type = request.headers.get("content-type", "")
            if api.upload_status == 204:
                api.uploads.append(parse_multipart(content_type, request.post_data_buffer or b""))
                route.fulfill(status=204, body="")
            else:
                refused = "<Error><Code>AccessDenied</Code><Message>Invalid according to Policy</Message></Error>"
                route.fulfill(status=api.upload_status, headers={"content-type": "application/xml"}, body=refused)
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

"""The page's static files and the OpenAPI document, served by the api function from the package itself.

Same origin as the API: no CORS, and no URL for a deployer to edit into JavaScript.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from shared.errors import DomainError

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
OPENAPI_PATH = Path(__file__).resolve().parent / "openapi.json"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
}
# Post text and links are untrusted: the page never needs inline script, eval or a foreign script.
# Images may come from X's media host over https (avatars, thumbnails); nothing else leaves the origin but the
# archive upload, which `connect-src` allows to the imports bucket's origin and nowhere else.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?")


def csp(upload_origin: str | None = None) -> str:
    """The page's policy; with `upload_origin` (the presigned POST's scheme://host[:port]) connect-src allows it."""
    if not upload_origin or not _ORIGIN.fullmatch(upload_origin):
        return CSP
    return CSP.replace("connect-src 'self';", f"connect-src 'self' {upload_origin};", 1)


class AssetNotFound(DomainError):
    code = "not_found"


@dataclass(frozen=True)
class Asset:
    name: str
    body: str
    content_type: str

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body.encode("utf-8")).hexdigest()[:20] + '"'


@cache
def _assets() -> dict[str, Path]:
    """The allowlist of servable files, by name: a request can only ever name one of these."""
    files = {"index.html": WEB_ROOT / "index.html"}
    assets_dir = WEB_ROOT / "assets"
    if assets_dir.is_dir():
        files.update({p.name: p for p in assets_dir.iterdir() if p.is_file() and p.suffix in CONTENT_TYPES})
    return files


@cache
def asset(name: str) -> Asset:
    path = _assets().get(name)
    if path is None or not path.is_file():
        raise AssetNotFound(f"no such file: {name[:40]}")
    return Asset(name=name, body=path.read_text(encoding="utf-8"), content_type=CONTENT_TYPES[path.suffix])


def page_headers(item: Asset, upload_origin: str | None = None) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp(upload_origin),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        # No build step means no hashed file names: every file is revalidated (a 304 when unchanged), so a
        # deploy never serves a new page with a stale script.
        "Cache-Control": "no-cache",
        "ETag": item.etag,
    }


def error_page_headers() -> dict[str, str]:
    """A page made per request (a sign-in that failed): the page's protections, never cached."""
    return {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
    }


def not_modified(item: Asset, if_none_match: str | None) -> bool:
    return bool(if_none_match) and item.etag in {tag.strip() for tag in (if_none_match or "").split(",")}


@cache
def openapi_document() -> str:
    return OPENAPI_PATH.read_text(encoding="utf-8")

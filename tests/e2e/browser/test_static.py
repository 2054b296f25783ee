"""What can be checked on the page's files without a browser: no HTML sinks, no inline code, relative URLs only.

The CSP (script-src 'self', style-src 'self') would block inline script and style attributes anyway; these
tests say so before a deploy does, and keep every URL relative so a stage prefix (…/prod/) just works.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from api import web

ASSETS = web.WEB_ROOT / "assets"
SCRIPTS = sorted(ASSETS.glob("*.js"))
# Every way a string becomes markup or code in a browser.
SINKS = re.compile(
    r"\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\s*\(|new\s+Function\b|"
    r"createContextualFragment|DOMParser|srcdoc|setHTMLUnsafe|\.on[a-z]+\s*=[^=]"
)
IMPORT = re.compile(r"""^import\s.*?from\s+["']([^"']+)["'];?$""", re.MULTILINE)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_script = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_script = True


def _index() -> _Tags:
    parser = _Tags()
    parser.feed((web.WEB_ROOT / "index.html").read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_no_script_turns_a_string_into_markup_or_code(script: Path) -> None:
    source = script.read_text(encoding="utf-8")

    assert not SINKS.findall(source)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_modules_import_only_their_siblings(script: Path) -> None:
    imports = IMPORT.findall(script.read_text(encoding="utf-8"))

    # (a module that imports nothing passes: the list below is empty)
    assert [t for t in imports if not (t.startswith("./") and (ASSETS / t.removeprefix("./")).is_file())] == []


def test_the_page_has_no_inline_script_style_or_event_handler() -> None:
    page = _index()

    assert not page.inline_script
    assert all(tag != "style" for tag, _ in page.tags)
    for tag, attrs in page.tags:
        assert "style" not in attrs, tag
        assert not [name for name in attrs if name.startswith("on")], tag


def test_every_url_in_the_page_is_relative_and_served() -> None:
    urls = [
        value
        for _, attrs in _index().tags
        for name, value in attrs.items()
        if name in ("href", "src") and value is not None
    ]

    assert urls
    for url in urls:
        assert not re.match(r"^([a-z]+:|/)", url), f"{url} is not relative: the page lives under a stage prefix"
        name = "index.html" if url in ("", "./") else url.removeprefix("assets/")
        if url.startswith("assets/"):
            assert web.asset(name).body, url


def test_api_calls_are_relative() -> None:
    source = (ASSETS / "api.js").read_text(encoding="utf-8")

    assert re.findall(r"`api/subscriptions|\"api/subscriptions", source)
    assert not re.findall(r"[\"'`]/api|https?://", source)


# The archive import is the owner's only: account.js imports these on demand, the first time an owner shows up.
ON_DEMAND = {"import.js", "archive.js"}


def test_the_page_stays_small() -> None:
    # No build step means no minifier: keep the files small by hand. Each request is one small file.
    files = [web.WEB_ROOT / "index.html", *sorted(p for p in ASSETS.iterdir() if p.is_file())]
    sizes = {p.name: p.stat().st_size for p in files}
    every_visit = {name: size for name, size in sizes.items() if name not in ON_DEMAND}

    assert max(sizes.values()) < 16_000, sizes
    assert sum(every_visit.values()) < 72_000, every_visit
    assert sum(sizes[name] for name in ON_DEMAND) < 32_000, sizes


def test_the_import_modules_load_only_on_demand() -> None:
    # Nothing every visit loads names them statically: no preload, no static import outside their own pair
    preloaded = {attrs.get("href") for tag, attrs in _index().tags if tag == "link"}
    assert not {f"assets/{name}" for name in ON_DEMAND} & preloaded
    for script in SCRIPTS:
        if script.name in ON_DEMAND:
            continue
        assert not {t.removeprefix("./") for t in IMPORT.findall(script.read_text(encoding="utf-8"))} & ON_DEMAND

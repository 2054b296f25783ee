"""Browser fixtures: Debian's Chromium driven by Playwright, never a downloaded browser.

Chromium missing skips these tests on a laptop, and fails them where RANDOM_LIKES_REQUIRE_BROWSER is set
(`.ci/run` sets it): CI must never pass by skipping the browser.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright

from api import web
from tests.e2e.browser.chromium import CHROMIUM, launch
from tests.e2e.browser.stack import RunningStack, running_stack

# A made-up origin for tests of the page's modules alone: Playwright answers it from src/web, no server.
MODULE_ORIGIN = "http://random-likes.test"
BLANK_PATH = "/assets/blank-for-tests"  # an HTML document under the same CSP that runs nothing of its own


def _unavailable(reason: str) -> None:
    if os.environ.get("RANDOM_LIKES_REQUIRE_BROWSER"):
        pytest.fail(f"{reason}, and RANDOM_LIKES_REQUIRE_BROWSER is set: the browser tests must run here")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


def serve_web(route: Any) -> None:
    """Answer a request to MODULE_ORIGIN as the api function would: same files, same headers (CSP included)."""
    path = route.request.url.removeprefix(MODULE_ORIGIN).split("?", 1)[0]
    if path == BLANK_PATH:
        headers = {**web.page_headers(web.asset("index.html")), "content-type": "text/html; charset=utf-8"}
        route.fulfill(status=200, headers=headers, body="<!doctype html><html lang=en><title>modules</title></html>")
        return
    name = "index.html" if path in ("", "/") else path.removeprefix("/assets/")
    try:
        item = web.asset(name)
    except web.AssetNotFound:
        route.fulfill(status=404, body="")
        return
    headers = {**web.page_headers(item), "content-type": item.content_type}
    route.fulfill(status=200, headers=headers, body=item.body)


@contextmanager
def module_context(browser: Any, **options: Any) -> Iterator[Any]:
    """A page on a document of the page's origin that runs nothing, for importing its modules in evaluate."""
    context = browser.new_context(**options)
    context.route(f"{MODULE_ORIGIN}/**", serve_web)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{MODULE_ORIGIN}{BLANK_PATH}")
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors


@pytest.fixture(scope="module")
def module_page(browser: Any) -> Iterator[Any]:
    """One page per test module: the modules under test are pure, so tests cannot disturb each other."""
    with module_context(browser) as page:
        yield page


# --- the page on the running stack ----------------------------------------------------------------------

# Chromium logs every non-2xx fetch as a console error. These two are answers the page asks for and handles
# (not subscribed; subscribed but nothing stored yet), so they are not errors of the page.
EXPECTED_API_ANSWER = re.compile(r"Failed to load resource: the server responded with a status of (404|409)")


@dataclass
class Watched:
    """A page with everything it did recorded: requests, console errors, uncaught errors, dialogs."""

    page: Any
    origin: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        def origin(url: str) -> str:
            parts = urlsplit(url)
            return f"{parts.scheme}://{parts.netloc}"

        return [url for url in self.requests if origin(url) != self.origin]

    def unexpected_console_errors(self) -> list[tuple[str, str]]:
        return [
            (text, url)
            for text, url in self.console_errors
            if not (EXPECTED_API_ANSWER.search(text) and "/api/subscriptions/" in url)
        ]

    def view(self) -> str:
        view: str = self.page.evaluate("document.body.dataset.view")
        return view

    def wait_for_view(self, view: str, timeout: float = 30_000) -> None:
        self.page.wait_for_selector(f"body[data-view={view}]", timeout=timeout)

    def card_id(self) -> str:
        post_id: str = self.page.get_attribute("#card-slot article.card", "data-post-id")
        return post_id

    def cards_shown(self) -> int:
        count: int = self.page.evaluate("performance.getEntriesByName('random-likes:card', 'mark').length")
        return count

    def another(self, *, key: str | None = None) -> str:
        """Ask for another card (button, or a key) and wait until it is rendered; returns its post id."""
        before = self.cards_shown()
        if key:
            self.page.keyboard.press(key)
        else:
            self.page.click("#another")
        self.page.wait_for_function(
            "n => performance.getEntriesByName('random-likes:card', 'mark').length > n", arg=before
        )
        return self.card_id()

    def show_draw(self, stack: RunningStack, username: str, deck: int, draw: int, like_count: int) -> str:
        """Open the page on card `draw` of `deck`, by seeding the page's own deck state in sessionStorage."""
        self.page.goto(stack.url)
        self.page.evaluate(
            "([key, state]) => sessionStorage.setItem(key, JSON.stringify(state))",
            [f"random-likes:deck:{username}", {"deck": deck, "draw": draw, "count": like_count, "last": None}],
        )
        self.page.goto(f"{stack.url}?u={username}")
        self.wait_for_view("card")
        return self.card_id()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """One offline stack per test module (`python -m local.dev` on free ports, a fresh data directory)."""
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture
def open_page(browser: Any, stack: RunningStack) -> Iterator[Callable[..., Watched]]:
    """Open watched pages on the stack (or `on=` another): `open_page(viewport=..., color_scheme=...)`."""
    contexts: list[Any] = []

    def open_(on: RunningStack | None = None, **options: Any) -> Watched:
        target = on or stack
        context = browser.new_context(
            **{"viewport": {"width": 1280, "height": 800}, "locale": "en-GB", "timezone_id": "Europe/Berlin", **options}
        )
        contexts.append(context)
        page = context.new_page()
        watched = Watched(page=page, origin=target.origin)
        page.on("request", lambda request: watched.requests.append(request.url))
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and watched.console_errors.append((message.text, message.location.get("url", "")))
            ),
        )
        page.on("pageerror", lambda exc: watched.page_errors.append(str(exc)))

        def on_dialog(dialog: Any) -> None:
            watched.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return watched

    yield open_
    for context in contexts:
        context.close()

"""Browser fixtures: Debian's Chromium driven by Playwright, never a downloaded browser.

Chromium missing skips these tests on a laptop, and fails them where RANDOM_LIKES_REQUIRE_BROWSER is set
(`.ci/run` sets it): CI must never pass by skipping the browser.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from api import web
from tests.e2e.browser.chromium import CHROMIUM, launch
from tests.e2e.browser.stack import RunningStack, running_stack
from tests.e2e.browser.watched import PAGE_OPTIONS, Watched, watch

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
        context = browser.new_context(**{**PAGE_OPTIONS, **options})
        contexts.append(context)
        return watch(context.new_page(), target.origin)

    yield open_
    for context in contexts:
        context.close()

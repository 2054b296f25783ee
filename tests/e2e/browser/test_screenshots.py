"""A tour of the page's states on the running stack, photographed into docs/screenshots/ for the README.

Every state here is real: the sync is slowed with the simulator's latency fault (so "waiting for the first
sync" stays on screen), the read budget is made small with a template parameter (so the sync stops at
"today's X read budget is spent" with likes to show), bigfan's likes are private to the stack's credentials.
Only the loading and error shots hold or fail requests in the browser, as a slow or broken network would.
File names are fixed: <state>-<desktop|phone>[-dark].png.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser.conftest import Watched
from tests.e2e.browser.stack import RunningStack, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
READ_BUDGET = 150  # posts: one page of 100, one of 50, then "spent" until midnight UTC
SYNC_LATENCY_MS = 6000


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """This module's own stack: a small daily read budget, so demo's sync stops part way, for good."""
    with running_stack(
        tmp_path_factory.mktemp("stack"), "--parameter-overrides", f"XDailyReadBudget={READ_BUDGET}"
    ) as running:
        yield running


def x_faults(stack: RunningStack, method: str, body: dict[str, Any] | None = None) -> None:
    """The simulator's management API: faults on demand (latency here)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{stack.x_url}/_sim/faults", data=data, method=method)
    request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def shoot(watched: Watched, name: str, *, dark: bool = False) -> None:
    page = watched.page
    page.emulate_media(color_scheme="dark" if dark else "light")
    for label, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        page.wait_for_timeout(50)
        suffix = "-dark" if dark else ""
        page.screenshot(path=SHOTS / f"{name}-{label}{suffix}.png", full_page=True, animations="disabled", caret="hide")
    page.emulate_media(color_scheme="light")
    page.set_viewport_size(VIEWPORTS["desktop"])


def test_a_tour_of_every_state(open_page: Callable[..., Watched], stack: RunningStack) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    watched = open_page(reduced_motion="reduce")
    page = watched.page

    # Start
    page.goto(stack.url)
    watched.wait_for_view("start")
    shoot(watched, "start")

    # What X refuses, in words (before the read budget is spent: after, every sync waits for tomorrow).
    # The stack's credentials are demo's, and X shares likes only with their owner.
    page.goto(f"{stack.url}?u=bigfan")
    watched.wait_for_view("notsub")
    page.click("#subscribe")
    page.wait_for_function(
        "() => document.getElementById('sync-title').textContent === 'X keeps these likes private'", timeout=60_000
    )
    shoot(watched, "private")

    # Not subscribed (a fixed deck, so the first card below is the same from run to run)
    page.evaluate(
        "state => sessionStorage.setItem('random-likes:deck:demo', JSON.stringify(state))",
        {"deck": 7, "draw": 0, "count": 0, "last": None},
    )
    page.fill("#username", "demo")
    page.press("#username", "Enter")
    watched.wait_for_view("notsub")
    shoot(watched, "not-subscribed")

    # Subscribed, X answering slowly: the status, refreshed on its own
    x_faults(stack, "POST", {"latency_ms": SYNC_LATENCY_MS})
    page.click("#subscribe")
    watched.wait_for_view("sync")
    assert page.text_content("#sync-title") in {"Waiting for the first sync…", "Fetching the first likes…"}
    shoot(watched, "syncing")
    shoot(watched, "syncing", dark=True)
    x_faults(stack, "DELETE")

    # The first likes are in: a card, with the sync's status above it until it stops for the day
    watched.wait_for_view("card", timeout=60_000)
    page.wait_for_function(
        "() => document.getElementById('sync-line-text').textContent.includes('read budget is spent')", timeout=60_000
    )
    shoot(watched, "card-while-syncing")

    # A card with four photos, then one with a link and emoji, light and dark
    stack.wait_for_status("demo", {"usage_capped"})
    draw, count, _ = stack.find_draw("demo", 0, lambda post: post["text"].startswith("Four angles of the same sunset"))
    watched.show_draw(stack, "demo", 0, draw, count)
    page.wait_for_load_state("networkidle")
    shoot(watched, "card")
    shoot(watched, "card", dark=True)
    draw, count, _ = stack.find_draw("demo", 0, lambda post: post["text"].startswith("🧑🏽‍💻 shipping on a Friday"))
    watched.show_draw(stack, "demo", 0, draw, count)
    shoot(watched, "card-link")

    # Loading: the pick held back, as on a slow network
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    page.route("**/likes/random*", hold)
    page.goto(f"{stack.url}?u=demo")
    watched.wait_for_view("loading")
    shoot(watched, "loading")
    for route in held:
        route.continue_()
    page.unroute("**/likes/random*")
    watched.wait_for_view("card")

    # Error: the gateway fails, with Retry
    page.route("**/likes/random*", lambda route: route.fulfill(status=503, body='{"message":"Service Unavailable"}'))
    page.goto(f"{stack.url}?u=demo")
    watched.wait_for_view("error")
    shoot(watched, "error")
    page.unroute("**/likes/random*")

    assert not watched.page_errors
    assert not watched.dialogs
    assert not watched.foreign_requests()
    expected = {
        f"{state}-{label}{suffix}.png"
        for state, suffixes in {
            "start": [""], "not-subscribed": [""], "syncing": ["", "-dark"], "card-while-syncing": [""],
            "card": ["", "-dark"], "card-link": [""], "loading": [""], "error": [""], "private": [""],
        }.items()
        for suffix in suffixes
        for label in VIEWPORTS
    }  # fmt: skip
    assert expected <= {path.name for path in SHOTS.glob("*.png")}

"""A tour of every state of the page on the running stack: the README's screenshots, and what their test checks.

Every state is real: demo connects on the simulator's consent page; its first sync is slowed with the
simulator's latency fault, set the moment the callback has answered (so "waiting for the first sync" stays on
screen, and the callback's own calls to X are not slowed); the read budget is made small with a template
parameter (STACK_ARGS: the sync stops at "today's X read budget is spent" with likes to show). X revoking a
token is the one state written straight into the table, as the worker writes it on `invalid_grant` (the
simulator hands no token to a test). Only the loading and error states hold or fail requests in the browser,
as a slow or broken network would.

`take_the_tour(watched, stack, shoot)` brings the page into each state and calls `shoot(name, dark=...)`
there: `make screenshots` (scripts/screenshots.py) photographs it into docs/screenshots/, the test
(test_screenshots.py) into a temporary folder, after reading what the state shows (and auditing it with axe).
"""

from __future__ import annotations

import json
import struct
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local.provision import client
from tests.e2e.browser.stack import RunningStack
from tests.e2e.browser.watched import Watched

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
READ_BUDGET = 150  # posts: one page of 100, one of 50, then "spent" until midnight UTC
STACK_ARGS = ("--parameter-overrides", f"XDailyReadBudget={READ_BUDGET}")
PAGE_OPTIONS = {"reduced_motion": "reduce"}
FIXED_DECK = {"deck": 7, "draw": 0, "count": 0, "last": None}  # the same first card of demo's on every run
SYNC_LATENCY_MS = 6000
# The states, in the order of the tour, and which are also shot in dark mode.
STATES = {
    "start": True,
    "unavailable": False,
    "syncing": True,
    "card-while-syncing": False,
    "card": True,
    "card-link": False,
    "disconnect": False,
    "reconnect": False,
    "shared": True,
    "loading": False,
    "error": False,
}
FAILED_STATUS = 503  # the error state: what the gateway answers the pick
FAILED_PICK = f"Something went wrong on our side (HTTP {FAILED_STATUS}). Try again in a moment."

Shoot = Callable[..., None]  # shoot(name, dark=False)


def take_the_tour(watched: Watched, stack: RunningStack, shoot: Shoot) -> None:
    page = watched.page

    # A visitor: Connect with X, and a name nobody shared
    page.goto(stack.url)
    watched.wait_for_view("start")
    shoot("start")
    shoot("start", dark=True)
    page.goto(f"{stack.url}?u=bigfan")
    watched.wait_for_view("unavailable")
    shoot("unavailable")

    # demo connects on X's consent page; X answers slowly from the moment it is back: the first sync's status,
    # refreshed on its own (a fixed deck, so the first card below is the same from run to run)
    page.goto(stack.url)
    fix_the_deck(watched)
    page.route("**/auth/x/callback*", lambda route: _slow_x_after(route, stack))
    page.click("#connect")
    page.check("input[name=username][value=demo]")
    page.click("button[name=decision][value=approve]")
    watched.wait_for_view("sync")
    page.unroute("**/auth/x/callback*")
    shoot("syncing")
    shoot("syncing", dark=True)
    x_faults(stack, "DELETE")

    # The first likes are in: a card, with the sync's status above it until it stops for the day. The page
    # is opened again on the same draw once it has stopped, so the card's count is the day's final one too
    # (a card keeps the count it was dealt with, which depends on how far the sync had got by then).
    watched.wait_for_view("card", timeout=60_000)
    stack.wait_for_status("demo", {"usage_capped"}, session=stack.session_of(page.context))
    watched.seed_deck(stack, "demo", FIXED_DECK)
    page.goto(f"{stack.url}?u=demo")
    # The budget is said once: by the pause line while the app is paused for everyone, else by the sync line
    page.wait_for_function(
        """() => ['sync-line-text', 'paused-line'].some(
            (id) => document.getElementById(id).textContent.includes('read budget is spent'))""",
        timeout=60_000,
    )
    shoot("card-while-syncing")

    # Shared: a card with four photos and the exact link, then one with a link and emoji, light and dark
    page.click("#share")
    page.wait_for_selector("#share-link", state="visible")
    draw, count, _ = stack.find_draw("demo", 0, lambda post: post["text"].startswith("Four angles of the same sunset"))
    watched.show_draw(stack, "demo", 0, draw, count)
    page.wait_for_load_state("networkidle")
    shoot("card")
    shoot("card", dark=True)
    draw, count, _ = stack.find_draw("demo", 0, lambda post: post["text"].startswith("🧑🏽‍💻 shipping on a Friday"))
    watched.show_draw(stack, "demo", 0, draw, count)
    shoot("card-link")

    # Disconnect asks first (and Cancel keeps everything)
    page.click("#disconnect")
    page.wait_for_selector("#confirm[open]")
    shoot("disconnect")
    page.click("#confirm-cancel")

    # X revoked the token: Reconnect (then the status the worker had before, back)
    before = set_status(stack, "demo", "reconnect_needed")
    page.goto(f"{stack.url}?u=demo")
    watched.wait_for_view("card")
    page.wait_for_selector("#reconnect", state="visible")
    shoot("reconnect")
    set_status(stack, "demo", before)

    # Someone else with the link (here: the owner signed out): the card, no controls
    page.goto(f"{stack.url}?u=demo")
    watched.wait_for_view("card")
    page.click("#sign-out")
    page.wait_for_selector("body[data-view=start][data-signed-in=false]")
    watched.show_draw(stack, "demo", 0, draw, count)
    shoot("shared")
    shoot("shared", dark=True)

    # Loading: the pick held back, as on a slow network
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    page.route("**/likes/random*", hold)
    page.goto(f"{stack.url}?u=demo")
    watched.wait_for_view("loading")
    shoot("loading")
    for route in held:
        route.continue_()
    page.unroute("**/likes/random*")
    watched.wait_for_view("card")

    # Error: the gateway fails, with Retry
    page.route(
        "**/likes/random*", lambda route: route.fulfill(status=FAILED_STATUS, body='{"message":"Service Unavailable"}')
    )
    page.goto(f"{stack.url}?u=demo")
    watched.wait_for_view("error")
    shoot("error")
    page.unroute("**/likes/random*")


def _slow_x_after(route: Any, stack: RunningStack) -> None:
    """Let the callback finish at full speed (it calls X's token endpoint and users/me), then slow X down for
    the first sync, which the callback has just enqueued."""
    response = route.fetch(max_redirects=0)
    x_faults(stack, "POST", {"latency_ms": SYNC_LATENCY_MS})
    route.fulfill(response=response)


def set_status(stack: RunningStack, username: str, status: str) -> str:
    """Write a subscriber's status into its profile item, as the worker does; returns the status it had."""
    dynamodb = client("dynamodb", stack.dev.aws_endpoint)
    key = {"pk": {"S": f"SUB#{stack.dev.subscription_key(username)}"}, "sk": {"S": "PROFILE"}}
    answer = dynamodb.update_item(
        TableName=stack.dev.resources()["LikesTable"],
        Key=key,
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": status}},
        ReturnValues="UPDATED_OLD",
    )
    return str(answer["Attributes"]["status"]["S"])


def fix_the_deck(watched: Watched) -> None:
    """Deal demo's cards from deck 7, draw 0, on the page as it is (signed out: it deals nothing meanwhile)."""
    watched.page.evaluate(
        "state => sessionStorage.setItem('random-likes:deck:demo', JSON.stringify(state))", FIXED_DECK
    )


def what_went_wrong(watched: Watched) -> list[str]:
    """What the page did on the tour that it should not have: uncaught errors, console errors (other than the
    failed pick the tour itself causes for the error state), dialogs, requests to another origin (other than X's
    consent page, where Connect with X goes)."""
    caused = f"the server responded with a status of {FAILED_STATUS}"
    console = [
        f"console: {text} ({url})"
        for text, url in watched.unexpected_console_errors()
        if not (caused in text and "/likes/random" in url)
    ]
    return [
        *(f"uncaught: {error}" for error in watched.page_errors),
        *console,
        *(f"dialog: {dialog}" for dialog in watched.dialogs),
        *(
            f"request to another origin: {url}"
            for url in watched.foreign_requests()
            if urlsplit(url).path != "/i/oauth2/authorize"
        ),
    ]


def screenshot(watched: Watched, folder: Path, name: str, *, dark: bool = False) -> list[Path]:
    """The page as it is now, at every viewport, into folder/<name>-<desktop|phone>[-dark].png."""
    page = watched.page
    watched.color_scheme("dark" if dark else "light")
    paths = []
    for label, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        page.wait_for_timeout(50)  # a layout pass at the new width before the shot (looks only)
        path = folder / f"{name}-{label}{'-dark' if dark else ''}.png"
        page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
        paths.append(path)
    watched.color_scheme("light")
    page.set_viewport_size(VIEWPORTS["desktop"])
    return paths


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    header = path.read_bytes()[:24]
    if header[:8] != b"\x89PNG\r\n\x1a\n" or header[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG")
    width, height = struct.unpack(">II", header[16:24])
    return int(width), int(height)


def x_faults(stack: RunningStack, method: str, body: dict[str, Any] | None = None) -> None:
    """The simulator's management API: faults on demand (latency here)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{stack.x_url}/_sim/faults", data=data, method=method)
    request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200:
            raise RuntimeError(f"the simulator refused the faults: HTTP {response.status}")

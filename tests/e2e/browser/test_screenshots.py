"""The tour of the page's states (tour.py, the one `make screenshots` photographs for the README), taken into a
temporary folder: each state shows what it is for, every shot is a PNG as wide as its viewport, and nothing
went wrong in the page on the way. The committed screenshots are never read or written here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser.axe import audit
from tests.e2e.browser.stack import RunningStack, running_stack
from tests.e2e.browser.tour import (
    FAILED_PICK,
    PAGE_OPTIONS,
    STACK_ARGS,
    STATES,
    VIEWPORTS,
    png_size,
    screenshot,
    take_the_tour,
    what_went_wrong,
)
from tests.e2e.browser.watched import Watched

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# What the page shows, read from the DOM in each state: the view, and the visible text of the parts that say
# which state it is (None: not shown).
READ_STATE = """() => {
    const shown = (selector) => {
        const element = document.querySelector(selector);
        return element && element.checkVisibility() ? element.textContent.trim() : null;
    };
    const card = document.querySelector("#card-slot article.card");
    return {
        view: document.body.dataset.view,
        signedIn: document.body.dataset.signedIn,
        connect: shown("#connect"),
        account: shown("#account-handle"),
        owner: shown("#owner-title"),
        shareLink: shown("#share-link"),
        unavailable: shown("#unavailable-title"),
        syncTitle: shown("#sync-title"),
        reconnect: shown("#reconnect"),
        confirm: document.getElementById("confirm").open ? shown("#confirm-title") : null,
        syncLine: shown("#sync-line-text"),
        paused: shown("#paused-line"),
        count: shown("#count"),
        cardText: card && card.checkVisibility() ? card.querySelector(".text").textContent : null,
        cardPhotos: card ? card.querySelectorAll("img.media-img").length : 0,
        cardLinks: card ? card.querySelectorAll(".text a[href^='https://']").length : 0,
        errorText: shown("#error-text"),
        retry: shown("#retry"),
    };
}"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """This module's own stack: a small daily read budget, so demo's sync stops part way, for good."""
    with running_stack(tmp_path_factory.mktemp("stack"), *STACK_ARGS) as running:
        yield running


def test_a_tour_of_every_state(open_page: Callable[..., Watched], stack: RunningStack, tmp_path: Path) -> None:
    # Given the page on the stack, watched
    watched = open_page(**PAGE_OPTIONS)
    seen: dict[str, dict[str, Any]] = {}
    shots: list[Path] = []
    findings: dict[str, list[str]] = {}

    def shoot(name: str, *, dark: bool = False) -> None:
        label = name + ("-dark" if dark else "")
        seen[label] = watched.page.evaluate(READ_STATE)
        watched.color_scheme("dark" if dark else "light")
        findings[label] = audit(watched.page)
        shots.extend(screenshot(watched, tmp_path, name, dark=dark))

    # When the tour brings it into each state, audits it with axe and photographs it there
    take_the_tour(watched, stack, shoot)

    # Then axe found nothing in any state, light or dark
    assert findings == {label: [] for label in seen}

    # And each state showed what it is for
    assert list(seen) == [f"{name}{suffix}" for name, dark in STATES.items() for suffix in ("", "-dark")[: 1 + dark]]
    assert {name: state["view"] for name, state in seen.items()} == {
        "start": "start",
        "start-dark": "start",
        "unavailable": "unavailable",
        "syncing": "sync",
        "syncing-dark": "sync",
        "card-while-syncing": "card",
        "card": "card",
        "card-dark": "card",
        "card-link": "card",
        "disconnect": "card",
        "reconnect": "card",
        "shared": "card",
        "shared-dark": "card",
        "loading": "loading",
        "error": "error",
    }
    assert (seen["start"]["connect"], seen["start"]["signedIn"]) == ("Connect with X", "false")
    assert seen["unavailable"]["unavailable"] == "These likes aren't available"
    for owned in ("syncing", "syncing-dark", "card-while-syncing", "card", "card-link", "disconnect", "reconnect"):
        assert (seen[owned]["account"], seen[owned]["owner"]) == ("@demo", "Your likes"), owned
    for syncing in ("syncing", "syncing-dark"):
        assert seen[syncing]["syncTitle"] in {"Waiting for the first sync…", "Fetching the first likes…"}
    waiting = seen["card-while-syncing"]
    # The budget is said once: by the pause line for everyone while the app is paused, else by the sync line
    said = [line for line in (waiting["syncLine"], waiting["paused"]) if line and "read budget is spent" in line]
    assert len(said) == 1, waiting
    assert waiting["cardText"]
    stored = re.search(r"(\d+) likes so far", waiting["syncLine"])
    assert stored is not None
    assert waiting["count"] == f"{stored[1]} likes of @demo"  # the card and the status agree
    for card in ("card", "card-dark"):
        assert seen[card]["cardText"].startswith("Four angles of the same sunset")
        assert seen[card]["cardPhotos"] == 4
        assert seen[card]["shareLink"] == f"{stack.url}?u=demo"
    assert seen["card-link"]["cardText"].startswith("🧑🏽‍💻 shipping on a Friday")
    assert seen["card-link"]["cardLinks"] >= 1
    assert seen["disconnect"]["confirm"] == "Disconnect and delete your data?"
    assert seen["reconnect"]["reconnect"] == "Reconnect"
    for shared in ("shared", "shared-dark"):
        assert seen[shared]["cardText"].startswith("🧑🏽‍💻 shipping on a Friday")
        assert (seen[shared]["signedIn"], seen[shared]["owner"], seen[shared]["account"]) == ("false", None, None)
    assert seen["loading"]["cardText"] is None
    assert (seen["error"]["errorText"], seen["error"]["retry"]) == (FAILED_PICK, "Retry")

    # And every shot is a PNG as wide as its viewport, and at least as tall (the whole page)
    assert len(shots) == len(seen) * len(VIEWPORTS)
    for path in shots:
        viewport = VIEWPORTS[path.stem.removesuffix("-dark").rsplit("-", 1)[1]]
        width, height = png_size(path)
        assert width == viewport["width"], path.name
        assert height >= viewport["height"], path.name

    # And nothing went wrong in the page: no uncaught or console error (but the failed pick the tour caused),
    # no dialog, no request to another origin
    assert what_went_wrong(watched) == []

"""A page of the running stack with everything it does recorded, as the browser tests and `make screenshots` use it.

`watch(page, origin)` hooks the page's requests, console errors, uncaught errors and dialogs (dismissed) into a
`Watched`, whose helpers wait for the page's own signals: its view (`body[data-view]`), its card marks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.e2e.browser.stack import RunningStack

# Every browser context the tests open starts like this (a test may override any of it).
PAGE_OPTIONS: dict[str, Any] = {
    "viewport": {"width": 1280, "height": 800},
    "locale": "en-GB",
    "timezone_id": "Europe/Berlin",
}

# Chromium logs every non-2xx fetch as a console error. These are answers the page asks for and handles (not
# subscribed or private; subscribed but nothing stored yet; nobody signed in), so they are not errors of the page.
EXPECTED_API_ANSWER = re.compile(r"Failed to load resource: the server responded with a status of (404|409)")
EXPECTED_SIGNED_OUT = re.compile(r"Failed to load resource: the server responded with a status of 401")

# True once the page's colours follow the scheme asked for. Right after Playwright switches the colour scheme,
# Chromium can answer getComputedStyle with the new backgrounds but the old text colours for some frames (under
# load, 56 of 60 reads at once and 13 of 60 two frames later): axe then measures dark text on a dark card that
# no one ever sees. The root's text colour is checked against a fresh element's background in var(--text).
COLOURS_FOLLOW = """(dark) => {
    if (matchMedia("(prefers-color-scheme: dark)").matches !== dark) return false;
    const probe = document.createElement("span");
    probe.style.backgroundColor = "var(--text)";
    document.documentElement.append(probe);
    const text = getComputedStyle(probe).backgroundColor;
    probe.remove();
    return getComputedStyle(document.documentElement).color === text;
}"""


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
            and not (EXPECTED_SIGNED_OUT.search(text) and url.endswith("/api/me"))
        ]

    def view(self) -> str:
        view: str = self.page.evaluate("document.body.dataset.view")
        return view

    def wait_for_view(self, view: str, timeout: float = 30_000) -> None:
        self.page.wait_for_selector(f"body[data-view={view}]", timeout=timeout)

    def color_scheme(self, scheme: str) -> None:
        """Switch the page to `scheme` ("light" or "dark") and wait until its colours follow."""
        self.page.emulate_media(color_scheme=scheme)
        self.page.wait_for_function(COLOURS_FOLLOW, arg=scheme == "dark", timeout=10_000)

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

    def seed_deck(self, stack: RunningStack, username: str, state: dict[str, Any]) -> None:
        """Write the page's deck state for `username` into this tab's sessionStorage, on the page with its code
        held back: the page itself, signed in, opens its owner's likes and saves the deck it dealt from, which
        could land after the seed and overwrite it (a slow machine's CI run once showed the next card)."""

        def without_code(route: Any) -> None:
            route.fulfill(status=200, content_type="text/javascript", headers={"Cache-Control": "no-store"}, body="")

        self.page.route("**/assets/app.js", without_code)
        try:
            self.page.goto(stack.url)
            self.page.evaluate(
                "([key, state]) => sessionStorage.setItem(key, JSON.stringify(state))",
                [f"random-likes:deck:{username}", state],
            )
        finally:
            self.page.unroute("**/assets/app.js", without_code)

    def show_draw(self, stack: RunningStack, username: str, deck: int, draw: int, like_count: int) -> str:
        """Open the page on card `draw` of `deck`, by seeding the page's own deck state in sessionStorage."""
        self.seed_deck(stack, username, {"deck": deck, "draw": draw, "count": like_count, "last": None})
        self.page.goto(f"{stack.url}?u={username}")
        self.wait_for_view("card")
        return self.card_id()


def watch(page: Any, origin: str) -> Watched:
    """Record what `page` does from now on; dialogs are dismissed (and recorded)."""
    watched = Watched(page=page, origin=origin)
    page.on("request", lambda request: watched.requests.append(request.url))
    page.on(
        "console",
        lambda message: (
            message.type == "error" and watched.console_errors.append((message.text, message.location.get("url", "")))
        ),
    )
    page.on("pageerror", lambda exc: watched.page_errors.append(str(exc)))

    def on_dialog(dialog: Any) -> None:
        watched.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return watched

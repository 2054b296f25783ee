"""The page on the running offline stack, as a person uses it: read cards, open a share link, hit the edges.

The tests share one stack on which demo's owner connected (over HTTP, through the simulator's consent page),
synced and shared its likes: the page here is a visitor's, as someone with the link sees it. Connecting
through the page itself is test_accounts_flow.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.browser.stack import RunningStack
from tests.e2e.browser.watched import Watched

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SYNC_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def demo(stack: RunningStack) -> dict[str, Any]:
    """demo connected by its owner, fully synced and shared (public): its subscription."""
    return stack.share("demo", timeout=SYNC_TIMEOUT_MS / 1000)


def test_a_shared_card_then_twenty_more_never_the_same_twice_in_a_row(
    open_page: Callable[..., Watched], stack: RunningStack, demo: dict[str, Any]
) -> None:
    # Given demo's share link, opened by someone else
    watched = open_page()
    page = watched.page
    page.goto(f"{stack.url}?u=demo")

    # Then a card shows
    watched.wait_for_view("card")
    shown = [watched.card_id()]
    assert page.text_content("#card-slot .text")

    # And 20 more "Another one"s (button and shortcut) never deals the post just shown
    for i in range(20):
        shown.append(watched.another(key="n" if i % 2 else None))
    repeats = [(a, b) for a, b in itertools.pairwise(shown) if a == b]
    assert not repeats, shown
    assert len(set(shown)) > 15

    # And nothing went wrong on the way, nothing ran that should not, nothing left the origin
    assert not watched.page_errors
    assert not watched.unexpected_console_errors(), watched.console_errors
    assert not watched.dialogs
    assert not watched.foreign_requests()


def test_a_full_deck_deals_every_stored_like_once(
    open_page: Callable[..., Watched], stack: RunningStack, demo: dict[str, Any]
) -> None:
    # Given demo, fully synced
    count = demo["like_count"]
    watched = open_page()
    watched.page.goto(stack.url)

    # When the page's own deck and API modules draw like_count cards in one session
    ids = watched.page.evaluate(
        """async (count) => {
            const { Deck } = await import("./assets/deck.js");
            const { api } = await import("./assets/api.js");
            const deck = new Deck("demo");
            const ids = [];
            for (let i = 0; i < count; i++) {
                let answer = await api.pick("demo", deck.next());
                while (answer.status === 429) {  // the local gateway throttles at 50/s, as API Gateway does
                    await new Promise((done) => setTimeout(done, 250));
                    answer = await api.pick("demo", deck.next());
                }
                deck.dealt(answer.data.post.id, answer.data.like_count);
                ids.push(answer.data.post.id);
            }
            return ids;
        }""",
        count,
    )

    # Then every stored like came exactly once
    assert len(ids) == count
    assert len(set(ids)) == count


def test_a_shared_link_opens_straight_on_a_card(
    open_page: Callable[..., Watched], stack: RunningStack, demo: dict[str, Any]
) -> None:
    watched = open_page()

    watched.page.goto(f"{stack.url}?u=DEMO")

    watched.wait_for_view("card")
    assert watched.page.input_value("#username") == "DEMO"
    assert watched.page.text_content("#count").endswith("likes of @DEMO")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an X username."),
        ("@", "Enter an X username."),
        ("sixteen_chars_xx", "A username is at most 15 characters long, the most X allows."),
        ("bad name", "A username may contain only the letters A-Z, digits and underscores."),
        ("d\u0435mo", "A username may contain only the letters A-Z, digits and underscores."),  # a Cyrillic e
    ],
)
def test_an_invalid_username_is_explained_before_anything_is_sent(
    open_page: Callable[..., Watched], stack: RunningStack, typed: str, message: str
) -> None:
    watched = open_page()
    watched.page.goto(stack.url)
    watched.requests.clear()

    watched.page.fill("#username", typed)
    watched.page.click("#pick-form button[type=submit]")

    assert watched.page.text_content("#username-error") == message
    assert watched.page.get_attribute("#username", "aria-invalid") == "true"
    assert watched.view() == "start"
    assert not [url for url in watched.requests if "/api/" in url]


def test_the_servers_own_400_message_is_shown(open_page: Callable[..., Watched], stack: RunningStack) -> None:
    # Given an API that refuses the name (a rule the page does not know about)
    watched = open_page()
    watched.page.route(
        "**/api/subscriptions/someone/likes/random*",
        lambda route: route.fulfill(
            status=400,
            content_type="application/json",
            body='{"error": {"code": "invalid_username", "message": "username is reserved"}}',
        ),
    )
    watched.page.goto(stack.url)

    watched.page.fill("#username", "someone")
    watched.page.press("#username", "Enter")

    watched.page.wait_for_selector("#username-error:not([hidden])")
    assert watched.page.text_content("#username-error") == "Username is reserved."


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        ("abort", "Couldn't reach random-likes. Check your connection, then try again."),
        (503, "Something went wrong on our side (HTTP 503). Try again in a moment."),
        (429, "Too many requests right now. Wait a moment, then try again."),
    ],
)
def test_a_failed_request_offers_a_retry_that_works(
    open_page: Callable[..., Watched], stack: RunningStack, demo: dict[str, Any], failure: Any, message: str
) -> None:
    # Given demo has likes, and the gateway fails the next pick
    watched = open_page()
    page = watched.page

    def fail(route: Any) -> None:
        if failure == "abort":
            route.abort("internetdisconnected")
        else:
            route.fulfill(status=failure, content_type="application/json", body='{"message": "Gateway says no"}')

    page.route("**/likes/random*", fail)

    # When the page asks for a card
    page.goto(f"{stack.url}?u=demo")

    # Then it says what happened and offers Retry, which works once the API is back
    watched.wait_for_view("error")
    assert page.text_content("#error-text") == message
    page.unroute("**/likes/random*")
    page.click("#retry")
    watched.wait_for_view("card")
    assert page.evaluate("document.activeElement.id") == "another"  # focus followed the Retry button's view


@pytest.mark.parametrize("username", ["bigfan", "nobody_at_all"])
def test_a_name_nobody_shared_is_not_available(
    open_page: Callable[..., Watched], stack: RunningStack, username: str
) -> None:
    # bigfan exists on X but never connected; nobody_at_all exists nowhere: the page cannot tell them apart
    watched = open_page()
    page = watched.page
    page.goto(f"{stack.url}?u={username}")

    watched.wait_for_view("unavailable")

    assert page.text_content("#unavailable-name") == f"@{username}"
    assert page.is_visible("#unavailable-connect a")
    assert not page.is_visible("#owner")
    assert not watched.page_errors


def test_the_keyboard_alone_gets_from_a_username_to_cards(
    open_page: Callable[..., Watched], stack: RunningStack, demo: dict[str, Any]
) -> None:
    watched = open_page()
    page = watched.page
    page.goto(stack.url)

    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type("demo")
    page.keyboard.press("Enter")
    watched.wait_for_view("card")
    first = watched.card_id()

    # Typing "n" in the field types an n; outside it, "n" deals another card
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") != "INPUT"
    assert watched.another(key="n") != first

    # Tabbing reaches "Another one", with a visible focus ring
    for _ in range(20):
        if page.evaluate("document.activeElement.id") == "another":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "another"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    page.wait_for_function("() => performance.getEntriesByName('random-likes:card', 'mark').length >= 3")

"""demo's hostile and awkward posts, reached one by one on the running stack: text stays text, links stay
http(s), avatars and media come from the page's own origin.

Each post is reached deterministically: a walk through deck 0 over the API finds its draw, and the page is
opened with its own deck state (sessionStorage) set to that draw.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.browser.stack import RunningStack
from tests.e2e.browser.watched import Watched

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

IMG_TEXT = "<img src=x onerror=alert(1)>"
SCRIPT_TEXT = "<script>alert(1)</script>"
JAVASCRIPT_URL = "javascript:alert(1)"
DECK = 0


class DemoDeck:
    """Opens the page on one of demo's stored likes: its slot from the table, its draw from the deck."""

    def __init__(self, stack: RunningStack) -> None:
        self.stack = stack
        self.like_count = stack.wait_for_status("demo", {"ready"})["like_count"]

    def open(self, watched: Watched, matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        draw, count, post = self.stack.find_draw("demo", DECK, matches)
        assert count == self.like_count
        shown = watched.show_draw(self.stack, "demo", DECK, draw, count)
        assert shown == post["id"]  # the page, the API and the test agree on the deck
        return post


@pytest.fixture(scope="module")
def demo(stack: RunningStack) -> DemoDeck:
    """demo's likes as someone with its share link sees them (its owner connected, synced and shared them)."""
    stack.share("demo")
    return DemoDeck(stack)


def card_dom(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(
        """() => {
            const card = document.querySelector("#card-slot article.card");
            return {
                text: card.querySelector(".text").textContent,
                dir: card.querySelector(".text").getAttribute("dir"),
                elementsInText: [...card.querySelector(".text").children].map((e) => e.tagName),
                imgX: document.querySelectorAll('img[src="x"]').length,
                scriptsInCard: card.querySelectorAll("script").length,
                scriptsInPage: [...document.scripts].map((s) => s.getAttribute("src")),
                jsLinks: document.querySelectorAll('a[href^="javascript:" i]').length,
                hrefs: [...document.querySelectorAll("a[href]")].map((a) => a.href),
                pwned: typeof window.pwned !== "undefined",
            };
        }"""
    )
    return result


@pytest.mark.parametrize(
    ("needle", "expected_text"),
    [
        (IMG_TEXT, IMG_TEXT),
        (SCRIPT_TEXT, "Found this in a bio: <script>alert(1)</script> — totally harmless, right?"),
    ],
    ids=["img-onerror", "script"],
)
def test_markup_in_a_post_shows_as_literal_text_and_runs_nothing(
    open_page: Callable[..., Watched], demo: DemoDeck, needle: str, expected_text: str
) -> None:
    # Given the page opened on the post whose text is markup
    watched = open_page()
    demo.open(watched, lambda post: needle in post["text"])
    watched.page.wait_for_timeout(300)  # time for an injected onerror to fire, if one had been parsed

    dom = card_dom(watched.page)

    # Then the text is the characters, no element came out of it, and no dialog opened
    assert dom["text"] == expected_text
    assert dom["elementsInText"] == []
    assert dom["imgX"] == 0
    assert dom["scriptsInCard"] == 0
    assert dom["scriptsInPage"] == ["assets/app.js"]
    assert not watched.dialogs
    assert not watched.page_errors
    # The author's display name is markup too: shown as text
    assert watched.page.text_content("#card-slot .name") == '<img src=x onerror=alert("name")>'


def test_a_javascript_url_in_a_post_is_not_a_link(open_page: Callable[..., Watched], demo: DemoDeck) -> None:
    watched = open_page()
    post = demo.open(watched, lambda post: any(link["expanded_url"] == JAVASCRIPT_URL for link in post["links"]))

    dom = card_dom(watched.page)

    assert JAVASCRIPT_URL in dom["text"]  # shown, as text
    assert dom["jsLinks"] == 0
    assert dom["elementsInText"] == []
    assert all(href.startswith(("http://", "https://")) for href in dom["hrefs"])
    assert post["url"] in dom["hrefs"]


def test_links_show_their_display_url_and_open_safely_in_a_new_tab(
    open_page: Callable[..., Watched], demo: DemoDeck
) -> None:
    # Given the post with emoji (surrogate pairs, ZWJ sequences, flags) before its link
    watched = open_page()
    post = demo.open(watched, lambda post: post["text"].startswith("🧑🏽‍💻 shipping on a Friday") and post["links"])
    link = post["links"][0]

    links = watched.page.eval_on_selector_all(
        "#card-slot .text a",
        "as => as.map(a => ({ text: a.textContent, href: a.href, target: a.target, rel: a.rel }))",
    )
    text = watched.page.text_content("#card-slot .text")

    assert links == [
        {"text": link["display_url"], "href": link["expanded_url"], "target": "_blank", "rel": "noopener noreferrer"}
    ]
    assert text.startswith("🧑🏽‍💻 shipping on a Friday 🚀🔥 👨‍👩‍👧‍👦 🇺🇦 🏳️‍🌈 — details: ")
    assert text.endswith(f"{link['display_url']} ✨")
    assert "t.co" not in text


def test_right_to_left_text_keeps_its_direction(open_page: Callable[..., Watched], demo: DemoDeck) -> None:
    watched = open_page()
    demo.open(watched, lambda post: post.get("lang") == "ar" and bool(post["links"]))

    direction = watched.page.evaluate("getComputedStyle(document.querySelector('#card-slot .text')).direction")

    assert card_dom(watched.page)["dir"] == "auto"
    assert direction == "rtl"


def test_avatars_and_media_come_from_the_pages_own_origin_and_load(
    open_page: Callable[..., Watched], demo: DemoDeck, stack: RunningStack
) -> None:
    # Given a fresh page: the initial load, then cards with an avatar, four photos and a video preview
    watched = open_page()
    watched.page.goto(stack.url)
    watched.wait_for_view("start")
    assert watched.requests
    assert not watched.foreign_requests()

    for matches in (
        lambda post: len(post["media"]) == 4,
        lambda post: any(m["type"] == "video" for m in post["media"]),
        lambda post: any(m["type"] == "animated_gif" for m in post["media"]),
    ):
        post = demo.open(watched, matches)
        watched.page.wait_for_load_state("networkidle")
        images = watched.page.eval_on_selector_all(
            "#card-slot img", "imgs => imgs.map(i => ({ src: i.src, ok: i.complete && i.naturalWidth > 0 }))"
        )
        # Then every image was fetched, from the origin, and rendered
        assert len(images) == 1 + len(post["media"])
        assert all(image["ok"] for image in images), images

    assert not watched.foreign_requests(), watched.foreign_requests()
    assert any("/media/" in url for url in watched.requests)
    assert not watched.page_errors
    assert not watched.unexpected_console_errors()


def test_media_keep_their_alt_text_and_their_space(open_page: Callable[..., Watched], demo: DemoDeck) -> None:
    watched = open_page()
    post = demo.open(watched, lambda post: any(m.get("alt_text") for m in post["media"]) and len(post["media"]) == 1)
    media = post["media"][0]

    img = watched.page.eval_on_selector(
        "#card-slot .media-img",
        """i => ({
            alt: i.alt, w: i.getAttribute("width"), h: i.getAttribute("height"), box: i.getBoundingClientRect().height
        })""",
    )

    assert media["alt_text"] in img["alt"]
    assert (img["w"], img["h"]) == (str(media["width"]), str(media["height"]))
    assert img["box"] > 0


def test_the_page_works_under_a_stage_prefix(browser: Any, stack: RunningStack, demo: DemoDeck) -> None:
    # Given the stack put behind …/prod/, as API Gateway serves a named stage: only /prod/* reaches it
    stage = "https://stage.example/prod/"
    outside: list[str] = []
    context = browser.new_context()

    def gateway(route: Any) -> None:
        url = route.request.url
        if not url.startswith(stage):
            outside.append(url)
            route.fulfill(status=404, body="not under the stage")
            return
        answer = route.fetch(url=stack.url + url.removeprefix(stage))
        route.fulfill(response=answer)

    context.route("https://stage.example/**", gateway)
    page = context.new_page()

    # When the page is opened there and asked for a card, then another
    page.goto(f"{stage}?u=demo")
    page.wait_for_selector("body[data-view=card]")
    first = page.get_attribute("#card-slot article", "data-post-id")
    page.click("#another")
    page.wait_for_function("first => document.querySelector('#card-slot article').dataset.postId !== first", arg=first)
    context.close()

    # Then every request it made stayed under the prefix: no URL in the page is absolute
    assert outside == []

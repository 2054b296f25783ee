"""The page's pure logic, run in Chromium: link offsets in code points, http(s)-only links, the deck, the words.

Each test imports the shipped module (served with the api's own headers) and checks what it returns.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browser.conftest import module_context

pytestmark = pytest.mark.browser


def pieces(page: Any, text: str, links: list[dict[str, Any]], *, has_media: bool = False) -> list[dict[str, str]]:
    result: list[dict[str, str]] = page.evaluate(
        """async ([text, links, hasMedia]) => {
            const { textPieces } = await import("./text.js");
            return textPieces(text, links, { hasMedia });
        }""",
        [text, links, has_media],
    )
    return result


def link(text: str, url: str, expanded: str, display: str) -> dict[str, Any]:
    """A url entity as X gives it: start/end in code points (Python's len counts them too)."""
    start = text.index(url)
    start = len(text[:start])
    return {"url": url, "expanded_url": expanded, "display_url": display, "start": start, "end": start + len(url)}


def test_a_tco_link_becomes_its_display_url_linked_to_the_expanded_url(module_page: Any) -> None:
    # Given a post with one t.co link
    text = "Read this https://t.co/abc123 now"
    entity = link(text, "https://t.co/abc123", "https://example.com/post?a=1&b=2", "example.com/post?a=1…")

    # When it is split into pieces
    result = pieces(module_page, text, [entity])

    # Then the t.co URL is replaced by the display URL, linked to the expanded one
    assert result == [
        {"text": "Read this "},
        {"text": "example.com/post?a=1…", "href": "https://example.com/post?a=1&b=2"},
        {"text": " now"},
    ]


def test_offsets_count_code_points_so_emoji_before_a_link_do_not_shift_it(module_page: Any) -> None:
    # Given emoji outside the BMP (surrogate pairs in JS) and a ZWJ family before the link
    text = "🧑🏽‍💻 shipping 🚀🔥 👨‍👩‍👧‍👦 🇺🇦 — details: https://t.co/XyZ ✨"
    entity = link(text, "https://t.co/XyZ", "https://example.com/blog", "example.com/blog")
    utf16_start = len(text[: text.index("https")].encode("utf-16-le")) // 2
    assert entity["start"] < utf16_start  # what a naive JS slice would get wrong

    # When it is split
    result = pieces(module_page, text, [entity])

    # Then the text around the link is intact, to the last emoji
    assert result == [
        {"text": "🧑🏽‍💻 shipping 🚀🔥 👨‍👩‍👧‍👦 🇺🇦 — details: "},
        {"text": "example.com/blog", "href": "https://example.com/blog"},
        {"text": " ✨"},
    ]


@pytest.mark.parametrize(
    "expanded",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/path",
        "/relative/path",
        "https://user:pass@example.com/",
        "not a url",
        "",
    ],
)
def test_anything_but_an_absolute_http_url_stays_plain_text(module_page: Any, expanded: str) -> None:
    text = "Totally safe link, click it: https://t.co/js"
    entity = link(text, "https://t.co/js", expanded, "shown")

    result = pieces(module_page, text, [entity])

    assert all("href" not in piece for piece in result)
    assert "".join(piece["text"] for piece in result) == "Totally safe link, click it: shown"


def test_http_and_https_are_both_links(module_page: Any) -> None:
    text = "a https://t.co/1 b https://t.co/2"
    links = [
        link(text, "https://t.co/1", "http://example.net/plain", "example.net/plain"),
        link(text, "https://t.co/2", "https://example.org/tls", "example.org/tls"),
    ]

    result = pieces(module_page, text, links)

    assert [piece.get("href") for piece in result] == [
        None,
        "http://example.net/plain",
        None,
        "https://example.org/tls",
    ]


def test_links_given_out_of_order_or_with_wrong_offsets_are_still_placed_on_their_url(module_page: Any) -> None:
    # Given entities out of order, one with offsets counted in UTF-16 units (wrong by one per emoji)
    text = "😂😂 first https://t.co/a then https://t.co/b"
    first = link(text, "https://t.co/a", "https://example.com/a", "example.com/a")
    second = link(text, "https://t.co/b", "https://example.com/b", "example.com/b")
    first = {**first, "start": first["start"] + 2, "end": first["end"] + 2}

    result = pieces(module_page, text, [second, first])

    assert result == [
        {"text": "😂😂 first "},
        {"text": "example.com/a", "href": "https://example.com/a"},
        {"text": " then "},
        {"text": "example.com/b", "href": "https://example.com/b"},
    ]


def test_an_entity_whose_url_is_not_in_the_text_is_ignored(module_page: Any) -> None:
    text = "No link here at all"
    stray = {
        "url": "https://t.co/zzz",
        "expanded_url": "https://example.com",
        "display_url": "x",
        "start": 3,
        "end": 19,
    }
    junk = [None, {"url": 5}, {"url": "https://t.co/q", "start": -1, "end": 4}]

    assert pieces(module_page, text, [stray, *junk]) == [{"text": text}]


def test_the_media_link_x_appends_is_dropped_next_to_the_media_and_kept_without_it(module_page: Any) -> None:
    text = "Caught him mid-nap 🐈 https://t.co/pic"
    entity = link(text, "https://t.co/pic", "https://x.com/pixel_pablo/status/123/photo/1", "pic.x.com/pic")

    assert pieces(module_page, text, [entity], has_media=True) == [{"text": "Caught him mid-nap 🐈"}]
    assert pieces(module_page, text, [entity], has_media=False)[-1] == {
        "text": "pic.x.com/pic",
        "href": "https://x.com/pixel_pablo/status/123/photo/1",
    }


def test_markup_in_text_is_just_characters(module_page: Any) -> None:
    text = "<img src=x onerror=alert(1)> &amp; <script>alert(1)</script>"

    assert pieces(module_page, text, []) == [{"text": text}]


def test_the_deck_deals_without_repeating_the_last_post_and_reshuffles_after_a_full_round(module_page: Any) -> None:
    # Given a deck over 3 likes with deterministic deck numbers and an in-memory storage
    result = module_page.evaluate(
        """async () => {
            const { Deck } = await import("./deck.js");
            const items = new Map();
            const storage = { getItem: (k) => items.get(k) ?? null, setItem: (k, v) => items.set(k, v) };
            let decks = 100;
            const deck = new Deck("Demo", { storage, newDeck: () => decks++ });
            const log = [];
            const deal = (post, count) => {
                const q = deck.next();
                log.push([q.deck, q.draw, deck.dealt(post, count)]);
            };
            deal("a", 3); deal("b", 3); deal("c", 3);   // a full round of deck 100
            deal("c", 3);                                // deck 101 opens with the post just shown: refused
            deal("a", 3);
            const again = new Deck("demo", { storage, newDeck: () => 999 });  // same session, same name
            return { log, saved: again.state };
        }"""
    )

    assert result["log"] == [
        [100, 0, True],
        [100, 1, True],
        [100, 2, True],
        [101, 0, False],
        [101, 1, True],
    ]
    assert result["saved"] == {"deck": 101, "draw": 2, "count": 3, "last": "a"}


def test_the_deck_allows_the_same_post_when_it_is_the_only_one_and_carries_on_when_the_count_changes(
    module_page: Any,
) -> None:
    result = module_page.evaluate(
        """async () => {
            const { Deck } = await import("./deck.js");
            const items = new Map();
            const storage = { getItem: (k) => items.get(k) ?? null, setItem: (k, v) => items.set(k, v) };
            let decks = 7;
            const deck = new Deck("solo", { storage, newDeck: () => decks++ });
            const out = [];
            for (let i = 0; i < 3; i++) { const q = deck.next(); out.push([q.deck, q.draw, deck.dealt("only", 1)]); }
            const grown = new Deck("grown", { storage, newDeck: () => decks++ });
            grown.next(); grown.dealt("p1", 2);
            const q = grown.next(); grown.dealt("p2", 40);   // the sync stored more: same deck, next draw
            out.push([q.deck, q.draw, grown.next().draw]);
            items.set("random-likes:deck:broken", "{not json");
            out.push(new Deck("broken", { storage, newDeck: () => 5 }).state);
            return out;
        }"""
    )

    assert result[:3] == [[7, 0, True], [8, 0, True], [9, 0, True]]
    assert result[3] == [10, 1, 2]
    assert result[4] == {"deck": 5, "draw": 0, "count": 0, "last": None}


def test_random_deck_numbers_fit_what_the_api_accepts(module_page: Any) -> None:
    numbers = module_page.evaluate(
        """async () => {
            const { randomDeckNumber } = await import("./deck.js");
            return Array.from({ length: 200 }, () => randomDeckNumber());
        }"""
    )

    assert all(isinstance(n, int) and 0 <= n <= 2**53 - 1 for n in numbers)
    assert len(set(numbers)) == len(numbers)
    assert max(numbers) > 2**40  # the high word is used, not only 32 bits


STATUS_CASES = [
    ({"status": "pending", "like_count": 0}, "Waiting for the first sync…", True),
    ({"status": "syncing", "like_count": 240}, "240 likes so far", True),
    ({"status": "syncing", "like_count": 1}, "1 like so far", True),
    ({"status": "forbidden", "like_count": 0}, "X keeps these likes private", False),
    ({"status": "not_found", "like_count": 0}, "X has no user @someone", False),
    ({"status": "ready", "like_count": 0}, "X has no likes of @someone to show yet", False),
    ({"status": "error", "like_count": 0}, "The last sync failed", True),
    ({"status": "reconnect_needed", "like_count": 5}, "X no longer lets random-likes read these likes", False),
]


@pytest.mark.parametrize(("sub", "title", "poll"), STATUS_CASES)
def test_each_status_reads_as_words(module_page: Any, sub: dict[str, Any], title: str, poll: bool) -> None:
    words = module_page.evaluate(
        """async (sub) => (await import("./words.js")).describe(sub)""", {"username": "someone", **sub}
    )

    assert words["title"] == title
    assert bool(words["poll"]) is poll


def test_waits_name_the_local_time_of_next_sync(browser: Any) -> None:
    # Given a browser in Berlin and X's reset at 13:05 UTC the same day
    with module_context(browser, timezone_id="Europe/Berlin", locale="en-GB") as page:
        result = page.evaluate(
            """async () => {
            const { describe } = await import("./words.js");
            const now = new Date("2026-03-02T12:00:00Z");
            const sub = (status, at) => ({ username: "u", status, like_count: 240, next_sync_at: at });
            return [
                describe(sub("rate_limited", "2026-03-02T13:05:00Z"), now),
                describe(sub("usage_capped", "2026-03-03T00:00:00Z"), now),
                describe(sub("rate_limited", "2026-03-05T07:30:00Z"), now),
            ];
        }"""
        )

    assert result[0]["title"] == "Waiting for X's rate limit until 14:05"
    assert result[0]["detail"] == "240 likes so far"
    assert result[1]["title"] == "Today's X read budget is spent; continuing at 01:00 tomorrow"
    assert result[2]["title"] == "Waiting for X's rate limit until Thu 08:30"


def test_a_usage_capped_status_leaves_the_pause_to_the_pause_line(module_page: Any) -> None:
    # Given a subscription stopped by the budget while the app says syncing is paused until midnight
    words = module_page.evaluate(
        """async () => {
        const { describe, pausedWords } = await import("./words.js");
        const now = new Date("2026-03-02T12:00:00Z");
        const paused = { until: "2026-03-03T00:00:00Z", reason: "daily_budget" };
        const sub = { username: "u", status: "usage_capped", like_count: 240, next_sync_at: paused.until };
        return [describe({ ...sub, sync_paused: paused }, now), pausedWords(paused, now), describe(sub, now)];
    }"""
    )

    # Then the status names the likes, not the budget (the pause line says that once), until the pause is gone
    assert words[0]["title"] == "240 likes so far"
    assert "budget" not in words[0]["title"] + words[0]["detail"]
    assert "today's read budget is spent" in words[1]
    assert words[2]["title"].startswith("Today's X read budget is spent")

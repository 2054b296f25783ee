"""The card, rendered in Chromium from hostile and awkward posts: text stays text, links stay http(s)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

HOSTILE_NAME = '<img src=x onerror=alert("name")>'
HOSTILE_TEXT = "<img src=x onerror=alert(1)> and <script>alert(2)</script> https://t.co/js https://t.co/ok"


def render(page: Any, post: dict[str, Any]) -> dict[str, Any]:
    """Render `post` into the document and report what the DOM holds."""
    result: dict[str, Any] = page.evaluate(
        """async (post) => {
            const { renderCard } = await import("./card.js");
            window.alerts = 0;
            window.alert = () => { window.alerts += 1; };
            const holder = document.createElement("div");
            document.body.append(holder);
            holder.replaceChildren(renderCard(post));
            const card = holder.querySelector("article");
            const img = card.querySelector(".media-img");
            const box = img ? img.getBoundingClientRect() : null;
            await new Promise((done) => setTimeout(done, 300));
            return {
                text: card.querySelector(".text").textContent,
                textDir: card.querySelector(".text").getAttribute("dir"),
                name: card.querySelector(".name").textContent,
                lang: card.getAttribute("lang"),
                scripts: card.querySelectorAll("script").length,
                imgsX: card.querySelectorAll('img[src="x"]').length,
                links: [...card.querySelectorAll("a")].map((a) => ({
                    href: a.getAttribute("href"), text: a.textContent, target: a.target, rel: a.rel,
                })),
                images: [...card.querySelectorAll("img")].map((i) => ({ src: i.getAttribute("src"), alt: i.alt })),
                initial: card.querySelector(".avatar-initial").textContent,
                missing: [...card.querySelectorAll(".media-missing")].map((m) => m.textContent),
                kinds: [...card.querySelectorAll(".media-kind")].map((m) => m.textContent),
                time: card.querySelector("time")?.getAttribute("datetime") ?? null,
                firstBox: box && { width: box.width, height: box.height },
                alerts: window.alerts,
            };
        }""",
        post,
    )
    return result


def hostile_post() -> dict[str, Any]:
    text = HOSTILE_TEXT
    js, ok = text.index("https://t.co/js"), text.index("https://t.co/ok")
    return {
        "id": "1",
        "text": text,
        "url": "https://x.com/xss_tester/status/1",
        "created_at": "2025-12-31T11:48:00.000Z",
        "lang": "en",
        "author": {
            "id": "9",
            "username": "xss_tester",
            "name": HOSTILE_NAME,
            "profile_image_url": "javascript:alert(3)",
            "verified": False,
        },
        "links": [
            {"url": "https://t.co/js", "expanded_url": "javascript:alert(1)", "display_url": "javascript:alert(1)",
             "start": js, "end": js + 15},
            {"url": "https://t.co/ok", "expanded_url": "https://example.com/ok", "display_url": "example.com/ok",
             "start": ok, "end": ok + 15},
        ],
        "media": [
            {"media_key": "3_1", "type": "photo", "url": "data:image/svg+xml,<svg onload=alert(4)>",
             "alt_text": "<b>bold</b> cat", "width": 1200, "height": 675},
        ],
    }  # fmt: skip


def test_hostile_text_names_and_urls_render_as_literal_text_and_run_nothing(module_page: Any) -> None:
    # Given a post whose every field tries something
    post = hostile_post()

    # When the card is rendered
    card = render(module_page, post)

    # Then markup shows as characters, nothing ran, nothing was parsed into elements
    assert card["text"] == (
        "<img src=x onerror=alert(1)> and <script>alert(2)</script> javascript:alert(1) example.com/ok"
    )
    assert card["name"] == HOSTILE_NAME
    assert card["scripts"] == 0
    assert card["imgsX"] == 0
    assert card["alerts"] == 0
    # Only http(s) links, each opening a new tab without an opener or referrer
    assert [link["href"] for link in card["links"]] == [
        "https://example.com/ok",
        "https://x.com/xss_tester/status/1",
        "https://x.com/xss_tester/status/1",
    ]
    assert all(link["target"] == "_blank" and link["rel"] == "noopener noreferrer" for link in card["links"])
    # A javascript: avatar and a data: photo are never loaded: initials and the alt text stand in
    assert card["images"] == []
    assert card["initial"] == "X"
    assert card["missing"] == ["<b>bold</b> cat"]


def test_a_video_shows_its_preview_with_alt_text_in_a_box_reserved_before_it_loads(module_page: Any) -> None:
    post = {
        "id": "2",
        "text": "Watch: how rate limits work https://t.co/vid",
        "url": "https://x.com/linkshare/status/2",
        "created_at": "2025-12-31T19:48:00.000Z",
        "lang": "en",
        "author": {"id": "8", "username": "linkshare", "name": "Link Share", "verified": True},
        "links": [
            {
                "url": "https://t.co/vid",
                "expanded_url": "https://x.com/linkshare/status/2/video/1",
                "display_url": "pic.x.com/vid",
                "start": 28,
                "end": 44,
            }
        ],
        "media": [
            {
                "media_key": "7_2",
                "type": "video",
                "url": None,
                "preview_image_url": "http://random-likes.test/assets/no-such-preview.svg",
                "alt_text": "A presenter at a whiteboard.",
                "width": 1600,
                "height": 900,
            }
        ],
    }

    card = render(module_page, post)

    # The media's own t.co link is not repeated in the text
    assert card["text"] == "Watch: how rate limits work"
    assert card["kinds"] == ["Video"]
    # The box had its final shape before a byte of the image arrived (16:9 from width/height)
    assert card["firstBox"]["width"] > 0
    assert card["firstBox"]["height"] == pytest.approx(card["firstBox"]["width"] * 900 / 1600, abs=1)
    # The preview 404s: the alt text takes its place
    assert card["missing"] == ["Video: A presenter at a whiteboard."]


def test_an_avatar_that_fails_to_load_leaves_the_initial(module_page: Any) -> None:
    post = {
        "id": "3",
        "text": "שלום עולם! mixed עברית and English",
        "url": "https://x.com/yael_design/status/3",
        "created_at": "not a date",
        "lang": "he",
        "author": {
            "id": "7",
            "username": "yael_design",
            "name": "יעל עיצוב",
            "profile_image_url": "http://random-likes.test/assets/missing-avatar.svg",
        },
        "links": [],
        "media": [],
    }

    card = render(module_page, post)

    assert card["images"] == []  # removed on error
    assert card["initial"] == "Y"
    assert card["textDir"] == "auto"
    assert card["lang"] == "he"
    assert card["time"] is None  # an unparseable date is left out, not shown as "Invalid Date"

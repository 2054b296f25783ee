"""Parsing liked_tweets responses recorded from the simulator (tests/fixtures/x, which validate against X's spec)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.x_client import parse_likes_page, rate_limit, x_unescape

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x"


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data["response"]


def test_a_page_becomes_posts_with_authors_links_media_and_a_cursor() -> None:
    response = recorded("liked_tweets_page1")

    page = parse_likes_page(response["body"], rate_limit(response["headers"]))

    body = response["body"]
    assert [p.id for p in page.posts] == [t["id"] for t in body["data"]]
    assert page.next_token == body["meta"]["next_token"]
    assert page.skipped == len(body.get("errors", []))
    assert all(p.author is not None and p.author.username for p in page.posts)
    assert page.rate.remaining == int(response["headers"]["x-rate-limit-remaining"])
    users = {u["id"]: u for u in body["includes"]["users"]}
    first = body["data"][0]
    assert page.posts[0].author is not None
    assert page.posts[0].author.name == users[first["author_id"]]["name"]


def test_long_form_posts_take_their_full_text_from_note_tweet() -> None:
    body = recorded("liked_tweets_page1")["body"]
    notes = {t["id"]: t["note_tweet"]["text"] for t in body["data"] if "note_tweet" in t}
    assert notes, "the fixture has a long-form post"

    page = parse_likes_page(body, rate_limit({}))

    for post in page.posts:
        if post.id in notes:
            assert post.text == x_unescape(notes[post.id])
            assert len(post.text) > 280


def test_media_keys_resolve_to_their_includes() -> None:
    body = recorded("liked_tweets_page1")["body"]
    page = parse_likes_page(body, rate_limit({}))
    media = [m for p in page.posts for m in p.media]
    assert media
    assert {m.media_key for m in media} <= {m["media_key"] for m in body["includes"]["media"]}


def test_the_last_page_has_no_cursor_and_an_empty_page_has_no_posts() -> None:
    assert parse_likes_page(recorded("liked_tweets_last_page")["body"], rate_limit({})).next_token is None
    assert parse_likes_page(recorded("liked_tweets_empty")["body"], rate_limit({})).posts == ()


def test_entities_are_unescaped_once() -> None:
    assert x_unescape("a &lt;b&gt; &amp;amp; c") == "a <b> &amp; c"

"""Usernames and posts: what is accepted, what is refused and how a post survives storage."""

from __future__ import annotations

import pytest

from shared.errors import InvalidUsername
from shared.models import Author, Link, Media, Post, normalize_username


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("demo", "demo"), ("Demo_User_15chr", "demo_user_15chr"), ("@BigFan", "bigfan"), ("  x  ", "x"), ("_", "_")],
)
def test_valid_usernames_are_lowercased(raw: str, expected: str) -> None:
    assert normalize_username(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("@", "empty"),
        ("a" * 16, "longer than 15"),
        ("demo-user", "only the letters"),
        ("demo user", "only the letters"),
        ("\u0430dmin", "only the letters"),  # Cyrillic a
        ("\uff44\uff45\uff4d\uff4f", "only the letters"),  # fullwidth "demo"
        ("dem\u00f6", "only the letters"),
        ("<script>", "only the letters"),
        ("demo\u200b", "only the letters"),  # zero-width space
        (12345, "must be a string"),
        (None, "must be a string"),
    ],
)
def test_invalid_usernames_are_refused_with_a_reason(raw: object, message: str) -> None:
    with pytest.raises(InvalidUsername) as refused:
        normalize_username(raw)

    assert message in str(refused.value)


def test_a_post_round_trips_through_json_unchanged() -> None:
    post = Post(
        id="1",
        text="<b>not html</b> \u202eevil\u202c \U0001f600 https://t.co/x",
        author=Author(id="2", username="a", name="A", profile_image_url="https://img/a.png", verified=True),
        created_at="2024-01-01T00:00:00.000Z",
        lang="en",
        links=(Link("https://t.co/x", "https://example.com/a", "example.com/a", 30, 53),),
        media=(Media("3_1", "photo", url="https://img/1.jpg", alt_text="a cat", width=10, height=20),),
    )
    assert Post.from_json(post.to_json()) == post
    assert post.to_json()["url"] == "https://x.com/a/status/1"

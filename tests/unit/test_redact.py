"""What `last_error` may show: X's words and the parameter's name, never a credential, signature or cursor."""

from __future__ import annotations

import pytest

from shared.redact import redact
from tests.support.fake_x import FAKE_CURSOR as SECRET


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        (
            f"The `pagination_token` query parameter value [{SECRET}] is not valid",
            "The `pagination_token` query parameter value [redacted] is not valid",
            SECRET,
        ),
        (
            'Authorization: OAuth oauth_consumer_key="ck123", oauth_nonce="n0nce", oauth_signature="a%2Fb%3D"',
            'oauth_consumer_key="[redacted]", oauth_nonce="[redacted]", oauth_signature="[redacted]"',
            "a%2Fb%3D",
        ),
        ("Authorization: Bearer AAAAxyz%2Babc%3Dd", "Authorization: Bearer [redacted]", "AAAAxyz"),
        ('{"access_token": "at-1", "refresh_token":"rt-2"}', '{"access_token": "[redacted]"', "rt-2"),
        ("GET /2/users/1/liked_tweets?max_results=100&pagination_token=abc", "pagination_token=[redacted]", "=abc"),
        (f"failed with {SECRET}1 in it", "failed with [redacted] in it", SECRET),
    ],
    ids=["x-400-cursor", "oauth1-header", "bearer", "oauth2-json", "query-string", "opaque"],
)
def test_secrets_are_replaced_and_the_rest_is_kept(text: str, kept: str, gone: str) -> None:
    redacted = redact(text)
    assert kept in redacted
    assert gone not in redacted


@pytest.mark.parametrize(
    "text",
    [
        "X answered 400: One or more parameters to your request was invalid: "
        "The `max_results` query parameter value [1] is not between 5 and 100",
        "The `id` query parameter value [12ab] does not match ^[0-9]{1,19}$",
        "X will not give these likes with the configured credentials: Sorry, you are not authorized to see the "
        "likes of the User with id: [288061445489330665].",
        "XTransient: X answered 503",
        "see https://api.twitter.com/2/problems/invalid-request",
    ],
)
def test_what_an_operator_needs_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_redacting_twice_changes_nothing() -> None:
    once = redact(f"token={SECRET} and `pagination_token` value [{SECRET}]")
    assert redact(once) == once
    assert SECRET not in once

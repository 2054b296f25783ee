"""The fetch queue's message: a sync's fair share (`max_posts`) travels with it, and a body without one reads
as it always did; anything else in its place is poison, said plainly."""

from __future__ import annotations

import json

import pytest

from shared.errors import MalformedMessage
from shared.sync_queue import SyncRequest, parse_request


def test_a_share_goes_out_and_comes_back() -> None:
    # Given a scheduled sync with a share of 40 posts
    request = SyncRequest(subscriber="1234567890", reason="schedule", max_posts=40)

    # When its body is read back
    body = request.body()

    # Then the share is in the body, and the reader sees the same request
    assert json.loads(body)["max_posts"] == 40
    assert parse_request(body) == request


def test_a_body_without_a_share_reads_as_before() -> None:
    # Given bodies as the fetcher wrote them before shares (and a request that has none)
    old = '{"subscriber": "1234567890", "reason": "schedule", "action": "sync"}'

    # Then they read without a cap, and a request without one writes none
    assert parse_request(old) == SyncRequest(subscriber="1234567890", reason="schedule")
    assert parse_request(old).max_posts is None
    assert "max_posts" not in json.loads(SyncRequest(subscriber="1234567890").body())
    assert parse_request('{"subscriber": "1234567890", "max_posts": null}').max_posts is None


@pytest.mark.parametrize("share", ["40", 40.0, True, 0, -5, 10**12, [40]])
def test_a_share_that_is_not_a_whole_number_of_posts_is_poison(share: object) -> None:
    body = json.dumps({"subscriber": "1234567890", "max_posts": share})

    with pytest.raises(MalformedMessage) as poison:
        parse_request(body)

    assert "max_posts must be a whole number" in str(poison.value)

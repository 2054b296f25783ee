"""Likes put straight into the table through the real store, for tests about what reads and removes them."""

from __future__ import annotations

from collections.abc import Sequence

from shared.models import PageRecord, Post, SubscriberStatus, Visibility, Walk
from shared.store import Stores
from tests.support.fake_x import ManualClock


def store_likes(
    store: Stores, username: str, posts: Sequence[Post], *, visibility: Visibility = Visibility.PRIVATE
) -> None:
    """Subscribe `username` if it is not yet (keyed by the name, as before accounts, and owned by nobody: so
    `visibility=PUBLIC` to read it through the api), then append `posts` as one finished page would."""
    clock = ManualClock()
    sub = store.subscribers.get_subscriber(username, consistent=True)
    if sub is None:
        sub, _ = store.subscribers.create_subscriber(
            username, username, clock.now(), clock.now(), visibility=visibility
        )
    record = PageRecord(
        walk=Walk(sub.like_count, None, 100),
        next_walk=None,
        history_complete=True,
        posts_read=len(posts),
        x_requests=1,
        status=SubscriberStatus.READY,
    )
    store.likes.append_likes(sub, posts, record, now=clock.now())

"""The in-memory store (local/memstore.py) keeps the DynamoDB store's conditions and bills its write units.

Its agreement with the DynamoDB store over a whole short month is tests/integration/test_month_agrees.py;
these pin the single conditions and the write-unit arithmetic one at a time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from local.memstore import MemoryLikes, MemorySubscribers, memory_stores
from shared.errors import ConcurrentUpdate
from shared.models import Activity, PageRecord, Post, SubscriberStatus, SyncEnd, Walk

NOW = datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)
DAY = timedelta(days=1)


def _stores() -> tuple[MemorySubscribers, MemoryLikes]:
    subs, likes, _ = memory_stores()
    return subs, likes


def _page(base: int, status: SubscriberStatus = SubscriberStatus.SYNCING) -> PageRecord:
    return PageRecord(Walk(base, None, 5), None, True, posts_read=5, x_requests=1, status=status)


def _post(n: int) -> Post:
    return Post(id=str(1000 + n), text=f"post {n}", author=None)


def test_the_due_index_lists_due_subscribers_soonest_first_and_only_those() -> None:
    # Given three subscribers due at different times and one in the future
    subs, _ = _stores()
    for key, due in (("b", NOW - timedelta(minutes=1)), ("a", NOW - DAY), ("c", NOW), ("d", NOW + DAY)):
        subs.create_subscriber(key, key, NOW - DAY, due)

    # When the fetcher asks for the due ones, two at a time, twice
    first = [s.key for s in subs.iter_subscribers(due_before=NOW, limit=2)]
    again = [s.key for s in subs.iter_subscribers(due_before=NOW)]

    # Then soonest first, the limit kept, the heap intact, the future one left out; all of them without a bound
    assert first == ["a", "b"]
    assert again == ["a", "b", "c"]
    assert [s.key for s in subs.iter_subscribers()] == ["a", "b", "c", "d"]


def test_a_lease_holds_only_for_the_next_sync_at_that_was_read() -> None:
    # Given a due subscriber, read by two fetchers
    subs, _ = _stores()
    sub, _ = subs.create_subscriber("k", "K", NOW - DAY, NOW)
    seen = sub.next_sync_at

    # When both lease it
    first = subs.lease("k", seen, NOW + timedelta(hours=1))
    second = subs.lease("k", seen, NOW + timedelta(hours=1))

    # Then one wins; it is no longer due, and its time is kept in whole seconds as the table keeps it
    assert (first, second) == (True, False)
    assert list(subs.iter_subscribers(due_before=NOW)) == []
    leased = subs.get_subscriber("k")
    assert leased is not None
    assert leased.next_sync_at == (NOW + timedelta(hours=1)).replace(microsecond=0)


def test_the_lock_is_taken_once_until_it_expires_or_a_sync_finishes() -> None:
    subs, _ = _stores()
    subs.create_subscriber("k", "K", NOW, NOW)
    assert subs.acquire("k", NOW, timedelta(minutes=2)) is not None
    assert subs.acquire("k", NOW + timedelta(minutes=1), timedelta(minutes=2)) is None
    assert subs.acquire("k", NOW + timedelta(minutes=3), timedelta(minutes=2)) is not None
    subs.finish_sync("k", SyncEnd(SubscriberStatus.READY, NOW, NOW + DAY))
    assert subs.acquire("k", NOW + timedelta(minutes=3), timedelta(minutes=2)) is not None


def test_a_parked_subscription_leaves_the_due_list_until_its_page_is_opened() -> None:
    # Given a sync that finds nobody has viewed the subscription for long
    subs, _ = _stores()
    subs.create_subscriber("k", "K", NOW - 40 * DAY, NOW)
    parked = Activity(like_rate=0.0, last_new_like_at=None, x_like_count=10, parked=True)
    subs.finish_sync("k", SyncEnd(SubscriberStatus.READY, NOW, NOW + DAY, activity=parked))
    later = NOW + 60 * DAY

    # When the fetcher looks long after, then someone opens its page (twice in a day)
    before_view = [s.key for s in subs.iter_subscribers(due_before=later)]
    viewed = subs.mark_viewed("k", later, every=DAY)
    again = subs.mark_viewed("k", later + timedelta(hours=1), every=DAY)

    # Then it waited, and the view made it due at once, written once
    assert before_view == []
    assert viewed is not None
    assert not viewed.parked
    assert again is None
    assert [s.key for s in subs.iter_subscribers(due_before=later)] == ["k"]


def test_an_append_is_guarded_by_the_like_count_it_started_from() -> None:
    # Given a subscriber and a page of likes stored
    subs, likes = _stores()
    sub, _ = subs.create_subscriber("k", "K", NOW, NOW)
    stored = likes.append_likes(sub, [_post(1), _post(2)], _page(0), now=NOW)

    # When a second writer appends from the stale count, or stores a post already stored
    with pytest.raises(ConcurrentUpdate):
        likes.append_likes(sub, [_post(3)], _page(0), now=NOW)
    with pytest.raises(ConcurrentUpdate):
        likes.append_likes(stored, [_post(1)], _page(2), now=NOW)

    # Then only the first append is there, in dense slots, with when it was first seen
    assert likes.all_post_ids("k") == [(0, "1001"), (1, "1002")]
    assert likes.known_posts("k", ["1002", "9"]) == {"1002": 1}
    current = subs.get_subscriber("k")
    assert current is not None
    assert current.like_count == 2
    assert current.version == stored.version
    like = likes.get_like("k", 1)
    assert like is not None
    assert like.first_seen_at == NOW


def test_writes_are_counted_as_dynamodb_bills_them() -> None:
    subs, likes = _stores()
    # A create is a transaction of two items: 2 units each.
    sub, _ = subs.create_subscriber("k", "K", NOW, NOW)
    assert subs.writes == 4
    # A conditional UpdateItem costs a unit whether its condition holds or not.
    subs.lease("k", NOW + DAY, NOW)
    assert subs.writes == 5
    # An append of 2 small likes: 2 slots + 2 markers + the profile, 2 units each.
    likes.append_likes(sub, [_post(1), _post(2)], _page(0), now=NOW)
    assert subs.writes == 5 + 10
    # A post of more than 1 KB takes 2 units per KB started in a transaction.
    big = Post(id="77", text="x" * 1500, author=None)
    current = subs.get_subscriber("k")
    assert current is not None
    likes.append_likes(current, [big], _page(2), now=NOW)
    assert subs.writes == 15 + 2 * 2 + 2 + 2

"""An archive import beside an API sync of the same subscriber: both append behind the like_count guard, every post
is stored once whoever comes first, and a walk that meets archive likes stops there instead of reading on.

X is the in-memory FakeX (as in test_sync.py), so each interleaving is placed exactly: the sync runs inside the
import, between two of its batches, or the import inside the sync, between its read of X and its append."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from local.provision import StackResources
from shared.archive_import import ImportRequest, run_import
from shared.budget import ReadBudget
from shared.models import PageRecord, Post, Subscriber, SubscriberStatus
from shared.schedule import SchedulePolicy
from shared.store import LikeStore, Stores
from shared.store.imports import ImportSteps, ImportStore
from shared.store.items import Table
from shared.sync import SyncPolicy, SyncPorts, sync_subscriber
from tests.support.archives import bundle, like_entries, post_id
from tests.support.fake_x import AUTHOR, FakeX, ManualClock
from tests.support.importer import OWNER_ID, POLICY, HookedSteps, ports, start_import, subscribe, upload

SYNC_POLICY = SyncPolicy(schedule=SchedulePolicy(min_interval=timedelta(minutes=60)), lock_for=timedelta(minutes=5))
ARCHIVED = 250  # the archive's likes, A0 (newest) .. A249
LIKED_SINCE = 20  # liked on X after the archive was made: N0 .. N19, newest of all


def x_post(n: int, text: str) -> Post:
    return Post(id=post_id(n), text=text, author=AUTHOR, created_at="2024-01-01T00:00:00.000Z")


def account_on_x() -> FakeX:
    """X's likes list, newest first: the likes made since the archive, then the archive's own."""
    newer = [x_post(10_000 + n, f"new like {n}") for n in range(LIKED_SINCE)]
    archived = [x_post(n, f"archived like {n}") for n in range(ARCHIVED)]
    return FakeX([*newer, *archived])


def every_post(x: FakeX) -> set[str]:
    return {post.id for post in x.likes}


def sync(store: Stores, x: FakeX, clock: ManualClock, likes: LikeStore | None = None) -> SubscriberStatus:
    ports_ = SyncPorts(
        subscribers=store.subscribers,
        likes=likes or store.likes,
        x=x,
        budget=ReadBudget(store.app_state, clock, 0),
        clock=clock,
    )
    return sync_subscriber(OWNER_ID, ports=ports_, policy=SYNC_POLICY, seconds_left=lambda: 60.0).status


def import_archive(
    store: Stores, table: Table, stack: StackResources, aws_endpoint: str, steps: ImportSteps | None = None
) -> str:
    imp = start_import(table)
    upload(stack, aws_endpoint, imp.object_key, bundle([like_entries(0, ARCHIVED)], account_id=OWNER_ID))
    outcome = run_import(
        ImportRequest(OWNER_ID, imp.id),
        ports=ports(table, store, stack, aws_endpoint, imports=steps or ImportSteps(table)),
        policy=POLICY,
        seconds_left=lambda: 300.0,
    )
    assert outcome.status == "done"
    return imp.id


def assert_each_post_once(store: Stores, expected: set[str]) -> list[str]:
    stored = store.likes.all_post_ids(OWNER_ID)
    ids = [pid for _, pid in stored]
    assert [slot for slot, _ in stored] == list(range(len(stored))), "dense slots"
    assert len(ids) == len(set(ids)), "no post twice"
    assert set(ids) == expected
    counted = store.likes.like_count(OWNER_ID)
    assert counted is not None
    assert counted[0] == len(ids)
    return ids


def test_a_sync_between_two_batches_of_an_import_every_post_stored_once(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str, clock: ManualClock
) -> None:
    # Given an import that has stored one batch when a sync of the same subscriber runs to its end
    subscribe(store)
    x = account_on_x()
    statuses: list[SubscriberStatus] = []

    def a_sync_runs(n: int) -> None:
        if n == 2:
            statuses.append(sync(store, x, clock))

    steps = HookedSteps(table, before=a_sync_runs)

    # When the import goes on (its next transaction finds like_count moved: it reads again and retries)
    import_id = import_archive(store, table, stack, aws_endpoint, steps)

    # Then the sync stored what was liked since the archive and stopped at the first archive like, the import
    # stored the rest, and every post is there once
    assert statuses == [SubscriberStatus.READY]
    ids = assert_each_post_once(store, every_post(x))
    assert ids[48 : 48 + LIKED_SINCE] == [post_id(10_000 + n) for n in range(LIKED_SINCE)]
    done = ImportStore(table).get(OWNER_ID, import_id)
    assert done is not None
    assert (done.likes_stored, done.likes_already_stored) == (ARCHIVED, 0)


class ImportInsideSync(LikeStore):
    """The sync's like store; the whole import runs between the sync's read of X and its first append."""

    def __init__(self, table: Table, run_import_now: object) -> None:
        super().__init__(table)
        self.appends = 0
        self._run = run_import_now

    def append_likes(
        self, sub: Subscriber, posts: Sequence[Post], page: PageRecord, *, now: datetime, source: str = "api"
    ) -> Subscriber:
        self.appends += 1
        if self.appends == 1:
            self._run()  # type: ignore[operator]
        return super().append_likes(sub, posts, page, now=now, source=source)


def test_an_import_inside_a_sync_the_walk_stops_at_the_archive_likes_without_reading_x_again(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str, clock: ManualClock
) -> None:
    # Given a first sync (like_count 0: its walk's base is 0) whose first page is read from X, and an import
    # that stores the whole archive before the sync appends that page
    subscribe(store)
    x = account_on_x()
    likes = ImportInsideSync(table, lambda: import_archive(store, table, stack, aws_endpoint))

    # When the sync goes on
    status = sync(store, x, clock, likes=likes)

    # Then its append lost the race, was classified again (not read again from X), stored the newer likes and
    # stopped at the first archive like: archive likes sit past its base, yet they are older territory
    assert status is SubscriberStatus.READY
    assert len(x.requests) == 1, "the walk read one page: it neither re-read it nor walked through the archive"
    ids = assert_each_post_once(store, every_post(x))
    assert ids[:ARCHIVED] == [post_id(n) for n in range(ARCHIVED)]
    assert ids[ARCHIVED:] == [post_id(10_000 + n) for n in range(LIKED_SINCE)]


def test_posts_the_api_stored_keep_their_slots_and_count_as_already_stored(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str, clock: ManualClock
) -> None:
    # Given a sync that reached the 100 newest likes (X's depth cap), 80 of them in the archive
    subscribe(store)
    x = account_on_x()
    x.depth_cap = 100
    sync(store, x, clock)
    before = store.likes.all_post_ids(OWNER_ID)

    # When the archive is imported
    import_id = import_archive(store, table, stack, aws_endpoint)

    # Then the API's likes are untouched, and only the 170 the API could not reach were added
    ids = assert_each_post_once(store, every_post(x))
    assert store.likes.all_post_ids(OWNER_ID)[:100] == before
    api_like = store.likes.get_like(OWNER_ID, 30)
    assert api_like is not None
    assert (api_like.source, api_like.post.author) == ("api", AUTHOR)
    assert ids[100:] == [post_id(n) for n in range(80, ARCHIVED)]
    done = ImportStore(table).get(OWNER_ID, import_id)
    assert done is not None
    assert (done.likes_found, done.likes_stored, done.likes_already_stored) == (ARCHIVED, 170, 80)


def test_a_sync_and_an_import_running_at_once_in_two_threads_store_every_post_once(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str, clock: ManualClock
) -> None:
    # Given a sync and an import of the same subscriber started together (whatever the interleaving, the
    # like_count guard and the markers decide; the assertions hold for every one of them)
    subscribe(store)
    x = account_on_x()
    imp = start_import(table)
    upload(stack, aws_endpoint, imp.object_key, bundle([like_entries(0, ARCHIVED)], account_id=OWNER_ID))
    start = threading.Barrier(2)
    results: dict[str, object] = {}

    def importing() -> None:
        start.wait()
        results["import"] = run_import(
            ImportRequest(OWNER_ID, imp.id),
            ports=ports(table, store, stack, aws_endpoint, sleep=time.sleep),
            policy=POLICY,
            seconds_left=lambda: 300.0,
        ).status

    def syncing() -> None:
        start.wait()
        results["sync"] = sync(store, x, clock)

    threads = [threading.Thread(target=importing), threading.Thread(target=syncing)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # Then both ended well and every post is stored once
    assert results == {"import": "done", "sync": SubscriberStatus.READY}
    assert_each_post_once(store, every_post(x))
    done = ImportStore(table).get(OWNER_ID, imp.id)
    assert done is not None
    assert done.likes_stored + done.likes_already_stored == ARCHIVED

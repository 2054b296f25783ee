"""The write pass survives what an invocation meets: a kill mid-import, a timeout ahead (it continues in a message
of its own), a message delivered twice; and picks meanwhile never land on a slot not written yet."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from local.provision import StackResources
from shared.archive_import import ImportRequest, run_import
from shared.models import ArchiveImport, ImportStatus
from shared.store import Stores
from shared.store.imports import ImportSteps, ImportStore
from shared.store.items import Table
from tests.support.archives import bundle, like_entries, post_id
from tests.support.importer import (
    FUNCTION,
    OWNER_ID,
    POLICY,
    HookedSteps,
    RunningOut,
    invoke,
    object_exists,
    ports,
    queue_event,
    receive_all,
    start_import,
    subscribe,
    upload,
    upload_event,
)


class Crash(BaseException):
    """The invocation dies (a timeout, an out-of-memory kill): no except clause sees it, nothing is cleaned up."""


def crash_at(batch: int) -> Callable[[int], None]:
    def hook(n: int) -> None:
        if n == batch:
            raise Crash

    return hook


ARCHIVE = [like_entries(0, 150), like_entries(150, 100)]  # 250 likes: batches of 48 cross the parts
IDS = [post_id(n) for n in range(250)]


def assert_imported(store: Stores, table: Table, imp: ArchiveImport) -> None:
    """Every like once, dense slots in archive order, like_count and the import's counts exact."""
    stored = store.likes.all_post_ids(OWNER_ID)
    assert stored == list(enumerate(IDS))
    counted = store.likes.like_count(OWNER_ID)
    assert counted is not None
    assert counted[0] == len(IDS)
    done = ImportStore(table).get(OWNER_ID, imp.id)
    assert done is not None
    assert (done.status, done.likes_found, done.likes_stored, done.likes_already_stored, done.position) == (
        ImportStatus.DONE,
        250,
        250,
        0,
        250,
    )


@pytest.mark.parametrize(("before", "after"), [(3, None), (None, 3), (1, None), (None, 6)])
def test_a_kill_mid_write_resumes_at_the_checkpoint_with_nothing_twice_and_nothing_lost(
    stack: StackResources,
    store: Stores,
    table: Table,
    aws_endpoint: str,
    before: int | None,
    after: int | None,
) -> None:
    # Given an import killed just before (or just after) its n-th batch's transaction
    subscribe(store)
    imp = start_import(table)
    upload(stack, aws_endpoint, imp.object_key, bundle(ARCHIVE, account_id=OWNER_ID))
    steps = HookedSteps(
        table,
        before=crash_at(before) if before else lambda _n: None,
        after=crash_at(after) if after else lambda _n: None,
    )
    with pytest.raises(Crash):
        run_import(
            ImportRequest(OWNER_ID, imp.id),
            ports=ports(table, store, stack, aws_endpoint, imports=steps),
            policy=POLICY,
            seconds_left=lambda: 300.0,
        )
    killed = ImportStore(table).get(OWNER_ID, imp.id)
    assert killed is not None
    committed = (before - 1) if before else (after or 0)
    assert (killed.status, killed.validated) == (ImportStatus.IMPORTING, True)
    assert killed.position == min(48 * committed, 250)
    assert len(store.likes.all_post_ids(OWNER_ID)) == killed.likes_stored == killed.position

    # When SQS delivers the message again
    assert invoke(upload_event(stack.imports_bucket, imp.object_key)) == {"batchItemFailures": []}

    # Then the import ends exactly as if nothing had happened
    assert_imported(store, table, imp)
    assert not object_exists(stack, aws_endpoint, imp.object_key)


def test_an_import_out_of_time_continues_through_a_message_of_its_own(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str
) -> None:
    # Given an invocation that has time for the parse pass and two batches only
    subscribe(store)
    imp = start_import(table)
    upload(stack, aws_endpoint, imp.object_key, bundle(ARCHIVE, account_id=OWNER_ID))
    receive_all(aws_endpoint, stack.import_queue_url)  # S3's test event and the upload's notification

    # When it runs
    first = invoke(upload_event(stack.imports_bucket, imp.object_key), RunningOut(FUNCTION, 300, calls=3))

    # Then it succeeds its record, having checkpointed, and a continuation waits in the import queue
    assert first == {"batchItemFailures": []}
    halfway = ImportStore(table).get(OWNER_ID, imp.id)
    assert halfway is not None
    assert (halfway.status, halfway.position, halfway.likes_stored) == (ImportStatus.IMPORTING, 96, 96)
    waiting = receive_all(aws_endpoint, stack.import_queue_url)
    assert [json.loads(m["Body"]) for m in waiting] == [{"import": {"subscriber": OWNER_ID, "id": imp.id}}]
    assert object_exists(stack, aws_endpoint, imp.object_key)

    # And the continuation, delivered, finishes the import
    assert invoke(queue_event(waiting)) == {"batchItemFailures": []}
    assert_imported(store, table, imp)
    assert receive_all(aws_endpoint, stack.import_queue_url) == []


def test_too_little_time_for_the_parse_pass_hands_over_before_reading(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str
) -> None:
    subscribe(store)
    imp = start_import(table)
    upload(stack, aws_endpoint, imp.object_key, bundle(ARCHIVE, account_id=OWNER_ID))
    receive_all(aws_endpoint, stack.import_queue_url)

    assert invoke(upload_event(stack.imports_bucket, imp.object_key), RunningOut(FUNCTION, 30, calls=0)) == {
        "batchItemFailures": []
    }

    waiting = receive_all(aws_endpoint, stack.import_queue_url)
    assert len(waiting) == 1
    started = ImportStore(table).get(OWNER_ID, imp.id)
    assert started is not None
    assert (started.status, started.validated) == (ImportStatus.IMPORTING, False)
    assert invoke(queue_event(waiting)) == {"batchItemFailures": []}
    assert_imported(store, table, imp)


def test_a_message_delivered_twice_never_stores_a_like_twice(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str
) -> None:
    # Given a second invocation of the same import that runs to its end while the first is between batches
    subscribe(store)
    imp = start_import(table)
    upload(stack, aws_endpoint, imp.object_key, bundle(ARCHIVE, account_id=OWNER_ID))
    outcomes = []

    def second_invocation(n: int) -> None:
        if n == 2:
            steps = ImportSteps(table)
            outcomes.append(
                run_import(
                    ImportRequest(OWNER_ID, imp.id),
                    ports=ports(table, store, stack, aws_endpoint, imports=steps),
                    policy=POLICY,
                    seconds_left=lambda: 300.0,
                )
            )

    # When the first goes on
    first = run_import(
        ImportRequest(OWNER_ID, imp.id),
        ports=ports(table, store, stack, aws_endpoint, imports=HookedSteps(table, before=second_invocation)),
        policy=POLICY,
        seconds_left=lambda: 300.0,
    )

    # Then the second finished the import and the first saw its checkpoint move and stopped
    assert [o.status for o in outcomes] == ["done"]
    assert first.status == "moved"
    assert_imported(store, table, imp)


def test_picks_during_an_import_see_whole_batches_and_never_an_unwritten_slot(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str
) -> None:
    subscribe(store)
    imp = start_import(table)
    upload(stack, aws_endpoint, imp.object_key, bundle(ARCHIVE, account_id=OWNER_ID))
    counts: list[int] = []

    def every_slot_a_pick_can_draw_is_written(_n: int) -> None:
        counted = store.likes.like_count(OWNER_ID)
        assert counted is not None
        counts.append(counted[0])
        # A pick draws r in [0, like_count) and reads SLOT#r: each must be there, with its post.
        for slot in range(counted[0]):
            like = store.likes.get_like(OWNER_ID, slot)
            assert like is not None
            assert like.post.id == IDS[slot]

    steps = HookedSteps(
        table, before=every_slot_a_pick_can_draw_is_written, after=every_slot_a_pick_can_draw_is_written
    )
    outcome = run_import(
        ImportRequest(OWNER_ID, imp.id),
        ports=ports(table, store, stack, aws_endpoint, imports=steps),
        policy=POLICY,
        seconds_left=lambda: 300.0,
    )

    assert outcome.status == "done"
    # Before and after each of the 6 batches: the count moves a whole batch at a time, never inside one.
    assert counts == [0, 48, 48, 96, 96, 144, 144, 192, 192, 240, 240, 250]

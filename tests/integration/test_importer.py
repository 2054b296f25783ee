"""The import function on moto: an uploaded archive bundle becomes the subscription's likes, each stored once, or the
import fails with a clear code and nothing stored. The handler gets the events S3 and SQS deliver."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from collections.abc import Callable

import pytest

from local.provision import StackResources
from local.xsim import XSim
from shared import snowflake
from shared.archive_import import ImportPolicy, ImportRequest, run_import
from shared.bundle import MAX_UPLOAD_BYTES, object_key
from shared.models import ImportStatus
from shared.store import Stores
from shared.store.imports import ImportStore
from shared.store.items import Table
from tests.support.archives import account_js, bundle, like_entries, like_entry, like_part, post_id, tar
from tests.support.events import load_event
from tests.support.importer import (
    OWNER_ID,
    OWNER_NAME,
    continue_event,
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


def stored_ids(store: Stores, key: str = OWNER_ID) -> list[str]:
    """The stored post ids in slot order; the slots must be exactly 0..n-1 and match like_count."""
    stored = store.likes.all_post_ids(key)
    assert [slot for slot, _ in stored] == list(range(len(stored)))
    counted = store.likes.like_count(key)
    assert counted is not None
    assert counted[0] == len(stored)
    return [pid for _, pid in stored]


def test_an_uploaded_archive_becomes_archive_likes_stored_once_and_the_upload_goes(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str
) -> None:
    # Given an owner's archive of 130 likes in two parts, one of them a post deleted since (no fullText)
    subscribe(store)
    imp = start_import(table)
    parts = [like_entries(0, 100), [*like_entries(100, 29), like_entry(post_id(129), text=None)]]
    parts[0][0] = like_entry(post_id(0), text="Fish &amp; chips https://t.co/AbC123", url="https://example.com/fish")
    upload(stack, aws_endpoint, imp.object_key, bundle(parts, account_id=OWNER_ID, username=OWNER_NAME))

    # When the import function gets what S3 sent to the import queue (its s3:TestEvent first)
    messages = receive_all(aws_endpoint, stack.import_queue_url)
    assert any(json.loads(m["Body"]).get("Event") == "s3:TestEvent" for m in messages)
    result = invoke(queue_event(messages))

    # Then every like is stored once, in archive order, as an archive like dated by its id
    assert result == {"batchItemFailures": []}
    ids = [post_id(n) for n in range(130)]
    assert stored_ids(store) == ids
    first = store.likes.get_like(OWNER_ID, 0)
    assert first is not None
    assert first.source == "archive"
    assert first.post.author is None
    assert first.post.text == "Fish & chips https://t.co/AbC123"
    assert first.post.created_at == snowflake.created_at(ids[0]) == "2021-01-01T00:00:00.000Z"
    assert [(link.url, link.expanded_url, link.start) for link in first.post.links] == [
        ("https://t.co/AbC123", "https://example.com/fish", 13)
    ]
    deleted = store.likes.get_like(OWNER_ID, 129)
    assert deleted is not None
    assert (deleted.post.id, deleted.post.text) == (ids[129], "")
    done = ImportStore(table).get(OWNER_ID, imp.id)
    assert done is not None
    assert (done.status, done.error_code) == (ImportStatus.DONE, None)
    assert (done.likes_found, done.likes_stored, done.likes_already_stored, done.position) == (130, 130, 0, 130)
    assert not object_exists(stack, aws_endpoint, imp.object_key)


def test_s3s_test_event_is_skipped(stack: StackResources) -> None:
    assert invoke(load_event("importer-test-event")) == {"batchItemFailures": []}


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data/like.js", like_part(0, like_entries(0, 3)))
    return buffer.getvalue()


def _broken_at(part: int, entry: int) -> bytes:
    parts = [like_entries(0, 100), like_entries(100, 100)]
    text = like_part(part, parts[part]).decode()
    # The entry-th tweetId of that part turns into a number: its JSON still parses, the entry is wrong.
    target = parts[part][entry - 1]["like"]["tweetId"]
    text = text.replace(f'"tweetId" : "{target}"', f'"tweetId" : {target}')
    members = [("account.js", account_js(OWNER_ID, OWNER_NAME))]
    members += [
        (("like.js", "like-part1.js")[n], text.encode() if n == part else like_part(n, parts[n])) for n in (0, 1)
    ]
    return bundle(members=members)


BAD_UPLOADS = {
    "a zip, not a bundle": (_zip(), "not_a_bundle", "not a gzip-compressed archive bundle"),
    "gzip without a tar": (gzip.compress(b"just some text\n" * 100), "not_a_bundle", "no tar inside"),
    "no like.js": (bundle([], account_id=OWNER_ID), "no_likes_file", "no like.js"),
    "a ../ name": (bundle(members=[("../like.js", like_part(0, like_entries(0, 2)))]), "bad_bundle", "unsafe name"),
    "a link": (gzip.compress(tar([("like.js", b"")], kind=b"2")), "bad_bundle", "(link)"),
    "another file": (
        bundle(members=[("like.js", like_part(0, [])), ("direct-messages.js", b"[]")]),
        "bad_bundle",
        "direct-messages.js",
    ),
    "not window.YTD.like": (
        bundle(members=[("like.js", b"var likes = " + json.dumps(like_entries(0, 2)).encode())]),
        "bad_likes_file",
        "does not start with `window.YTD.like.part0 = [`",
    ),
    "a part under another number": (
        bundle(members=[("like.js", like_part(0, like_entries(0, 2))), ("like-part1.js", like_part(2, []))]),
        "bad_likes_file",
        "like-part1.js says window.YTD.like.part2",
    ),
    "a break at entry 90 of the second part": (_broken_at(1, 90), "bad_likes_file", "like-part1.js, entry 90:"),
    "a JSON break": (
        bundle(members=[("like.js", like_part(0, like_entries(0, 5))[:-40] + b"}, {]")]),
        "bad_likes_file",
        "like.js, entry 5: not JSON",
    ),
    "another account's archive": (
        bundle([like_entries(0, 3)], account_id="2002", username="SomeoneElse"),
        "wrong_account",
        f"This archive is @SomeoneElse's, not @{OWNER_NAME}'s",
    ),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_a_bad_upload_fails_the_import_with_its_code_and_stores_nothing(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str, case: str
) -> None:
    data, code, message = BAD_UPLOADS[case]
    subscribe(store)
    imp = start_import(table)
    upload(stack, aws_endpoint, imp.object_key, data)

    result = invoke(upload_event(stack.imports_bucket, imp.object_key, len(data)))

    assert result == {"batchItemFailures": []}, "a bad upload is the import's failure, not the message's"
    failed = ImportStore(table).get(OWNER_ID, imp.id)
    assert failed is not None
    assert (failed.status, failed.error_code) == (ImportStatus.FAILED, code)
    assert message in (failed.error_message or "")
    assert stored_ids(store) == []
    assert not object_exists(stack, aws_endpoint, imp.object_key)


def test_an_archive_that_unpacks_past_the_limit_stops_there(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str
) -> None:
    # A like.js of 2 MB of spaces compresses to a few KB; the limit here is 1 MB (the real one is 1 GB).
    bomb = bundle(members=[("like.js", b"window.YTD.like.part0 = [" + b" " * (2 * 1024 * 1024) + b"]")])
    assert len(bomb) < 10_000
    subscribe(store)
    imp = start_import(table)
    upload(stack, aws_endpoint, imp.object_key, bomb)
    policy = ImportPolicy(max_unpacked=1024 * 1024)

    outcome = run_import(
        ImportRequest(OWNER_ID, imp.id),
        ports=ports(table, store, stack, aws_endpoint),
        policy=policy,
        seconds_left=lambda: 300.0,
    )

    assert (outcome.status, outcome.detail) == ("failed", "too_large_unpacked")
    failed = ImportStore(table).get(OWNER_ID, imp.id)
    assert failed is not None
    assert failed.error_code == "too_large_unpacked"
    assert stored_ids(store) == []


def test_an_upload_over_the_size_limit_is_refused_before_it_is_read(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str
) -> None:
    # moto accepts what the presigned POST's content-length-range would refuse: the importer's HeadObject is
    # the check. The limit is lowered to the upload's size - 1 (the real one, 128 MB, is the policy's default).
    assert ImportPolicy().max_upload == MAX_UPLOAD_BYTES
    data = bundle([like_entries(0, 10)], account_id=OWNER_ID)
    subscribe(store)
    imp = start_import(table)
    upload(stack, aws_endpoint, imp.object_key, data)

    outcome = run_import(
        ImportRequest(OWNER_ID, imp.id),
        ports=ports(table, store, stack, aws_endpoint),
        policy=ImportPolicy(max_upload=len(data) - 1),
        seconds_left=lambda: 300.0,
    )

    assert (outcome.status, outcome.detail) == ("failed", "too_large")
    failed = ImportStore(table).get(OWNER_ID, imp.id)
    assert failed is not None
    assert f"{len(data):,} bytes" in (failed.error_message or "")
    assert stored_ids(store) == []
    assert not object_exists(stack, aws_endpoint, imp.object_key)


def test_duplicate_ids_are_stored_once_and_counted_as_already_stored(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str
) -> None:
    # Given an archive where a post appears twice in one batch and again in the next part
    first = like_entries(0, 60)
    first[5] = like_entry(post_id(3))
    second = [like_entry(post_id(10)), *like_entries(60, 5)]
    subscribe(store)
    imp = start_import(table)
    upload(stack, aws_endpoint, imp.object_key, bundle([first, second], account_id=OWNER_ID))

    assert invoke(upload_event(stack.imports_bucket, imp.object_key)) == {"batchItemFailures": []}

    unique = list(dict.fromkeys(e["like"]["tweetId"] for e in first + second))
    assert stored_ids(store) == unique
    done = ImportStore(table).get(OWNER_ID, imp.id)
    assert done is not None
    assert done.status is ImportStatus.DONE
    assert (done.likes_found, done.likes_stored, done.likes_already_stored) == (66, 64, 2)


def test_an_archive_without_likes_is_done_with_zeros(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str
) -> None:
    subscribe(store)
    imp = start_import(table)
    upload(stack, aws_endpoint, imp.object_key, bundle([[]], account_id=OWNER_ID))

    assert invoke(upload_event(stack.imports_bucket, imp.object_key)) == {"batchItemFailures": []}

    done = ImportStore(table).get(OWNER_ID, imp.id)
    assert done is not None
    assert (done.status, done.likes_found, done.likes_stored, done.likes_already_stored) == (ImportStatus.DONE, 0, 0, 0)
    assert stored_ids(store) == []
    assert not object_exists(stack, aws_endpoint, imp.object_key)


def test_a_bare_like_js_needs_no_account_js(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str
) -> None:
    subscribe(store)
    imp = start_import(table)
    upload(stack, aws_endpoint, imp.object_key, bundle([like_entries(0, 7)]))

    assert invoke(upload_event(stack.imports_bucket, imp.object_key)) == {"batchItemFailures": []}

    assert stored_ids(store) == [post_id(n) for n in range(7)]


def test_the_same_archive_twice_adds_nothing(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str
) -> None:
    data = bundle([like_entries(0, 120)], account_id=OWNER_ID)
    subscribe(store)
    first = start_import(table)
    upload(stack, aws_endpoint, first.object_key, data)
    invoke(upload_event(stack.imports_bucket, first.object_key))
    before = stored_ids(store)

    second = start_import(table)
    upload(stack, aws_endpoint, second.object_key, data)
    assert invoke(upload_event(stack.imports_bucket, second.object_key)) == {"batchItemFailures": []}

    assert stored_ids(store) == before
    again = ImportStore(table).get(OWNER_ID, second.id)
    assert again is not None
    assert (again.status, again.likes_found, again.likes_stored, again.likes_already_stored) == (
        ImportStatus.DONE,
        120,
        0,
        120,
    )


def test_a_key_that_names_no_import_is_deleted_and_its_message_done(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str
) -> None:
    subscribe(store)
    stray, unknown = "uploads/1001/archive.zip", object_key(OWNER_ID, "x" * 22)
    for key in (stray, unknown):
        upload(stack, aws_endpoint, key, b"whatever")

    for key in (stray, unknown):
        assert invoke(upload_event(stack.imports_bucket, key)) == {"batchItemFailures": []}

    assert not object_exists(stack, aws_endpoint, stray)
    assert not object_exists(stack, aws_endpoint, unknown)
    assert stored_ids(store) == []


def test_an_upload_for_a_subscription_being_deleted_fails_and_stores_nothing(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str
) -> None:
    subscribe(store)
    imp = start_import(table)
    upload(stack, aws_endpoint, imp.object_key, bundle([like_entries(0, 5)], account_id=OWNER_ID))
    store.subscribers.mark_deleting(OWNER_ID)

    assert invoke(upload_event(stack.imports_bucket, imp.object_key)) == {"batchItemFailures": []}

    failed = ImportStore(table).get(OWNER_ID, imp.id)
    assert failed is not None
    assert (failed.status, failed.error_code) == (ImportStatus.FAILED, "not_subscribed")
    assert store.likes.all_post_ids(OWNER_ID) == []


def test_an_ended_import_redelivered_only_loses_its_upload(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str
) -> None:
    subscribe(store)
    imp = start_import(table)
    data = bundle([like_entries(0, 5)], account_id=OWNER_ID)
    upload(stack, aws_endpoint, imp.object_key, data)
    invoke(upload_event(stack.imports_bucket, imp.object_key))
    upload(stack, aws_endpoint, imp.object_key, data)  # S3 delivered twice, or someone re-posted

    assert invoke(upload_event(stack.imports_bucket, imp.object_key)) == {"batchItemFailures": []}

    assert stored_ids(store) == [post_id(n) for n in range(5)]
    assert not object_exists(stack, aws_endpoint, imp.object_key)


def test_dynamodb_down_fails_the_record_and_never_the_import(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe(store)
    imp = start_import(table)
    upload(stack, aws_endpoint, imp.object_key, bundle([like_entries(0, 5)], account_id=OWNER_ID))
    # The import function's table is gone (a fault of ours, not of the upload): nothing it can decide.
    monkeypatch.setenv("TABLE_NAME", "no-such-table")

    event = upload_event(stack.imports_bucket, imp.object_key)
    result = invoke(event)

    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    waiting = ImportStore(table).get(OWNER_ID, imp.id)
    assert waiting is not None
    assert waiting.status is ImportStatus.WAITING_FOR_UPLOAD
    assert object_exists(stack, aws_endpoint, imp.object_key)


def test_a_continuation_message_names_its_import(
    stack: StackResources, store: Stores, table: Table, aws_endpoint: str
) -> None:
    # The sample continuation event, aimed at a real import, finishes it.
    subscribe(store)
    imp = start_import(table)
    upload(stack, aws_endpoint, imp.object_key, bundle([like_entries(0, 3)], account_id=OWNER_ID))

    assert invoke(continue_event(OWNER_ID, imp.id)) == {"batchItemFailures": []}

    assert stored_ids(store) == [post_id(n) for n in range(3)]
    assert not object_exists(stack, aws_endpoint, imp.object_key)


def test_the_simulators_archive_of_bigfan_as_the_page_extracts_it_imports_every_like(
    stack: StackResources,
    store: Stores,
    table: Table,
    aws_endpoint: str,
    xsim_factory: Callable[..., XSim],
) -> None:
    # Given bigfan's archive as X would export it (1,000 likes in three parts, X's own JSON spacing), and the
    # bundle the page makes of it: account.js and the like parts, data/ stripped, nothing else
    sim = xsim_factory(bigfan_likes=1000, depth_cap=100, archive_part_size=400)
    account = sim.app.world.account("bigfan")
    with zipfile.ZipFile(io.BytesIO(sim.archive("bigfan"))) as archive:
        files = {name.removeprefix("data/"): archive.read(name) for name in archive.namelist()}
    members = [("account.js", files["account.js"])]
    members += [(name, files[name]) for name in ("like.js", "like-part1.js", "like-part2.js")]
    subscribe(store, key=account.id, name=account.username)
    imp = start_import(table, key=account.id)
    upload(stack, aws_endpoint, imp.object_key, bundle(members=members))

    # When the import function gets the upload's event
    assert invoke(upload_event(stack.imports_bucket, imp.object_key)) == {"batchItemFailures": []}

    # Then the whole history is stored, far beyond the API's depth of 100, in the archive's order
    assert stored_ids(store, account.id) == sim.like_ids("bigfan")
    deleted = [n for n, pid in enumerate(sim.like_ids("bigfan")) if sim.app.world.posts[pid].deleted]
    assert deleted
    gone = store.likes.get_like(account.id, deleted[0])
    assert gone is not None
    assert gone.post.text == ""
    done = ImportStore(table).get(account.id, imp.id)
    assert done is not None
    assert (done.status, done.likes_found, done.likes_stored) == (ImportStatus.DONE, 1000, 1000)

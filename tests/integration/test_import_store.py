"""One import of a subscription at a time: a start while another runs is refused; one that stopped (its upload
never came, or it stalled) is marked failed by the start that replaces it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.bundle import UPLOAD_SECONDS, object_key
from shared.models import ArchiveImport, ImportOrigin, ImportStatus
from shared.store.imports import STALLED_AFTER, UPLOAD_GRACE, ImportRunning, ImportStore
from shared.store.items import Table

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def waiting(import_id: str, at: datetime, subscriber: str = "1001") -> ArchiveImport:
    return ArchiveImport(
        id=import_id,
        subscriber=subscriber,
        status=ImportStatus.WAITING_FOR_UPLOAD,
        origin=ImportOrigin.OWNER,
        created_at=at,
        updated_at=at,
        upload_deadline=at + timedelta(seconds=UPLOAD_SECONDS),
        object_key=object_key(subscriber, import_id),
    )


def test_a_second_start_is_refused_while_the_first_waits_for_its_upload(table: Table) -> None:
    imports = ImportStore(table)
    first = imports.start(waiting("a" * 16, NOW), now=NOW)
    with pytest.raises(ImportRunning) as refused:
        imports.start(waiting("b" * 16, NOW), now=NOW + timedelta(minutes=1))
    assert refused.value.running.id == first.id
    assert imports.current("1001") == first
    assert imports.get("1001", "b" * 16) is None


def test_an_upload_that_never_came_fails_and_gives_way(table: Table) -> None:
    imports = ImportStore(table)
    first = imports.start(waiting("a" * 16, NOW), now=NOW)
    late = first.upload_deadline + UPLOAD_GRACE
    assert imports.expire_upload(first, now=late - timedelta(seconds=1)).status is ImportStatus.WAITING_FOR_UPLOAD
    second = imports.start(waiting("b" * 16, late), now=late)
    assert imports.current("1001") == second
    old = imports.get("1001", first.id)
    assert old is not None
    assert (old.status, old.error_code) == (ImportStatus.FAILED, "upload_missing")


def test_a_stalled_import_gives_way_and_a_live_one_does_not(table: Table) -> None:
    imports = ImportStore(table)
    first = imports.start(waiting("a" * 16, NOW), now=NOW)
    table.imports(pk="SUB#1001", sk="IMPORT#" + first.id).update(
        actions=[table.imports.status.set(ImportStatus.IMPORTING.value), table.imports.updated_at.set(NOW)]
    )
    with pytest.raises(ImportRunning):
        imports.start(waiting("b" * 16, NOW), now=NOW + STALLED_AFTER - timedelta(seconds=1))
    later = NOW + STALLED_AFTER
    imports.start(waiting("c" * 16, later), now=later)
    old = imports.get("1001", first.id)
    assert old is not None
    assert (old.status, old.error_code) == (ImportStatus.FAILED, "stalled")


def test_imports_of_two_subscriptions_do_not_meet(table: Table) -> None:
    imports = ImportStore(table)
    imports.start(waiting("a" * 16, NOW, subscriber="1001"), now=NOW)
    other = imports.start(waiting("b" * 16, NOW, subscriber="2002"), now=NOW)
    assert imports.current("2002") == other

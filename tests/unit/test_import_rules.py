"""shared/imports.py and the upload's address, with fakes: the import a start makes, the id the bundle's key
accepts, the POST signed before anything is stored, what an import looks like to the page, and one origin for
the POST and the page's CSP."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from api.web import csp
from shared.bundle import UPLOAD_SECONDS, object_key, parse_object_key
from shared.imports import (
    IMPORT_ID_RE,
    ImportNotFound,
    PresignedUpload,
    current_state,
    import_json,
    new_import_id,
    open_import,
)
from shared.models import ArchiveImport, ImportOrigin, ImportStatus, Subscriber, SubscriberStatus
from shared.store.presign import upload_origin, upload_url
from tests.support.fake_x import ManualClock

SUB = Subscriber(
    key="288061445489330665",
    username="demo",
    display_username="Demo",
    status=SubscriberStatus.READY,
    created_at=datetime(2026, 1, 1),
)


class Ledger:
    def __init__(self) -> None:
        self.items: dict[str, ArchiveImport] = {}
        self.reads: list[str] = []

    def start(self, new: ArchiveImport, *, now: datetime) -> ArchiveImport:
        self.items[new.id] = new
        return new

    def get(self, subscriber: str, import_id: str) -> ArchiveImport | None:
        self.reads.append(import_id)
        found = self.items.get(import_id)
        return found if found is not None and found.subscriber == subscriber else None

    def expire_upload(self, imp: ArchiveImport, *, now: datetime) -> ArchiveImport:
        return imp


class Presigner:
    def __init__(self, fail: bool = False) -> None:
        self.keys: list[str] = []
        self.fail = fail

    def presign(self, key: str, *, now: datetime) -> PresignedUpload:
        if self.fail:
            raise RuntimeError("no credentials")
        self.keys.append(key)
        return PresignedUpload("https://b.s3.eu-west-1.amazonaws.com/", {"key": key}, now)


def test_every_new_id_is_one_the_bundles_key_accepts() -> None:
    ids = {new_import_id() for _ in range(500)}
    assert len(ids) == 500
    for import_id in ids:
        assert IMPORT_ID_RE.fullmatch(import_id)
        assert parse_object_key(object_key(SUB.key, import_id)) == (SUB.key, import_id)


def test_a_start_waits_for_its_upload_until_the_post_expires_at_its_own_key() -> None:
    clock, ledger, presigner = ManualClock(), Ledger(), Presigner()

    started = open_import(SUB, ImportOrigin.OPERATOR, imports=ledger, presigner=presigner, clock=clock)

    imp = started.archive_import
    assert (imp.status, imp.origin, imp.subscriber) == (ImportStatus.WAITING_FOR_UPLOAD, ImportOrigin.OPERATOR, SUB.key)
    assert imp.upload_deadline == clock.now() + timedelta(seconds=UPLOAD_SECONDS)
    assert presigner.keys == [imp.object_key] == [object_key(SUB.key, imp.id)]
    assert ledger.items == {imp.id: imp}


def test_a_post_that_cannot_be_signed_leaves_no_import_behind() -> None:
    ledger = Ledger()
    with pytest.raises(RuntimeError):
        open_import(SUB, ImportOrigin.OWNER, imports=ledger, presigner=Presigner(fail=True), clock=ManualClock())
    assert ledger.items == {}


@pytest.mark.parametrize("import_id", ["../IMPORT", "x" * 65, "", "short"])
def test_an_id_that_cannot_be_one_is_not_found_without_a_read(import_id: str) -> None:
    ledger = Ledger()
    with pytest.raises(ImportNotFound, match="no import"):
        current_state(SUB, import_id, imports=ledger, clock=ManualClock())
    assert ledger.reads == []


def test_the_page_sees_counts_progress_and_the_error() -> None:
    started = open_import(SUB, ImportOrigin.OWNER, imports=Ledger(), presigner=Presigner(), clock=ManualClock())
    failed = replace(
        started.archive_import,
        status=ImportStatus.FAILED,
        likes_found=10,
        position=4,
        error_code="not_like_js",
        error_message="like.js breaks at entry 5",
    )

    shown = import_json(failed)

    assert shown["likes_processed"] == 4
    assert shown["error"] == {"code": "not_like_js", "message": "like.js breaks at entry 5"}
    assert shown["created_at"] == "2026-11-28T12:00:00Z"
    assert import_json(started.archive_import)["error"] is None


def test_the_post_and_the_csp_share_one_origin() -> None:
    assert upload_url("bkt", "eu-west-1") == "https://bkt.s3.eu-west-1.amazonaws.com/"
    assert upload_origin("bkt", "eu-west-1") == "https://bkt.s3.eu-west-1.amazonaws.com"
    assert upload_url("bkt", "us-east-1", "http://127.0.0.1:4566/") == "http://127.0.0.1:4566/bkt"
    assert upload_origin("bkt", "us-east-1", "http://127.0.0.1:4566/") == "http://127.0.0.1:4566"
    assert upload_origin(None, "us-east-1") is None
    assert "connect-src 'self' http://127.0.0.1:4566;" in csp("http://127.0.0.1:4566")

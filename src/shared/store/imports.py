"""Archive imports: one item per import (`IMPORT#<id>`) and the subscription's current import (`IMPORT`), both in
the subscription's partition.

One import of a subscription runs at a time. Starting one reads the current import and replaces it only if
that one no longer runs (done, failed, an upload that never came, or an import that stalled), in one
transaction conditional on the id read: two starts at once never both win. The importer's own steps (its
checkpoint, written with each batch of likes) belong to the import function's modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.archive_import import ImportMoved
from shared.errors import ConcurrentUpdate, DomainError
from shared.models import SOURCE_ARCHIVE, ArchiveImport, ImportOrigin, ImportProgress, ImportStatus, Post
from shared.store.items import (
    CURRENT_IMPORT_SK,
    IMPORT_PREFIX,
    SUB_PREFIX,
    ImportItem,
    ProfileItem,
    Table,
    condition_failed,
    epoch,
    subscriber_pk,
)
from shared.store.likes import put_likes

# An import's record (its counts, its error) stays this long after it was started.
IMPORT_RECORD_DAYS = 30
# S3 delivers ObjectCreated within seconds; an upload is given this long past the POST's expiry to show up
# before its import counts as never uploaded.
UPLOAD_GRACE = timedelta(minutes=5)
# An `importing` import whose record has not moved for this long has stopped (its message is in the DLQ, or
# lost): a new import may replace it. Twice the import queue's visibility timeout (1800 s).
STALLED_AFTER = timedelta(hours=1)


class ImportRunning(DomainError):
    """Another import of this subscription is running (or still waiting for its upload): the api's 409
    `import_running`, with the running import's id."""

    def __init__(self, running: ArchiveImport) -> None:
        super().__init__(f"import {running.id} is {running.status.value}")
        self.running = running


def still_running(imp: ArchiveImport, now: datetime) -> bool:
    """Whether `imp` keeps a new import of its subscription out."""
    if imp.status is ImportStatus.WAITING_FOR_UPLOAD:
        return now < imp.upload_deadline + UPLOAD_GRACE
    if imp.status is ImportStatus.IMPORTING:
        return now - imp.updated_at < STALLED_AFTER
    return False


class ImportStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, subscriber: str, import_id: str) -> ArchiveImport | None:
        items = self._table.imports
        try:
            item = items.get(subscriber_pk(subscriber), IMPORT_PREFIX + import_id)
        except items.DoesNotExist:
            return None
        return to_import(item)

    def current(self, subscriber: str) -> ArchiveImport | None:
        """The subscription's latest import, whatever its status (None: never imported)."""
        pointers = self._table.current_imports
        try:
            pointer = pointers.get(subscriber_pk(subscriber), CURRENT_IMPORT_SK)
        except pointers.DoesNotExist:
            return None
        return self.get(subscriber, pointer.import_id)

    def start(self, new: ArchiveImport, *, now: datetime) -> ArchiveImport:
        """Store `new` (waiting for its upload) as the subscription's current import.

        Raises ImportRunning when the current one still runs. One that stopped without ending (no upload by
        its deadline, or stalled) is marked failed in the same transaction.
        """
        t = self._table
        pk = subscriber_pk(new.subscriber)
        previous = self.current(new.subscriber)
        if previous is not None and still_running(previous, now):
            raise ImportRunning(previous)
        try:
            with TransactWrite(connection=t.connection) as tx:
                pointer = t.current_imports(pk=pk, sk=CURRENT_IMPORT_SK, import_id=new.id)
                if previous is None:
                    tx.save(pointer, condition=t.current_imports.pk.does_not_exist())
                else:
                    tx.save(pointer, condition=t.current_imports.import_id == previous.id)
                    if not previous.terminal:
                        code, message = _stopped(previous)
                        tx.update(
                            t.imports(pk=pk, sk=IMPORT_PREFIX + previous.id),
                            actions=_fail_actions(code, message, now),
                            condition=(t.imports.status == previous.status.value)
                            & (t.imports.updated_at == previous.updated_at),
                        )
                tx.save(to_item(t, new), condition=t.imports.pk.does_not_exist())
        except TransactWriteError as exc:
            if exc.cause_response_code == "TransactionCanceledException":
                # Someone else started (or the previous import moved) between our read and our write.
                latest = self.current(new.subscriber)
                if latest is not None and still_running(latest, now):
                    raise ImportRunning(latest) from exc
                raise ImportRunning(latest or previous or new) from exc
            raise
        return new

    def expire_upload(self, imp: ArchiveImport, *, now: datetime) -> ArchiveImport:
        """`imp` as it stands once its deadline passed: failed `upload_missing` if it is still waiting."""
        if imp.status is not ImportStatus.WAITING_FOR_UPLOAD or now < imp.upload_deadline + UPLOAD_GRACE:
            return imp
        code, message = _stopped(imp)
        return self.fail(imp, code, message, now=now, only_from=ImportStatus.WAITING_FOR_UPLOAD) or imp

    def fail(
        self,
        imp: ArchiveImport,
        code: str,
        message: str,
        *,
        now: datetime,
        only_from: ImportStatus | None = None,
    ) -> ArchiveImport | None:
        """Mark `imp` failed (conditional on its status being `only_from`, or on not having ended). None if
        that condition did not hold (it moved meanwhile: read it again)."""
        items = self._table.imports
        condition: Condition
        if only_from is None:
            condition = items.status.is_in(ImportStatus.WAITING_FOR_UPLOAD.value, ImportStatus.IMPORTING.value)
        else:
            condition = items.status == only_from.value
        try:
            items(pk=subscriber_pk(imp.subscriber), sk=IMPORT_PREFIX + imp.id).update(
                actions=_fail_actions(code, message, now), condition=condition
            )
        except UpdateError as exc:
            if condition_failed(exc):
                return None
            raise
        return replace(imp, status=ImportStatus.FAILED, error_code=code, error_message=message, updated_at=now)


def _stopped(imp: ArchiveImport) -> tuple[str, str]:
    if imp.status is ImportStatus.WAITING_FOR_UPLOAD:
        return "upload_missing", "The archive was never uploaded (the upload link expired). Start the import again."
    return "stalled", "The import stopped and did not resume. Start it again: nothing is stored twice."


def _fail_actions(code: str, message: str, now: datetime) -> list[Action]:
    return [
        ImportItem.status.set(ImportStatus.FAILED.value),
        ImportItem.error_code.set(code),
        ImportItem.error_message.set(message),
        ImportItem.updated_at.set(now),
    ]


def to_item(t: Table, imp: ArchiveImport) -> ImportItem:
    return t.imports(
        pk=subscriber_pk(imp.subscriber),
        sk=IMPORT_PREFIX + imp.id,
        status=imp.status.value,
        origin=imp.origin.value,
        created_at=imp.created_at,
        updated_at=imp.updated_at,
        upload_deadline=imp.upload_deadline,
        object_key=imp.object_key,
        likes_found=imp.likes_found,
        likes_stored=imp.likes_stored,
        likes_already_stored=imp.likes_already_stored,
        position=imp.position,
        validated=imp.validated,
        error_code=imp.error_code,
        error_message=imp.error_message,
        expires_at=epoch(imp.created_at + timedelta(days=IMPORT_RECORD_DAYS)),
    )


def to_import(item: ImportItem) -> ArchiveImport:
    return ArchiveImport(
        id=item.sk.removeprefix(IMPORT_PREFIX),
        subscriber=item.pk.removeprefix(SUB_PREFIX),
        status=ImportStatus(item.status),
        origin=ImportOrigin(item.origin),
        created_at=item.created_at,
        updated_at=item.updated_at,
        upload_deadline=item.upload_deadline,
        object_key=item.object_key,
        likes_found=int(item.likes_found or 0),
        likes_stored=int(item.likes_stored or 0),
        likes_already_stored=int(item.likes_already_stored or 0),
        position=int(item.position or 0),
        validated=bool(item.validated),
        error_code=item.error_code,
        error_message=item.error_message,
    )


# --- the import function's own steps ----------------------------------------------------------------------


class ImportSteps(ImportStore):
    """The importer's transitions of an import item. Every step after `begin` is conditional on the status
    `importing` and on the checkpoint this invocation last saw, so two invocations of one import never both
    advance it; the step with likes writes them and the checkpoint in one transaction."""

    def begin(self, imp: ArchiveImport, *, now: datetime) -> ArchiveImport | None:
        """waiting_for_upload -> importing; None if it was not waiting any more (read it again)."""
        items = self._table.imports
        try:
            self._item(imp).update(
                actions=[items.status.set(ImportStatus.IMPORTING.value), items.updated_at.set(now)],
                condition=items.status == ImportStatus.WAITING_FOR_UPLOAD.value,
            )
        except UpdateError as exc:
            if condition_failed(exc):
                return None
            raise
        return replace(imp, status=ImportStatus.IMPORTING, updated_at=now)

    def mark_validated(self, imp: ArchiveImport, likes_found: int, *, now: datetime) -> ArchiveImport:
        """The parse pass is through: the archive is well-formed and the owner's, with `likes_found` likes."""
        items = self._table.imports
        actions = [items.validated.set(True), items.likes_found.set(likes_found), items.updated_at.set(now)]
        self._step(imp, actions)
        return replace(imp, validated=True, likes_found=likes_found, updated_at=now)

    def save_progress(self, imp: ArchiveImport, progress: ImportProgress, *, now: datetime) -> ArchiveImport:
        """Move the checkpoint over entries that stored nothing new (already stored, or repeated)."""
        self._step(imp, _progress_actions(progress, now))
        return _moved_on(imp, progress, now)

    def store_batch(
        self, imp: ArchiveImport, like_count: int, posts: Sequence[Post], progress: ImportProgress, *, now: datetime
    ) -> ArchiveImport:
        """Append `posts` at slots like_count.. (source archive) and move the checkpoint to `progress`, in one
        transaction: a crash leaves both or neither. ConcurrentUpdate when another writer moved like_count or
        stored one of the posts first (read again and retry); ImportMoved when the import item moved."""
        t = self._table
        profile_actions: list[Action] = [
            ProfileItem.like_count.set(like_count + len(posts)),
            ProfileItem.version.add(1),
        ]
        try:
            with TransactWrite(connection=t.connection) as tx:
                put_likes(tx, t, imp.subscriber, like_count, posts, profile_actions, now=now, source=SOURCE_ARCHIVE)
                tx.update(self._item(imp), actions=_progress_actions(progress, now), condition=self._at(imp))
        except TransactWriteError as exc:
            if exc.cause_response_code != "TransactionCanceledException":
                raise
            reasons = [r.code if r is not None else "None" for r in (exc.cancellation_reasons or [])]
            if reasons and reasons[-1] == "ConditionalCheckFailed":
                raise ImportMoved(f"import {imp.id} moved while storing a batch") from exc
            raise ConcurrentUpdate(
                f"archive batch of {len(posts)} likes for {imp.subscriber} at slot {like_count} was cancelled: "
                f"{sorted(set(reasons) - {'None'})}"
            ) from exc
        return _moved_on(imp, progress, now)

    def finish(self, imp: ArchiveImport, progress: ImportProgress, *, now: datetime) -> ArchiveImport:
        """importing -> done, with the final counts."""
        self._step(imp, [*_progress_actions(progress, now), ImportItem.status.set(ImportStatus.DONE.value)])
        return replace(_moved_on(imp, progress, now), status=ImportStatus.DONE)

    def _item(self, imp: ArchiveImport) -> ImportItem:
        return self._table.imports(pk=subscriber_pk(imp.subscriber), sk=IMPORT_PREFIX + imp.id)

    def _at(self, imp: ArchiveImport) -> Condition:
        items = self._table.imports
        at: Condition = (items.status == ImportStatus.IMPORTING.value) & (items.position == imp.position)
        return at

    def _step(self, imp: ArchiveImport, actions: Sequence[Action]) -> None:
        try:
            self._item(imp).update(actions=list(actions), condition=self._at(imp))
        except UpdateError as exc:
            if condition_failed(exc):
                raise ImportMoved(f"import {imp.id} is no longer importing at entry {imp.position}") from exc
            raise


def _progress_actions(progress: ImportProgress, now: datetime) -> list[Action]:
    return [
        ImportItem.position.set(progress.position),
        ImportItem.likes_stored.set(progress.likes_stored),
        ImportItem.likes_already_stored.set(progress.likes_already_stored),
        ImportItem.updated_at.set(now),
    ]


def _moved_on(imp: ArchiveImport, progress: ImportProgress, now: datetime) -> ArchiveImport:
    return replace(
        imp,
        position=progress.position,
        likes_stored=progress.likes_stored,
        likes_already_stored=progress.likes_already_stored,
        updated_at=now,
    )

"""Archive imports as the api and the operator's CLI start and follow them: who may, the new import (waiting for
its upload, with a presigned POST for exactly its one object), and its status as the page and `--json` show it.

Imports are the owner's business: only the owner starts one (someone else's public subscription is Forbidden,
as for any write) and only the owner reads one (anyone else gets NotSubscribed, worded as for a name nobody
subscribed, whether the subscription is public or not). A subscription being deleted is NotSubscribed, as
every route says. The operator starts imports for any subscription, by name (`random-likes import`).

What a waiting import becomes when its upload never comes (the POST expired, or AWS refused an oversize one and
sent no event) is decided when someone looks: it is marked failed `upload_missing` then.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from shared.bundle import MAX_UPLOAD_BYTES, UPLOAD_SECONDS, object_key
from shared.clock import Clock
from shared.errors import DomainError, NotSubscribed
from shared.models import ArchiveImport, ImportOrigin, ImportStatus, Subscriber, normalize_username
from shared.subscriptions import SubscriptionStore, owned, visible

# shared.bundle.parse_object_key accepts [A-Za-z0-9_-]{16,64}; token_urlsafe(12) is 16 of those (96 random bits).
IMPORT_ID_BYTES = 12
IMPORT_ID_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")


class ImportNotFound(DomainError):
    """No import with this id in this subscription (or an id that could not be one): 404."""


@dataclass(frozen=True)
class PresignedUpload:
    """A browser-ready S3 POST for one object: send `fields` first, then the file as `file`, to `url`. The fields
    carry a signature: they are handed to the uploader and never logged."""

    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int = MAX_UPLOAD_BYTES

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "fields": dict(self.fields),
            "expires_at": _iso(self.expires_at),
            "max_bytes": self.max_bytes,
        }


class Presigner(Protocol):
    def presign(self, key: str, *, now: datetime) -> PresignedUpload: ...


class ImportLedger(Protocol):
    """The imports' store (shared/store/imports.py). `start` raises ImportRunning (a DomainError: 409) while
    another import of the subscription runs."""

    def start(self, new: ArchiveImport, *, now: datetime) -> ArchiveImport: ...

    def get(self, subscriber: str, import_id: str) -> ArchiveImport | None: ...

    def expire_upload(self, imp: ArchiveImport, *, now: datetime) -> ArchiveImport: ...


@dataclass(frozen=True)
class StartedImport:
    subscriber: Subscriber
    archive_import: ArchiveImport
    upload: PresignedUpload


def new_import_id() -> str:
    return secrets.token_urlsafe(IMPORT_ID_BYTES)


def start_import(
    raw_username: object,
    viewer: str | None,
    *,
    subscriptions: SubscriptionStore,
    imports: ImportLedger,
    presigner: Presigner,
    clock: Clock,
) -> StartedImport:
    """The owner starts an import of their archive into their own subscription."""
    sub = owned(raw_username, viewer, store=subscriptions)
    return open_import(sub, ImportOrigin.OWNER, imports=imports, presigner=presigner, clock=clock)


def open_import(
    sub: Subscriber,
    origin: ImportOrigin,
    *,
    imports: ImportLedger,
    presigner: Presigner,
    clock: Clock,
    import_id: str | None = None,
) -> StartedImport:
    """A new import of `sub`, waiting for its upload, and the POST that uploads it. The POST is signed first:
    a presign that failed leaves no import behind to keep the next one out until its deadline."""
    now = clock.now()
    new_id = import_id or new_import_id()
    key = object_key(sub.key, new_id)
    upload = presigner.presign(key, now=now)
    new = ArchiveImport(
        id=new_id,
        subscriber=sub.key,
        status=ImportStatus.WAITING_FOR_UPLOAD,
        origin=origin,
        created_at=now,
        updated_at=now,
        upload_deadline=now + timedelta(seconds=UPLOAD_SECONDS),
        object_key=key,
    )
    return StartedImport(sub, imports.start(new, now=now), upload)


def import_status(
    raw_username: object,
    viewer: str | None,
    import_id: str,
    *,
    subscriptions: SubscriptionStore,
    imports: ImportLedger,
    clock: Clock,
    own: Subscriber | None = None,
) -> ArchiveImport:
    """One of the owner's imports as it stands now. Anyone but the owner gets NotSubscribed, exactly as for a
    name nobody subscribed (public or not: an import is not part of what a public subscription shares).
    `own`: the viewer's subscription as the session check read it (asking for it reads nothing more)."""
    username = normalize_username(raw_username)
    sub = visible(username, viewer, store=subscriptions, own=own)
    if not sub.owned_by(viewer):
        raise NotSubscribed(f"@{username} is not subscribed")
    return current_state(sub, import_id, imports=imports, clock=clock)


def current_state(sub: Subscriber, import_id: str, *, imports: ImportLedger, clock: Clock) -> ArchiveImport:
    """The import `import_id` of `sub`; a waiting one whose upload can no longer come is failed on the way."""
    found = imports.get(sub.key, import_id) if IMPORT_ID_RE.fullmatch(import_id) else None
    if found is None:
        raise ImportNotFound(f"no import {import_id[:64]!r} for @{sub.display_username}")
    return imports.expire_upload(found, now=clock.now())


def import_json(imp: ArchiveImport) -> dict[str, Any]:
    """An import as the api answers it and `random-likes import --json` prints it."""
    error = None if imp.error_code is None else {"code": imp.error_code, "message": imp.error_message or ""}
    return {
        "id": imp.id,
        "status": imp.status.value,
        "origin": imp.origin.value,
        "likes_found": imp.likes_found,
        "likes_stored": imp.likes_stored,
        "likes_already_stored": imp.likes_already_stored,
        # The write pass's checkpoint: archive entries done, of likes_found (the page's "41,200 of 152,318").
        "likes_processed": imp.position,
        "validated": imp.validated,
        "error": error,
        "created_at": _iso(imp.created_at),
        "updated_at": _iso(imp.updated_at),
        "upload_deadline": _iso(imp.upload_deadline),
    }


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")

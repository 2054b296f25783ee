"""Import one uploaded archive bundle into its subscription's likes: the import function's one job.

An import runs in two passes over the upload, each streamed from S3 (shared/archive.py):

1. The parse pass checks everything before the first write: the upload's size, the bundle's members, that
   account.js names the subscription's own X account, and every entry of every like part. Any fault fails the
   import with a code and a message, and nothing is stored. It ends by recording `validated` and `likes_found`.
2. The write pass stores the likes, 48 entries at a time, in bundle order. A batch's new posts (not stored by a
   sync or an earlier import, not repeated in the archive) are appended with their post markers, the profile's
   like_count guard and the import's checkpoint in ONE transaction: a crash resumes at the checkpoint and
   stores nothing twice, and a pick sees a batch's likes only once their slots are written. A batch that loses
   the like_count race (a sync appended meanwhile) is classified again and retried.

An import longer than one invocation sends itself a continuation message before its time runs out. Bad input
ends `failed`; our own faults (DynamoDB, S3 down) raise, and SQS retries the message.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, Protocol
from urllib.parse import unquote_plus, urlsplit

from shared import snowflake
from shared.archive import (
    TOO_LARGE,
    WRONG_ACCOUNT,
    ArchiveAccount,
    ArchiveLike,
    BundleError,
    BundleReader,
    Readable,
)
from shared.bundle import MAX_UNPACKED_BYTES, MAX_UPLOAD_BYTES, object_key, parse_object_key
from shared.clock import Clock
from shared.errors import ConcurrentUpdate, MalformedMessage
from shared.models import ArchiveImport, ImportProgress, ImportStatus, Link, Post, Subscriber, SubscriberStatus

log = logging.getLogger(__name__)

NOT_SUBSCRIBED = "not_subscribed"  # the subscription is gone (or going) before the import ended
UPLOAD_MISSING = "upload_missing"  # the upload is not in the bucket (any more)


class UploadMissing(Exception):
    """The upload is not (or no longer) in the bucket."""


class ImportMoved(Exception):
    """The import's item is no longer where this invocation left it: another invocation moved its checkpoint
    (a message delivered twice), or it ended (replaced as stalled). This invocation stops."""


@dataclass(frozen=True)
class ImportRequest:
    """One import to run (or go on with): an upload arrived, or a continuation of our own."""

    subscriber: str
    import_id: str

    def continuation_body(self) -> str:
        return json.dumps({"import": {"subscriber": self.subscriber, "id": self.import_id}})


@dataclass(frozen=True)
class StrayUpload:
    """An object in the imports bucket that names no import: deleted, never imported."""

    key: str


class ImportRecords(Protocol):
    def get(self, subscriber: str, import_id: str) -> ArchiveImport | None: ...

    def begin(self, imp: ArchiveImport, *, now: datetime) -> ArchiveImport | None: ...

    def mark_validated(self, imp: ArchiveImport, likes_found: int, *, now: datetime) -> ArchiveImport: ...

    def save_progress(self, imp: ArchiveImport, progress: ImportProgress, *, now: datetime) -> ArchiveImport: ...

    def store_batch(
        self, imp: ArchiveImport, like_count: int, posts: Sequence[Post], progress: ImportProgress, *, now: datetime
    ) -> ArchiveImport: ...

    def finish(self, imp: ArchiveImport, progress: ImportProgress, *, now: datetime) -> ArchiveImport: ...

    def fail(
        self,
        imp: ArchiveImport,
        code: str,
        message: str,
        *,
        now: datetime,
        only_from: ImportStatus | None = None,
    ) -> ArchiveImport | None: ...


class ImportSubscribers(Protocol):
    def get_subscriber(self, key: str, *, consistent: bool = False) -> Subscriber | None: ...


class ImportLikes(Protocol):
    def known_posts(self, key: str, post_ids: Sequence[str]) -> dict[str, int]: ...


class Uploads(Protocol):
    def size(self, key: str) -> int | None: ...

    def open(self, key: str) -> Readable:
        """The object's bytes as a stream; UploadMissing if there is none."""
        ...

    def delete(self, key: str) -> None: ...


class Continuations(Protocol):
    def send(self, request: ImportRequest) -> None: ...


@dataclass(frozen=True)
class ImportPorts:
    imports: ImportRecords
    subscribers: ImportSubscribers
    likes: ImportLikes
    uploads: Uploads
    clock: Clock
    continuations: Continuations
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class ImportPolicy:
    # The limits of shared/bundle.py (given here so a test can meet them without uploading 128 MB).
    max_upload: int = MAX_UPLOAD_BYTES
    max_unpacked: int = MAX_UNPACKED_BYTES
    # TransactWriteItems takes 100 items: 48 likes (slot + marker) + the profile + the import's checkpoint.
    batch: int = 48
    # Before each batch: with less than this left, continue in a message of our own (a batch takes well under
    # a second; the margin covers a slow S3 reopen and the send).
    continue_margin: float = 60.0
    # The parse pass of the largest archives takes seconds; it starts only with this much time ahead of it.
    parse_margin: float = 120.0
    # Batches with nothing new (a second import of the same archive) move the checkpoint this often, not each.
    progress_every: int = 960
    log_every: int = 4800  # entries between two "checkpoint" log lines
    conflict_retries: int = 10
    conflict_backoff: float = 0.05  # seconds, doubled per attempt (with jitter), to let a sync's page through


@dataclass(frozen=True)
class ImportOutcome:
    """What one message did to one import, for the log and the tests."""

    import_id: str
    status: str  # done | failed | continued | skipped | moved
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def read_message(body: str, *, bucket: str | None) -> list[ImportRequest | StrayUpload]:
    """What an import-queue message asks for: S3's ObjectCreated records (their keys URL-encoded, as S3 sends
    them) of `bucket` (None: of any bucket), or our own continuation. S3's s3:TestEvent asks for nothing.
    Anything else is poison."""
    try:
        data = json.loads(body)
    except ValueError:
        raise MalformedMessage("message body is not JSON") from None
    if not isinstance(data, dict):
        raise MalformedMessage("message body is not a JSON object")
    if data.get("Event") == "s3:TestEvent":
        return []
    if isinstance(data.get("import"), dict):
        request = data["import"]
        subscriber, import_id = request.get("subscriber"), request.get("id")
        if not isinstance(subscriber, str) or not isinstance(import_id, str):
            raise MalformedMessage('a continuation names its import as {"subscriber", "id"}')
        if parse_object_key(object_key(subscriber, import_id)) is None:
            raise MalformedMessage("a continuation names no valid import")
        return [ImportRequest(subscriber, import_id)]
    records = data.get("Records")
    if not isinstance(records, list):
        raise MalformedMessage("neither an S3 notification nor a continuation")
    found: list[ImportRequest | StrayUpload] = []
    for record in records:
        try:
            s3 = record["s3"]
            record_bucket, key = str(s3["bucket"]["name"]), unquote_plus(str(s3["object"]["key"]))
        except (KeyError, TypeError):
            raise MalformedMessage("an S3 record without its bucket and key") from None
        if bucket is not None and record_bucket != bucket:
            log.warning("notification from another bucket ignored", extra={"bucket": record_bucket})
            continue
        parsed = parse_object_key(key)
        found.append(StrayUpload(key) if parsed is None else ImportRequest(*parsed))
    return found


def import_message(
    body: str, *, bucket: str, ports: ImportPorts, policy: ImportPolicy, seconds_left: Callable[[], float]
) -> list[ImportOutcome]:
    """Act on one import-queue message: run (or go on with) each import it names; delete stray uploads."""
    outcomes = []
    for item in read_message(body, bucket=bucket):
        if isinstance(item, StrayUpload):
            outcomes.append(_delete_stray(item, ports.uploads))
        else:
            outcomes.append(run_import(item, ports=ports, policy=policy, seconds_left=seconds_left))
    return outcomes


def _delete_stray(stray: StrayUpload, uploads: Uploads) -> ImportOutcome:
    # Never a poison loop: whatever this object is, its message is done.
    log.warning("upload names no import; deleting it", extra={"key": stray.key[:200]})
    try:
        uploads.delete(stray.key)
    except Exception:
        log.exception("could not delete a stray upload", extra={"key": stray.key[:200]})
    return ImportOutcome("", "skipped", "not an import's upload")


def run_import(
    request: ImportRequest, *, ports: ImportPorts, policy: ImportPolicy, seconds_left: Callable[[], float]
) -> ImportOutcome:
    """Run one import from where it stands until it ends, or until the invocation must hand over."""
    imp = _importing(request, ports)
    if isinstance(imp, ImportOutcome):
        return imp
    log.info(
        "import begins" if imp.position == 0 else "import goes on",
        extra={"import_id": imp.id, "subscriber": imp.subscriber, "validated": imp.validated, "at": imp.position},
    )
    try:
        return _run(request, imp, ports, policy, seconds_left)
    except BundleError as exc:
        return _fail(imp, exc.code, exc.message, ports)
    except UploadMissing:
        return _fail(imp, UPLOAD_MISSING, "The uploaded archive is gone from storage. Start the import again.", ports)
    except _Gone as exc:
        return _fail(imp, NOT_SUBSCRIBED, str(exc), ports)
    except ImportMoved as exc:
        # Another invocation drives this import now (a message delivered twice), or it was ended: stop here.
        log.warning("import moved under this invocation; stopping", extra={"import_id": imp.id, "reason": str(exc)})
        return ImportOutcome(imp.id, "moved", str(exc))


def _importing(request: ImportRequest, ports: ImportPorts) -> ArchiveImport | ImportOutcome:
    """The import, `importing` from now on; or what was done with a message whose import has ended."""
    imp = ports.imports.get(request.subscriber, request.import_id)
    if imp is None:
        log.warning("no such import; deleting its upload", extra={"import_id": request.import_id})
        ports.uploads.delete(object_key(request.subscriber, request.import_id))
        return ImportOutcome(request.import_id, "skipped", "unknown import")
    if imp.status is ImportStatus.WAITING_FOR_UPLOAD:
        imp = ports.imports.begin(imp, now=ports.clock.now()) or ports.imports.get(imp.subscriber, imp.id) or imp
    if imp.terminal:
        ports.uploads.delete(imp.object_key)
        log.info("import already ended", extra={"import_id": imp.id, "status": imp.status.value})
        return ImportOutcome(imp.id, "skipped", f"already {imp.status.value}")
    if imp.status is not ImportStatus.IMPORTING:
        raise ConcurrentUpdate(f"import {imp.id} is {imp.status.value}, not importing")
    return imp


class _Gone(Exception):
    """The subscription is deleted (or being deleted): its import cannot go on."""


def _run(
    request: ImportRequest,
    imp: ArchiveImport,
    ports: ImportPorts,
    policy: ImportPolicy,
    seconds_left: Callable[[], float],
) -> ImportOutcome:
    sub = _live_subscriber(imp.subscriber, ports)
    if not imp.validated:
        size = ports.uploads.size(imp.object_key)
        if size is None:
            raise UploadMissing(imp.object_key)
        if size > policy.max_upload:
            limit = policy.max_upload / (1024 * 1024)
            raise BundleError(TOO_LARGE, f"The upload is {size:,} bytes, over the limit of {limit:g} MB.")
        if seconds_left() < policy.parse_margin:
            return _continue(request, imp, ports, "before the parse pass")
        reader = BundleReader(ports.uploads.open(imp.object_key), max_unpacked=policy.max_unpacked)
        _check_account(reader.account(), sub)
        found = sum(1 for _ in reader.likes())
        imp = ports.imports.mark_validated(imp, found, now=ports.clock.now())
        log.info(
            "archive validated",
            extra={"import_id": imp.id, "likes_found": found, "unpacked_bytes": reader.unpacked_bytes},
        )
    return _write(request, imp, sub, ports, policy, seconds_left)


def _write(
    request: ImportRequest,
    imp: ArchiveImport,
    sub: Subscriber,
    ports: ImportPorts,
    policy: ImportPolicy,
    seconds_left: Callable[[], float],
) -> ImportOutcome:
    reader = BundleReader(ports.uploads.open(imp.object_key), max_unpacked=policy.max_unpacked)
    # Checked again: the presigned POST stays valid for minutes, so the object may have been posted again
    # since the parse pass. Its entries are checked again as they are read, too.
    _check_account(reader.account(), sub)
    entries: Iterator[ArchiveLike] = reader.likes()
    for _ in islice(entries, imp.position):  # the checkpoint: these are stored (or known) already
        pass
    progress = ImportProgress(imp.position, imp.likes_stored, imp.likes_already_stored)
    like_count = sub.like_count
    last_logged = imp.position
    while True:
        if seconds_left() < policy.continue_margin:
            if progress != _progress_of(imp):
                imp = ports.imports.save_progress(imp, progress, now=ports.clock.now())
            return _continue(request, imp, ports, "out of time")
        batch = list(islice(entries, policy.batch))
        if not batch:
            break
        imp, progress, like_count = _store(imp, batch, progress, like_count, ports, policy)
        if progress.position - last_logged >= policy.log_every:
            last_logged = progress.position
            log.info("checkpoint", extra={"import_id": imp.id, **_counts(progress), "like_count": like_count})
    imp = ports.imports.finish(imp, progress, now=ports.clock.now())
    ports.uploads.delete(imp.object_key)
    log.info("import done", extra={"import_id": imp.id, "likes_found": imp.likes_found, **_counts(progress)})
    return ImportOutcome(imp.id, "done", extra=_counts(progress))


def _store(
    imp: ArchiveImport,
    batch: list[ArchiveLike],
    progress: ImportProgress,
    like_count: int,
    ports: ImportPorts,
    policy: ImportPolicy,
) -> tuple[ArchiveImport, ImportProgress, int]:
    """One batch: its new posts appended with the checkpoint, or (nothing new) the checkpoint moved in memory."""
    unique: dict[str, ArchiveLike] = {}
    for like in batch:
        unique.setdefault(like.tweet_id, like)  # a post twice in the archive is stored once
    for attempt in range(policy.conflict_retries + 1):
        known = ports.likes.known_posts(imp.subscriber, list(unique))
        posts = [archive_post(like) for pid, like in unique.items() if pid not in known]
        after = ImportProgress(
            position=progress.position + len(batch),
            likes_stored=progress.likes_stored + len(posts),
            likes_already_stored=progress.likes_already_stored + len(batch) - len(posts),
        )
        now = ports.clock.now()
        if not posts:
            if after.position - imp.position >= policy.progress_every:
                imp = ports.imports.save_progress(imp, after, now=now)
            return imp, after, like_count
        try:
            return ports.imports.store_batch(imp, like_count, posts, after, now=now), after, like_count + len(posts)
        except ConcurrentUpdate:
            if attempt == policy.conflict_retries:
                raise
            # A sync appended (or stored one of these posts) since we read: read the count again, and give the
            # sync's next page a moment before trying again.
            like_count = _live_subscriber(imp.subscriber, ports).like_count
            log.info("batch conflicted; retrying", extra={"import_id": imp.id, "attempt": attempt + 1})
            ports.sleep(policy.conflict_backoff * (2**attempt) * random.uniform(0.5, 1.5))
    raise ConcurrentUpdate("unreachable")  # pragma: no cover


def _live_subscriber(key: str, ports: ImportPorts) -> Subscriber:
    sub = ports.subscribers.get_subscriber(key, consistent=True)
    if sub is None or sub.status is SubscriberStatus.DELETING:
        raise _Gone("The subscription was deleted, so the import stopped.")
    return sub


def _check_account(account: ArchiveAccount | None, sub: Subscriber) -> None:
    """A bundle with account.js must be the subscription's own account's archive (a bare like.js has none)."""
    if account is None:
        return
    if sub.x_user_id is not None:
        if account.account_id == sub.x_user_id:
            return
    elif account.username is not None and account.username.lower() == sub.username:
        return  # a subscription stored before accounts knows only its name
    theirs = f"@{account.username}" if account.username else f"the X account with id {account.account_id}"
    raise BundleError(
        WRONG_ACCOUNT,
        f"This archive is {theirs}'s, not @{sub.display_username}'s. Download @{sub.display_username}'s own "
        "archive from X and import that one.",
    )


def _continue(request: ImportRequest, imp: ArchiveImport, ports: ImportPorts, why: str) -> ImportOutcome:
    ports.continuations.send(request)
    log.info("import continues in a new message", extra={"import_id": imp.id, "at": imp.position, "why": why})
    return ImportOutcome(imp.id, "continued", why)


def _fail(imp: ArchiveImport, code: str, message: str, ports: ImportPorts) -> ImportOutcome:
    ended = ports.imports.fail(imp, code, message, now=ports.clock.now(), only_from=ImportStatus.IMPORTING)
    ports.uploads.delete(imp.object_key)
    log.info(
        "import failed",
        extra={"import_id": imp.id, "code": code, "error": message, "recorded": ended is not None},
    )
    return ImportOutcome(imp.id, "failed", code)


def _progress_of(imp: ArchiveImport) -> ImportProgress:
    return ImportProgress(imp.position, imp.likes_stored, imp.likes_already_stored)


def _counts(progress: ImportProgress) -> dict[str, int]:
    return {
        "position": progress.position,
        "likes_stored": progress.likes_stored,
        "likes_already_stored": progress.likes_already_stored,
    }


# --- an archive like as a post --------------------------------------------------------------------------

_TCO = re.compile(r"https?://t\.co/[A-Za-z0-9]+")
DISPLAY_URL_CHARS = 26


def archive_post(like: ArchiveLike) -> Post:
    """What a card needs of an archive like: its text with its links, and its date from its id. No author, no
    media: like.js has neither (the card says "from your archive" and links to the post on X)."""
    text = _unescape(like.full_text or "")
    return Post(
        id=like.tweet_id,
        text=text,
        author=None,
        created_at=snowflake.created_at(like.tweet_id),
        links=_links(text, like.expanded_url),
    )


def _links(text: str, expanded_url: str | None) -> tuple[Link, ...]:
    """The t.co links in the text. like.js keeps one expanded URL per like: it is where the text's one t.co
    link goes (often the post itself, for a long post cut short); with several, each links to itself."""
    found = list(_TCO.finditer(text))
    target = expanded_url if expanded_url and len(found) == 1 and _is_http(expanded_url) else None
    return tuple(
        Link(
            url=m.group(0),
            expanded_url=target or m.group(0),
            display_url=_display(target or m.group(0)),
            start=m.start(),  # Python indexes code points, as X counts them
            end=m.end(),
        )
        for m in found
    )


def _is_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _display(url: str) -> str:
    shown = re.sub(r"^https?://(www\.)?", "", url)
    return shown if len(shown) <= DISPLAY_URL_CHARS else shown[: DISPLAY_URL_CHARS - 1] + "…"


def _unescape(text: str) -> str:
    # X escapes these three in post text, in its archive as in its API (shared/x_client.py does the same).
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

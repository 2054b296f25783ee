"""`random-likes import ARCHIVE --username NAME`: the operator's archive import, the same one the page makes.

The archive is read on disk (ops/archive.py: only account.js and the like parts leave it), an import of the
subscription is started with origin `operator` (shared/imports.py: one at a time, 409-equivalent otherwise),
the bundle is uploaded with the same presigned POST the page gets, and then the import's item is read every
POLL_SECONDS until it ends: `done` (exit 0) or `failed` (exit 9, with the import's own error). `--no-wait`
returns once S3 has the upload. Ctrl-C stops only the waiting: the import goes on, and its id is printed.

The presigned POST's fields carry a signature: they go to S3 and nowhere else (never a log or the terminal).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, TextIO

import urllib3

from ops.archive import Bundle
from ops.errors import OpsError
from ops.render import Progress
from shared.clock import Clock
from shared.imports import PresignedUpload, current_state, import_json, open_import
from shared.models import ArchiveImport, ImportOrigin, ImportStatus, Subscriber, SubscriberStatus
from shared.store.imports import ImportRunning, ImportStore
from shared.store.presign import S3Presigner

IMPORT_FAILED = 9  # docs/operations.md, "Exit codes"
POLL_SECONDS = 2.0
UPLOAD_CHUNK = 256 * 1024

Say = Callable[[str], None]  # one progress line (stderr)
pause = time.sleep  # between two reads of the import (the CLI's tests move the import there)


class ImportFailed(OpsError):
    """The import could not start (another one runs), its upload was refused, or it ended `failed`."""

    exit_code = IMPORT_FAILED


@dataclass(frozen=True)
class ImportRun:
    subscriber: Subscriber
    archive_import: ArchiveImport
    uploaded_bytes: int

    def to_json(self) -> dict[str, Any]:
        return {**import_json(self.archive_import), "username": self.subscriber.display_username}


def start(
    sub: Subscriber, *, store: ImportStore, presigner: S3Presigner, clock: Clock
) -> tuple[ArchiveImport, PresignedUpload]:
    """A new import of `sub` by the operator, and its POST."""
    if sub.status is SubscriberStatus.DELETING:
        raise ImportFailed(f"@{sub.display_username} is being unsubscribed: nothing can be imported into it")
    try:
        started = open_import(sub, ImportOrigin.OPERATOR, imports=store, presigner=presigner, clock=clock)
    except ImportRunning as exc:
        running = exc.running
        raise ImportFailed(
            f"another import of @{sub.display_username} is running: {running.id} ({running.status.value}, "
            f"started {running.created_at:%Y-%m-%d %H:%M}Z)",
            hint="wait for it to end; one that stopped (no upload, or stalled) is replaced by the next import",
        ) from None
    return started.archive_import, started.upload


def upload(post: PresignedUpload, bundle: Bundle, *, say: Say | None = None, timeout: float = 300.0) -> None:
    """The browser's POST: multipart/form-data, the fields in order, then the file (last, as S3 wants it)."""
    boundary = "random-likes-" + secrets.token_hex(12)
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in post.fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="bundle.tar.gz"\r\n'
        f"Content-Type: {post.fields.get('Content-Type', 'application/gzip')}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=10, read=timeout), retries=False)
    with bundle.path.open("rb") as data:
        body = _Body(head, data, tail, bundle.size, say)
        try:
            response = http.request(
                "POST",
                post.url,
                body=body,
                headers={
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                    "Content-Length": str(len(head) + bundle.size + len(tail)),
                },
            )
        except urllib3.exceptions.HTTPError as exc:
            raise ImportFailed(f"the upload to {_where(post.url)} failed: {type(exc).__name__}") from None
    if not 200 <= response.status < 300:
        raise ImportFailed(f"S3 refused the upload (HTTP {response.status}{_s3_error(response.data)})")


def wait(
    sub: Subscriber,
    imp: ArchiveImport,
    *,
    store: ImportStore,
    clock: Clock,
    say: Say | None = None,
    poll_seconds: float = POLL_SECONDS,
    sleep: Callable[[float], object] | None = None,
) -> ArchiveImport:
    """Read the import until it ends; a waiting one whose upload never came is failed on the way."""
    while not imp.terminal:
        if say:
            say(describe(imp))
        (sleep or pause)(poll_seconds)
        imp = current_state(sub, imp.id, imports=store, clock=clock)
    return imp


def describe(imp: ArchiveImport) -> str:
    """The progress line for an import that has not ended."""
    if imp.status is ImportStatus.WAITING_FOR_UPLOAD:
        return "uploaded; waiting for the import function to start"
    if not imp.validated:
        return "importing: checking the archive" + (f" ({imp.likes_found:,} likes so far)" if imp.likes_found else "")
    return f"importing {imp.position:,} of {imp.likes_found:,} likes"


def summary(run: ImportRun) -> str:
    imp, name = run.archive_import, run.subscriber.display_username
    if imp.status is ImportStatus.DONE:
        return (
            f"Imported into @{name}: {imp.likes_found:,} likes in the archive, {imp.likes_stored:,} new, "
            f"{imp.likes_already_stored:,} already stored (import {imp.id})."
        )
    if imp.status is ImportStatus.FAILED:
        return f"The import into @{name} failed (import {imp.id}): {imp.error_code}: {imp.error_message}"
    return (
        f"Uploaded {run.uploaded_bytes:,} bytes for @{name} (import {imp.id}, {imp.status.value}); "
        "the import function takes it from here."
    )


def failure(imp: ArchiveImport) -> ImportFailed:
    return ImportFailed(f"the import failed: {imp.error_code}: {imp.error_message}")


class StatusLine:
    """Progress on stderr: one line rewritten in place on a terminal, else a line per change (logs, CI)."""

    def __init__(self, stream: TextIO, *, enabled: bool) -> None:
        self._stream = stream
        self._enabled = enabled
        self._tty = stream.isatty()
        self._line = Progress(stream, enabled=enabled)
        self._last: str | None = None

    def __call__(self, text: str) -> None:
        if not self._enabled or text == self._last:
            return
        self._last = text
        if self._tty:
            self._line.update(text)
        else:
            print(text, file=self._stream, flush=True)

    def done(self) -> None:
        self._line.done()


class _Body:
    """The multipart body as urllib3 sends it, chunk by chunk: head, the bundle, tail; says what was sent."""

    def __init__(self, head: bytes, data: IO[bytes], tail: bytes, size: int, say: Say | None) -> None:
        self._head, self._data, self._tail = head, data, tail
        self._size = size
        self._say = say

    def __iter__(self) -> Iterator[bytes]:
        yield self._head
        sent, shown = 0, -1.0
        while chunk := self._data.read(UPLOAD_CHUNK):
            sent += len(chunk)
            share = sent / self._size if self._size else 1.0
            if self._say and (share - shown >= 0.05 or sent == self._size):
                shown = share
                self._say(f"uploading {sent:,} of {self._size:,} bytes ({share:.0%})")
            yield chunk
        yield self._tail


def _where(url: str) -> str:
    return url.split("?", 1)[0]


def _s3_error(body: bytes) -> str:
    """S3's <Code> and <Message>, if it sent them (never the request's fields)."""
    text = body[:2000].decode("utf-8", "replace")
    code = re.search(r"<Code>([^<]{1,80})</Code>", text)
    message = re.search(r"<Message>([^<]{1,200})</Message>", text)
    return "".join([f": {code.group(1)}" if code else "", f": {message.group(1)}" if message else ""])

"""Read an uploaded bundle (shared/bundle.py) as a stream: its account, then every like, checked as it comes.

Nothing is held whole. The gzip layer is decompressed here, in bounded steps, counting every decompressed byte
(a gzip bomb stops at MAX_UNPACKED_BYTES); the tar layer is read in stream mode, member after member, as
bundle.py orders them; each like part is parsed entry by entry from a sliding text buffer with
`json.JSONDecoder.raw_decode`, so like.js for 150,000 likes (tens of MB) takes a buffer of a few entries.

Every way an upload can be wrong is a BundleError with a code and a message a person can act on; it names the
part and the entry ("like-part3.js, entry 90,000: ...") where one is at fault.
"""

from __future__ import annotations

import codecs
import io
import json
import re
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, Protocol

from shared.bundle import ACCOUNT_MEMBER, MAX_UNPACKED_BYTES, like_part_number

# Import error codes (the import's `error.code`), each a kind of bad upload.
NOT_A_BUNDLE = "not_a_bundle"  # not gzip, or not a tar inside
BAD_BUNDLE = "bad_bundle"  # a member that bundle.py does not allow (name, type, order, an unsafe name), or truncated
TOO_LARGE = "too_large"  # the upload is over MAX_UPLOAD_BYTES
TOO_LARGE_UNPACKED = "too_large_unpacked"  # decompressed, it is over MAX_UNPACKED_BYTES (a bomb)
NO_LIKES_FILE = "no_likes_file"  # no like.js
BAD_LIKES_FILE = "bad_likes_file"  # a like part that is not `window.YTD.like.partN = [...]` of like entries
BAD_ACCOUNT_FILE = "bad_account_file"  # an account.js that does not say whose archive it is
WRONG_ACCOUNT = "wrong_account"  # account.js names another X account

GZIP = 31  # zlib's wbits for a gzip header and trailer
READ_CHUNK = 64 * 1024  # compressed bytes per read, and decompressed bytes per step
TEXT_CHUNK = 64 * 1024  # characters of a like part read at a time
# One entry's JSON is far below this (a long-form post is at most 25,000 characters); a longer one is broken.
MAX_ENTRY_CHARS = 1024 * 1024
MAX_ACCOUNT_BYTES = 1024 * 1024
MAX_TWEET_ID_DIGITS = 19  # X ids are 64-bit integers

_LIKE_PREFIX = re.compile(r"\ufeff?\s*window\.YTD\.like\.part([0-9]+)\s*=\s*\[")
_ACCOUNT_PREFIX = re.compile(r"\ufeff?\s*window\.YTD\.account\.part0\s*=\s*")
_SPACE = re.compile(r"\s*")


class BundleError(Exception):
    """The upload is not an archive bundle we can import: the import fails with `code` and `message`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ArchiveAccount:
    """Whose archive it is, as account.js says."""

    account_id: str
    username: str | None


@dataclass(frozen=True)
class ArchiveLike:
    """One entry of a like part: all that X's archive keeps of a like."""

    part: str  # the member's name, e.g. like-part3.js
    number: int  # 1-based within its part, for messages
    tweet_id: str
    full_text: str | None  # absent for a post deleted since
    expanded_url: str | None


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Gunzip(io.RawIOBase):
    """The decompressed bytes of a gzip stream (one member or several), at most `limit` of them in all."""

    def __init__(self, source: Readable, limit: int) -> None:
        self._source = source
        self._limit = limit
        self._d = zlib.decompressobj(GZIP)
        self._input = b""
        self._read_any = False
        self.unpacked = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        while True:
            if self._d.eof:
                if not self._input:
                    self._input = self._source.read(READ_CHUNK)
                    if not self._input:
                        return 0
                self._d = zlib.decompressobj(GZIP)  # gzip allows members one after another
            if not self._input:
                self._input = self._source.read(READ_CHUNK)
                if not self._input:
                    if not self._read_any:
                        raise BundleError(NOT_A_BUNDLE, "The upload is empty.")
                    raise self._fault("the upload ends in the middle of its gzip stream (truncated)")
                self._read_any = True
            try:
                # max_length bounds what one step can produce, however well the input compresses.
                out = self._d.decompress(self._input, size)
            except zlib.error as exc:
                raise self._fault(f"the gzip stream is corrupt ({exc})") from None
            self._input = self._d.unused_data if self._d.eof else self._d.unconsumed_tail
            if out:
                self.unpacked += len(out)
                if self.unpacked > self._limit:
                    raise BundleError(
                        TOO_LARGE_UNPACKED,
                        f"The upload unpacks to more than {self._limit / (1024 * 1024):g} MB: refused.",
                    )
                buffer[: len(out)] = out
                return len(out)

    def _fault(self, detail: str) -> BundleError:
        if self.unpacked == 0:
            return BundleError(NOT_A_BUNDLE, f"The upload is not a gzip-compressed archive bundle: {detail}.")
        return BundleError(BAD_BUNDLE, f"The upload is damaged: {detail}.")


class BundleReader:
    """One pass over a bundle: `account()` first (it reads the first member), then `likes()`.

    Members must be exactly those of shared/bundle.py, in its order: account.js (optional), like.js,
    like-part1.js, like-part2.js, ... regular files only.
    """

    def __init__(self, source: Readable, *, max_unpacked: int = MAX_UNPACKED_BYTES) -> None:
        self._raw = _Gunzip(source, max_unpacked)
        self._tar: tarfile.TarFile | None = None
        self._pending: tarfile.TarInfo | None = None
        self._account: ArchiveAccount | None = None
        self._started = False

    @property
    def unpacked_bytes(self) -> int:
        return self._raw.unpacked

    def account(self) -> ArchiveAccount | None:
        """Whose archive this is (None: a bare like.js, without account.js)."""
        self._start()
        return self._account

    def likes(self) -> Iterator[ArchiveLike]:
        """Every like of every part, in bundle order, each checked; BundleError at the first fault."""
        self._start()
        expected = 0
        member = self._pending
        self._pending = None
        while member is not None:
            number = like_part_number(member.name)
            if number is None:
                raise _unexpected(member, "a like part (like.js, like-part1.js, ...)")
            if number != expected:
                want = "like.js" if expected == 0 else f"like-part{expected}.js"
                raise BundleError(BAD_BUNDLE, f"The bundle holds {member.name} where {want} should come.")
            yield from _like_entries(member.name, number, self._open(member))
            expected += 1
            member = self._next()
        if expected == 0:
            raise BundleError(NO_LIKES_FILE, "The archive has no like.js: there are no likes to import.")

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        try:
            self._tar = tarfile.open(fileobj=self._raw, mode="r|")  # noqa: SIM115 (read to its end, never seeks)
        except tarfile.TarError as exc:
            raise BundleError(NOT_A_BUNDLE, f"The upload is not an archive bundle (no tar inside: {exc}).") from None
        first = self._next()
        if first is not None and first.name == ACCOUNT_MEMBER:
            self._account = _account(self._open(first))
            first = self._next()
        self._pending = first

    def _archive(self) -> tarfile.TarFile:
        if self._tar is None:
            raise RuntimeError("the bundle is read from its start: account() or likes() first")
        return self._tar

    def _next(self) -> tarfile.TarInfo | None:
        try:
            member = self._archive().next()
        except tarfile.TarError as exc:
            raise BundleError(BAD_BUNDLE, f"The bundle is damaged: {exc}.") from None
        if member is None:
            return None
        name = member.name
        if name.startswith("/") or ".." in name.split("/") or "\\" in name:
            raise BundleError(BAD_BUNDLE, f"The bundle holds an unsafe name ({name[:100]!r}): refused.")
        if not member.isreg() or member.issparse():
            raise _unexpected(member, "regular files only")
        if name != ACCOUNT_MEMBER and like_part_number(name) is None:
            raise _unexpected(member, "account.js and the like parts only")
        return member

    def _open(self, member: tarfile.TarInfo) -> _Member:
        data = self._archive().extractfile(member)
        if data is None:  # only for what is not a regular file, which _next refused
            raise BundleError(BAD_BUNDLE, f"The bundle's {member.name} has no data.")
        return _Member(member.name, data)


class _Member:
    """A member's bytes as tarfile reads them, its faults (a member cut short) said as a bad bundle."""

    def __init__(self, name: str, data: IO[bytes]) -> None:
        self._name = name
        self._data = data

    def read(self, size: int = -1, /) -> bytes:
        try:
            return self._data.read(size)
        except tarfile.TarError as exc:
            raise BundleError(BAD_BUNDLE, f"The bundle's {self._name} is damaged or cut short ({exc}).") from None


def _unexpected(member: tarfile.TarInfo, allowed: str) -> BundleError:
    if member.isreg():
        kind = "file"
    elif member.issym() or member.islnk():
        kind = "link"
    else:
        kind = "directory" if member.isdir() else "special entry"
    return BundleError(BAD_BUNDLE, f"The bundle holds {member.name[:100]!r} ({kind}); it may hold {allowed}.")


def _account(data: Readable) -> ArchiveAccount:
    raw = data.read(MAX_ACCOUNT_BYTES + 1)
    if len(raw) > MAX_ACCOUNT_BYTES:
        raise BundleError(BAD_ACCOUNT_FILE, "account.js is far too large to be X's account file.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError(BAD_ACCOUNT_FILE, "account.js is not UTF-8 text.") from None
    prefix = _ACCOUNT_PREFIX.match(text)
    if prefix is None:
        raise BundleError(BAD_ACCOUNT_FILE, "account.js does not start with `window.YTD.account.part0 = `.")
    try:
        value = json.loads(text[prefix.end() :].rstrip().rstrip(";"))
        account = value[0]["account"]
        account_id = account["accountId"]
    except (ValueError, LookupError, TypeError):
        raise BundleError(BAD_ACCOUNT_FILE, "account.js does not say which X account the archive is of.") from None
    if not isinstance(account_id, str) or not _is_id(account_id):
        raise BundleError(BAD_ACCOUNT_FILE, "account.js names no valid X account id.")
    username = account.get("username")
    return ArchiveAccount(account_id=account_id, username=username if isinstance(username, str) else None)


def _like_entries(part: str, number: int, data: Readable) -> Iterator[ArchiveLike]:
    """The entries of one like part, parsed one at a time from a buffer of a few entries."""
    text = _Text(data, part)
    prefix = None
    while prefix is None:
        prefix = _LIKE_PREFIX.match(text.buf)
        if prefix is None and (text.exhausted or len(text.buf) > 200 or not text.more()):
            # Not quoted: the message is stored and logged, and the file's head may be a post's text.
            raise BundleError(BAD_LIKES_FILE, f"{part} does not start with `window.YTD.like.part{number} = [`.")
    if int(prefix.group(1)) != number:
        raise BundleError(
            BAD_LIKES_FILE, f"{part} says window.YTD.like.part{prefix.group(1)}, not part{number}: parts are mixed up."
        )
    text.pos = prefix.end()
    decoder = json.JSONDecoder()
    count = 0
    while True:
        text.skip_space()
        if text.peek() == "]":
            text.pos += 1
            break
        if count:
            if text.peek() != ",":
                raise text.fault(count + 1, "expected `,` or `]` after the previous entry")
            text.pos += 1
            text.skip_space()
        count += 1
        while True:
            try:
                value, end = decoder.raw_decode(text.buf, text.pos)
                break
            except json.JSONDecodeError as exc:
                # Most often the entry only continues past the buffer: read on, up to one entry's largest size.
                if len(text.buf) - text.pos > MAX_ENTRY_CHARS or not text.more():
                    raise text.fault(count, f"not JSON ({exc.msg})") from None
        text.pos = end
        yield _like(part, count, value)
    text.skip_space()
    if text.peek() == ";":
        text.pos += 1
        text.skip_space()
    if text.peek() != "":
        raise BundleError(BAD_LIKES_FILE, f"{part}: something follows the list of likes ({text.peek()!r}).")


def _like(part: str, number: int, value: Any) -> ArchiveLike:
    where = f"{part}, entry {number:,}"
    if not isinstance(value, dict) or not isinstance(value.get("like"), dict):
        raise BundleError(BAD_LIKES_FILE, f'{where}: not a like (expected {{"like": {{...}}}}).')
    like = value["like"]
    tweet_id = like.get("tweetId")
    if not isinstance(tweet_id, str) or not _is_id(tweet_id):
        raise BundleError(BAD_LIKES_FILE, f"{where}: tweetId must be the post's id, a string of digits.")
    full_text = like.get("fullText")
    if full_text is not None and not isinstance(full_text, str):
        raise BundleError(BAD_LIKES_FILE, f"{where}: fullText must be text.")
    expanded_url = like.get("expandedUrl")
    if expanded_url is not None and not isinstance(expanded_url, str):
        raise BundleError(BAD_LIKES_FILE, f"{where}: expandedUrl must be text.")
    return ArchiveLike(part, number, tweet_id, full_text, expanded_url)


def _is_id(value: str) -> bool:
    return 0 < len(value) <= MAX_TWEET_ID_DIGITS and value.isascii() and value.isdigit()


class _Text:
    """A like part's text, decoded as it is read: `buf[pos:]` is what is not parsed yet."""

    def __init__(self, data: Readable, part: str) -> None:
        self._data = data
        self._part = part
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.pos = 0
        self.exhausted = False

    def more(self) -> bool:
        """Read on; False at the end of the part."""
        if self.exhausted:
            return False
        raw = self._data.read(TEXT_CHUNK)
        try:
            chunk = self._decoder.decode(raw, final=not raw)
        except UnicodeDecodeError:
            raise BundleError(BAD_LIKES_FILE, f"{self._part} is not UTF-8 text.") from None
        if not raw:
            self.exhausted = True
        # Drop what is parsed: the buffer holds the entry being read and what follows it, never the whole part.
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return bool(raw)

    def skip_space(self) -> None:
        while True:
            found = _SPACE.match(self.buf, self.pos)  # \s* always matches
            self.pos = found.end() if found else self.pos
            if self.pos < len(self.buf) or not self.more():
                return

    def peek(self) -> str:
        while self.pos >= len(self.buf):
            if not self.more():
                return ""
        return self.buf[self.pos]

    def fault(self, number: int, detail: str) -> BundleError:
        return BundleError(BAD_LIKES_FILE, f"{self._part}, entry {number:,}: {detail}.")

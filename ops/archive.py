"""`random-likes import`'s first step: read an X archive on disk (its zip, or a bare like.js) and write the bundle
that is uploaded, exactly as src/shared/bundle.py says. The page does the same in the browser.

Only `data/account.js` and `data/like.js`, `data/like-partN.js` are read out of the zip, through its central
directory; its DMs and media are never decompressed. What can be told on disk is refused at once, before anything
is uploaded, with a message that says what is wrong:

- a file that is neither a zip nor a like.js (`window.YTD.like.partN = [...]`);
- a zip without `data/like.js`;
- an entry named with `..`, an absolute path or a backslash (anywhere in the zip: such a zip is not X's), or
  the same name twice;
- an encrypted entry, or a compression zipfile cannot read;
- a zip bomb: the parts' declared sizes over bundle.MAX_UNPACKED_BYTES, an entry that inflates to more (or
  less) than it declares, or more than that many bytes decompressed in all;
- a bundle over bundle.MAX_UPLOAD_BYTES (S3 would refuse the POST).

The importer checks everything again: an upload can be forged.
"""

from __future__ import annotations

import re
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ops.errors import OpsError
from shared.bundle import ACCOUNT_MEMBER, MAX_UNPACKED_BYTES, MAX_UPLOAD_BYTES, like_part_number

IMPORT_REFUSED = 8  # docs/operations.md, "Exit codes"
CHUNK = 1024 * 1024
LIKE_JS_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*window\.YTD\.like\.part[0-9]+\s*=")
DATA_DIR = "data/"

Progress = Callable[[int], None]  # bytes read so far


class ArchiveRefused(OpsError):
    """The file is not an archive we can import; nothing was uploaded."""

    exit_code = IMPORT_REFUSED


@dataclass(frozen=True)
class Member:
    name: str  # its name in the bundle: account.js, like.js, like-part1.js, ...
    size: int


@dataclass
class Bundle:
    """The bundle on disk (a temporary file: `discard()` it), and what went into it."""

    path: Path
    size: int
    source_size: int  # the archive's (or the like.js's) own size on disk
    members: list[Member] = field(default_factory=list)

    @property
    def has_account(self) -> bool:
        return any(m.name == ACCOUNT_MEMBER for m in self.members)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def build_bundle(
    source: Path,
    *,
    progress: Progress | None = None,
    workdir: Path | None = None,
    max_unpacked: int = MAX_UNPACKED_BYTES,
    max_upload: int = MAX_UPLOAD_BYTES,
) -> Bundle:
    """Read `source` (an X archive's zip, or a bare like.js) and write its bundle to a temporary file (in
    `workdir`, default the system's). The limits are the format's; a test gives smaller ones."""
    limits = _Limits(max_unpacked, max_upload)
    if not source.is_file():
        raise ArchiveRefused(f"{source}: no such file")
    with source.open("rb") as head:
        start = head.read(4096)
    handle, name = tempfile.mkstemp(prefix="random-likes-bundle-", suffix=".tar.gz", dir=workdir)
    out = Path(name)
    try:
        with open(handle, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.USTAR_FORMAT) as tar:
            if zipfile.is_zipfile(source):
                members = _from_zip(source, tar, progress, limits)
            elif LIKE_JS_START.match(start):
                with source.open("rb") as data:
                    members = [_add(tar, "like.js", data, source.stat().st_size, source.name, progress, 0, limits)]
            else:
                raise ArchiveRefused(
                    f"{source.name} is not a zip archive, nor a like.js (window.YTD.like.part0 = [...])",
                    hint="give the zip X sent you (Settings > Your account > Download an archive), or its data/like.js",
                )
        size = out.stat().st_size
        if size > limits.upload:
            raise ArchiveRefused(
                f"the likes of this archive take {size:,} bytes compressed, over the upload limit of {limits.upload:,}"
            )
        return Bundle(out, size, source.stat().st_size, members)
    except BaseException:
        out.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class _Limits:
    unpacked: int
    upload: int


def _from_zip(source: Path, tar: tarfile.TarFile, progress: Progress | None, limits: _Limits) -> list[Member]:
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveRefused(f"{source.name} is not a readable zip archive ({exc})") from None
    with archive:
        wanted = _wanted(archive.infolist(), source.name)
        declared = sum(info.file_size for _, info in wanted)
        if declared > limits.unpacked:
            raise ArchiveRefused(
                f"the archive's likes declare {declared:,} bytes, over the limit of {limits.unpacked:,}: "
                "refused as a zip bomb"
            )
        members = []
        done = 0
        for name, info in wanted:
            try:
                with archive.open(info) as data:
                    members.append(_add(tar, name, data, info.file_size, info.filename, progress, done, limits))
            except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
                raise ArchiveRefused(
                    f"{info.filename} cannot be read as it declares itself ({info.file_size:,} bytes): {exc}; "
                    "refused as corrupt or a zip bomb"
                ) from None
            done += members[-1].size
        return members


def _wanted(infos: list[zipfile.ZipInfo], archive_name: str) -> list[tuple[str, zipfile.ZipInfo]]:
    """The entries that go into the bundle, in its order, after checking every name in the zip."""
    seen: set[str] = set()
    account: zipfile.ZipInfo | None = None
    parts: dict[int, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        if _unsafe(name):
            raise ArchiveRefused(
                f"{archive_name} has an entry named {name[:120]!r}, a path outside the archive: refused"
            )
        if name in seen:
            raise ArchiveRefused(f"{archive_name} has two entries named {name[:120]!r}: refused")
        seen.add(name)
        if not name.startswith(DATA_DIR) or "/" in name[len(DATA_DIR) :]:
            continue
        base = name[len(DATA_DIR) :]
        number = like_part_number(base)
        if base != ACCOUNT_MEMBER and number is None:
            continue
        if info.flag_bits & 0x1:
            raise ArchiveRefused(f"{name} is encrypted: export the archive again without a password")
        if base == ACCOUNT_MEMBER:
            account = info
        elif number is not None:
            parts[number] = info
    if 0 not in parts:
        raise ArchiveRefused(
            f"{archive_name} has no data/like.js: is it the archive X sent?",
            hint="X's archive holds data/like.js (and data/like-part1.js, ... for many likes)",
        )
    ordered = [("like.js" if n == 0 else f"like-part{n}.js", parts[n]) for n in sorted(parts)]
    return ([(ACCOUNT_MEMBER, account)] if account is not None else []) + ordered


def _unsafe(name: str) -> bool:
    parts = name.split("/")
    return name.startswith("/") or "\\" in name or ".." in parts or bool(re.match(r"[A-Za-z]:", name)) or "\0" in name


def _add(
    tar: tarfile.TarFile,
    name: str,
    data: IO[bytes],
    declared: int,
    shown: str,
    progress: Progress | None,
    before: int,
    limits: _Limits,
) -> Member:
    """Copy one part into the bundle through a spool (a tar member's size comes first), counting every byte."""
    with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK) as spool:
        size = 0
        while chunk := data.read(CHUNK):
            size += len(chunk)
            if size > declared or before + size > limits.unpacked:
                raise ArchiveRefused(
                    f"{shown} inflates to more than it declares ({declared:,} bytes) or past the limit of "
                    f"{limits.unpacked:,}: refused as a zip bomb"
                )
            spool.write(chunk)
            if progress:
                progress(before + size)
        if size != declared:
            raise ArchiveRefused(f"{shown} holds {size:,} bytes but declares {declared:,}: refused as corrupt")
        spool.seek(0)
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o644, 0
        tar.addfile(info, spool)
    return Member(name, size)

"""The upload of an archive import: one object per import, the "bundle", written the same by the page
(src/web/assets/) and by `random-likes import`, read by the import function.

Format, version 1: a gzip-compressed (RFC 1952) POSIX ustar archive. Its members, regular files only, in this
order:

- `account.js` (optional: a bare like.js has none), as X's archive has it: `window.YTD.account.part0 = [...]`;
- `like.js`, then `like-part1.js`, `like-part2.js`, ... as in X's archive (`data/` stripped), each
  `window.YTD.like.partN = [{"like": {"tweetId", "fullText", "expandedUrl"}}, ...]`.

Nothing else: no directories, no links, no other names. The browser extracts only these from the zip, so the
archive's DMs and media never leave the computer. The importer checks everything again (an upload can be
forged): the sizes below, the member names and order, and every part's syntax before its first write.
"""

from __future__ import annotations

import re

BUNDLE_VERSION = 1
CONTENT_TYPE = "application/gzip"
# The presigned POST's content-length-range: AWS refuses a bigger upload (and sends no event). moto does not
# enforce it, so the importer checks the object's size (HeadObject) before it reads a byte.
MAX_UPLOAD_BYTES = 128 * 1024 * 1024
# Decompressed, all members together: a zip bomb (or a gzip one) stops here. 150,000 likes take about 60 MB.
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
# How long the presigned POST stays valid; an import whose upload has not arrived by then is `failed`.
UPLOAD_SECONDS = 15 * 60

ACCOUNT_MEMBER = "account.js"
LIKE_MEMBER = re.compile(r"like(?:-part([1-9][0-9]{0,3}))?\.js")


def like_part_number(name: str) -> int | None:
    """0 for like.js, N for like-partN.js, None for any other name."""
    found = LIKE_MEMBER.fullmatch(name)
    if found is None:
        return None
    return int(found.group(1) or 0)


def object_key(subscriber: str, import_id: str) -> str:
    """Where an import's bundle is uploaded (the notification's prefix is uploads/)."""
    return f"uploads/{subscriber}/{import_id}.tar.gz"


def parse_object_key(key: str) -> tuple[str, str] | None:
    """(subscriber key, import id) of an upload's object key, or None for anything else."""
    found = re.fullmatch(r"uploads/([A-Za-z0-9_]{1,32})/([A-Za-z0-9_-]{16,64})\.tar\.gz", key)
    return None if found is None else (found.group(1), found.group(2))

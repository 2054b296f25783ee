"""Build archive bundles (shared/bundle.py) for tests: good ones, and each way one can be bad.

    bundle([[like_entry("1234")], [like_entry("5678")]], account_id="1001")

writes `account.js`, then `like.js`, `like-part1.js`, ... as X's archive has them (two-space JSON, " : "), gzipped
tar. `members=` replaces the members outright (any name, any bytes, any order) for the bad cases.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Iterable, Sequence
from typing import Any

# 2021-01-01T00:00:00.000Z as a snowflake: ids from here on have a known date.
SNOWFLAKE_2021 = (1609459200000 - 1288834974657) << 22


def post_id(n: int) -> str:
    """A realistic X id (a snowflake, n ms after 2021-01-01)."""
    return str(SNOWFLAKE_2021 + (n << 22))


def like_entry(tweet_id: str, text: str | None = "", url: str | None = None) -> dict[str, Any]:
    """One like as like.js holds it; text None leaves fullText out (a post deleted since)."""
    like: dict[str, Any] = {"tweetId": tweet_id}
    if text is not None:
        like["fullText"] = text or f"liked post {tweet_id}"
    like["expandedUrl"] = url or f"https://twitter.com/i/web/status/{tweet_id}"
    return {"like": like}


def like_entries(start: int, count: int) -> list[dict[str, Any]]:
    """`count` likes with the ids post_id(start), post_id(start + 1), ..."""
    return [like_entry(post_id(n)) for n in range(start, start + count)]


def archive_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, separators=(",", " : "))


def like_part(number: int, entries: Sequence[dict[str, Any]]) -> bytes:
    return f"window.YTD.like.part{number} = {archive_json(list(entries))}".encode()


def account_js(account_id: str, username: str = "someone") -> bytes:
    account = [{"account": {"accountId": account_id, "username": username, "accountDisplayName": username}}]
    return f"window.YTD.account.part0 = {archive_json(account)}".encode()


def part_name(number: int) -> str:
    return "like.js" if number == 0 else f"like-part{number}.js"


def bundle(
    likes_parts: Sequence[Sequence[dict[str, Any]]] = (),
    account_id: str | None = None,
    *,
    username: str = "someone",
    members: Iterable[tuple[str, bytes]] | None = None,
) -> bytes:
    """The upload: account.js (when account_id is given) and one like part per list, or exactly `members`."""
    if members is None:
        files: list[tuple[str, bytes]] = []
        if account_id is not None:
            files.append(("account.js", account_js(account_id, username)))
        files += [(part_name(n), like_part(n, part)) for n, part in enumerate(likes_parts)]
        members = files
    return gzip.compress(tar(members), mtime=0)


def tar(members: Iterable[tuple[str, bytes]], *, kind: bytes = tarfile.REGTYPE) -> bytes:
    """An uncompressed ustar archive of these files (every member of type `kind`)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.mode = 0o644
            if kind == tarfile.REGTYPE:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            else:
                info.linkname = "like.js" if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
                archive.addfile(info)
    return buffer.getvalue()

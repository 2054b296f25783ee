"""An account's likes as X's data archive has them: a zip with `data/like.js` (and `like-part1.js`, ... when
large), each `window.YTD.like.partN = [ {"like": {"tweetId", "fullText", "expandedUrl"}}, ... ]`.

The archive holds the whole history, beyond the API's depth cap, newest like first. A post deleted since it
was liked keeps its id and link but loses its text, as in X's archives. The zip is byte-for-byte the same
for the same world (fixed timestamps, fixed order), so tests can compare it.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from local.xsim.data import DATA_EPOCH, World

# Every entry carries this date, so the same likes give the same bytes.
_ZIP_TIME = (DATA_EPOCH.year, DATA_EPOCH.month, DATA_EPOCH.day, 0, 0, 0)


def export_archive(world: World, username: str, *, part_size: int = 2000) -> bytes:
    """The zip for `username` (KeyError if there is no such account)."""
    account = world.account(username)
    entries: list[dict[str, Any]] = []
    for like in reversed(world.likes_of(account.id)):
        post = world.posts[like.post_id]
        entry: dict[str, Any] = {"tweetId": post.id}
        if not post.deleted:
            entry["fullText"] = post.note_text or post.text
        entry["expandedUrl"] = f"https://twitter.com/i/web/status/{post.id}"
        entries.append({"like": entry})

    parts = [entries[i : i + part_size] for i in range(0, len(entries), part_size)] or [[]]
    files: list[tuple[str, str]] = []
    manifest_files = []
    for index, part in enumerate(parts):
        name = "data/like.js" if index == 0 else f"data/like-part{index}.js"
        files.append((name, f"window.YTD.like.part{index} = {_archive_json(part)}"))
        manifest_files.append({"fileName": name, "globalName": f"YTD.like.part{index}", "count": str(len(part))})
    account_entry = [
        {
            "account": {
                "username": account.username,
                "accountId": account.id,
                "createdAt": account.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "accountDisplayName": account.name,
            }
        }
    ]
    files.append(("data/account.js", f"window.YTD.account.part0 = {_archive_json(account_entry)}"))
    manifest = {
        "userInfo": {"accountId": account.id, "userName": account.username, "displayName": account.name},
        "archiveInfo": {"isPartialArchive": False, "generator": "xsim"},
        "dataTypes": {
            "like": {"files": manifest_files},
            "account": {"files": [{"fileName": "data/account.js", "globalName": "YTD.account.part0", "count": "1"}]},
        },
    }
    files.insert(0, ("data/manifest.js", f"window.__THAR_CONFIG = {_archive_json(manifest)}"))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in files:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()


def _archive_json(value: Any) -> str:
    # X writes its archive JSON with two-space indents and " : " between key and value.
    return json.dumps(value, indent=2, ensure_ascii=False, separators=(",", " : "))

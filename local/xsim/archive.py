"""X's data archive, as a zip shaped like the one X lets everyone download: `data/manifest.js`, `data/account.js`,
`data/like.js` (and `like-part1.js`, ... when large), each `window.YTD.like.partN = [{"like": {"tweetId",
"fullText", "expandedUrl"}}, ...]`, the other data files of a real archive (tweets, DMs, followers ...) and
their media: JPEGs of a realistic size under `data/tweets_media/` and `data/direct_messages_media/`, stored
uncompressed as JPEGs are, so the zip is large and a reader that skips them shows it.

`export_archive` writes a simulated account's archive (the whole history, beyond the API's depth cap, newest
like first; a post deleted since it was liked keeps its id and link but loses its text, as in X's archives).
`write_archive` is the writer itself, also used by scripts/make_archive.py, with deliberate faults for the
importer's tests. The bytes depend only on what is written (fixed timestamps, fixed order, media from a
seeded generator), so tests compare them.
"""

from __future__ import annotations

import io
import json
import random
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from local.xsim.data import DATA_EPOCH, World

# Every entry carries this date, so the same likes give the same bytes (DOS time: 2s resolution).
_ZIP_TIME = (DATA_EPOCH.year, DATA_EPOCH.month, DATA_EPOCH.day, 0, 0, 0)
_DOS_DATE = ((_ZIP_TIME[0] - 1980) << 9) | (_ZIP_TIME[1] << 5) | _ZIP_TIME[2]
_DOS_TIME = 0
# A JPEG's frame: SOI + JFIF APP0 ... EOI; the scan in between is seeded noise (which JPEG data looks like).
_JPEG_HEAD = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffdb004300")
_JPEG_TAIL = bytes.fromhex("ffd9")
_MEDIA_SIZES = (40_000, 1_600_000)  # bytes per file: a thumbnail-sized photo to a large one


@dataclass(frozen=True)
class ArchiveLike:
    tweet_id: str
    full_text: str | None  # None: the post was deleted since (X then writes no fullText)
    expanded_url: str


@dataclass(frozen=True)
class ArchiveAccount:
    account_id: str
    username: str
    display_name: str
    created_at: str  # "2011-03-04T05:06:07.000Z", as X writes it


@dataclass(frozen=True)
class Faults:
    """Deliberate breakage, for the importer's tests (none by default)."""

    break_at: int | None = None  # the like entry (0-based, across parts) after which like*.js stops being JSON
    foreign_account: str | None = None  # account.js names this account id instead
    dotdot: bool = False  # an entry named ../<something>
    bomb_mb: int = 0  # a like part that declares 1 KB and inflates to this many MB
    no_like: bool = False  # no like*.js at all


class ZipWriter:
    """A minimal zip writer with fixed timestamps: the same entries give the same bytes. Deflate or stored;
    an entry may declare a size it does not have (a zip bomb). Up to 4 GB (no zip64)."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._offset = 0
        self._central: list[bytes] = []
        self.sizes: dict[str, int] = {}

    def add(
        self, name: str, data: bytes | Iterable[bytes], *, compress: bool = True, declared: int | None = None
    ) -> None:
        """Write one entry. `data` may be chunks (compressed as they come); `declared`: the uncompressed size
        to claim instead of the real one."""
        chunks = [data] if isinstance(data, bytes) else data
        deflate = zlib.compressobj(6, zlib.DEFLATED, -15) if compress else None
        body = io.BytesIO()
        crc = size = 0
        for chunk in chunks:
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            body.write(deflate.compress(chunk) if deflate else chunk)
        if deflate is not None:
            body.write(deflate.flush())
        payload = body.getvalue()
        self.sizes[name] = size
        encoded = name.encode("utf-8")
        method = 8 if compress else 0
        claimed = size if declared is None else declared
        flags = 0x800  # names in UTF-8
        fields = struct.pack("<HHHHHIII", 20, flags, method, _DOS_TIME, _DOS_DATE, crc, len(payload), claimed)
        local = b"PK\x03\x04" + fields + struct.pack("<HH", len(encoded), 0) + encoded
        self._out.write(local)
        self._out.write(payload)
        central = (
            b"PK\x01\x02"
            + struct.pack("<H", 0x0314)  # made by: Unix, spec 2.0
            + fields
            + struct.pack("<HHHHHII", len(encoded), 0, 0, 0, 0, 0o100644 << 16, self._offset)
            + encoded
        )
        self._central.append(central)
        self._offset += len(local) + len(payload)

    def close(self) -> None:
        directory = b"".join(self._central)
        self._out.write(directory)
        count = len(self._central)
        self._out.write(b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, count, count, len(directory), self._offset, 0))


def like_part_text(part: int, likes: Sequence[ArchiveLike]) -> str:
    """`window.YTD.like.partN = [...]` exactly as X writes it (two-space indents, " : " after keys); the same
    text json.dumps(..., indent=2, separators=(",", " : "), ensure_ascii=False) gives, only faster."""
    if not likes:
        return f"window.YTD.like.part{part} = []"
    entries = []
    for like in likes:
        fields = [f'      "tweetId" : {_string(like.tweet_id)}']
        if like.full_text is not None:
            fields.append(f'      "fullText" : {_string(like.full_text)}')
        fields.append(f'      "expandedUrl" : {_string(like.expanded_url)}')
        entries.append('  {\n    "like" : {\n' + ",\n".join(fields) + "\n    }\n  }")
    return f"window.YTD.like.part{part} = [\n" + ",\n".join(entries) + "\n]"


def write_archive(
    out: BinaryIO,
    account: ArchiveAccount,
    likes: Sequence[ArchiveLike],
    *,
    part_size: int = 2000,
    media_bytes: int = 0,
    seed: int = 0,
    faults: Faults | None = None,
) -> dict[str, int]:
    """Write the archive of `account` with `likes` (newest first) and about `media_bytes` of media; returns
    each entry's uncompressed size by name (as written: a bomb's real size, not its declared one)."""
    faults = faults or Faults()
    zip_file = ZipWriter(out)
    parts = [likes[i : i + part_size] for i in range(0, len(likes), part_size)] or [likes[:0]]
    like_files = []
    if not faults.no_like:
        for index, part in enumerate(parts):
            name = "data/like.js" if index == 0 else f"data/like-part{index}.js"
            like_files.append((name, index, len(part)))
    own_tweets = _own_tweets(account, seed)
    media = _media_files(account, own_tweets, media_bytes, seed)
    zip_file.add("Your archive.html", _readme(account))
    zip_file.add("data/manifest.js", _manifest(account, like_files, len(own_tweets)))
    account_id = faults.foreign_account or account.account_id
    zip_file.add("data/account.js", _js("account", 0, [{"account": _account_json(account, account_id)}]))
    zip_file.add("data/profile.js", _js("profile", 0, [{"profile": {"description": {"bio": "", "website": ""}}}]))
    zip_file.add("data/tweets.js", _js("tweets", 0, [{"tweet": tweet} for tweet in own_tweets]))
    zip_file.add("data/direct-messages.js", _js("direct_messages", 0, _conversations(account, media)))
    zip_file.add("data/follower.js", _js("follower", 0, _follows(seed, "follower")))
    zip_file.add("data/following.js", _js("following", 0, _follows(seed, "following")))
    offset = 0
    for name, index, count in like_files:
        text = like_part_text(index, parts[index])
        if faults.break_at is not None and offset <= faults.break_at < offset + count:
            cut = text.index('"like" :', _nth_entry(text, faults.break_at - offset))
            text = text[:cut] + '"like" : {"tweetId" : oops'
        offset += count
        zip_file.add(name, text.encode("utf-8"))
    if faults.bomb_mb:
        number = len(like_files)
        zip_file.add(f"data/like-part{number}.js", _bomb(number, faults.bomb_mb), declared=1024)
    if faults.dotdot:
        zip_file.add("../like.js", _js("like", 0, []))
    for name, body in media:
        zip_file.add(name, body, compress=False)
    zip_file.close()
    return zip_file.sizes


def export_archive(world: World, username: str, *, part_size: int = 2000, media_bytes: int = 0, seed: int = 0) -> bytes:
    """The simulated account's archive zip (KeyError if there is no such account)."""
    account = world.account(username)
    likes = []
    for like in reversed(world.likes_of(account.id)):
        post = world.posts[like.post_id]
        text = None if post.deleted else (post.note_text or post.text)
        likes.append(ArchiveLike(post.id, text, f"https://twitter.com/i/web/status/{post.id}"))
    owner = ArchiveAccount(
        account_id=account.id,
        username=account.username,
        display_name=account.name,
        created_at=account.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    )
    buffer = io.BytesIO()
    write_archive(buffer, owner, likes, part_size=part_size, media_bytes=media_bytes, seed=seed)
    return buffer.getvalue()


# --- the parts ---------------------------------------------------------------------------------------------


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _js(kind: str, part: int, value: Any) -> bytes:
    # X writes its archive JSON with two-space indents and " : " between key and value.
    text = json.dumps(value, indent=2, ensure_ascii=False, separators=(",", " : "))
    return f"window.YTD.{kind}.part{part} = {text}".encode()


def _nth_entry(text: str, n: int) -> int:
    position = 0
    for _ in range(n + 1):
        position = text.index('\n  {\n    "like" :', position) + 1
    return position


def _bomb(part: int, megabytes: int) -> Iterable[bytes]:
    yield f"window.YTD.like.part{part} = [".encode()
    block = b" " * (1024 * 1024)
    for _ in range(megabytes):
        yield block
    yield b"]"


def _account_json(account: ArchiveAccount, account_id: str) -> dict[str, str]:
    return {
        "email": f"{account.username.lower()}@example.com",
        "createdVia": "web",
        "username": account.username,
        "accountId": account_id,
        "createdAt": account.created_at,
        "accountDisplayName": account.display_name,
    }


def _manifest(account: ArchiveAccount, like_files: list[tuple[str, int, int]], tweets: int) -> bytes:
    def one(name: str, kind: str, count: int) -> dict[str, Any]:
        return {"files": [{"fileName": name, "globalName": f"YTD.{kind}.part0", "count": str(count)}]}

    manifest = {
        "userInfo": {
            "accountId": account.account_id,
            "userName": account.username,
            "displayName": account.display_name,
        },
        "archiveInfo": {"isPartialArchive": False, "generator": "xsim"},
        "dataTypes": {
            "account": one("data/account.js", "account", 1),
            "like": {
                "files": [
                    {"fileName": name, "globalName": f"YTD.like.part{index}", "count": str(count)}
                    for name, index, count in like_files
                ]
            },
            "tweets": {**one("data/tweets.js", "tweets", tweets), "mediaDirectory": "data/tweets_media"},
            "directMessages": {
                **one("data/direct-messages.js", "direct_messages", 1),
                "mediaDirectory": "data/direct_messages_media",
            },
        },
    }
    return f"window.__THAR_CONFIG = {json.dumps(manifest, indent=2, separators=(',', ' : '))}".encode()


def _readme(account: ArchiveAccount) -> bytes:
    return f"<!doctype html><title>Your archive</title><p>@{account.username}'s archive (simulated).</p>".encode()


def _own_tweets(account: ArchiveAccount, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(f"{seed}:{account.account_id}:tweets")
    tweets = []
    for n in range(20):
        tweet_id = str(1_300_000_000_000_000_000 + rng.randrange(10**17))
        tweets.append({"id_str": tweet_id, "full_text": f"note to self #{n}", "favorite_count": str(rng.randrange(9))})
    return tweets


def _media_files(
    account: ArchiveAccount, tweets: list[dict[str, Any]], total: int, seed: int
) -> list[tuple[str, bytes]]:
    """About `total` bytes of JPEG-shaped media: two thirds on own posts, a third in DMs."""
    rng = random.Random(f"{seed}:{account.account_id}:media")
    files: list[tuple[str, bytes]] = []
    written = 0
    largest = max(_MEDIA_SIZES[0], min(_MEDIA_SIZES[1], total // 8))  # a few files at least, photos and DMs
    while written < total:
        size = min(rng.randint(_MEDIA_SIZES[0], largest), max(total - written, 1_000))
        tag = "".join(rng.choices("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", k=15))
        if len(files) % 3 == 2:
            name = f"data/direct_messages_media/{rng.randrange(10**18)}-{tag}.jpg"
        else:
            name = f"data/tweets_media/{tweets[len(files) % len(tweets)]['id_str']}-{tag}.jpg"
        body = _JPEG_HEAD + rng.randbytes(max(0, size - len(_JPEG_HEAD) - len(_JPEG_TAIL))) + _JPEG_TAIL
        files.append((name, body))
        written += len(body)
    return files


def _conversations(account: ArchiveAccount, media: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    dm_media = [name.rsplit("/", 1)[1] for name, _ in media if "direct_messages_media" in name]
    messages = [
        {
            "messageCreate": {
                "recipientId": account.account_id,
                "senderId": "12",
                "id": str(1_500_000_000_000_000_000 + n),
                "text": "a message that never leaves your computer",
                "mediaUrls": [f"https://ton.twitter.com/dm/{name}"],
                "createdAt": "2024-05-06T07:08:09.000Z",
            }
        }
        for n, name in enumerate(dm_media)
    ] or [{"messageCreate": {"recipientId": account.account_id, "senderId": "12", "text": "hi", "mediaUrls": []}}]
    return [{"dmConversation": {"conversationId": f"12-{account.account_id}", "messages": messages}}]


def _follows(seed: int, kind: str) -> list[dict[str, Any]]:
    rng = random.Random(f"{seed}:{kind}")
    ids = [str(rng.randrange(10**15)) for _ in range(25)]
    return [{kind: {"accountId": i, "userLink": f"https://twitter.com/intent/user?user_id={i}"}} for i in ids]

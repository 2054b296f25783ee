"""scripts/make_archive.py: X-shaped archives of N likes, deterministic by seed, and each deliberate fault the
importer must refuse."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from datetime import UTC, datetime
from typing import Any

from local.xsim.archive import Faults
from scripts.make_archive import TWITTER_EPOCH_MS, Options, Summary, make_archive

LIKES = 1200


def build(**changes: Any) -> tuple[bytes, Summary]:
    out = io.BytesIO()
    summary = make_archive(out, Options(likes=LIKES, part_size=500, **changes))
    return out.getvalue(), summary


def like_entries(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    names = sorted((n for n in archive.namelist() if n.startswith("data/like")), key=lambda n: (len(n), n))
    entries = []
    for name in names:
        text = archive.read(name).decode()
        entries.extend(e["like"] for e in json.loads(text.split(" = ", 1)[1]))
    return entries


def created(tweet_id: str) -> datetime:
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000, UTC)


def test_an_archive_holds_n_likes_newest_first_with_plausible_snowflake_dates() -> None:
    data, summary = build(account_id="777", username="someone")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        likes = like_entries(archive)
        account = json.loads(archive.read("data/account.js").decode().split(" = ", 1)[1])[0]["account"]
        assert {"data/like.js", "data/like-part1.js", "data/like-part2.js"} <= set(archive.namelist())
    assert (len(likes), summary.entries, summary.unique_ids) == (LIKES, LIKES, LIKES)
    ids = [int(like["tweetId"]) for like in likes]
    assert ids == sorted(ids, reverse=True)
    assert datetime(2011, 1, 1, tzinfo=UTC) <= created(likes[-1]["tweetId"])
    assert created(likes[0]["tweetId"]) <= datetime(2026, 12, 1, tzinfo=UTC)
    assert created(likes[0]["tweetId"]).year - created(likes[-1]["tweetId"]).year >= 12  # spread over the years
    assert all(like["expandedUrl"] == f"https://twitter.com/i/web/status/{like['tweetId']}" for like in likes)
    lengths = [len(like["fullText"]) for like in likes if "fullText" in like]
    assert max(lengths) > 280  # long-form posts too
    assert sorted(lengths)[len(lengths) // 2] < 200
    assert (account["accountId"], account["username"]) == ("777", "someone")


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not() -> None:
    assert build(seed=3)[0] == build(seed=3)[0]
    assert build(seed=3)[0] != build(seed=4)[0]


def test_media_make_the_zip_large_and_the_likes_stay_as_they_were() -> None:
    plain, _ = build()
    with_media, summary = build(media_mb=2)
    assert len(with_media) - len(plain) >= 2 * 2**20
    assert summary.media_bytes == 2 * 2**20
    with zipfile.ZipFile(io.BytesIO(plain)) as a, zipfile.ZipFile(io.BytesIO(with_media)) as b:
        assert a.read("data/like.js") == b.read("data/like.js")


def test_a_break_at_entry_k_leaves_the_entries_before_it_whole() -> None:
    data, _ = build(faults=Faults(break_at=700))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        broken = archive.read("data/like-part1.js").decode()  # entries 500..999
        whole = archive.read("data/like.js").decode()
    assert len(json.loads(whole.split(" = ", 1)[1])) == 500
    assert broken.count('"tweetId"') == 700 - 500 + 1
    assert broken.endswith('"tweetId" : oops')


def test_duplicates_repeat_ids_and_a_foreign_account_names_another() -> None:
    data, summary = build(duplicates=7, faults=Faults(foreign_account="999"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        likes = like_entries(archive)
        account = json.loads(archive.read("data/account.js").decode().split(" = ", 1)[1])[0]["account"]
    assert (len(likes), len({like["tweetId"] for like in likes})) == (LIKES + 7, LIKES)
    assert (summary.entries, summary.unique_ids) == (LIKES + 7, LIKES)
    assert account["accountId"] == "999"


def test_a_dotdot_entry_a_bomb_and_no_like_js() -> None:
    data, summary = build(faults=Faults(dotdot=True, bomb_mb=8))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "../like.js" in archive.namelist()
        bomb = archive.getinfo("data/like-part3.js")
    # The bomb declares 1 KB; its deflate stream inflates to 8 MB and more
    assert bomb.file_size == 1024
    (name_length, extra_length) = struct.unpack("<HH", data[bomb.header_offset + 26 : bomb.header_offset + 30])
    start = bomb.header_offset + 30 + name_length + extra_length
    inflated = zlib.decompressobj(-15).decompress(data[start : start + bomb.compress_size])
    assert len(inflated) > 8 * 2**20
    assert summary.like_text_bytes > 8 * 2**20
    none, _ = build(faults=Faults(no_like=True))
    with zipfile.ZipFile(io.BytesIO(none)) as archive:
        assert not [n for n in archive.namelist() if n.startswith("data/like")]
        assert "data/account.js" in archive.namelist()

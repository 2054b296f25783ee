"""The archive export is shaped like X's: the data files a real archive has, and media files of a realistic size
that a reader extracting only account.js and like*.js never needs; the same world gives the same bytes."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable

from local.xsim import XSim
from local.xsim.archive import ArchiveLike, like_part_text


def test_the_export_has_xs_data_files_and_media_stored_as_jpegs(xsim_factory: Callable[..., XSim]) -> None:
    # Given a simulator whose archives carry 2 MB of media
    sim = xsim_factory(archive_media_bytes=2 * 1024 * 1024)
    # When demo's archive is exported
    data = sim.archive("demo")
    # Then it holds X's data files, and media under data/tweets_media and data/direct_messages_media
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None  # every CRC right
        infos = {info.filename: info for info in archive.infolist()}
        names = set(infos)
        assert {
            "data/manifest.js",
            "data/account.js",
            "data/like.js",
            "data/tweets.js",
            "data/direct-messages.js",
            "data/follower.js",
            "data/following.js",
        } <= names
        media = [info for name, info in infos.items() if name.endswith(".jpg")]
        assert {name.split("/")[1] for name in names if name.endswith(".jpg")} == {
            "tweets_media",
            "direct_messages_media",
        }
        # stored as JPEGs are (no deflate), JPEG-shaped, about the configured volume
        assert all(info.compress_type == zipfile.ZIP_STORED for info in media)
        assert all(archive.read(info.filename)[:3] == b"\xff\xd8\xff" for info in media)
        volume = sum(info.file_size for info in media)
        assert 2 * 1024 * 1024 <= volume < 2 * 1024 * 1024 + 1_700_000
        # the likes are a small share of the zip: what the page extracts is the point
        likes = infos["data/like.js"].compress_size + infos["data/account.js"].compress_size
        assert likes * 10 < len(data)
        account = json.loads(archive.read("data/account.js").decode().split(" = ", 1)[1])
        assert account[0]["account"]["accountId"] == sim.user_id("demo")
        dms = json.loads(archive.read("data/direct-messages.js").decode().split(" = ", 1)[1])
        dm_media = {n.rsplit("/", 1)[1] for n in names if n.startswith("data/direct_messages_media/")}
        urls = {
            u.rsplit("/", 1)[1] for m in dms[0]["dmConversation"]["messages"] for u in m["messageCreate"]["mediaUrls"]
        }
        assert urls == dm_media


def test_the_same_world_exports_the_same_bytes_and_another_seed_does_not(xsim_factory: Callable[..., XSim]) -> None:
    # Given two simulators of the same seed and one of another
    first, second = xsim_factory(seed=5), xsim_factory(seed=5)
    other = xsim_factory(seed=6)
    # Then the same account's archives are byte-identical, and differ across seeds (media included)
    assert first.archive("demo") == second.archive("demo")
    assert first.archive("demo") != other.archive("demo")


def test_the_media_volume_is_a_setting(xsim_factory: Callable[..., XSim]) -> None:
    small = xsim_factory(archive_media_bytes=0).archive("demo")
    large = xsim_factory(archive_media_bytes=3 * 1024 * 1024).archive("demo")
    assert len(large) - len(small) >= 3 * 1024 * 1024
    with zipfile.ZipFile(io.BytesIO(small)) as archive:
        assert not [n for n in archive.namelist() if n.endswith(".jpg")]


def test_like_parts_are_written_as_json_dumps_writes_them() -> None:
    likes = [
        ArchiveLike("1", 'quote " backslash \\ newline \n emoji 😀 عربى', "https://twitter.com/i/web/status/1"),
        ArchiveLike("2", None, "https://twitter.com/i/web/status/2"),
    ]
    expected = [
        {"like": {"tweetId": "1", "fullText": likes[0].full_text, "expandedUrl": likes[0].expanded_url}},
        {"like": {"tweetId": "2", "expandedUrl": likes[1].expanded_url}},
    ]
    dumped = json.dumps(expected, indent=2, ensure_ascii=False, separators=(",", " : "))
    assert like_part_text(3, likes) == f"window.YTD.like.part3 = {dumped}"
    assert like_part_text(0, []) == "window.YTD.like.part0 = []"

"""ops/archive.py: an X archive on disk made into the bundle of src/shared/bundle.py, and every archive it must
refuse before anything is uploaded (issue 11 §7). The zips are crafted here, the bombs byte by byte."""

from __future__ import annotations

import gzip
import io
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from ops.archive import IMPORT_REFUSED, ArchiveRefused, Bundle, build_bundle

ACCOUNT = b'window.YTD.account.part0 = [{"account": {"accountId": "288061445489330665", "username": "demo"}}]'


def like_js(part: int, ids: range) -> bytes:
    entries = ",".join(f'{{"like": {{"tweetId": "{n}", "fullText": "post {n}", "expandedUrl": ""}}}}' for n in ids)
    return f"window.YTD.like.part{part} = [{entries}]".encode()


def make_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, body in entries.items():
            archive.writestr(zipfile.ZipInfo(name), body, compress_type=zipfile.ZIP_DEFLATED)
    return path


def read_bundle(bundle: Bundle) -> list[tuple[str, bytes]]:
    """The bundle as the importer reads it: gzip, then a ustar archive of regular files."""
    raw = bundle.path.read_bytes()
    assert raw[:2] == b"\x1f\x8b"  # gzip (RFC 1952)
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(raw)), mode="r:") as tar:
        members = tar.getmembers()
        assert all(m.isreg() for m in members)
        assert all(m.name == m.name.rsplit("/", 1)[-1] for m in members)  # no directories in a name
        out = []
        for member in members:
            data = tar.extractfile(member)
            assert data is not None
            out.append((member.name, data.read()))
    # ustar: the magic of every header block is "ustar\0" with version "00"
    header = gzip.decompress(raw)[:512]
    assert header[257:265] == b"ustar\x0000"
    return out


def refused(source: Path, **limits: int) -> str:
    with pytest.raises(ArchiveRefused) as caught:
        build_bundle(source, workdir=source.parent, **limits)
    assert caught.value.exit_code == IMPORT_REFUSED
    leftovers = [p.name for p in source.parent.iterdir() if p.name.startswith("random-likes-bundle-")]
    assert leftovers == []  # nothing half-written is left behind
    return str(caught.value)


def test_only_account_and_the_like_parts_go_into_the_bundle_in_the_formats_order(tmp_path: Path) -> None:
    # Given X's archive, its entries in no helpful order, with DMs and media beside the likes
    parts = {n: like_js(n, range(n * 10, n * 10 + 10)) for n in range(3)}
    source = make_zip(
        tmp_path / "twitter-2026.zip",
        {
            "Your archive.html": b"<html>",
            "data/like-part2.js": parts[2],
            "data/direct-messages.js": b"window.YTD.direct_messages.part0 = [SECRET DMS]",
            "data/tweets_media/1-a.jpg": b"\xff\xd8" + b"\x00" * 50_000,
            "data/like.js": parts[0],
            "data/account.js": ACCOUNT,
            "data/like-part1.js": parts[1],
            "data/deleted-like.js": b"not ours",
        },
    )
    seen: list[int] = []

    # When the CLI makes its bundle
    bundle = build_bundle(source, progress=seen.append, workdir=tmp_path)

    # Then it holds exactly account.js, like.js, like-part1.js, like-part2.js, in that order, byte for byte
    assert read_bundle(bundle) == [
        ("account.js", ACCOUNT),
        ("like.js", parts[0]),
        ("like-part1.js", parts[1]),
        ("like-part2.js", parts[2]),
    ]
    assert b"SECRET DMS" not in gzip.decompress(bundle.path.read_bytes())
    assert bundle.has_account
    assert bundle.size == bundle.path.stat().st_size
    assert bundle.source_size == source.stat().st_size
    assert seen[-1] == sum(len(b) for b in (ACCOUNT, *parts.values()))  # progress counted every byte read
    bundle.discard()
    assert not bundle.path.exists()


def test_a_bare_like_js_is_the_bundles_only_member(tmp_path: Path) -> None:
    source = tmp_path / "like.js"
    source.write_bytes(like_js(0, range(5)))

    bundle = build_bundle(source, workdir=tmp_path)

    assert read_bundle(bundle) == [("like.js", source.read_bytes())]
    assert not bundle.has_account


def test_a_file_that_is_neither_a_zip_nor_a_like_js_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.zip"
    text.write_text("just some notes, not an archive")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 40)

    assert "not a zip archive, nor a like.js" in refused(text)
    assert "not a zip archive" in refused(broken)
    assert "no such file" in refused(tmp_path / "missing.zip")


def test_a_zip_without_like_js_is_refused(tmp_path: Path) -> None:
    source = make_zip(tmp_path / "a.zip", {"data/account.js": ACCOUNT, "data/like-part1.js": like_js(1, range(3))})
    assert "no data/like.js" in refused(source)
    nested = make_zip(tmp_path / "b.zip", {"twitter/data/like.js": like_js(0, range(3))})
    assert "no data/like.js" in refused(nested)


@pytest.mark.parametrize(
    "name", ["../like.js", "data/../../etc/passwd", "/etc/passwd", "data\\..\\like.js", "C:/Windows/x", "media/../x"]
)
def test_an_entry_with_a_path_outside_the_archive_is_refused_wherever_it_is(tmp_path: Path, name: str) -> None:
    source = make_zip(tmp_path / "a.zip", {"data/like.js": like_js(0, range(3)), name: b"x"})
    assert "a path outside the archive" in refused(source)


def test_the_same_name_twice_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "a.zip"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("data/like.js", like_js(0, range(3)))
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("data/like.js", like_js(0, range(9)))
    assert "two entries named" in refused(source)


def patch_central_size(path: Path, name: str, size: int) -> None:
    """Make the central directory declare `size` uncompressed bytes for `name` (a zip bomb's lie)."""
    raw = bytearray(path.read_bytes())
    at = raw.index(b"PK\x01\x02")  # the central directory's first entry
    while True:
        name_length = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46 : at + 46 + name_length] == name.encode():
            struct.pack_into("<I", raw, at + 24, size)
            break
        extra, comment = struct.unpack_from("<HH", raw, at + 30)
        at += 46 + name_length + extra + comment
    path.write_bytes(bytes(raw))


def test_a_bomb_that_declares_less_than_it_inflates_to_is_refused(tmp_path: Path) -> None:
    # Given 20 MB of zeros (a few KB deflated) that the central directory says are 100 bytes
    source = make_zip(tmp_path / "bomb.zip", {"data/like.js": b"window.YTD.like.part0 = [" + b"0" * 20_000_000})
    patch_central_size(source, "data/like.js", 100)

    message = refused(source)

    assert "zip bomb" in message
    assert "100 bytes" in message


def test_a_bomb_that_declares_more_than_the_limit_is_refused_before_a_byte_is_inflated(tmp_path: Path) -> None:
    source = make_zip(tmp_path / "bomb.zip", {"data/like.js": like_js(0, range(3))})
    patch_central_size(source, "data/like.js", 0x7FFF_FFFF)  # 2 GiB declared, over the 1 GiB of the format
    assert "refused as a zip bomb" in refused(source)


def test_decompressing_stops_at_the_limit_of_bytes_in_all(tmp_path: Path) -> None:
    # Each part honest about its size, but together over the limit (given small here)
    source = make_zip(
        tmp_path / "a.zip", {"data/like.js": like_js(0, range(40)), "data/like-part1.js": like_js(1, range(40))}
    )
    one_part = len(like_js(0, range(40)))
    assert "zip bomb" in refused(source, max_unpacked=one_part + 10)
    assert build_bundle(source, workdir=tmp_path, max_unpacked=3 * one_part).members


def test_a_bundle_over_the_upload_limit_is_refused_before_the_upload(tmp_path: Path) -> None:
    source = tmp_path / "like.js"
    source.write_bytes(like_js(0, range(2000)))
    assert "over the upload limit of 1,000" in refused(source, max_upload=1000)

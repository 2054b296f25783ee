"""Reading a bundle as a stream (shared/archive.py): every good shape read whole, every bad one refused with the code
and the message a person can act on, and memory bounded by a few entries, not by the archive."""

from __future__ import annotations

import gzip
import io
import random
import tarfile
import tracemalloc

import pytest

from shared.archive import BundleError, BundleReader
from shared.bundle import MAX_UNPACKED_BYTES
from tests.support.archives import account_js, archive_json, bundle, like_entries, like_entry, like_part, post_id, tar


def read(data: bytes, *, max_unpacked: int = MAX_UNPACKED_BYTES) -> tuple[str | None, list[str]]:
    reader = BundleReader(io.BytesIO(data), max_unpacked=max_unpacked)
    account = reader.account()
    return (account.account_id if account else None), [like.tweet_id for like in reader.likes()]


def refused(data: bytes, **kwargs: int) -> BundleError:
    with pytest.raises(BundleError) as caught:
        read(data, **kwargs)
    return caught.value


class Trickle(io.RawIOBase):
    """S3's body as it may come: a few bytes per read."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data, self._step, self._at = data, step, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        size = self._step if size < 0 else min(size, self._step)
        chunk = self._data[self._at : self._at + size]
        self._at += len(chunk)
        return chunk


def test_account_then_every_like_of_every_part_in_bundle_order() -> None:
    data = bundle([like_entries(0, 3), like_entries(3, 2), like_entries(5, 1)], account_id="1001")
    assert read(data) == ("1001", [post_id(n) for n in range(6)])


def test_entries_are_numbered_within_their_part_and_keep_text_and_url() -> None:
    entries = [like_entry(post_id(1), text="hé ✨ 😀"), like_entry(post_id(2), text=None, url="https://t.co/x")]
    likes = list(BundleReader(io.BytesIO(bundle([[], entries]))).likes())
    assert [(like.part, like.number) for like in likes] == [("like-part1.js", 1), ("like-part1.js", 2)]
    assert (likes[0].full_text, likes[1].full_text, likes[1].expanded_url) == ("hé ✨ 😀", None, "https://t.co/x")


def test_a_stream_that_trickles_in_reads_the_same_across_every_boundary() -> None:
    # Multi-byte characters and entries cut anywhere by the reads: the result does not depend on where.
    entries = [like_entry(post_id(n), text="✨" * (n % 7) + "é" * n) for n in range(300)]
    data = bundle([entries], account_id="1001")
    reader = BundleReader(Trickle(data, 7))
    assert reader.account() is not None
    assert [like.tweet_id for like in reader.likes()] == [post_id(n) for n in range(300)]


def test_x_s_own_layout_is_read_a_bom_a_trailing_semicolon_and_gzip_members_one_after_another() -> None:
    text = b"\xef\xbb\xbfwindow.YTD.like.part0 = " + archive_json(like_entries(0, 2)).encode() + b";\n"
    packed = tar([("like.js", text)])
    two_members = gzip.compress(packed[:700]) + gzip.compress(packed[700:])
    assert read(two_members) == (None, [post_id(0), post_id(1)])


def test_a_bare_like_js_has_no_account() -> None:
    assert read(bundle([like_entries(0, 1)])) == (None, [post_id(0)])


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        (b"", "not_a_bundle", "The upload is empty."),
        (b"PK\x03\x04" + b"\x00" * 100, "not_a_bundle", "incorrect header check"),
        (gzip.compress(b"plain text, no tar"), "not_a_bundle", "no tar inside"),
        (bundle([like_entries(0, 50)])[:-200], "bad_bundle", "truncated"),
        (bundle(members=[]), "no_likes_file", "no like.js"),
        (bundle(members=[("account.js", account_js("1"))]), "no_likes_file", "no like.js"),
        (
            bundle(members=[("like-part1.js", like_part(1, []))]),
            "bad_bundle",
            "like-part1.js where like.js should come",
        ),
        (
            bundle(members=[("like.js", like_part(0, [])), ("like-part2.js", like_part(2, []))]),
            "bad_bundle",
            "like-part2.js where like-part1.js should come",
        ),
        (
            bundle(members=[("like.js", like_part(0, [])), ("like.js", like_part(0, []))]),
            "bad_bundle",
            "like.js where like-part1.js should come",
        ),
        (
            bundle(members=[("like.js", like_part(0, [])), ("account.js", account_js("1"))]),
            "bad_bundle",
            "'account.js'",
        ),
        (bundle(members=[("data/like.js", like_part(0, []))]), "bad_bundle", "'data/like.js'"),
        (bundle(members=[("../../like.js", b"")]), "bad_bundle", "unsafe name"),
        (bundle(members=[("/like.js", b"")]), "bad_bundle", "unsafe name"),
        (gzip.compress(tar([("like.js", b"")], kind=tarfile.SYMTYPE)), "bad_bundle", "(link)"),
        (gzip.compress(tar([("like.js", b"")], kind=tarfile.DIRTYPE)), "bad_bundle", "(directory)"),
        (gzip.compress(tar([("like.js", b"")], kind=tarfile.FIFOTYPE)), "bad_bundle", "(special entry)"),
        (bundle(members=[("like.js", b"[]")]), "bad_likes_file", "does not start with `window.YTD.like.part0 = [`"),
        (bundle(members=[("like.js", like_part(3, []))]), "bad_likes_file", "says window.YTD.like.part3"),
        (
            bundle(members=[("like.js", b"window.YTD.like.part0 = [{}]")]),
            "bad_likes_file",
            "like.js, entry 1: not a like",
        ),
        (
            bundle(members=[("like.js", b'window.YTD.like.part0 = [{"like": {"tweetId": "12"}} {"like": {}}]')]),
            "bad_likes_file",
            "like.js, entry 2: expected `,` or `]`",
        ),
        (
            bundle(members=[("like.js", b'window.YTD.like.part0 = [{"like": {"tweetId": "12"}},]')]),
            "bad_likes_file",
            "like.js, entry 2: not JSON",
        ),
        (
            bundle(members=[("like.js", b'window.YTD.like.part0 = [{"like": {"tweetId": "1"}}')]),
            "bad_likes_file",
            "like.js, entry 2",
        ),
        (
            bundle(members=[("like.js", b"window.YTD.like.part0 = [] alert(1)")]),
            "bad_likes_file",
            "something follows the list of likes",
        ),
        (
            bundle(members=[("like.js", b'window.YTD.like.part0 = [{"like": {"tweetId": "12a"}}]')]),
            "bad_likes_file",
            "tweetId must be the post's id",
        ),
        (
            bundle(members=[("like.js", b'window.YTD.like.part0 = [{"like": {"tweetId": "1", "fullText": 5}}]')]),
            "bad_likes_file",
            "fullText must be text",
        ),
        (bundle(members=[("like.js", b"window.YTD.like.part0 = [\xff]")]), "bad_likes_file", "not UTF-8"),
        (bundle(members=[("account.js", b"{}"), ("like.js", like_part(0, []))]), "bad_account_file", "part0"),
        (
            bundle(members=[("account.js", b'window.YTD.account.part0 = [{"account": {"accountId": "me"}}]')]),
            "bad_account_file",
            "no valid X account id",
        ),
    ],
)
def test_each_bad_upload_is_refused_with_its_code_and_a_clear_message(data: bytes, code: str, message: str) -> None:
    error = refused(data)
    assert error.code == code
    assert message in error.message


def test_a_break_deep_in_a_part_names_the_part_and_the_entry() -> None:
    entries = like_entries(0, 90_000)
    text = like_part(3, entries).decode()
    text = text.replace(f'"{post_id(89_999)}"', '"not an id"')
    members = [("like.js", like_part(0, [])), *[(f"like-part{n}.js", like_part(n, [])) for n in (1, 2)]]
    error = refused(bundle(members=[*members, ("like-part3.js", text.encode())]))
    assert error.message.startswith("like-part3.js, entry 90,000: ")


def test_a_gzip_bomb_stops_at_the_unpacked_limit() -> None:
    # 64 MB of spaces compress to about 64 KB; reading stops once 1 MB is unpacked.
    spaces = b"window.YTD.like.part0 = [" + b" " * (64 * 1024 * 1024) + b"]"
    bomb = gzip.compress(tar([("like.js", spaces)]), compresslevel=9)
    assert len(bomb) < 200_000
    reader = BundleReader(io.BytesIO(bomb), max_unpacked=1024 * 1024)
    with pytest.raises(BundleError) as caught:
        list(reader.likes())
    assert caught.value.code == "too_large_unpacked"
    assert reader.unpacked_bytes <= 1024 * 1024 + 64 * 1024


def test_parsing_150000_likes_holds_a_few_entries_not_the_archive() -> None:
    # Given like.js for 150,000 likes (tens of MB unpacked), its bundle built before memory is traced
    entries = [
        like_entry(post_id(n), text=f"a liked post, number {n}, " + "with some text " * 6) for n in range(150_000)
    ]
    text_size = len(like_part(0, entries))
    data = bundle([entries], account_id="1001")
    del entries

    # When it is parsed from a stream, traced
    source = io.BytesIO(data)
    tracemalloc.start()
    try:
        reader = BundleReader(source)
        reader.account()
        count = sum(1 for _ in reader.likes())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Then every like was read, and the peak stayed a tiny fraction of the part's size
    assert count == 150_000
    assert text_size > 30_000_000
    assert peak < 2 * 1024 * 1024, f"peak {peak:,} bytes for a {text_size:,}-byte like.js"


def test_an_upload_cut_anywhere_or_with_any_byte_changed_is_read_whole_or_refused_never_a_crash() -> None:
    # A bad upload must end the import `failed`: any other exception would fail the message again and again.
    raw = tar([("account.js", account_js("1001")), ("like.js", like_part(0, like_entries(0, 40)))])
    packed = gzip.compress(raw, mtime=0)
    rng = random.Random(11)
    variants = [gzip.compress(raw[:cut], mtime=0) for cut in range(0, len(raw), 257)]
    variants += [packed[:cut] for cut in range(0, len(packed), 97)]
    for _ in range(300):
        changed = bytearray(raw if rng.random() < 0.5 else packed)
        changed[rng.randrange(len(changed))] ^= 1 << rng.randrange(8)
        variants.append(gzip.compress(bytes(changed), mtime=0) if len(changed) == len(raw) else bytes(changed))
    outcomes = set()
    for data in variants:
        try:
            account, likes = read(data)
        except BundleError as exc:
            outcomes.add(exc.code)
        else:
            outcomes.add("read")
            assert account is not None
            assert len(likes) <= 40
    assert {"read", "not_a_bundle", "bad_bundle", "bad_likes_file"} <= outcomes

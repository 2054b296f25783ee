"""The page's "Import your X archive" in Chromium, on an API of our own (fake_api.py), zips made here.

The page reads the zip itself and uploads one bundle of account.js and like*.js: the tests check what reached
"S3" (and that Python's tarfile reads it as the importer will), which bytes of the zip the page ever read (never
the media's or the DMs'), every stage it says, every bad zip it refuses before any upload, and the card of a like
from the archive. Every state is audited with axe-core, some at phone width, in dark mode, with reduced motion.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import struct
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from shared import bundle
from tests.e2e.browser.axe import audit
from tests.e2e.browser.conftest import module_context
from tests.e2e.browser.fake_api import ORIGIN, SIGNATURE, FakeApi, Sub, import_state, person
from tests.e2e.browser.watched import Watched

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}}
ZIP_TIME = (2026, 1, 2, 0, 0, 0)
ACCOUNT_ID = "1000000000000000001"  # demo's, as fake_api.NAMES has it

# What the page ever reads of the file: every File.slice (start, end), and whole reads. Set before any page script.
RECORD_READS = """
window.__reads = [];
const slice = Blob.prototype.slice;
Blob.prototype.slice = function (start, end, type) {
  if (this instanceof File) window.__reads.push([start ?? 0, end ?? this.size]);
  return slice.call(this, start, end, type);
};
for (const name of ["arrayBuffer", "text", "stream"]) {
  const whole = Blob.prototype[name];
  Blob.prototype[name] = function () {
    if (this instanceof File) window.__reads.push([0, this.size]);
    return whole.call(this);
  };
}
// Every stage the import section passes through, in order.
window.__stages = [];
new MutationObserver(() => {
  const stage = document.getElementById("import")?.dataset.stage;
  if (stage && window.__stages.at(-1) !== stage) window.__stages.push(stage);
}).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-stage"] });
"""


# --- archives made here ------------------------------------------------------------------------------------


def likes_js(part: int, count: int, start: int = 0) -> str:
    entries = [
        {"like": {"tweetId": str(1_800_000_000_000_000_000 + start + i), "fullText": f"Liked {start + i} https://t.co/x",
                  "expandedUrl": f"https://twitter.com/i/web/status/{1_800_000_000_000_000_000 + start + i}"}}
        for i in range(count)
    ]  # fmt: skip
    return f"window.YTD.like.part{part} = " + json.dumps(entries, indent=2, separators=(",", " : "))


def account_js(account_id: str = ACCOUNT_ID) -> str:
    account = [{"account": {"username": "demo", "accountId": account_id, "accountDisplayName": "Demo Person"}}]
    return "window.YTD.account.part0 = " + json.dumps(account, indent=2)


@dataclass
class Archive:
    data: bytes
    taken: dict[str, bytes]  # bundle member name -> the bytes the page must upload, in bundle order

    def untaken_ranges(self) -> list[tuple[str, int, int]]:
        """(name, start, end) of the bytes of every entry the page must never read: header through data."""
        ranges = []
        with zipfile.ZipFile(io.BytesIO(self.data)) as archive:
            for info in archive.infolist():
                if info.filename.removeprefix("data/") in self.taken and info.filename.startswith("data/"):
                    continue
                header = self.data[info.header_offset : info.header_offset + 30]
                name_length, extra_length = struct.unpack("<HH", header[26:30])
                end = info.header_offset + 30 + name_length + extra_length + info.compress_size
                ranges.append((info.filename, info.header_offset, end))
        return ranges


def x_archive(*, parts: int = 3, per_part: int = 40, media_mb: int = 6, with_account: bool = True) -> Archive:
    """A zip shaped like X's: manifest, account, like parts, DMs, and media of realistic (incompressible) size."""
    rng = random.Random(11)
    taken: dict[str, bytes] = {}
    files: list[tuple[str, bytes, int]] = [
        ("Your archive.html", b"<!doctype html><title>Your archive</title>", zipfile.ZIP_DEFLATED),
        ("data/manifest.js", b'window.__THAR_CONFIG = {"userInfo" : {}}', zipfile.ZIP_DEFLATED),
    ]
    if with_account:
        taken["account.js"] = account_js().encode()
        files.append(("data/account.js", taken["account.js"], zipfile.ZIP_DEFLATED))
    for part in range(parts):
        name = "like.js" if part == 0 else f"like-part{part}.js"
        taken[name] = likes_js(part, per_part, part * per_part).encode()
        files.append((f"data/{name}", taken[name], zipfile.ZIP_DEFLATED))
    files.append(("data/direct-messages.js", b"window.YTD.direct_messages.part0 = ['SECRET DM']", zipfile.ZIP_DEFLATED))
    for n in range(media_mb):
        files.append((f"data/tweets_media/{n}-photo.jpg", rng.randbytes(1024 * 1024), zipfile.ZIP_STORED))
    # The media first, as X lays it out: the like parts then sit past megabytes of photos.
    files.sort(key=lambda f: 0 if "media" in f[0] else 1)
    return Archive(data=make_zip(files), taken=taken)


def make_zip(files: list[tuple[str, bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, method in files:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = method
            archive.writestr(info, data)
    return buffer.getvalue()


def patch_entry(data: bytes, name: str, **changes: int) -> bytes:
    """The zip with `name`'s central directory record (and local header) changed: flags, size (uncompressed)."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    central = out.find(b"PK\x01\x02")  # the first central directory record; walk to ours
    while central >= 0:
        name_length = struct.unpack_from("<H", out, central + 28)[0]
        if out[central + 46 : central + 46 + name_length] == name.encode():
            break
        central = out.find(b"PK\x01\x02", central + 4)
    assert central >= 0
    local = info.header_offset
    if "flags" in changes:
        struct.pack_into("<H", out, central + 8, changes["flags"])
        struct.pack_into("<H", out, local + 6, changes["flags"])
    if "size" in changes:
        struct.pack_into("<I", out, central + 24, changes["size"])
        struct.pack_into("<I", out, local + 22, changes["size"])
    return bytes(out)


def read_bundle(data: bytes) -> list[tuple[str, bytes, tarfile.TarInfo]]:
    """The bundle as the importer reads it: tarfile in stream mode (r|gz), member by member."""
    members = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r|gz") as tar:
        for info in tar:
            extracted = tar.extractfile(info)
            assert extracted is not None, info.name
            members.append((info.name, extracted.read(), info))
    return members


# --- the page ----------------------------------------------------------------------------------------------


@contextmanager
def owner_page(browser: Any, api: FakeApi, **options: Any) -> Iterator[Watched]:
    """demo, signed in, on their own likes, with the import section showing."""
    with person(browser, api, "demo", **options) as watched:
        watched.page.add_init_script(RECORD_READS)
        watched.page.goto(f"{ORIGIN}/")
        watched.wait_for_view("card")
        watched.page.wait_for_selector("#import-file", state="visible")
        yield watched


def pick(page: Any, data: bytes, name: str = "twitter-2026-01-02-abc.zip") -> None:
    mime = "application/zip" if name.endswith(".zip") else "text/javascript"
    page.set_input_files("#import-file", files=[{"name": name, "mimeType": mime, "buffer": data}])


def wait_for_stage(page: Any, stage: str, timeout: float = 20_000) -> None:
    page.wait_for_selector(f"#import[data-stage={stage}]", timeout=timeout)


def said(page: Any) -> str:
    text: str = page.evaluate(
        "() => [...document.querySelectorAll('#import-status p, #import-error')]"
        ".filter((p) => !p.closest('[hidden]') && p.textContent).map((p) => p.textContent).join(' | ')"
    )
    return text


def successful_import() -> list[dict[str, Any]]:
    return [
        import_state("importing", likes_found=152_318),
        import_state("importing", likes_found=152_318, validated=True, likes_processed=41_200),
        import_state("done", likes_found=152_318, validated=True, likes_processed=152_318, likes_stored=150_001,
                     likes_already_stored=2_317),
    ]  # fmt: skip


def test_the_owner_imports_an_archive_and_only_the_likes_leave_the_computer(browser: Any) -> None:
    # Given demo on their likes, and an X archive of 120 likes in 3 parts beside 6 MB of media and their DMs
    archive = x_archive()
    states = successful_import()
    api = FakeApi(subs={"demo": Sub("demo")}, import_states=states[:2])  # held at 41,200 until the test says
    with owner_page(browser, api) as watched:
        page = watched.page
        assert page.text_content("#import-title") == "Import your X archive"
        assert audit(page) == []

        # When they pick the zip
        pick(page, archive.data)

        # Then the page reads it, uploads, follows the checking and the import, and says the result
        wait_for_stage(page, "importing")
        assert said(page) == "Importing your likes… | 41,200 of 152,318 likes"
        assert page.get_attribute("#import-bar", "value") == "27"
        assert audit(page) == []
        api.import_states = states[2:]
        wait_for_stage(page, "done")
        assert said(page) == "Imported 152,318 likes: 150,001 new, 2,317 already here."
        stages = page.evaluate("window.__stages")
        assert stages == ["reading", "creating", "uploading", "checking", "importing", "done"]
        assert audit(page) == []

        # And one presigned POST reached S3: the policy's fields first, the file last, as application/gzip
        assert len(api.uploads) == 1
        upload = api.uploads[0]
        assert upload.field_names == ["key", "Content-Type", "policy", "x-amz-signature", "file"]
        assert upload.fields["x-amz-signature"] == SIGNATURE
        assert upload.file_type == "application/gzip"

        # And the bundle is what bundle.py says: account.js, like.js, like-part1.js, like-part2.js, byte for byte
        members = read_bundle(upload.file)
        assert [name for name, _, _ in members] == ["account.js", "like.js", "like-part1.js", "like-part2.js"]
        assert {name: data for name, data, _ in members} == archive.taken
        assert all(info.isreg() and info.mode == 0o644 for _, _, info in members)
        assert b"SECRET DM" not in gzip.decompress(upload.file)
        # ... far smaller than the zip: the media stayed here
        assert len(upload.file) < len(archive.data) / 50

        # And the page never read a byte of the media, the DMs or anything else it does not upload
        reads = page.evaluate("window.__reads")
        touched = [(name, start, end) for name, start, end in archive.untaken_ranges()
                   for a, b in reads if a < end and start < b]  # fmt: skip
        assert touched == []

        # And the presigned signature was never shown, the calls were the contract's
        assert SIGNATURE not in page.content()
        assert "POST /api/subscriptions/demo/imports" in api.calls
        assert "GET /api/subscriptions/demo/imports/imp0000000000001abcdef" in api.calls
        assert not watched.page_errors
        assert not watched.unexpected_console_errors(), watched.console_errors
        assert watched.foreign_requests() == []
        # And the count above the card follows what was imported (12 before, 150,001 new)
        page.wait_for_function("document.getElementById('count').textContent.startsWith('150,013 likes')")


def lying_bomb() -> bytes:
    """like.js declares 1,000 bytes; it inflates to 64 MB of zeros."""
    data = make_zip([("data/like.js", b"window.YTD.like.part0 = [" + bytes(64 * 1024 * 1024), zipfile.ZIP_DEFLATED)])
    return patch_entry(data, "data/like.js", size=1000)


def encrypted() -> bytes:
    data = make_zip([("data/like.js", likes_js(0, 3).encode(), zipfile.ZIP_DEFLATED)])
    return patch_entry(data, "data/like.js", flags=0x1)


BAD_ZIPS: dict[str, tuple[Callable[[], bytes], str]] = {
    "not a zip": (lambda: b"\x89PNG\r\n\x1a\n" + bytes(2000), "This file isn't a zip archive."),
    "no like.js": (
        lambda: make_zip([("data/tweets.js", b"window.YTD.tweets.part0 = []", zipfile.ZIP_DEFLATED)]),
        "This zip has no data/like.js",
    ),
    "a ../ name": (
        lambda: make_zip(
            [
                ("data/like.js", likes_js(0, 3).encode(), zipfile.ZIP_DEFLATED),
                ("data/../../.bashrc", b"echo owned", zipfile.ZIP_DEFLATED),
            ]
        ),
        'This zip holds a file named "data/../../.bashrc", outside its own folder',
    ),
    "an absolute name": (
        lambda: make_zip([("/etc/cron.d/x", b"x", zipfile.ZIP_STORED)]),
        'This zip holds a file named "/etc/cron.d/x"',
    ),
    "a bomb with lying sizes": (lying_bomb, "This zip unpacks to more than it says it holds"),
    "an encrypted like.js": (encrypted, "data/like.js in this zip is encrypted"),
}


@pytest.mark.parametrize("case", list(BAD_ZIPS), ids=list(BAD_ZIPS))
def test_a_bad_zip_is_refused_at_once_with_its_reason_and_nothing_is_uploaded(browser: Any, case: str) -> None:
    make, message = BAD_ZIPS[case]
    api = FakeApi(subs={"demo": Sub("demo")}, import_states=successful_import())
    with owner_page(browser, api, color_scheme="dark") as watched:
        page = watched.page

        pick(page, make())

        wait_for_stage(page, "failed")
        assert message in page.text_content("#import-error")
        assert not page.is_visible("#import-again")  # the same file would fail the same way: pick another
        # Nothing asked of the API, nothing sent to S3
        assert not [c for c in api.calls if "/imports" in c]
        assert api.uploads == []
        assert not watched.page_errors
        assert audit(page) == []


def serve_bytes(page: Any, path: str, data: bytes) -> None:
    """Answer `path` on the page's origin with `data` (megabytes travel faster this way than through evaluate)."""
    page.route(f"{ORIGIN}{path}", lambda route: route.fulfill(status=200, body=data))


def test_a_bomb_stops_inflating_at_its_declared_size(browser: Any) -> None:
    # Given a zip whose like.js declares 1,000 bytes and inflates to 64 MB
    with module_context(browser) as page:
        # When the page's reader reads it
        serve_bytes(page, "/_test/bomb.zip", lying_bomb())
        result = page.evaluate(
            """async () => {
                const { readArchive } = await import("./archive.js");
                const file = new File([await (await fetch("/_test/bomb.zip")).blob()], "bomb.zip");
                let inflated = 0;
                try {
                    await readArchive(file, (p) => { inflated = p.bytes; });
                    return { code: null, inflated };
                } catch (error) {
                    return { code: error.code, inflated };
                }
            }"""
        )

    # Then it refused it before keeping more than one chunk past the declared 1,000 bytes
    assert result["code"] == "zip_bomb"
    assert result["inflated"] <= 1000


def test_a_zip64_archive_is_read_through_its_zip64_end_record(browser: Any) -> None:
    # Given an archive of more than 65,535 files (ZIP64 end of central directory, as big X archives have)
    files = [(f"data/tweets_media/{n}.jpg", b"", zipfile.ZIP_STORED) for n in range(65_536)]
    files.append(("data/like.js", likes_js(0, 5).encode(), zipfile.ZIP_DEFLATED))
    data = make_zip(files)
    assert data[-22 - 20 : -22][:4] == b"PK\x06\x07"  # the ZIP64 locator is there

    # When the page reads it
    with module_context(browser) as page:
        serve_bytes(page, "/_test/big.zip", data)
        members = page.evaluate(
            """async () => {
                const { readArchive } = await import("./archive.js");
                const file = new File([await (await fetch("/_test/big.zip")).blob()], "big.zip");
                const members = await readArchive(file);
                return members.map((m) => [m.name, new TextDecoder().decode(m.bytes)]);
            }"""
        )

    # Then it found like.js among them
    assert members == [["like.js", likes_js(0, 5)]]


def read_in_page(browser: Any, data: bytes) -> Any:
    """What archive.js's readArchive makes of `data`: [[name, text], ...], or {"code", "message"} if it refuses."""
    with module_context(browser) as page:
        serve_bytes(page, "/_test/archive.zip", data)
        return page.evaluate(
            """async () => {
                const { readArchive } = await import("./archive.js");
                const file = new File([await (await fetch("/_test/archive.zip")).blob()], "archive.zip");
                try {
                    const members = await readArchive(file);
                    return members.map((m) => [m.name, new TextDecoder().decode(m.bytes)]);
                } catch (error) {
                    return { code: error.code, message: error.message };
                }
            }"""
        )


def test_an_archive_unpacked_and_zipped_again_inside_one_folder_is_read_too(browser: Any) -> None:
    # Given the archive re-zipped by macOS's Finder: everything in one folder, plus __MACOSX's resource forks
    folder = "twitter-2026-01-02-abc"
    data = make_zip(
        [
            (f"{folder}/data/like.js", likes_js(0, 2).encode(), zipfile.ZIP_DEFLATED),
            (f"{folder}/data/account.js", account_js().encode(), zipfile.ZIP_DEFLATED),
            (f"__MACOSX/{folder}/data/._like.js", b"\x00\x05\x16\x07", zipfile.ZIP_STORED),
            ("__MACOSX/data/like.js", b"not the likes", zipfile.ZIP_STORED),
        ]
    )

    # Then the page takes its account.js and like.js, and nothing of __MACOSX
    assert read_in_page(browser, data) == [["account.js", account_js()], ["like.js", likes_js(0, 2)]]


def test_two_like_js_in_one_zip_are_refused_rather_than_guessed_between(browser: Any) -> None:
    data = make_zip(
        [
            ("data/like.js", likes_js(0, 2).encode(), zipfile.ZIP_DEFLATED),
            ("copy/data/like.js", likes_js(0, 3).encode(), zipfile.ZIP_DEFLATED),
        ]
    )

    assert read_in_page(browser, data) == {
        "code": "duplicate",
        "message": "This zip holds two like.js (data/like.js and copy/data/like.js): choose the zip X sent you.",
    }


def test_the_bundle_the_page_writes_is_read_by_python_tarfile_byte_for_byte(browser: Any) -> None:
    # Given members of awkward sizes: empty, exactly one block, one byte over, non-ASCII text
    members = {
        "account.js": account_js().encode(),
        "like.js": b"",
        "like-part1.js": b"x" * 512,
        "like-part2.js": ('window.YTD.like.part2 = ["é 🎉"]' + "y" * 513).encode(),
    }
    with module_context(browser) as page:
        # When the page writes the bundle
        data = page.evaluate(
            """async (members) => {
                const { writeBundle } = await import("./archive.js");
                const blob = await writeBundle(
                    members.map(([name, bytes]) => ({ name, bytes: new Uint8Array(bytes) })), 1767312000);
                return { type: blob.type, bytes: [...new Uint8Array(await blob.arrayBuffer())] };
            }""",
            [[name, list(data)] for name, data in members.items()],
        )

    # Then it is gzip, and Python's tarfile reads the same members back, in order, as regular ustar files
    raw = bytes(data["bytes"])
    assert data["type"] == bundle.CONTENT_TYPE
    assert raw[:2] == b"\x1f\x8b"
    read = read_bundle(raw)
    assert [(name, body) for name, body, _ in read] == list(members.items())
    for _, _, info in read:
        assert info.isreg()
        assert info.mtime == 1767312000
        assert bundle.like_part_number(info.name) is not None or info.name == bundle.ACCOUNT_MEMBER
    # ... and the strictest reading of the format agrees: ustar magic, checksums, two zero blocks at the end
    tar = gzip.decompress(raw)
    assert tar[257:265] == b"ustar\x0000"
    assert tar[-1024:] == bytes(1024)
    with tarfile.open(fileobj=io.BytesIO(tar), mode="r:", format=tarfile.USTAR_FORMAT) as strict:
        assert strict.getnames() == list(members)


def test_a_bare_like_js_is_imported_on_its_own(browser: Any) -> None:
    # Given the like.js of an archive, picked on its own
    api = FakeApi(subs={"demo": Sub("demo")}, import_states=successful_import())
    with owner_page(browser, api, **PHONE) as watched:
        page = watched.page

        pick(page, likes_js(0, 7).encode(), name="like.js")

        # Then the bundle holds that like.js alone, and the import runs to its end
        wait_for_stage(page, "done")
        assert [(name, data) for name, data, _ in read_bundle(api.uploads[0].file)] == [
            ("like.js", likes_js(0, 7).encode())
        ]
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["viewport"]["width"]
        assert audit(page) == []


def test_an_import_already_running_is_said_and_followed(browser: Any) -> None:
    # Given an import of demo's likes running elsewhere (another tab, the CLI)
    states = successful_import()
    api = FakeApi(
        subs={"demo": Sub("demo")},
        import_running=True,
        running_import_id="impRunningElsewhere001",
        import_states=states[:2],
    )
    with owner_page(browser, api) as watched:
        page = watched.page

        # When demo picks an archive
        pick(page, x_archive(media_mb=0).data)

        # Then the page says so, uploads nothing, and follows that import to its end
        wait_for_stage(page, "importing")
        assert said(page) == "Already running · Importing your likes… | 41,200 of 152,318 likes"
        api.import_states = states[2:]
        wait_for_stage(page, "done")
        stages = page.evaluate("window.__stages")
        assert stages == ["reading", "creating", "checking", "importing", "done"]
        assert api.uploads == []
        assert "GET /api/subscriptions/demo/imports/impRunningElsewhere001" in api.calls
        assert not watched.unexpected_console_errors(), watched.console_errors


def test_without_an_id_to_follow_a_running_import_is_said_plainly(browser: Any) -> None:
    api = FakeApi(subs={"demo": Sub("demo")}, import_running=True, import_states=successful_import())
    with owner_page(browser, api) as watched:
        page = watched.page

        pick(page, x_archive(media_mb=0).data)

        wait_for_stage(page, "failed")
        assert page.text_content("#import-error") == (
            "An import of your likes is already running. Wait until it ends, then try again."
        )
        assert api.uploads == []
        assert audit(page) == []


def test_a_failed_import_says_the_servers_message_and_trying_again_runs_it_again(browser: Any) -> None:
    # Given an import the importer refuses: someone else's archive
    refused = {"code": "wrong_account", "message": "this archive belongs to another X account (id 42)"}
    api = FakeApi(
        subs={"demo": Sub("demo")},
        import_states=[import_state("importing"), import_state("failed", error=refused)],
    )
    with owner_page(browser, api, reduced_motion="reduce") as watched:
        page = watched.page

        pick(page, x_archive(media_mb=0).data)

        # Then its message, and a way to try again
        wait_for_stage(page, "failed")
        assert page.text_content("#import-error") == (
            "The import failed: This archive belongs to another X account (id 42)."
        )
        assert page.is_visible("#import-again")
        assert audit(page) == []

        # When they try again (from the keyboard), and this time it works
        api.import_states = successful_import()
        page.focus("#import-again")
        page.keyboard.press("Enter")
        wait_for_stage(page, "done")
        assert len(api.uploads) == 2
        assert not page.is_visible("#import-error")


def test_a_reload_during_the_import_picks_it_up_again(browser: Any) -> None:
    # Given an import uploaded and running (it stays at 41,200 likes for now)
    states = successful_import()
    api = FakeApi(subs={"demo": Sub("demo")}, import_states=states[:2])
    with owner_page(browser, api) as watched:
        page = watched.page
        pick(page, x_archive(media_mb=0).data)
        wait_for_stage(page, "importing")

        # When the owner reloads the page
        page.reload()
        watched.wait_for_view("card")

        # Then the page follows the same import again, to its end, without a second upload
        wait_for_stage(page, "importing")
        api.import_states = states[2:]
        wait_for_stage(page, "done")
        assert said(page) == "Imported 152,318 likes: 150,001 new, 2,317 already here."
        assert api.imports_started == 1
        assert len(api.uploads) == 1

        # And once it has ended, a reload shows nothing of it
        page.reload()
        watched.wait_for_view("card")
        page.wait_for_selector("#import-file", state="visible")
        assert page.get_attribute("#import", "data-stage") is None
        assert said(page) == ""


def test_an_upload_s3_refuses_is_said_plainly_and_can_be_tried_again(browser: Any) -> None:
    # Given S3 refusing the upload (the presigned POST expired while the zip was read)
    api = FakeApi(subs={"demo": Sub("demo")}, import_states=successful_import(), upload_status=403)
    with owner_page(browser, api) as watched:
        page = watched.page

        pick(page, x_archive(media_mb=0).data)

        # Then the page says so in words, not S3's XML
        wait_for_stage(page, "failed")
        assert page.text_content("#import-error") == (
            "The upload was refused (HTTP 403): it may have taken too long. Try again."
        )
        assert "AccessDenied" not in page.content()
        assert audit(page) == []

        # When S3 takes it the next time, "Try again" reads the same file, asks for a new presigned POST, and ends done
        api.upload_status = 204
        page.click("#import-again")
        wait_for_stage(page, "done")
        assert api.imports_started == 2
        assert len(api.uploads) == 1


def test_the_whole_import_works_from_the_keyboard(browser: Any) -> None:
    api = FakeApi(subs={"demo": Sub("demo")}, import_states=successful_import())
    archive = x_archive(media_mb=1)
    with owner_page(browser, api) as watched:
        page = watched.page

        # Tab reaches the file input (after the share switch), and Space opens the file chooser. (A listener
        # first: Playwright starts intercepting file choosers with one, and a chooser opened before that is missed.)
        page.on("filechooser", lambda _: None)
        page.focus("#share")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "import-file"
        assert page.evaluate("document.activeElement.labels[0].textContent") == "Your archive (.zip), or its like.js"
        with page.expect_file_chooser() as chooser:
            page.keyboard.press("Space")
        chooser.value.set_files(files=[{"name": "archive.zip", "mimeType": "application/zip", "buffer": archive.data}])

        wait_for_stage(page, "done")
        # Focus stayed where it was: on the file input, for another import
        assert page.evaluate("document.activeElement.id") == "import-file"
        assert page.get_attribute("#import-status", "aria-live") == "polite"


def test_only_the_owner_is_offered_the_import(browser: Any) -> None:
    api = FakeApi(subs={"demo": Sub("demo", visibility="public"), "bigfan": Sub("bigfan")})
    # Someone signed in as bigfan, looking at demo's shared likes; then a visitor
    for viewer in ("bigfan", None):
        with person(browser, api, viewer) as watched:
            watched.page.goto(f"{ORIGIN}/?u=demo")
            watched.wait_for_view("card")
            assert not watched.page.is_visible("#import")
            assert not watched.page.is_visible("#import-file")


def test_a_like_from_the_archive_shows_its_text_links_date_and_where_it_came_from(browser: Any) -> None:
    # Given picks that land on likes from the archive: no author, no media
    api = FakeApi(subs={"demo": Sub("demo")}, archive_picks=True)
    with person(browser, api, "demo", color_scheme="dark", reduced_motion="reduce") as watched:
        page = watched.page
        page.goto(f"{ORIGIN}/")
        watched.wait_for_view("card")

        card = page.locator("#card-slot article.card")
        assert card.get_attribute("data-source") == "archive"
        assert card.locator(".source").text_content() == "from your archive"
        # No author line, no avatar
        assert card.locator(".card-head").count() == 0
        assert card.locator(".avatar").count() == 0
        # The text, its t.co link placed by its URL and linked to the expanded URL
        n = int(card.get_attribute("data-post-id")) - 1_900_000_000_000_000_000
        assert card.locator(".text").text_content() == f"Archived like {n}: read example.com/article/{n} later"
        assert card.locator(".text a").get_attribute("href") == f"https://example.com/article/{n}"
        # The date, and View on X
        assert card.locator("time").get_attribute("datetime") == "2025-03-01T12:00:00.000Z"
        view = card.locator("a.open-on-x")
        assert view.get_attribute("href") == f"https://x.com/i/status/{1_900_000_000_000_000_000 + n}"
        assert "View on X" in view.text_content()
        assert audit(page) == []


def render_archive_card(page: Any, post: dict[str, Any], own: bool = True) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(
        """async ([post, own]) => {
            const { renderCard } = await import("./card.js");
            const card = renderCard(post, { liked: { source: "archive" }, own });
            document.body.replaceChildren(card);
            return {
                source: card.querySelector(".source")?.textContent ?? null,
                text: card.querySelector(".text").textContent,
                links: [...card.querySelectorAll(".text a")].map((a) => a.getAttribute("href")),
                time: card.querySelector("time")?.getAttribute("datetime") ?? null,
                label: card.getAttribute("aria-label"),
            };
        }""",
        [post, own],
    )
    return result


def test_an_archive_card_derives_its_date_from_the_snowflake_and_links_only_http(module_page: Any) -> None:
    # Given an archive post without created_at, with a bare URL and a javascript: one in its text
    post: dict[str, Any] = {
        "id": "1584000000000000000",
        "text": "see https://t.co/abc, and javascript:alert(1) <b>x</b>",
        "url": "https://x.com/i/status/1584000000000000000",
        "author": None,
        "links": [],
        "media": [],
    }

    card = render_archive_card(module_page, post)

    # Then the date comes from the id: (id >> 22) + X's epoch
    ms = (1584000000000000000 >> 22) + 1288834974657
    assert card["time"] is not None
    assert card["time"] == module_page.evaluate("(ms) => new Date(ms).toISOString()", ms)
    assert card["time"].startswith("2022-10-23")
    # Only the http(s) URL is a link (its trailing comma left out); the rest is text, as it is
    assert card["links"] == ["https://t.co/abc"]
    assert card["text"] == post["text"]
    assert card["label"] == "Liked post, from the X archive"


@pytest.mark.parametrize(
    ("post_id", "expected"),
    [
        ("1584000000000000000", "2022-10-23T01:53:23.953Z"),  # (id >> 22) + 1288834974657 ms
        ("20", None),  # jack's first post, 2006: a sequential id, no time in it
        ("29700859247", None),  # the last sequential ids
        ("not-an-id", None),
    ],
)
def test_the_date_of_a_post_comes_from_its_snowflake_id(module_page: Any, post_id: str, expected: str | None) -> None:
    when = module_page.evaluate(
        """async (id) => {
            const { snowflakeDate } = await import("./card.js");
            return snowflakeDate(id)?.toISOString() ?? null;
        }""",
        post_id,
    )

    assert when == expected


def test_a_deleted_posts_archive_card_says_its_text_is_gone_and_a_visitor_sees_their_archive(
    module_page: Any,
) -> None:
    post: dict[str, Any] = {"id": "1800000000000000000", "text": "", "url": "https://x.com/i/status/1800000000000000000",
            "author": None, "links": [], "media": []}  # fmt: skip

    card = render_archive_card(module_page, post, own=False)

    assert card["text"] == "This post's text isn't in the archive: it may have been deleted."
    assert card["source"] == "from their X archive"
    assert card["time"] is not None

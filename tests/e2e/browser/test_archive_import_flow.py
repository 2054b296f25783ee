"""The archive import end to end, in a real Chromium on the running offline stack (make dev).

bigfan connects with X on the simulator's consent page and the first sync reaches as deep as X's API goes
(its depth cap); then they download their archive from the simulator (a zip shaped like X's, with media), pick
it in the page, and watch it read, upload (the presigned POST to the stack's S3), check and import. The result
holds every like of the archive, more than the API could reach, and a card "from your archive" shows.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.browser.axe import audit
from tests.e2e.browser.stack import RunningStack, running_stack
from tests.e2e.browser.test_accounts_flow import connect_on_the_page
from tests.e2e.browser.test_import_page import RECORD_READS, Archive, said, wait_for_stage
from tests.e2e.browser.watched import Watched

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SYNC_TIMEOUT_S = 120.0
IMPORT_TIMEOUT_MS = 180_000
# The size of every file the page uploads (Chromium keeps a Blob's bytes out of Playwright's request events).
RECORD_UPLOADS = """
window.__uploaded = [];
const send = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.send = function (body) {
  if (body instanceof FormData) {
    for (const [, value] of body) if (value instanceof Blob) window.__uploaded.push(value.size);
  }
  return send.call(this, body);
};
"""
ARCHIVE_DRAWS = 60  # a fifth of bigfan's likes come only from the archive: 60 draws all missing them is ~1e-6


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack of its own: bigfan must not be connected yet."""
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def likes_in(archive: bytes) -> int:
    """How many likes the archive's like*.js hold, read as the importer would."""
    total = 0
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        for name in zipped.namelist():
            if re.fullmatch(r"data/like(-part[1-9][0-9]*)?\.js", name):
                text = zipped.read(name).decode("utf-8")
                total += len(json.loads(text.split("=", 1)[1]))
    return total


def wait_for_the_sync_to_settle(stack: RunningStack, person: requests.Session, username: str) -> dict[str, Any]:
    """The subscription once the API sync has gone as far as it goes today: as deep as X's API lets it (ready,
    history complete), or as far as the app's daily read budget pays for (usage_capped; bigfan's first sync
    in make dev stops there)."""
    deadline = time.monotonic() + SYNC_TIMEOUT_S
    last: Any = None
    while time.monotonic() < deadline:
        status, last = stack.api("GET", f"api/subscriptions/{username}", session=person)
        settled = last.get("status") == "usage_capped" or (last.get("status") == "ready" and last["history_complete"])
        if status == 200 and settled:
            subscription: dict[str, Any] = last
            return subscription
        time.sleep(0.5)
    raise AssertionError(f"@{username}'s sync never settled; last answer {last}\n{stack.dev.output()[-3000:]}")


def test_bigfan_imports_their_archive_through_the_page_and_gets_back_more_than_the_api_reaches(
    open_page: Callable[..., Watched], stack: RunningStack, tmp_path: Path
) -> None:
    # Given bigfan connected on the page, their first sync as far as it goes (X's depth cap, or the read budget)
    owner = open_page()
    page = owner.page
    page.add_init_script(RECORD_READS)
    page.add_init_script(RECORD_UPLOADS)
    page.goto(stack.url)
    owner.wait_for_view("start")
    connect_on_the_page(owner, stack, "bigfan")
    owner.wait_for_view("card", timeout=SYNC_TIMEOUT_S * 1000)
    person = stack.session_of(page.context)
    reached = wait_for_the_sync_to_settle(stack, person, "bigfan")["like_count"]
    page.wait_for_selector("#import-file", state="visible")
    assert audit(page) == []

    # And their archive, downloaded from X (the simulator), on disk: a zip with media beside the likes
    answer = requests.get(f"{stack.x_url}/_sim/archive/bigfan.zip", timeout=60)
    assert answer.status_code == 200
    archive = tmp_path / "twitter-archive-bigfan.zip"
    archive.write_bytes(answer.content)
    in_archive = likes_in(answer.content)
    assert in_archive > reached, "bigfan's archive must hold more likes than X's API reaches"

    # When they pick it in the page
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/imports")) as created:
        page.set_input_files("#import-file", str(archive))
    presigned = created.value.json()
    assert created.value.status == 201, presigned

    # Then the page reads it, uploads the bundle to the stack's S3, and follows the import to its end
    try:
        wait_for_stage(page, "done", timeout=IMPORT_TIMEOUT_MS)
    except Exception as error:
        raise AssertionError(f"the import did not end done: {said(page)!r}\n{stack.dev.output()[-4000:]}") from error
    stages = page.evaluate("window.__stages")
    assert stages[:3] == ["reading", "creating", "uploading"]
    assert stages[-1] == "done"
    assert set(stages) <= {"reading", "creating", "uploading", "checking", "importing", "done"}
    new = in_archive - reached
    assert said(page) == f"Imported {in_archive:,} likes: {new:,} new, {reached:,} already here."
    assert audit(page) == []

    # And the history now holds every like of the archive: more than the API could reach
    status, subscription = stack.api("GET", "api/subscriptions/bigfan", session=person)
    assert status == 200
    assert subscription["like_count"] == in_archive > reached
    page.wait_for_function(
        "n => document.getElementById('count').textContent.startsWith(n)", arg=f"{in_archive:,} likes"
    )

    # And a card "from your archive" shows among the picks: its text, its date, View on X, no author
    for _ in range(ARCHIVE_DRAWS):
        if page.query_selector("#card-slot article[data-source=archive]"):
            break
        owner.another()
    card = page.locator("#card-slot article.card")
    assert card.get_attribute("data-source") == "archive"
    assert card.locator(".source").text_content() == "from your archive"
    assert card.locator(".card-head").count() == 0
    assert card.locator("time").get_attribute("datetime")
    assert card.locator("a.open-on-x").get_attribute("href").startswith("https://x.com/i/status/")
    assert audit(page) == []

    # And the page uploaded to the presigned URL only; it read none of the zip's media (the bundle is far smaller)
    upload_origin = origin(presigned["upload"]["url"])
    x_origin = origin(stack.x_url)
    assert {origin(url) for url in owner.foreign_requests()} <= {x_origin, upload_origin}
    assert any(origin(url) == upload_origin for url in owner.requests)
    uploaded = page.evaluate("window.__uploaded")
    assert len(uploaded) == 1
    assert 0 < uploaded[0] < len(answer.content) / 10, (
        f"uploaded {uploaded[0]:,} bytes of a {len(answer.content):,}-byte zip"
    )
    with zipfile.ZipFile(io.BytesIO(answer.content)) as zipped:
        taken = {
            n.removeprefix("data/"): b"" for n in zipped.namelist() if re.fullmatch(r"data/(account|like.*)\.js", n)
        }
    untaken = Archive(data=answer.content, taken=taken).untaken_ranges()
    assert any(name.startswith("data/tweets_media/") for name, _, _ in untaken), "the archive should hold media"
    reads = page.evaluate("window.__reads")
    assert [name for name, start, end in untaken for a, b in reads if a < end and start < b] == []

    # And the presigned signature showed nowhere: not in the page, not in the stack's log
    signed = [value for key, value in presigned["upload"]["fields"].items() if "signature" in key.lower()]
    assert signed
    log = stack.dev.output()
    assert [value for value in signed if value in log or value in page.content()] == []

    # And nothing went wrong on the way (a CSP refusal of the upload would be a console error)
    assert not owner.page_errors
    assert not owner.unexpected_console_errors(), owner.console_errors
    assert not owner.dialogs

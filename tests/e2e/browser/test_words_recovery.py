"""The page's words for a sync X rejected (a 400) and for one waiting for SQS's retry, run in Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browser.conftest import module_context

pytestmark = pytest.mark.browser

NOW = "2026-03-02T12:00:00Z"


def described(page: Any, sub: dict[str, Any]) -> dict[str, Any]:
    words: dict[str, Any] = page.evaluate(
        """async ([sub, now]) => (await import("./words.js")).describe(sub, new Date(now))""",
        [{"username": "someone", "like_count": 0, **sub}, NOW],
    )
    return words


def test_a_rejected_sync_says_the_fault_is_ours_and_offers_to_try_again(module_page: Any) -> None:
    words = described(module_page, {"status": "rejected", "next_sync_at": None})

    assert words["title"] == "X turned down the way we asked for these likes"
    assert words["detail"] == "That is a fault on our side, not @someone's. We'll try again later."
    assert (bool(words["poll"]), bool(words["retry"]), bool(words.get("busy"))) == (False, True, False)


def test_a_failed_sync_names_the_retry_while_it_lies_ahead_then_the_schedule(browser: Any) -> None:
    # Given a browser in Berlin, a retry at 12:01 UTC and the schedule's next sync (the lease) at 13:01 UTC
    failed = {"status": "error", "retry_at": "2026-03-02T12:01:00Z", "next_sync_at": "2026-03-02T13:01:00Z"}
    with module_context(browser, timezone_id="Europe/Berlin", locale="en-GB") as page:
        pending = described(page, failed)
        overdue = described(page, {**failed, "retry_at": "2026-03-02T11:59:00Z"})
        later = described(page, {"status": "rejected", "next_sync_at": "2026-03-03T12:00:00Z"})

    # Then the retry is named while it is ahead; once overdue (the DLQ may hold it), the schedule's time
    assert pending["detail"] == "It will be tried again at 13:01."
    assert overdue["detail"] == "It will be tried again at 14:01."
    assert later["detail"] == "That is a fault on our side, not @someone's. We'll try again at 13:00 tomorrow."

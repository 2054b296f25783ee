"""When syncing is paused for everyone (a read budget is spent), the page says so politely, with the time on
the visitor's own clock, above the card or the sync's status; axe-clean, on a phone and in dark mode too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.browser.axe import audit
from tests.e2e.browser.fake_api import ORIGIN, FakeApi, Sub, person

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}}
# A visitor in Tokyo (UTC+9) reading British English: 00:00 UTC is 09:00 on their clock.
TOKYO = {"locale": "en-GB", "timezone_id": "Asia/Tokyo"}


def next_utc_midnight() -> str:
    now = datetime.now(UTC)
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0).isoformat()


def test_a_spent_daily_budget_is_said_above_the_card_in_the_visitors_time(browser: Any) -> None:
    # Given demo's likes, and today's read budget spent until the next UTC midnight
    paused = {"until": next_utc_midnight(), "reason": "daily_budget"}
    api = FakeApi(subs={"demo": Sub("demo", sync_paused=paused)})
    with person(browser, api, "demo", **TOKYO) as watched:
        page = watched.page

        # When demo opens the app
        page.goto(f"{ORIGIN}/")
        watched.wait_for_view("card")
        page.wait_for_selector("#paused-line", state="visible")

        # Then one status line says until when (09:00 in Tokyo), why, and that the likes are safe
        text = page.text_content("#paused-line")
        assert text is not None
        assert text.startswith("Syncing is paused until 09:00")
        assert "today's read budget is spent. Your likes are safe; new ones arrive after that." in text
        assert page.get_attribute("#paused-line", "role") == "status"
        # ... and the card works as ever
        assert page.text_content("#count") == "12 likes of @demo"
        assert audit(page) == []
        assert not watched.page_errors
        assert not watched.unexpected_console_errors(), watched.console_errors


def test_a_pause_shows_beside_the_first_syncs_status_on_a_phone_in_dark_mode(browser: Any) -> None:
    # Given demo's first sync waiting, and this month's budget spent
    paused = {"until": "2027-01-01T00:00:00+00:00", "reason": "monthly_budget"}
    api = FakeApi(
        subs={"demo": Sub("demo", status="pending", like_count=0, history_complete=False, sync_paused=paused)}
    )
    with person(browser, api, "demo", **PHONE, color_scheme="dark", **TOKYO) as watched:
        page = watched.page
        page.goto(f"{ORIGIN}/")
        watched.wait_for_view("sync")
        page.wait_for_selector("#paused-line", state="visible")

        text = page.text_content("#paused-line") or ""
        assert "this month's read budget is spent" in text
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["viewport"]["width"]
        assert audit(page) == []


def test_the_line_goes_once_syncing_resumes(browser: Any) -> None:
    # Given demo's first sync waiting while X's usage cap holds
    paused = {"until": next_utc_midnight(), "reason": "x_usage_cap"}
    api = FakeApi(
        subs={"demo": Sub("demo", status="pending", like_count=0, history_complete=False, sync_paused=paused)}
    )
    with person(browser, api, "demo", reduced_motion="reduce") as watched:
        page = watched.page
        page.goto(f"{ORIGIN}/")
        watched.wait_for_view("sync")
        page.wait_for_selector("#paused-line", state="visible")
        assert "X's limit on reads for today is reached" in (page.text_content("#paused-line") or "")

        # When the pause ends and the first likes are stored
        api.subs["demo"] = Sub("demo", status="syncing", like_count=40, history_complete=False)

        # Then the card shows and the line is gone (the page kept polling the status)
        watched.wait_for_view("card", timeout=20_000)
        page.wait_for_selector("#paused-line", state="hidden")
        assert audit(page) == []


def test_a_pause_already_over_or_absent_says_nothing(module_page: Any) -> None:
    said = module_page.evaluate(
        """async () => {
            const { pausedWords } = await import("./words.js");
            const now = new Date("2026-12-02T12:00:00Z");
            return [
                pausedWords(null, now),
                pausedWords({ until: "2026-12-02T11:59:00Z", reason: "daily_budget" }, now),
                pausedWords({ until: "not a time", reason: "daily_budget" }, now),
                pausedWords({ until: "2026-12-03T00:00:00Z", reason: "something_new" }, now),
            ];
        }"""
    )
    assert said[:3] == [None, None, None]
    assert said[3].startswith("Syncing is paused until ")
    assert "the read budget is spent. Your likes are safe" in said[3]

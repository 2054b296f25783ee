"""The page's account states in Chromium, on an API of our own (fake_api.py): a visitor, the owner and their
controls, someone with a share link, a private or unknown name, a revoked token, sign out and disconnect.

Every state is audited with axe-core (WCAG 2.1 A and AA, best practices), and some again at phone width, in
dark mode and with reduced motion.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browser.axe import audit
from tests.e2e.browser.fake_api import ORIGIN, FakeApi, Sub, person

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}}


def visible(page: Any, selector: str) -> bool:
    return bool(page.is_visible(selector))


def test_a_visitor_first_sees_connect_with_x(browser: Any) -> None:
    api = FakeApi()
    with person(browser, api, None) as watched:
        page = watched.page

        page.goto(f"{ORIGIN}/")
        watched.wait_for_view("start")

        # Connect is a link to the login route, relative (a stage prefix just works), back to the app's start
        assert page.get_attribute("#connect", "href") == "auth/x/login?next=%2F"
        assert page.text_content("#connect") == "Connect with X"
        assert not visible(page, "#account")
        assert not visible(page, "#owner")
        assert audit(page) == []
        assert not watched.unexpected_console_errors(), watched.console_errors

        page.click("#connect")
        page.wait_for_url(f"{ORIGIN}/auth/x/login?next=%2F")
    assert api.calls == ["GET /api/me", "GET /auth/x/login?next=/"]


def test_the_owner_sees_their_name_avatar_card_and_controls_and_shares_the_exact_link(browser: Any) -> None:
    # Given demo connected, with likes stored, private
    api = FakeApi(subs={"demo": Sub("demo")})
    with person(browser, api, "demo") as watched:
        page = watched.page

        # When demo opens the app
        page.goto(f"{ORIGIN}/")
        watched.wait_for_view("card")

        # Then their name and avatar, one of their likes, and the owner's controls, private for now
        assert page.text_content("#account-name") == "Demo Person"
        assert page.text_content("#account-handle") == "@demo"
        assert page.get_attribute("#account .avatar-img", "src") == f"{ORIGIN}/assets/icon.svg"
        assert page.text_content("#count") == "12 likes of @demo"
        assert visible(page, "#owner")
        assert not page.is_checked("#share")
        assert page.text_content("#share-state") == "Private: only you can see them."
        assert not visible(page, "#share-link")
        assert audit(page) == []

        # When they share (the switch, from the keyboard)
        page.focus("#share")
        page.keyboard.press("Space")
        page.wait_for_selector("#share-link", state="visible")

        # Then the API made it public and the page shows the exact link
        assert api.subs["demo"].visibility == "public"
        assert page.is_checked("#share")
        assert page.text_content("#share-link") == f"{ORIGIN}/?u=demo"
        assert page.get_attribute("#share-link", "href") == f"{ORIGIN}/?u=demo"
        assert audit(page) == []

        # And making it private again hides the link
        page.click("#share")
        page.wait_for_selector("#share-link", state="hidden")
        assert api.subs["demo"].visibility == "private"
        assert "PATCH /api/subscriptions/demo" in api.calls
        assert not watched.page_errors
        assert not watched.unexpected_console_errors(), watched.console_errors


def test_the_first_sync_shows_its_progress_then_the_first_card(browser: Any) -> None:
    # Given demo just connected: nothing stored yet
    api = FakeApi(subs={"demo": Sub("demo", status="pending", like_count=0, history_complete=False)})
    with person(browser, api, "demo", reduced_motion="reduce") as watched:
        page = watched.page
        page.goto(f"{ORIGIN}/")

        # Then the status shows, with the owner's controls, until the first likes are stored
        watched.wait_for_view("sync")
        assert page.text_content("#sync-title") == "Waiting for the first sync…"
        assert visible(page, "#owner")
        assert not visible(page, "#sync-retry")
        assert audit(page) == []

        # When the first likes are stored, Then a card shows, with the sync's progress above it
        api.subs["demo"] = Sub("demo", status="syncing", like_count=40, history_complete=False)
        watched.wait_for_view("card", timeout=20_000)
        assert page.text_content("#sync-line-text") == "40 likes so far · Still syncing with X."
        assert audit(page) == []


def test_someone_with_the_share_link_sees_the_card_without_any_owner_control(browser: Any) -> None:
    api = FakeApi(subs={"demo": Sub("demo", visibility="public")})
    with person(browser, api, None, **PHONE, color_scheme="dark") as watched:
        page = watched.page

        page.goto(f"{ORIGIN}/?u=demo")
        watched.wait_for_view("card")

        assert page.text_content("#count") == "12 likes of @demo"
        assert not visible(page, "#owner")
        assert not visible(page, "#account")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["viewport"]["width"]
        assert audit(page) == []
        assert [c for c in api.calls if not c.startswith("GET ")] == []


@pytest.mark.parametrize("signed_in_as", [None, "bigfan"])
@pytest.mark.parametrize("subs", [{"demo": Sub("demo", visibility="private")}, {}], ids=["private", "unknown"])
def test_a_private_or_unknown_name_is_not_available(
    browser: Any, subs: dict[str, Sub], signed_in_as: str | None
) -> None:
    api = FakeApi(subs=dict(subs))
    with person(browser, api, signed_in_as) as watched:
        page = watched.page

        page.goto(f"{ORIGIN}/?u=demo")
        watched.wait_for_view("unavailable")

        assert page.text_content("#unavailable-title") == "These likes aren't available"
        assert page.text_content("#unavailable-name") == "@demo"
        assert not visible(page, "#owner")
        # A visitor is offered Connect (to see their own); someone signed in is not
        assert visible(page, "#unavailable-connect") is (signed_in_as is None)
        assert audit(page) == []


def test_when_x_revoked_access_the_owner_is_offered_reconnect(browser: Any) -> None:
    api = FakeApi(subs={"demo": Sub("demo", status="reconnect_needed", like_count=0)})
    with person(browser, api, "demo", color_scheme="dark") as watched:
        page = watched.page

        page.goto(f"{ORIGIN}/")
        watched.wait_for_view("sync")

        assert page.text_content("#sync-title") == "X no longer lets random-likes read these likes"
        assert visible(page, "#reconnect")
        assert page.get_attribute("#reconnect", "href") == "auth/x/login?next=%2F"
        assert not visible(page, "#sync-retry")
        assert audit(page) == []


def test_reconnect_is_the_owners_only(browser: Any) -> None:
    # Given demo's public subscription whose token X revoked, seen by someone else
    api = FakeApi(subs={"demo": Sub("demo", status="reconnect_needed", like_count=0, visibility="public")})
    with person(browser, api, None) as watched:
        watched.page.goto(f"{ORIGIN}/?u=demo")
        watched.wait_for_view("sync")

        assert not visible(watched.page, "#reconnect")
        assert not visible(watched.page, "#sync-retry")


def test_disconnect_asks_first_then_deletes_and_the_card_is_gone(browser: Any) -> None:
    api = FakeApi(subs={"demo": Sub("demo")})
    with person(browser, api, "demo", **PHONE) as watched:
        page = watched.page
        page.goto(f"{ORIGIN}/")
        watched.wait_for_view("card")

        # When demo asks to disconnect, Then a confirmation comes first, focused on Cancel
        page.click("#disconnect")
        page.wait_for_selector("#confirm[open]")
        assert page.evaluate("document.activeElement.id") == "confirm-cancel"
        assert page.text_content("#confirm-name") == "@demo"
        assert audit(page) == []
        # ... Escape (or Cancel) changes nothing
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.getElementById('confirm').open")
        assert "demo" in api.subs
        assert "DELETE /api/subscriptions/demo" not in api.calls

        # When they confirm
        page.click("#disconnect")
        page.click("#confirm-delete")

        # Then the subscription is deleted, the card and the account are gone, and the start says so
        watched.wait_for_view("start")
        assert "demo" not in api.subs
        assert (
            page.text_content("#start-note") == "Disconnected. random-likes is deleting the likes it copied of @demo."
        )
        assert page.query_selector("#card-slot article") is None
        assert not visible(page, "#account")
        assert not visible(page, "#owner")
        assert page.url == f"{ORIGIN}/"
        assert audit(page) == []


def test_sign_out_ends_the_session_and_goes_back_to_the_start(browser: Any) -> None:
    api = FakeApi(subs={"demo": Sub("demo")})
    with person(browser, api, "demo") as watched:
        page = watched.page
        page.goto(f"{ORIGIN}/?u=demo")
        watched.wait_for_view("card")

        page.click("#sign-out")

        page.wait_for_selector("body[data-view=start][data-signed-in=false]")
        assert "POST /auth/logout" in api.calls
        assert page.url == f"{ORIGIN}/"
        assert not visible(page, "#account")


def test_the_keyboard_reaches_every_owner_control_with_a_visible_focus(browser: Any) -> None:
    api = FakeApi(subs={"demo": Sub("demo")})
    with person(browser, api, "demo") as watched:
        page = watched.page
        page.goto(f"{ORIGIN}/")
        watched.wait_for_view("card")

        reached = []
        for _ in range(30):
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement.id")
            if focused:
                reached.append(focused)
                outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
                assert outline != "none", focused

        assert {"another", "share", "sign-out", "disconnect", "username"} <= set(reached), reached

"""Connect with X in a real Chromium, on the running offline stack, as two people would use it.

demo's owner connects on the simulator's consent page, comes back to their own card, shares it; someone else
(another browser context: other cookies) opens the link and sees the card without any control; the owner
makes it private again and the other person gets "not available" (the API's 404); the owner disconnects and
the card is gone. Every state the page passes through is audited with axe-core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.browser.axe import audit
from tests.e2e.browser.stack import RunningStack, running_stack
from tests.e2e.browser.watched import Watched

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SYNC_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack of its own: demo must not be connected yet."""
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


def connect_on_the_page(watched: Watched, stack: RunningStack, username: str = "demo") -> None:
    """Click Connect with X, pick `username` on the simulator's consent page, authorize, and come back."""
    page = watched.page
    page.click("#connect")
    page.wait_for_url(f"{stack.x_url}/i/oauth2/authorize?**")
    assert page.title() == "Authorize app"
    page.check(f"input[name=username][value={username}]")
    page.click("button[name=decision][value=approve]")
    page.wait_for_url(f"{stack.url}**")


def test_connect_share_open_as_someone_else_make_private_disconnect(
    open_page: Callable[..., Watched], stack: RunningStack
) -> None:
    # Given a visitor on the start page
    owner = open_page()
    page = owner.page
    page.goto(stack.url)
    owner.wait_for_view("start")
    assert page.is_visible("#connect")
    assert audit(page) == []

    # When they connect demo on X's consent page (the simulator's)
    connect_on_the_page(owner, stack, "demo")
    session_cookies = [c["value"] for c in page.context.cookies(stack.url) if "rl_session" in c["name"]]
    assert session_cookies

    # Then they are back, signed in as demo, and see their own likes as soon as the first are stored (the first
    # sync started at connect), with the owner's controls, private by default
    page.wait_for_selector("body[data-signed-in=true]")
    assert page.text_content("#account-handle") == "@demo"
    assert page.get_attribute("#account .avatar-img", "src").startswith(f"{stack.origin}/x-media/")
    owner.wait_for_view("card", timeout=SYNC_TIMEOUT_MS)
    assert page.text_content("#card-slot .text")
    assert page.is_visible("#owner")
    assert not page.is_checked("#share")
    assert audit(page) == []

    # When the owner shares: Then the page shows the exact link
    page.click("#share")
    page.wait_for_selector("#share-link", state="visible")
    link = page.text_content("#share-link")
    assert link == f"{stack.url}?u=demo"
    assert audit(page) == []

    # When someone else (their own browser context, no session) opens the link
    other = open_page()
    other.page.goto(link)

    # Then they see demo's card, and none of the owner's controls
    other.wait_for_view("card")
    assert other.page.text_content("#count").endswith("likes of @demo")
    assert not other.page.is_visible("#owner")
    assert not other.page.is_visible("#account")
    assert other.page.evaluate("document.body.dataset.signedIn") == "false"
    assert audit(other.page) == []

    # When the owner makes it private again
    page.click("#share")
    page.wait_for_selector("#share-link", state="hidden")
    assert page.text_content("#share-state") == "Private: only you can see them."

    # Then the other person gets "not available", and the API answers them 404 as for an unknown name
    other.page.reload()
    other.wait_for_view("unavailable")
    assert other.page.text_content("#unavailable-name") == "@demo"
    answer = other.page.evaluate(
        "async () => { const r = await fetch('api/subscriptions/demo'); return [r.status, await r.json()]; }"
    )
    assert answer[0] == 404
    assert answer[1]["error"]["code"] == "not_subscribed"
    assert audit(other.page) == []

    # When the owner disconnects: a confirmation first, then the deletion
    page.click("#disconnect")
    page.wait_for_selector("#confirm[open]")
    assert audit(page) == []
    page.click("#confirm-delete")

    # Then the card is gone, the person is signed out, and their likes are not available to anyone
    owner.wait_for_view("start")
    assert page.query_selector("#card-slot article") is None
    assert page.text_content("#start-note").startswith("Disconnected.")
    assert audit(page) == []
    page.goto(f"{stack.url}?u=demo")
    owner.wait_for_view("unavailable")
    assert page.evaluate("document.body.dataset.signedIn") == "false"
    status, _ = stack.api("GET", "api/subscriptions/demo")
    assert status == 404

    # And the stack's whole log (gateway access lines, every function's lines) holds none of the secrets the
    # browser carried: the code and the state X sent back, and the session id
    callback = next(url for url in owner.requests if "/auth/x/callback?" in url)
    sent_back = parse_qs(urlsplit(callback).query)
    secrets = [sent_back["code"][0], sent_back["state"][0], *session_cookies]
    log = stack.dev.output()
    assert "GET /auth/x/callback 302" in log
    assert [secret for secret in secrets if secret in log] == []

    # And nothing went wrong on the way; the only other origin the owner's browser visited is X's consent page
    for watched in (owner, other):
        assert not watched.page_errors
        assert not watched.unexpected_console_errors(), watched.console_errors
        assert not watched.dialogs
    x_origin = "{0.scheme}://{0.netloc}".format(urlsplit(stack.x_url))
    assert {"{0.scheme}://{0.netloc}".format(urlsplit(url)) for url in owner.foreign_requests()} <= {x_origin}
    assert other.foreign_requests() == []


def test_denying_on_the_consent_page_ends_on_a_page_that_offers_to_try_again(
    open_page: Callable[..., Watched], stack: RunningStack
) -> None:
    watched = open_page()
    page = watched.page
    page.goto(stack.url)
    page.click("#connect")
    page.wait_for_url(f"{stack.x_url}/i/oauth2/authorize?**")

    page.click("button[name=decision][value=deny]")

    page.wait_for_url(f"{stack.url}auth/x/callback?**")
    assert "did not connect" in page.text_content("h1")
    retry: Any = page.get_attribute("main a", "href")
    assert retry.endswith("auth/x/login")
    assert audit(page) == []

"""The pipeline's X client over real HTTP against the simulator: every answer X can give, as a domain outcome."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from local.xsim import ManualClock, XSim, XSimConfig
from local.xsim.corpus import HTML_IMG_TEXT, SCRIPT_TEXT
from shared.errors import (
    XForbidden,
    XGrantInvalid,
    XInvalidCursor,
    XRateLimited,
    XUnavailable,
    XUsageCapped,
    XUserNotFound,
)
from shared.x_client import XClient, XCredentials


def client_for(sim: XSim, username: str = "demo") -> XClient:
    return XClient(XCredentials(**sim.oauth1_credentials(username).as_dict()), sim.base_url)


def all_likes(client: XClient, user_id: str) -> list[str]:
    ids: list[str] = []
    token = None
    while True:
        page = client.liked_posts(user_id, max_results=100, pagination_token=token)
        ids += [p.id for p in page.posts]
        if not (token := page.next_token):
            return ids


def test_it_reads_every_visible_like_of_its_own_account(xsim: XSim) -> None:
    client = client_for(xsim)
    user = client.user_by_username("demo")

    ids = all_likes(client, user.id)

    expected = [i for i in xsim.like_ids("demo") if not xsim.app.world.posts[i].deleted]
    assert ids == expected


def test_post_text_arrives_as_the_author_wrote_it(xsim: XSim) -> None:
    # X sends &, < and > as entities; the client hands the sync the original characters.
    client = client_for(xsim)
    texts = set()
    token = None
    user_id = client.user_by_username("demo").id
    while True:
        page = client.liked_posts(user_id, max_results=100, pagination_token=token)
        texts |= {p.text for p in page.posts}
        if not (token := page.next_token):
            break
    assert HTML_IMG_TEXT in texts
    assert SCRIPT_TEXT in texts
    assert not any("&lt;" in t or "&gt;" in t for t in texts)


def test_another_accounts_likes_are_refused_as_forbidden(xsim: XSim) -> None:
    client = client_for(xsim, "demo")
    with pytest.raises(XForbidden) as refused:
        client.liked_posts(xsim.user_id("bigfan"), max_results=5, pagination_token=None)

    assert xsim.user_id("bigfan") in str(refused.value)  # X's own words name whose likes were refused


def test_an_unknown_username_is_not_found(xsim: XSim) -> None:
    with pytest.raises(XUserNotFound) as missing:
        client_for(xsim).user_by_username("nobody_here_x")

    assert "nobody_here_x" in str(missing.value)


def test_bad_credentials_are_forbidden(xsim: XSim) -> None:
    creds = xsim.oauth1_credentials("demo").as_dict()
    client = XClient(XCredentials(**{**creds, "access_token_secret": "wrong-secret"}), xsim.base_url)
    with pytest.raises(XForbidden) as refused:
        client.user_by_username("demo")

    assert not [value for value in (creds["access_token"], "wrong-secret") if value in str(refused.value)]


def test_the_76th_request_is_a_rate_limit_with_x_reset_time(xsim: XSim) -> None:
    client = client_for(xsim)
    user_id = xsim.user_id("demo")
    for _ in range(75):
        page = client.liked_posts(user_id, max_results=5, pagination_token=None)
    assert page.rate.remaining == 0

    with pytest.raises(XRateLimited) as caught:
        client.liked_posts(user_id, max_results=5, pagination_token=None)

    assert caught.value.reset_at == page.rate.reset_at


def test_a_usage_cap_is_told_apart_from_a_rate_limit_and_claims_no_reset_time(
    xsim_factory: Callable[..., XSim],
) -> None:
    sim = xsim_factory(usage_cap=5)
    client = client_for(sim)
    user_id = sim.user_id("demo")
    first = client.liked_posts(user_id, max_results=10, pagination_token=None)

    with pytest.raises(XUsageCapped) as caught:  # new posts: X bills each post once per UTC day
        client.liked_posts(user_id, max_results=10, pagination_token=first.next_token)

    # x-rate-limit-reset on this 429 is the 15-minute window's, not the cap's: the client must not pass it on
    # (the sync decides when to try again: tests/integration/test_sync.py).
    assert caught.value.reset_at is None
    assert first.rate.reset_at is not None


def test_a_refused_pagination_token_is_an_invalid_cursor_asked_once(xsim: XSim) -> None:
    with pytest.raises(XInvalidCursor):
        client_for(xsim).liked_posts(xsim.user_id("demo"), max_results=5, pagination_token="not-a-real-token")

    # A 400 is X's final word on that request: it is not sent again
    (app,) = xsim.billing()["apps"].values()
    assert app["requests"] == {"GET /2/users/:id/liked_tweets": 1}


@pytest.mark.parametrize("fault", [{"burst": 1}, {"burst": 1, "burst_status": 500}, {"drop_next": 1}])
def test_server_errors_and_dropped_connections_are_transient(xsim: XSim, fault: dict[str, int]) -> None:
    xsim.faults.set(**fault)
    with pytest.raises(XUnavailable):
        client_for(xsim).liked_posts(xsim.user_id("demo"), max_results=5, pagination_token=None)
    # and the next request goes through
    assert client_for(xsim).liked_posts(xsim.user_id("demo"), max_results=5, pagination_token=None).posts


def test_a_slow_x_times_out_as_transient() -> None:
    # Given an X that holds its answers back (latency, waited out only once the test lets it go)
    released = threading.Event()
    with XSim(XSimConfig(), clock=ManualClock(), sleep=lambda _: released.wait(30)) as slow_x:
        slow_x.faults.set(latency_ms=1500)
        client = XClient(XCredentials(**slow_x.oauth1_credentials("demo").as_dict()), slow_x.base_url, timeout=0.3)

        # When the client asks for a page
        with pytest.raises(XUnavailable) as slow:
            client.liked_posts(slow_x.user_id("demo"), max_results=5, pagination_token=None)
        released.set()

    # Then it gave up after its timeout, as on any transient failure
    assert "did not answer" in str(slow.value)


def test_own_like_count_is_the_accounts_like_count_and_follows_new_likes(xsim: XSim) -> None:
    # Given demo's client, and demo's likes as the simulator holds them
    client = client_for(xsim)
    before = len(xsim.like_ids("demo"))

    # When the like_count is asked, three likes are made, and it is asked again
    first = client.own_like_count()
    xsim.add_likes("demo", 3)
    second = client.own_like_count()

    # Then it is demo's number of likes each time (one users/me request each, nothing else)
    assert (first, second) == (before, before + 3)
    (app,) = xsim.billing()["apps"].values()
    assert app["requests"] == {"GET /2/users/me": 2}


def test_own_like_count_with_a_connected_accounts_token_is_that_accounts(xsim: XSim) -> None:
    # Given bigfan connected with OAuth 2.0 (its own user token)
    client = XClient.for_user_token(xsim.oauth2_login("bigfan").access_token, xsim.base_url)

    # When its like_count is asked, Then it is bigfan's (X answers users/me for the token's owner)
    assert client.own_like_count() == len(xsim.like_ids("bigfan"))


def test_own_like_count_with_an_expired_account_token_is_a_grant_x_refuses(xsim_factory: Callable[..., XSim]) -> None:
    # Given a connected account's access token, and the 2 hours it lasts gone by
    sim = xsim_factory(access_token_ttl_seconds=60)
    client = XClient.for_user_token(sim.oauth2_login("demo").access_token, sim.base_url)
    sim.clock.advance(61)

    # When its like_count is asked, Then X's 401 is the account's grant refused (the sync refreshes it once)
    with pytest.raises(XGrantInvalid) as refused:
        client.own_like_count()
    assert "HTTP 401" in str(refused.value)


def test_own_like_count_rate_limited_names_the_windows_reset(xsim_factory: Callable[..., XSim]) -> None:
    # Given one request per window
    sim = xsim_factory(rate_limit=1)
    client = client_for(sim)

    # When the like_count is asked twice
    client.own_like_count()
    with pytest.raises(XRateLimited) as limited:
        client.own_like_count()

    # Then the second is X's rate limit, with the reset X sent, and counted as one
    assert limited.value.reset_at is not None
    assert limited.value.reset_at.timestamp() == pytest.approx(sim.clock.time() + 900, abs=1)
    assert sim.app.billing.refusals() == {"rate_limit": 1, "usage_cap": 0}

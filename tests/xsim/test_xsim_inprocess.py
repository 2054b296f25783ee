"""The simulator in-process (local/xsim/inprocess.py): the X client reads over it what it reads over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from local.xsim import ManualClock, XSim, XSimConfig
from local.xsim.inprocess import XSimTransport, in_process
from shared.errors import XGrantInvalid, XTransient
from shared.x_client import XClient


@pytest.fixture
def sim() -> Iterator[XSim]:
    clock = ManualClock(datetime(2026, 3, 1, 12, tzinfo=UTC))
    with XSim(XSimConfig(like_every_minutes={}), clock=clock) as running:
        yield running


def _walk(client: XClient, user_id: str, size: int) -> list[tuple[list[str], str | None, int | None]]:
    pages, token = [], None
    while True:
        page = client.liked_posts(user_id, max_results=size, pagination_token=token)
        pages.append(([p.id for p in page.posts], page.next_token, page.rate.remaining))
        token = page.next_token
        if token is None:
            return pages


def test_an_account_reads_the_same_pages_in_process_as_over_http(sim: XSim) -> None:
    # Given a month account with a history and two accounts' worth of X clients on its token
    app = sim.app
    user_id = app.add_account("m0001", 230)
    new = app.like(user_id)
    token = app.grant(user_id)
    over_http = XClient.for_user_token(token, sim.base_url)
    transport = XSimTransport(app)
    in_proc = in_process(XClient.for_user_token(token, "http://xsim.invalid"), transport)

    # When each walks the whole list, by pages of 40
    http_pages = _walk(over_http, user_id, 40)
    proc_pages = _walk(in_proc, user_id, 40)

    # Then both saw the same posts in the same order with the same cursors; only the window moved on
    assert [(ids, cursor) for ids, cursor, _ in proc_pages] == [(ids, cursor) for ids, cursor, _ in http_pages]
    assert proc_pages[0][0][0] == new
    assert sum(len(ids) for ids, _, _ in proc_pages) == 231
    assert [left for _, _, left in proc_pages] == [75 - len(http_pages) - n for n in range(1, len(proc_pages) + 1)]
    assert transport.requests == len(proc_pages)


def test_faults_and_refusals_arrive_as_over_http(sim: XSim) -> None:
    # Given an in-process client of a connected account
    app = sim.app
    user_id = app.add_account("m0002", 20)
    client = in_process(XClient.for_user_token(app.grant(user_id), "http://xsim.invalid"), XSimTransport(app))

    # When the simulator drops the connection, then answers 503, then the account revokes the app
    app.faults.set(drop_next=1)
    with pytest.raises(XTransient, match="did not answer: ConnectionError"):
        client.liked_posts(user_id, max_results=5, pagination_token=None)
    app.faults.set(burst=1, burst_status=503)
    with pytest.raises(XTransient, match="503"):
        client.liked_posts(user_id, max_results=5, pagination_token=None)
    app.revoke(user_id)

    # Then the client says what it says over HTTP: no answer, a passing failure, a dead grant
    with pytest.raises(XGrantInvalid):
        client.liked_posts(user_id, max_results=5, pagination_token=None)
    assert app.faults.injected == 2
    assert app.billing.snapshot()["apps"] == {}  # nothing was read, nothing billed


def test_unliked_posts_leave_the_list_and_cheap_posts_render(sim: XSim) -> None:
    # Given an account that liked two posts today
    app = sim.app
    user_id = app.add_account("m0003", 3)
    first, second = app.like(user_id), app.like(user_id)
    client = in_process(XClient.for_user_token(app.grant(user_id), "http://xsim.invalid"), XSimTransport(app))

    # When it takes the newer like back
    assert app.unlike(user_id, second)

    # Then X lists the older one first, rendered in full like any post
    page = client.liked_posts(user_id, max_results=5, pagination_token=None)
    assert page.posts[0].id == first
    assert second not in {p.id for p in page.posts}
    assert len(page.posts) == 4
    assert page.posts[0].text
    assert page.posts[0].author is not None

"""The like_count probe on moto's DynamoDB: a connected account whose count has not moved is not read at all,
one whose count moved is read with a first page sized to the difference, and a 429 on the probe defers.

X is the in-memory FakeX (tests/support/fake_x.py): its `requests` log holds every liked_tweets request and
its `probes` every users/me answer, so "no likes were read" is a fact about X, not about the store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from local.xsim import XSim
from shared.budget import ReadBudget
from shared.errors import XRateLimited, XUnavailable, XUsageCapped
from shared.models import AuthKind, Subscriber, SubscriberStatus, SyncOutcome, XUser
from shared.schedule import SchedulePolicy
from shared.store import Stores
from shared.sync import SyncPolicy, SyncPorts, sync_subscriber
from shared.x_api import XApi
from shared.x_client import XClient
from tests.support.fake_x import FakeX, ManualClock, make_post
from tests.support.oauth import connect, connected_subscription

POLICY = SyncPolicy(schedule=SchedulePolicy(min_interval=timedelta(minutes=60)), lock_for=timedelta(minutes=5))
LIKES = 20


class NoOperatorX(FakeX):
    """A connected account is never read, nor probed, with the operator's credentials."""

    def own_like_count(self) -> int:
        raise AssertionError("the operator's X was probed for a connected account")


def sync(
    store: Stores,
    x: FakeX,
    clock: ManualClock,
    key: str,
    *,
    auth: AuthKind = AuthKind.OAUTH2,
    policy: SyncPolicy = POLICY,
) -> SyncOutcome:
    """One sync, an hour after the last: a connected account reads (and is probed) with its own X."""
    clock.advance(hours=1)

    def account_x(sub: Subscriber, *, refused: bool = False) -> XApi:
        return x

    operator = x if auth is AuthKind.OPERATOR else NoOperatorX([])
    budget = ReadBudget(store.app_state, clock, 0, accounts=store.subscribers)
    ports = SyncPorts(
        subscribers=store.subscribers, likes=store.likes, x=operator, budget=budget, clock=clock, account_x=account_x
    )
    return sync_subscriber(key, ports=ports, policy=policy, seconds_left=lambda: 60.0)


def subscribed(store: Stores, x: FakeX, clock: ManualClock, key: str, auth: AuthKind = AuthKind.OAUTH2) -> None:
    """A subscription whose history is stored (its first sync was the backfill)."""
    x_user_id = x.user.id if auth is AuthKind.OAUTH2 else None
    store.subscribers.create_subscriber(key, key, clock.now(), clock.now(), x_user_id=x_user_id, auth=auth)
    assert sync(store, x, clock, key, auth=auth).status is SubscriberStatus.READY


def probed(store: Stores, x: FakeX, clock: ManualClock, key: str) -> None:
    """A connected account, backfilled, then synced once more: its like_count is known since that sync."""
    subscribed(store, x, clock, key)
    assert sync(store, x, clock, key).status is SubscriberStatus.READY
    x.requests.clear()


def stored(store: Stores, key: str) -> Subscriber:
    sub = store.subscribers.get_subscriber(key, consistent=True)
    assert sub is not None
    return sub


def fake_x() -> FakeX:
    return FakeX([make_post(n) for n in range(LIKES)])


def new_likes(x: FakeX, count: int) -> None:
    for n in range(count):
        x.like(make_post(1000 + len(x.likes) + n))


def test_the_backfill_is_not_probed_and_the_first_probe_reads_as_before(
    store: Stores, username: str, clock: ManualClock
) -> None:
    # Given a connected account with 20 likes, backfilled by its first sync (no count to compare yet)
    x = fake_x()
    subscribed(store, x, clock, username)
    assert x.probes == []
    x.requests.clear()

    # When it is synced again
    outcome = sync(store, x, clock, username)

    # Then X is probed, likes are read with the usual first page (nothing to size it by), and the count is kept
    assert outcome.status is SubscriberStatus.READY
    assert x.probes == [LIKES]
    assert x.requests == [(POLICY.first_page, None)]
    assert stored(store, username).x_like_count == LIKES


def test_an_unchanged_like_count_reads_no_likes_and_the_sync_is_ready(
    store: Stores, username: str, clock: ManualClock
) -> None:
    # Given a connected account whose like_count is known, and no like since
    x = fake_x()
    probed(store, x, clock, username)
    day = clock.now().strftime("%Y-%m-%d")
    before = store.app_state.usage(day)

    # When it is synced
    outcome = sync(store, x, clock, username)

    # Then X was asked its like_count only: no liked_tweets request, READY with nothing new, due again later
    assert x.requests == []
    assert x.probes == [LIKES, LIKES]
    assert (outcome.status, outcome.new_likes, outcome.pages) == (SubscriberStatus.READY, 0, 0)
    sub = stored(store, username)
    assert (sub.status, sub.x_like_count, sub.like_count) == (SubscriberStatus.READY, LIKES, LIKES)
    assert sub.next_sync_at is not None
    assert sub.next_sync_at > clock.now()
    # ... and the budget counted one request and one user read, no post
    after = store.app_state.usage(day)
    assert (after.x_requests - before.x_requests, after.posts_read - before.posts_read) == (1, 0)
    assert after.count("user_reads") - before.count("user_reads") == 1


@pytest.mark.parametrize(("liked", "page"), [(3, 5), (12, 13), (150, 100)])
def test_a_changed_like_count_sizes_the_first_page_to_the_new_likes(
    store: Stores, username: str, clock: ManualClock, liked: int, page: int
) -> None:
    # Given a connected account whose like_count is known, then `liked` new likes
    x = fake_x()
    probed(store, x, clock, username)
    new_likes(x, liked)

    # When it is synced
    outcome = sync(store, x, clock, username)

    # Then the first page asks for the new likes and the one known post that ends the walk (5 to 100)
    assert x.requests[0] == (page, None)
    if liked < 100:
        assert len(x.requests) == 1  # one request finds every new like and reaches the known ones
    assert outcome.status is SubscriberStatus.READY
    assert outcome.new_likes == liked
    sub = stored(store, username)
    assert (sub.like_count, sub.x_like_count) == (LIKES + liked, LIKES + liked)


def test_fewer_likes_than_before_reads_with_the_usual_first_page(
    store: Stores, username: str, clock: ManualClock
) -> None:
    # Given a connected account whose like_count is known, then two of its older likes removed on X
    x = fake_x()
    probed(store, x, clock, username)
    del x.likes[5:7]

    # When it is synced
    outcome = sync(store, x, clock, username)

    # Then the count moved, so likes are read, from the usual first page; nothing is new, the new count is kept
    assert x.requests == [(POLICY.first_page, None)]
    assert (outcome.status, outcome.new_likes) == (SubscriberStatus.READY, 0)
    assert stored(store, username).x_like_count == LIKES - 2


def test_a_rate_limited_probe_defers_the_sync_until_the_reset(store: Stores, username: str, clock: ManualClock) -> None:
    # Given a connected account whose like_count is known, and X's users/me window empty
    x = fake_x()
    probed(store, x, clock, username)
    new_likes(x, 3)
    reset = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
    x.probe_error = XRateLimited(reset, "rate limit reached")

    # When it is synced
    outcome = sync(store, x, clock, username)

    # Then no likes are read and the subscription waits, rate limited, until X's reset
    assert x.requests == []
    assert (outcome.status, outcome.deferred_until) == (SubscriberStatus.RATE_LIMITED, reset)
    sub = stored(store, username)
    assert (sub.status, sub.next_sync_at, sub.x_like_count) == (SubscriberStatus.RATE_LIMITED, reset, LIKES)


def test_a_usage_capped_probe_pauses_every_sync(store: Stores, username: str, clock: ManualClock) -> None:
    # Given a connected account whose like_count is known, and X's usage cap reached
    x = fake_x()
    probed(store, x, clock, username)
    x.probe_error = XUsageCapped(None, "Usage cap exceeded: Monthly product cap")

    # When it is synced
    outcome = sync(store, x, clock, username)

    # Then no likes are read, the subscription is usage-capped and the app's syncs pause until midnight UTC
    assert x.requests == []
    assert outcome.status is SubscriberStatus.USAGE_CAPPED
    pause = store.app_state.pause(clock.now())
    assert pause is not None
    assert (pause.until, pause.reason) == (datetime(2026, 11, 29, tzinfo=UTC), "x_usage_cap")


def test_a_failed_probe_reads_the_likes_anyway(store: Stores, username: str, clock: ManualClock) -> None:
    # Given a connected account whose like_count is known, one new like, and X failing the probe with a 500
    x = fake_x()
    probed(store, x, clock, username)
    new_likes(x, 1)
    x.probe_error = XUnavailable("X answered 500")

    # When it is synced
    outcome = sync(store, x, clock, username)

    # Then the probe only saved reads: the likes are read as without it, and no count is kept to compare with
    assert x.requests == [(POLICY.first_page, None)]
    assert (outcome.status, outcome.new_likes) == (SubscriberStatus.READY, 1)
    assert stored(store, username).x_like_count is None


def test_the_operators_subscriptions_and_a_policy_without_probe_are_never_probed(
    store: Stores, username: str, clock: ManualClock
) -> None:
    # Given a subscription read with the operator's OAuth 1.0a token (users/me answers for the operator),
    # and a connected account under a policy that turns the probe off, each backfilled
    operator_x, account_x = fake_x(), fake_x()
    operator_x.user = XUser(id="1001", username=username, name=username)
    subscribed(store, operator_x, clock, username, AuthKind.OPERATOR)
    off = SyncPolicy(schedule=SchedulePolicy(min_interval=timedelta(minutes=60), probe=False))
    other = f"{username}b"
    subscribed(store, account_x, clock, other)

    # When each is synced twice more with nothing new
    for _ in range(2):
        assert sync(store, operator_x, clock, username, auth=AuthKind.OPERATOR).status is SubscriberStatus.READY
        assert sync(store, account_x, clock, other, policy=off).status is SubscriberStatus.READY

    # Then neither was probed: each read its first page every time, as before the probe
    assert (operator_x.probes, account_x.probes) == ([], [])
    assert operator_x.requests[-2:] == [(POLICY.first_page, None)] * 2
    assert account_x.requests[-2:] == [(POLICY.first_page, None)] * 2


def test_over_the_simulator_a_quiet_account_costs_one_user_read_a_day(
    xsim_factory: Callable[..., XSim], store: Stores, username: str
) -> None:
    # Given demo connected with its own token on a simulator where no likes arrive, backfilled and probed once
    sim = xsim_factory(like_every_minutes={})
    x_user_id, tokens = connect(sim, "demo", now=sim.clock.now())
    connected_subscription(store, username, x_user_id, sim.clock.now())

    def run() -> SyncOutcome:
        sim.clock.advance(600)
        client = XClient.for_user_token(tokens.access_token, sim.base_url)
        budget = ReadBudget(store.app_state, sim.clock, 0, accounts=store.subscribers)
        ports = SyncPorts(store.subscribers, store.likes, NoOperatorX([]), budget, sim.clock, lambda sub, **_: client)
        return sync_subscriber(username, ports=ports, policy=POLICY, seconds_left=lambda: 60.0)

    assert [run().status, run().status] == [SubscriberStatus.READY] * 2
    app = sim.app.credentials.app_id
    requests_before = dict(sim.billing()["apps"][app]["requests"])

    # When it is synced twice more the same UTC day, then once after three new likes
    quiet = [run(), run()]
    sim.add_likes("demo", 3)
    moved = run()

    # Then the quiet syncs asked users/me only, and the day billed demo as a user once, whoever asked how often
    billing = sim.billing()["apps"][app]
    asked = {name: n - requests_before.get(name, 0) for name, n in billing["requests"].items()}
    assert asked == {"GET /2/users/me": 3, "GET /2/users/:id/liked_tweets": 1}
    assert [o.status for o in quiet] == [SubscriberStatus.READY] * 2
    assert [o.pages for o in quiet] == [0, 0]
    assert (moved.status, moved.new_likes, moved.pages) == (SubscriberStatus.READY, 3, 1)
    assert billing["days"]["2026-01-15"]["users_read"] == 1
    assert sim.app.billing.billed_by_user()[x_user_id]["users"] == 1

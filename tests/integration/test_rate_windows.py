"""Each connected account spends its own X rate-limit window: X counts user-context requests per user token,
so one account's sync never spends or waits for another's. The read budget stays app-wide, and an app-wide
request window is a setting, off by default.

The simulator here counts 2 requests per user token per window (and, by default, no app-wide window for
user-context calls, as X documents); a backfill wants more pages than that.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from local.xsim import XSim
from shared.budget import LIKES_ENDPOINT, ReadBudget
from shared.models import LikesPage, Subscriber, SubscriberStatus, SyncOutcome, XUser
from shared.store import Stores
from shared.sync import SyncPolicy, SyncPorts, sync_subscriber
from shared.x_api import XApi
from shared.x_client import XClient
from tests.support.oauth import connect, connected_subscription

PER_USER = 2


class NoOperatorX:
    def user_by_username(self, username: str) -> XUser:
        raise AssertionError("the operator's X was asked about a connected account")

    def liked_posts(self, user_id: str, *, max_results: int, pagination_token: str | None) -> LikesPage:
        raise AssertionError("the operator's X was asked for a connected account's likes")


class Accounts:
    """Two connected accounts on one simulator, each with its own subscription and access token."""

    def __init__(self, sim: XSim, store: Stores, names: dict[str, str]) -> None:
        self.sim = sim
        self.store = store
        self.tokens: dict[str, str] = {}
        for key, x_name in names.items():
            x_user_id, tokens = connect(sim, x_name, now=sim.clock.now())
            self.tokens[x_user_id] = tokens.access_token
            connected_subscription(store, key, x_user_id, sim.clock.now())

    def sync(self, key: str, *, app_wide_window: bool = False) -> SyncOutcome:
        def account_x(sub: Subscriber) -> XApi:
            return XClient.for_user_token(self.tokens[sub.x_user_id or ""], self.sim.base_url)

        budget = ReadBudget(
            self.store.app_state,
            self.sim.clock,
            0,
            accounts=self.store.subscribers,
            app_wide_window=app_wide_window,
        )
        ports = SyncPorts(
            subscribers=self.store.subscribers,
            likes=self.store.likes,
            x=NoOperatorX(),
            budget=budget,
            clock=self.sim.clock,
            account_x=account_x,
        )
        policy = SyncPolicy(lock_for=timedelta(minutes=5))
        return sync_subscriber(key, ports=ports, policy=policy, seconds_left=lambda: 60.0)

    def x_requests(self) -> int:
        app = self.sim.billing()["apps"].get(self.sim.app.credentials.app_id, {})
        return int(app.get("requests", {}).get("GET /2/users/:id/liked_tweets", 0))


@pytest.fixture
def accounts(xsim_factory: Callable[..., XSim], store: Stores, username: str) -> Callable[[], Accounts]:
    def make() -> Accounts:
        sim = xsim_factory(rate_limit=PER_USER, app_rate_limit=PER_USER, like_every_minutes={})
        return Accounts(sim, store, {f"{username}a": "demo", f"{username}b": "bigfan"})

    return make


def test_one_accounts_spent_window_does_not_hold_back_another(accounts: Callable[[], Accounts], username: str) -> None:
    # Given two connected accounts on an X that allows each user token 2 requests per window
    two = accounts()

    # When the first account's backfill spends its window, and then the second account syncs
    first = two.sync(f"{username}a")
    second = two.sync(f"{username}b")

    # Then each read two pages of its own and waits for its own window only
    assert (first.status, first.pages) == (SubscriberStatus.RATE_LIMITED, PER_USER)
    assert (second.status, second.pages) == (SubscriberStatus.RATE_LIMITED, PER_USER)
    assert second.new_likes > 150  # two pages of 100, less deleted posts
    # ... each window is kept with its subscription (the operator's shared window is untouched)
    subscribers = two.store.subscribers
    window_a, window_b = subscribers.rate_window(f"{username}a"), subscribers.rate_window(f"{username}b")
    assert window_a.remaining == window_b.remaining == 0
    assert window_a.reset_at is not None
    assert first.deferred_until == window_a.reset_at
    assert two.store.app_state.rate_window(LIKES_ENDPOINT).remaining is None


def test_a_spent_window_defers_its_account_without_asking_x(accounts: Callable[[], Accounts], username: str) -> None:
    # Given the first account's window spent by its backfill
    two = accounts()
    two.sync(f"{username}a")
    asked = two.x_requests()

    # When it is synced again before X's reset
    again = two.sync(f"{username}a")

    # Then it waits for its reset, and X was not asked (each request counts against the window)
    assert again.status is SubscriberStatus.RATE_LIMITED
    assert two.x_requests() == asked


def test_x_refusing_one_account_leaves_the_other_free(accounts: Callable[[], Accounts], username: str) -> None:
    # Given the first account's window spent at X by requests this app did not count (another worker, say)
    two = accounts()
    demo_id = next(iter(two.tokens))
    outside = XClient.for_user_token(two.tokens[demo_id], two.sim.base_url)
    for _ in range(PER_USER):
        outside.liked_posts(demo_id, max_results=5, pagination_token=None)

    # When both accounts sync
    first = two.sync(f"{username}a")
    second = two.sync(f"{username}b")

    # Then X's 429 deferred the first to X's reset, and the second read its pages all the same
    assert (first.status, first.pages) == (SubscriberStatus.RATE_LIMITED, 0)
    assert two.store.subscribers.rate_window(f"{username}a").remaining == 0
    assert second.pages == PER_USER
    assert second.new_likes > 150  # two pages of 100, less deleted posts


def test_an_app_wide_window_is_a_setting_that_holds_every_account(
    accounts: Callable[[], Accounts], username: str
) -> None:
    # Given the app-wide window switched on (for an X plan with an app-wide cap)
    two = accounts()

    # When the first account spends a window, and then the second account syncs
    first = two.sync(f"{username}a", app_wide_window=True)
    second = two.sync(f"{username}b", app_wide_window=True)

    # Then the second waits for the window the first one spent
    assert first.status is SubscriberStatus.RATE_LIMITED
    assert (second.status, second.pages) == (SubscriberStatus.RATE_LIMITED, 0)
    assert second.deferred_until == first.deferred_until

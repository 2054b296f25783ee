"""Whose rate-limit window a request spends: a connected account its own, the operator's subscriptions the
operator token's shared one; the read budget is the app's, and an app-wide window only when switched on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from local.memstore import MemoryAppState
from shared.budget import APP_WIDE_ENDPOINT, LIKES_ENDPOINT, ReadBudget
from shared.errors import XRateLimited
from shared.models import AuthKind, RateLimit
from tests.support.fake_x import ManualClock

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
RESET = NOW + timedelta(minutes=9)


class Windows(MemoryAppState):
    """Windows by name, as the app items (endpoint names) or the subscriptions (keys) keep them, and the budget."""

    @property
    def saved(self) -> dict[str, RateLimit]:
        return {name: self.rate_window(name) for name in self._windows}

    @property
    def posts_read(self) -> int:
        return self.usage(NOW.strftime("%Y-%m-%d")).posts_read


@dataclass(frozen=True)
class Owner:
    """What the budget reads of a subscriber."""

    key: str
    auth: AuthKind


def subscriber(key: str, auth: AuthKind) -> Owner:
    return Owner(key, auth)


def budget(app: Windows, accounts: Windows, *, app_wide: bool = False, daily: int = 0) -> ReadBudget:
    return ReadBudget(app, ManualClock(NOW), daily, accounts=accounts, app_wide_window=app_wide)


def test_each_connected_account_keeps_its_own_window() -> None:
    # Given two connected accounts
    app, accounts = Windows(), Windows()
    ann, bob = subscriber("ann", AuthKind.OAUTH2), subscriber("bob", AuthKind.OAUTH2)
    limits = budget(app, accounts)

    # When ann's last request left her window empty
    limits.after_response(RateLimit(75, 0, RESET), 100, ann)

    # Then ann waits for her reset, bob does not, and nothing was written to the operator's window
    with pytest.raises(XRateLimited) as waiting:
        limits.before_request(100, ann)
    assert waiting.value.reset_at == RESET
    assert limits.before_request(100, bob) == 100
    assert accounts.saved["ann"] == RateLimit(None, 0, RESET)
    assert accounts.saved["bob"].remaining == 74  # bob's request was taken from his own window, before it went
    assert app.saved == {}


def test_the_operators_subscriptions_share_the_operator_tokens_window() -> None:
    # Given two subscriptions read with the operator's credentials
    app, accounts = Windows(), Windows()
    one, two = subscriber("one", AuthKind.OPERATOR), subscriber("two", AuthKind.OPERATOR)
    limits = budget(app, accounts)

    # When one's request left the (one) operator token's window empty
    limits.rate_limited(RESET, one)

    # Then the other waits too, and the window is the app item the status shows
    with pytest.raises(XRateLimited):
        limits.before_request(100, two)
    assert app.saved == {LIKES_ENDPOINT: RateLimit(None, 0, RESET)}
    assert accounts.saved == {}


def test_the_daily_read_budget_is_shared_by_every_account() -> None:
    # Given a budget of 150 posts a day, and ann having read 100
    app, accounts = Windows(), Windows()
    limits = budget(app, accounts, daily=150)
    limits.after_response(RateLimit(75, 74, RESET), 100, subscriber("ann", AuthKind.OAUTH2))

    # When bob asks for a page of 100
    size = limits.before_request(100, subscriber("bob", AuthKind.OAUTH2))

    # Then only what is left of the app's budget
    assert size == 50


def test_an_app_wide_window_holds_every_account_when_switched_on() -> None:
    # Given the app-wide window on
    app, accounts = Windows(), Windows()
    limits = budget(app, accounts, app_wide=True)

    # When ann's request left the windows empty
    limits.after_response(RateLimit(75, 0, RESET), 5, subscriber("ann", AuthKind.OAUTH2))

    # Then bob waits too, for the app-wide window
    with pytest.raises(XRateLimited):
        limits.before_request(100, subscriber("bob", AuthKind.OAUTH2))
    assert app.saved[APP_WIDE_ENDPOINT] == RateLimit(None, 0, RESET)

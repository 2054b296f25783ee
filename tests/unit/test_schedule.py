"""Each subscription's cadence follows its activity: read about when `target_new` likes have gathered, between
the deployer's minimum interval and a week; and a subscription nobody opens waits for a view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.models import AuthKind, Subscriber, SubscriberStatus
from shared.schedule import (
    SchedulePolicy,
    after_sync,
    interval_for,
    prior,
    unviewed,
    updated_rate,
)

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
POLICY = SchedulePolicy(min_interval=timedelta(hours=1))


def sub(**fields: object) -> Subscriber:
    base: dict[str, object] = {
        "key": "1600000001",
        "username": "ann",
        "display_username": "ann",
        "status": SubscriberStatus.READY,
        "created_at": NOW - timedelta(days=10),
        "history_complete": True,
        "auth": AuthKind.OAUTH2,
        "last_sync_at": NOW - timedelta(days=1),
        "last_viewed_at": NOW - timedelta(days=1),
        "sync_count": 5,
    }
    base.update(fields)
    return Subscriber(**base)  # type: ignore[arg-type]


def test_the_cadence_waits_for_target_new_likes_between_the_bounds() -> None:
    # A heavy account (20 a day) is read about every 7.2 h (6 new likes), a light one (1 a day) every 6 days
    assert interval_for(20.0, POLICY) == timedelta(hours=7.2)
    assert interval_for(1.0, POLICY) == timedelta(days=6)
    # Never more often than the minimum interval, never less often than a week, and an idle account weekly
    assert interval_for(1000.0, POLICY) == timedelta(hours=1)
    assert interval_for(0.1, POLICY) == timedelta(days=7)
    assert interval_for(0.0, POLICY) == timedelta(days=7)


def test_the_rate_moves_towards_what_a_sync_saw_by_the_time_it_covers() -> None:
    # Over one half-life, half the way from the old rate to the observed one
    assert updated_rate(1.0, 42, timedelta(days=2), POLICY) == 1.0 + 0.5 * (21.0 - 1.0)
    # A sync an hour after the last one barely moves it, whatever it found
    moved = updated_rate(1.0, 0, timedelta(hours=1), POLICY)
    assert 0.98 < moved < 1.0
    # No time covered: nothing learnt
    assert updated_rate(3.0, 5, timedelta(0), POLICY) == 3.0


def test_a_backfill_says_nothing_of_activity() -> None:
    # Given a first sync that stored 3,000 likes of history
    new = sub(like_rate=None, last_sync_at=None, created_at=NOW - timedelta(minutes=5), sync_count=0)

    # When it finishes as a backfill (not observed)
    due, activity = after_sync(new, NOW, 3000, None, POLICY, observed=False)

    # Then the rate stays the prior's and the next sync follows the prior's cadence (spread)
    # (a new account starts at the shortest interval: target_new likes per min_interval)
    assert activity.like_rate == prior(POLICY) == 6 * 24
    assert activity.last_new_like_at is None
    cadence = interval_for(prior(POLICY), POLICY)
    assert cadence == POLICY.min_interval
    assert abs(due - (NOW + cadence)) <= cadence * POLICY.spread / 2


def test_an_observed_sync_learns_the_rate_and_when_likes_last_came() -> None:
    # Given an account last read two days ago at a rate of 1 a day, which finds 40 new likes
    due, activity = after_sync(sub(like_rate=1.0, last_sync_at=NOW - timedelta(days=2)), NOW, 40, 77, POLICY)

    # Then its rate rises half way to 20 a day, it is read again sooner (about when 6 more have come: 13.7 h,
    # against 6 days at a like a day), and the probe's count is kept
    assert activity.like_rate == 10.5
    assert activity.last_new_like_at == NOW
    assert activity.x_like_count == 77
    assert due - NOW < timedelta(hours=16)


def test_a_subscription_nobody_opened_for_30_days_waits_for_a_view() -> None:
    assert unviewed(sub(last_viewed_at=NOW - timedelta(days=30)), NOW, POLICY)
    assert not unviewed(sub(last_viewed_at=NOW - timedelta(days=29)), NOW, POLICY)
    # Never opened: its creation counts as the last view
    assert unviewed(sub(last_viewed_at=None, created_at=NOW - timedelta(days=31)), NOW, POLICY)
    assert not unviewed(sub(last_viewed_at=None, created_at=NOW - timedelta(days=3)), NOW, POLICY)

    _, activity = after_sync(sub(last_viewed_at=NOW - timedelta(days=40)), NOW, 0, None, POLICY)
    assert activity.parked

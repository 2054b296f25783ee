"""Syncs spread over the interval instead of bunching: accounts synced in the same minute (a burst of new
subscriptions, or a day's first fetcher run after a paused budget) are due again at scattered times, each
within ± spread/2 of its own interval."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from shared.models import Subscriber, SubscriberStatus
from shared.schedule import SchedulePolicy, after_sync

NOW = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
TICK = timedelta(minutes=5)  # the fetcher's schedule


def test_accounts_synced_together_are_due_again_at_scattered_times() -> None:
    # Given 200 accounts alike (same age, same like rate), all synced at the same moment
    policy = SchedulePolicy(prior_rate=1.0)  # a like a day: read about when target_new likes gathered
    subs = [
        Subscriber(str(10**9 + i), f"fan{i}", f"fan{i}", SubscriberStatus.READY, NOW - timedelta(days=2))
        for i in range(200)
    ]

    # When each one's next sync is scheduled
    due = [after_sync(sub, NOW, 0, None, policy, observed=False)[0] for sub in subs]

    # Then all stay within ± spread/2 of the interval (target_new days at a like a day)...
    interval = timedelta(days=policy.target_new)
    half = interval * policy.spread / 2
    assert all(abs(when - (NOW + interval)) <= half for when in due)
    # ... they use most of that range, and no fetcher run finds more than a few of them due at once
    assert max(due) - min(due) > 2 * half * 0.9
    per_tick = Counter((when - NOW) // TICK for when in due)
    assert max(per_tick.values()) <= 5

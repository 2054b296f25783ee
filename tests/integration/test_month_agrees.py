"""The simulated month's store agrees with DynamoDB's: the same short month (bench/month.py) run once over
the in-memory store (local/memstore.py) and once over the DynamoDB stores on moto (what `make dev` runs)
leaves every subscription, its likes and the app's counters the same.

Both runs use the real fetcher and worker domain code, the real X client in-process against the simulator,
one manual clock and one seed; only the store differs. Compared: each subscription's status, like count,
next and last sync, sync count, posts read, X requests, like rate, parked and history flags and its post ids
in slot order; the month's usage counters; the posts X billed; every sync's outcome.
"""

from __future__ import annotations

from datetime import timedelta

from bench.month import Month, MonthConfig
from shared.models import Budgets
from shared.store import Stores

# Ten accounts subscribed at the start (first syncs backfill small histories), two days of likes, unlikes and
# views, a cadence of one new like per sync (several syncs each) and parking after 36 unviewed hours (so
# subscriptions park and views bring them back), with the template's budgets; compared every 3 hours.
CHECK = MonthConfig(
    accounts=10,
    days=2,
    seed=3,
    target_new=1,
    budgets=Budgets(daily=2000, monthly=40000),
    seeded=False,
    history_scale=0.02,
    naive=False,
    park_after=timedelta(hours=36),
    snapshot_every=timedelta(hours=3),
)


def test_a_short_month_on_the_memory_store_matches_dynamodb(store: Stores) -> None:
    # Given the same short month, once over the in-memory store and once over DynamoDB on moto
    memory = Month(CHECK).run()
    dynamo = Month(CHECK, stores=store).run()

    # Then every subscription ends the same, likes and all, and so do the counters and X's bill
    assert len(memory.snapshots) == 16
    for mine, theirs in zip(memory.snapshots, dynamo.snapshots, strict=True):
        assert mine == theirs
    assert memory.snapshot == dynamo.snapshot
    assert memory.outcomes == dynamo.outcomes
    assert memory.new_likes == dynamo.new_likes
    # and the month did something worth comparing: backfills, new likes, more than one sync per active account
    subs = [v for k, v in memory.snapshot.items() if k.startswith("m")]
    assert all(s["history_complete"] for s in subs)
    assert sum(memory.new_likes.values()) > 0
    assert max(s["sync_count"] for s in subs) >= 5
    assert any(s["parked"] for s in subs)
    assert any(s["next_sync_at"] for s in subs)
    assert memory.snapshot["billed_posts"] > 0
    assert memory.unlikes > 0

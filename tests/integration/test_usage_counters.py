"""The counters the workers keep for `random-likes cost`: each sync and each fetcher run adds its share, once,
to today's and this month's USAGE# items."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fetcher.app import handler as fetcher_handler
from local.context import LocalLambdaContext
from local.provision import StackResources
from local.xsim import XSim
from shared.clock import day_of, month_of
from shared.costs import add_counters, fetcher_write_units, sync_write_units
from shared.models import Usage
from shared.store import Stores
from tests.integration.test_pipeline import run_worker
from tests.support.events import load_event


def counted(store: Stores, since: datetime) -> tuple[Usage, Usage]:
    """The days' and the months' counters since `since`, summed: a run across midnight UTC (or the end of a
    month) counts in two periods, each of which is the period of the moment it was counted in."""

    def summed(period_of: Callable[[datetime], str]) -> Usage:
        periods = sorted({period_of(since), period_of(datetime.now(UTC))})
        counters = add_counters([store.app_state.usage(period).counters for period in periods])
        return Usage(periods[-1], counters.get("posts_read", 0), counters.get("x_requests", 0), counters)

    return summed(day_of), summed(month_of)


def test_a_fetcher_run_counts_itself_its_messages_and_its_writes(
    store: Stores, sqs: Any, stack: StackResources
) -> None:
    # Given three subscribers due
    now = datetime.now(UTC)
    for name in ("alice", "bob", "carol"):
        store.subscribers.create_subscriber(name, name, now, now - timedelta(minutes=1))

    # When the fetcher runs twice (the second finds them leased)
    fetcher_handler(load_event("fetcher-scheduled"), LocalLambdaContext("random-likes-FetcherFunction", 60))
    fetcher_handler(load_event("fetcher-scheduled"), LocalLambdaContext("random-likes-FetcherFunction", 60))

    # Then today's and this month's counters hold both runs and the three messages, with their writes
    for usage in counted(store, now):
        assert usage.count("fetcher_runs") == 2
        assert usage.count("messages_sent") == 3
        assert usage.count("ddb_writes") == fetcher_write_units(due=3) + fetcher_write_units(due=0)
        assert usage.count("syncs") == 0


def test_each_sync_counts_itself_its_new_likes_its_time_and_its_writes(
    store: Stores, sqs: Any, stack: StackResources, pipeline_x: XSim
) -> None:
    # Given demo subscribed, its first sync in the queue
    now = datetime.now(UTC)
    key = pipeline_x.user_id("demo")
    store.subscribers.create_subscriber(key, "demo", now, now, x_user_id=key)
    sqs.send_message(QueueUrl=stack.queue_url, MessageBody=f'{{"subscriber": "{key}", "action": "sync"}}')

    # When the worker syncs it
    assert all(r == {"batchItemFailures": []} for r in run_worker(sqs, stack))

    # Then one sync is counted, with every like it stored and a write estimate that grows with them
    sub = store.subscribers.get_subscriber(key)
    assert sub is not None
    assert sub.like_count > 0
    day, month = counted(store, now)
    assert day.counters == month.counters
    assert day.count("syncs") == 1
    assert day.count("new_likes") == sub.like_count
    assert day.count("worker_ms") > 0
    pages = day.x_requests  # the simulator answered every request with a page
    expected = sync_write_units(pages=pages, new_likes=sub.like_count, budgeted=True)
    assert day.count("ddb_writes") == expected
    # ... at least the two transactional writes (slot and marker) of each like stored, and the count's own two
    assert expected >= 2 * 2 * sub.like_count + 2

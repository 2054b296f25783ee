"""The fetcher: due subscribers found through the sparse index, enqueued once (the handler with its sample
event), and only what the budget and the operator token's window allow, most stale first, each with a fair
share of a tight budget (enqueue_due on a manual clock)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fetcher.app import handler
from local.context import LocalLambdaContext
from local.provision import StackResources
from shared.budget import LIKES_ENDPOINT
from shared.enqueue import EXPECTED_POSTS_PER_SYNC, EnqueueReport, enqueue_due
from shared.models import AuthKind, Budgets, SubscriberStatus, SyncEnd, SyncPause
from shared.store import Stores
from shared.sync_queue import SyncRequest
from tests.support.events import load_event
from tests.support.fake_x import ManualClock
from tests.support.queues import SentQueue

OPERATOR = AuthKind.OPERATOR


def invoke() -> dict[str, Any]:
    result: dict[str, Any] = handler(
        load_event("fetcher-scheduled"), LocalLambdaContext("random-likes-FetcherFunction", 60)
    )
    return result


def received(sqs: Any, stack: StackResources) -> list[dict[str, str]]:
    bodies = []
    while messages := sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10).get("Messages"):
        bodies += [json.loads(m["Body"]) for m in messages]
        for m in messages:
            sqs.delete_message(QueueUrl=stack.queue_url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def test_due_subscribers_are_enqueued_once_even_when_runs_overlap(
    store: Stores, sqs: Any, stack: StackResources
) -> None:
    # Given, in this test's own table, 23 subscribers due (more than one SendMessageBatch of 10) and one not yet
    now = datetime.now(UTC)
    due = {f"due{i}" for i in range(23)}
    for name in due:
        store.subscribers.create_subscriber(name, name, now, now - timedelta(minutes=1))
    store.subscribers.create_subscriber("notyet", "notyet", now, now + timedelta(hours=1))

    # When the fetcher runs, and runs again before any message is handled (an overlapping or repeated run)
    first = invoke()
    second = invoke()

    # Then the first run enqueued each due subscriber once, and the second found them all leased
    assert (first["due"], first["sent"], first["failed"]) == (23, 23, 0)
    assert (second["due"], second["sent"]) == (0, 0)
    bodies = received(sqs, stack)
    assert sorted(b["subscriber"] for b in bodies) == sorted(due)
    assert {b["reason"] for b in bodies} == {"schedule"}
    # ... and each lease holds the subscriber back for most of the sync interval
    leased = store.subscribers.get_subscriber("due0")
    assert leased is not None
    assert leased.next_sync_at is not None
    assert leased.next_sync_at > now + timedelta(minutes=50)


def test_the_run_is_recorded_for_operators(store: Stores) -> None:
    # When the fetcher runs (on the system clock, as deployed)
    before = datetime.now(UTC)
    invoke()
    after = datetime.now(UTC)

    # Then its time and what it did are kept for `random-likes status`
    when, detail = store.app_state.fetcher_run()
    assert when is not None
    assert before - timedelta(seconds=1) <= when <= after  # stored to the second
    assert detail == {"due": 0, "leased": 0, "sent": 0, "failed": 0, "event_time": "2026-11-28T12:00:00Z"}


# --- within the budget and the windows (enqueue_due on this test's table, on a manual clock) ----------------

BUDGETS = Budgets(daily=300, monthly=5000)


def due_subscriber(
    store: Stores, key: str, clock: ManualClock, *, synced_ago: timedelta | None = None, auth: AuthKind = OPERATOR
) -> None:
    """A subscription due a minute ago; `synced_ago`: its last sync ended that long ago (None: never synced)."""
    now = clock.now()
    store.subscribers.create_subscriber(key, key, now - timedelta(days=9), now - timedelta(minutes=1), auth=auth)
    if synced_ago is not None:
        end = SyncEnd(SubscriberStatus.READY, now - synced_ago, now - timedelta(minutes=1))
        assert store.subscribers.finish_sync(key, end) is not None


def fetch(store: Stores, clock: ManualClock, budgets: Budgets = BUDGETS) -> tuple[EnqueueReport, list[SyncRequest]]:
    queue = SentQueue()
    report = enqueue_due(
        store=store.subscribers,
        queue=queue,
        clock=clock,
        lease=timedelta(hours=1),
        limits=store.app_state,
        budgets=budgets,
    )
    return report, queue.sent


def still_due(store: Stores, clock: ManualClock) -> set[str]:
    return {sub.key for sub in store.subscribers.iter_subscribers(due_before=clock.now())}


def test_a_spent_daily_budget_enqueues_nothing_until_utc_midnight(store: Stores, clock: ManualClock) -> None:
    # Given two due subscriptions, and 297 of today's 300 reads spent (less than X's smallest page left)
    due_subscriber(store, "ann", clock)
    due_subscriber(store, "bob", clock)
    store.app_state.count(clock.now(), {"posts_read": 297})

    # When the fetcher runs
    report, sent = fetch(store, clock)

    # Then nothing is enqueued or leased, and the run says why and until when
    assert sent == []
    assert still_due(store, clock) == {"ann", "bob"}
    assert report.to_json()["paused_until"] == "2026-11-29T00:00:00+00:00"
    assert report.to_json()["pause_reason"] == "daily_budget"

    # ... and after midnight both are enqueued
    clock.current = datetime(2026, 11, 29, 0, 5, tzinfo=UTC)
    _, sent = fetch(store, clock)
    assert {r.subscriber for r in sent} == {"ann", "bob"}


def test_a_spent_monthly_budget_enqueues_nothing_until_the_next_month(store: Stores, clock: ManualClock) -> None:
    # Given this month's budget spent on earlier days (today's is untouched)
    due_subscriber(store, "ann", clock)
    store.app_state.count(clock.now() - timedelta(days=10), {"posts_read": 4998})

    # When the fetcher runs
    report, sent = fetch(store, clock)

    # Then nothing is enqueued until December
    assert sent == []
    assert report.pause == SyncPause(datetime(2026, 12, 1, tzinfo=UTC), "monthly_budget")
    assert still_due(store, clock) == {"ann"}


def test_xs_usage_cap_pauses_the_fetcher_and_the_run_records_until_when(store: Stores, sqs: Any, stack: Any) -> None:
    # Given a due subscription, and X's usage cap reached (a worker recorded X's pause, on the system clock)
    now = datetime.now(UTC)
    store.subscribers.create_subscriber("ann", "ann", now, now - timedelta(minutes=1))
    until = (now + timedelta(hours=3)).replace(microsecond=0)
    store.app_state.save_pause(SyncPause(until, "x_usage_cap"))

    # When the deployed fetcher runs
    result = invoke()

    # Then it enqueued nothing, and its recorded run says why and until when (for `random-likes status`)
    assert received(sqs, stack) == []
    assert (result["sent"], result["pause_reason"]) == (0, "x_usage_cap")
    _, detail = store.app_state.fetcher_run()
    assert detail["paused_until"] == until.isoformat()
    assert detail["pause_reason"] == "x_usage_cap"


def test_a_budget_for_k_syncs_enqueues_the_k_most_stale(store: Stores, clock: ManualClock) -> None:
    # Given five due subscriptions, one never synced and the others last synced 1 to 4 days ago
    due_subscriber(store, "fresh", clock, synced_ago=timedelta(days=1))
    due_subscriber(store, "oldest", clock, synced_ago=timedelta(days=4))
    due_subscriber(store, "never", clock)
    due_subscriber(store, "older", clock, synced_ago=timedelta(days=3))
    due_subscriber(store, "old", clock, synced_ago=timedelta(days=2))
    # ... and what is left of today's budget pays for 3 syncs (3 x 6 posts, and change)
    store.app_state.count(clock.now(), {"posts_read": 300 - 3 * EXPECTED_POSTS_PER_SYNC - 2})

    # When the fetcher runs
    report, sent = fetch(store, clock)

    # Then it enqueued three, most stale first, and held the other two back (still due, not leased)
    assert [r.subscriber for r in sent] == ["never", "oldest", "older"]
    assert (report.sent, report.held_back) == (3, 2)
    assert still_due(store, clock) == {"old", "fresh"}


def test_the_operator_tokens_empty_window_holds_back_only_its_subscriptions(store: Stores, clock: ManualClock) -> None:
    # Given two subscriptions read with the operator's token and two connected accounts, all due
    due_subscriber(store, "op1", clock)
    due_subscriber(store, "op2", clock)
    due_subscriber(store, "ann", clock, auth=AuthKind.OAUTH2)
    due_subscriber(store, "bob", clock, auth=AuthKind.OAUTH2)
    # ... and the operator token's window empty for 10 more minutes
    reset = clock.now() + timedelta(minutes=10)
    store.app_state.save_rate_window(LIKES_ENDPOINT, 0, reset)

    # When the fetcher runs
    report, sent = fetch(store, clock)

    # Then only the connected accounts (their own windows) are enqueued; the others wait, due
    assert {r.subscriber for r in sent} == {"ann", "bob"}
    assert report.waiting_for_window == 2
    assert still_due(store, clock) == {"op1", "op2"}

    # ... and once the window has reset, they go too
    clock.current = reset + timedelta(seconds=1)
    _, sent = fetch(store, clock)
    assert {r.subscriber for r in sent} == {"op1", "op2"}


def test_a_tight_budget_gives_each_sync_an_equal_share(store: Stores, clock: ManualClock) -> None:
    # Given four new subscriptions (four backfills) and 200 reads left today
    for key in ("a", "b", "c", "d"):
        due_subscriber(store, key, clock)
    store.app_state.count(clock.now(), {"posts_read": 100})

    # When the fetcher runs
    report, sent = fetch(store, clock)

    # Then all four go, each message carrying its share of what is left
    assert sorted(r.subscriber for r in sent) == ["a", "b", "c", "d"]
    assert {r.max_posts for r in sent} == {50}
    assert report.to_json()["max_posts"] == 50


def test_without_a_budget_of_our_own_no_sync_is_capped(store: Stores, clock: ManualClock) -> None:
    # Given two new subscriptions and no budget of the app's own
    due_subscriber(store, "a", clock)
    due_subscriber(store, "b", clock)

    # When the fetcher runs
    _, sent = fetch(store, clock, Budgets())

    # Then both go, uncapped
    assert sorted((r.subscriber, r.max_posts) for r in sent) == [("a", None), ("b", None)]

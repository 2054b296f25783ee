"""`random-likes subscribers list|show` and `random-likes sync NAME` against moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.provision import REGION, StackResources
from shared.clock import SystemClock
from shared.enqueue import enqueue_due
from shared.models import AuthKind, Budgets, SubscriberStatus, SyncEnd
from shared.store import Stores
from shared.sync_queue import SqsSyncQueue
from tests.ops.conftest import Cli

NOW = datetime.now(UTC)


def subscribe(store: Stores, *names: str) -> None:
    """Stored as before accounts: keyed by the lowercased name, with no owner known yet."""
    for name in names:
        store.subscribers.create_subscriber(name.lower(), name, NOW, NOW)


def subscribe_owned(store: Stores, name: str, x_user_id: str) -> None:
    """Stored as with accounts: keyed by the owner's X user id, found through the name's lookup item."""
    store.subscribers.create_subscriber(x_user_id, name, NOW, NOW, x_user_id=x_user_id)


def fetch_queue(sqs: Any, stack: StackResources) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_list_shows_every_subscriber_in_a_table_and_in_json(cli: Cli, store: Stores) -> None:
    # Given two subscribers, one of which failed its last sync
    subscribe(store, "Demo", "ada_writes")
    store.subscribers.finish_sync(
        "ada_writes", SyncEnd(SubscriberStatus.ERROR, NOW, NOW + timedelta(hours=1), "XUnavailable: X answered 503")
    )

    table = cli("subscribers", "list")
    data = json.loads(cli("--json", "subscribers", "list").out)

    assert table.code == 0
    header, *rows = table.out.splitlines()
    assert header.split() == [
        "USERNAME", "OWNER", "VISIBILITY", "STATUS", "LIKES", "LAST", "SYNC", "NEXT", "SYNC", "LAST", "ERROR"
    ]  # fmt: skip
    # Stored the way subscriptions were before accounts: keyed by name, no X user id yet, so nobody owns them.
    assert rows[0].split()[:6] == ["ada_writes", "-", "(unowned)", "private", "error", "0"]
    assert rows[0].endswith("XUnavailable: X answered 503")
    assert rows[1].split()[:6] == ["Demo", "-", "(unowned)", "private", "pending", "0"]
    assert [s["username"] for s in data["subscribers"]] == ["ada_writes", "demo"]
    assert set(data["subscribers"][1]) == {
        "key",
        "username",
        "display_username",
        "owner_x_user_id",
        "visibility",
        "reads_with",
        "status",
        "like_count",
        "history_complete",
        "x_user_id",
        "created_at",
        "last_sync_at",
        "next_sync_at",
        "retry_at",
        "last_error",
        "sync_count",
        "posts_read",
        "x_requests",
    }
    assert data["subscribers"][1]["display_username"] == "Demo"


def test_show_gives_one_subscriber_in_full(cli: Cli, store: Stores) -> None:
    subscribe(store, "demo")

    text = cli("subscribers", "show", "@Demo")  # as people type it: the canonical name is found
    data = json.loads(cli("--json", "subscribers", "show", "demo").out)

    assert text.code == 0
    assert "status        pending" in text.out
    assert "X user id     - (not looked up yet)" in text.out
    assert (data["username"], data["status"], data["walk"]) == ("demo", "pending", None)
    assert data["version"] == 1


def test_show_of_an_unknown_subscriber_is_a_clear_error(cli: Cli) -> None:
    text = cli("subscribers", "show", "nobody")
    data = cli("--json", "subscribers", "show", "nobody")

    assert text.code == data.code == 6
    assert text.err.startswith("random-likes: 'nobody' is not subscribed")
    assert "Traceback" not in text.err
    assert json.loads(data.out)["error"]["code"] == "unknown_subscriber"


def test_sync_enqueues_one_manual_message_and_leases_like_the_fetcher(
    cli: Cli, store: Stores, sqs: Any, ops_stack: StackResources, ops_endpoint: str
) -> None:
    # Given a subscriber that is due now
    subscribe_owned(store, "demo", "2244994945")

    # When the operator asks for a sync, by name
    result = cli("--json", "sync", "demo")

    # Then exactly one message with the pipeline's body, naming the subscription's key, is in the fetch queue
    assert result.code == 0, result.err
    expected = {"subscriber": "2244994945", "reason": "manual", "action": "sync"}
    assert json.loads(result.out)["message"] == expected
    assert fetch_queue(sqs, ops_stack) == [expected]
    # And the subscriber is leased (not due), so a fetcher run right after does not enqueue it again
    sub = store.subscribers.get_subscriber("2244994945", consistent=True)
    assert sub is not None
    assert sub.next_sync_at is not None
    assert sub.next_sync_at > NOW + timedelta(minutes=50)
    report = enqueue_due(
        store=store.subscribers,
        queue=SqsSyncQueue(ops_stack.queue_url, REGION, ops_endpoint),
        clock=SystemClock(),
        lease=timedelta(hours=1),
        limits=store.app_state,
        budgets=Budgets(),
    )
    assert report.sent == 0


def test_sync_refuses_a_subscriber_that_is_unknown(cli: Cli, sqs: Any, ops_stack: StackResources) -> None:
    unknown = cli("sync", "nobody")

    assert unknown.code == 6
    assert "'nobody' is not subscribed" in unknown.err
    assert fetch_queue(sqs, ops_stack) == []


def test_sync_of_a_subscriber_being_deleted_enqueues_its_purge_again(
    cli: Cli, store: Stores, sqs: Any, ops_stack: StackResources
) -> None:
    # Given a subscriber whose unsubscribe went through but whose purge message was lost: its name answers as
    # unknown at once, so the operator names it by its key (`subscribers list --json` before, or the DLQ)
    subscribe_owned(store, "leaving", "1500000001")
    store.subscribers.mark_deleting("1500000001")
    assert cli("sync", "leaving").code == 6

    result = cli("sync", "1500000001", "--json")

    # Then the purge is enqueued (never a sync), and the subscriber stays out of the schedule
    assert result.code == 0
    assert json.loads(result.out)["leased_until"] is None
    assert fetch_queue(sqs, ops_stack) == [{"subscriber": "1500000001", "reason": "manual", "action": "purge"}]
    sub = store.subscribers.get_subscriber("1500000001", consistent=True)
    assert sub is not None
    assert sub.next_sync_at is None


def test_a_username_x_would_not_allow_is_a_usage_error(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli("sync", "not a name!")
    assert exited.value.code == 2
    assert "username may contain only the letters A-Z, digits and underscores" in capsys.readouterr().err


def test_show_gives_a_connected_accounts_own_rate_window(cli: Cli, store: Stores) -> None:
    # Given a connected account whose last request left 71 of its own window, resetting in ten minutes (from
    # now: NOW is when the module was imported, which a long run leaves far behind)
    now = datetime.now(UTC)
    store.subscribers.create_subscriber("1600000002", "ada", now, now, x_user_id="1600000002", auth=AuthKind.OAUTH2)
    store.subscribers.save_rate_window("1600000002", 71, now + timedelta(minutes=10))

    text = cli("subscribers", "show", "ada").out
    data = json.loads(cli("--json", "subscribers", "show", "ada").out)

    assert "rate window   71 requests left, resets" in text
    assert data["rate_window"]["remaining"] == 71
    # The operator's own subscriptions share the credentials' window, which `status` shows
    subscribe(store, "demo")
    assert json.loads(cli("--json", "subscribers", "show", "demo").out)["rate_window"] is None

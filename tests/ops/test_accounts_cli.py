"""`random-likes subscribers add NAME [--public]` and `random-likes migrate`, against moto and the simulator.

The stack is provisioned with the parameters a deployment has (XApiBaseUrl pointing at the simulator on
loopback, XCredentialsParameter naming the operator's credentials in SSM): the CLI finds both through
CloudFormation as it does on AWS, and asks X who the credentials belong to.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from local.provision import REGION, StackResources, data_template, provision, put_x_credentials
from local.xsim import XSim
from shared.models import AuthKind, SubscriberStatus, Visibility
from shared.store import Stores
from shared.store.items import bind, subscriber_pk
from tests.ops.conftest import Cli, Pipeline
from tests.support.cold_start import cold_start

_stacks = itertools.count()


@pytest.fixture
def operator_stack(ops_endpoint: str, aws_env: None, xsim: XSim) -> StackResources:
    name = f"rl-acct-{next(_stacks)}"
    parameter = f"/random-likes/{name}/x-credentials"
    parameters = {"XApiBaseUrl": xsim.base_url, "XCredentialsParameter": parameter}
    stack = provision(ops_endpoint, name, template=data_template(None, name, parameters))
    put_x_credentials(ops_endpoint, parameter, xsim.oauth1_credentials("demo").as_dict())
    return stack


@pytest.fixture
def op_cli(ops_endpoint: str, operator_stack: StackResources, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(ops_endpoint, operator_stack.stack_name, capsys)


@pytest.fixture
def op_store(operator_stack: StackResources, ops_endpoint: str) -> Stores:
    return Stores.open(operator_stack.table_name, REGION, ops_endpoint)


def queued(sqs: Any, stack: StackResources) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_add_subscribes_the_operators_own_account_owned_by_its_x_user_id(
    op_cli: Cli, op_store: Stores, operator_stack: StackResources, sqs: Any, xsim: XSim
) -> None:
    demo_id = xsim.user_id("demo")

    result = op_cli("--json", "subscribers", "add", "Demo", "--public")

    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "username": "demo",
        "x_user_id": demo_id,
        "visibility": "public",
        "created": True,
        "first_sync_enqueued": True,
    }
    sub = op_store.subscribers.find_by_name("demo")
    assert sub is not None
    assert (sub.key, sub.x_user_id, sub.auth, sub.visibility) == (
        demo_id,
        demo_id,
        AuthKind.OPERATOR,
        Visibility.PUBLIC,
    )
    assert queued(sqs, operator_stack) == [{"subscriber": demo_id, "reason": "subscribe", "action": "sync"}]
    # Adding it again changes nothing and enqueues nothing more
    again = op_cli("subscribers", "add", "demo")
    assert again.code == 0
    assert "subscribed already" in again.out
    assert queued(sqs, operator_stack) == [{"subscriber": demo_id, "reason": "subscribe", "action": "sync"}]
    # The list shows its owner and visibility
    listed = op_cli("subscribers", "list").out.splitlines()[1].split()
    assert listed[:3] == ["demo", demo_id, "public"]


def test_add_refuses_an_account_the_credentials_cannot_read_and_writes_nothing(
    op_cli: Cli, op_store: Stores, operator_stack: StackResources, sqs: Any
) -> None:
    result = op_cli("subscribers", "add", "bigfan")

    assert result.code != 0
    assert "belong to @demo, not @bigfan" in result.err
    assert "Connect with X" in result.err
    assert "Traceback" not in result.err
    assert op_store.subscribers.find_by_name("bigfan") is None
    assert list(op_store.subscribers.iter_subscribers()) == []
    assert queued(sqs, operator_stack) == []


@pytest.fixture
def legacy_demo(pipeline: Pipeline) -> Iterator[Pipeline]:
    """`demo` subscribed and synced the way it was before accounts: keyed by its name, read with the operator's
    credentials (an old-format message, as one in flight during the deploy would be)."""
    pipeline.subscribe("demo")
    pipeline.worker.drain()
    yield pipeline
    cold_start()


def test_migrate_moves_a_subscription_stored_before_accounts_to_its_owner(
    legacy_demo: Pipeline, cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    p = legacy_demo
    store = p.store.subscribers
    legacy = store.get_subscriber("demo", consistent=True)
    assert legacy is not None
    assert legacy.x_user_id == p.xsim.user_id("demo")
    assert legacy.like_count > 0
    before = p.store.likes.all_post_ids("demo")

    plan = json.loads(cli("--json", "migrate", "--dry-run").out)
    assert plan["moved"] == [{"username": "demo", "x_user_id": legacy.x_user_id, "likes": legacy.like_count}]
    assert store.get_subscriber(legacy.x_user_id) is None  # a dry run moves nothing

    result = cli("--json", "migrate")

    assert result.code == 0, result.err
    assert json.loads(result.out)["moved"] == [
        {"username": "demo", "x_user_id": legacy.x_user_id, "likes": legacy.like_count}
    ]
    moved = store.find_by_name("demo")
    assert moved is not None
    assert (moved.key, moved.visibility, moved.auth) == (legacy.x_user_id, Visibility.PRIVATE, AuthKind.OPERATOR)
    assert moved.like_count == legacy.like_count
    assert p.store.likes.all_post_ids(legacy.x_user_id) == before
    old = store.get_subscriber("demo", consistent=True)
    assert old is not None
    assert old.status is SubscriberStatus.DELETING

    # The worker purges the old partition and syncs the moved subscription under its new key
    p.worker.drain()
    table = bind(p.stack.table_name, REGION, p.endpoint_url)
    assert list(table.slot.query(subscriber_pk("demo"))) == []
    assert store.get_subscriber("demo", consistent=True) is None
    assert p.store.likes.all_post_ids(legacy.x_user_id)[: len(before)] == before
    # A second run has nothing left to do
    assert json.loads(cli("--json", "migrate").out) == {"dry_run": False, "moved": [], "unowned": [], "skipped": []}


def test_migrate_leaves_a_subscription_nobody_owns_and_says_so(cli: Cli, store: Stores) -> None:
    now = datetime.now(UTC)
    store.subscribers.create_subscriber("someone", "someone", now, now)  # never synced: no X user id

    result = cli("migrate")

    assert result.code == 0
    assert "left @someone: never synced" in result.out
    sub = store.subscribers.get_subscriber("someone")
    assert sub is not None
    assert sub.status is SubscriberStatus.PENDING

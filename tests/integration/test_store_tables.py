"""Two stores on two tables in one process stay apart: binding a table is per store, never class-wide state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from local.provision import REGION
from shared.store import Stores
from tests.support.aws import provision_stack


@pytest.mark.usefixtures("stack")  # the environment a function has: region and (moto's) credentials
def test_each_store_reads_and_writes_its_own_table(aws_endpoint: str) -> None:
    # Given two stacks' tables, and a store on each, both opened before either is used
    run = uuid.uuid4().hex[:8]  # stack names of this run alone: a rerun in the same moto starts from empty tables
    first = Stores.open(provision_stack(aws_endpoint, f"rl-tables-a-{run}").table_name, REGION, aws_endpoint)
    second = Stores.open(provision_stack(aws_endpoint, f"rl-tables-b-{run}").table_name, REGION, aws_endpoint)
    now = datetime(2026, 12, 1, tzinfo=UTC)

    # When each subscribes a different name
    first.subscribers.create_subscriber("only_in_a", "only_in_a", now, now)
    second.subscribers.create_subscriber("only_in_b", "only_in_b", now, now)

    # Then each table holds exactly its own
    assert [s.username for s in first.subscribers.iter_subscribers()] == ["only_in_a"]
    assert [s.username for s in second.subscribers.iter_subscribers()] == ["only_in_b"]
    assert first.subscribers.get_subscriber("only_in_b") is None

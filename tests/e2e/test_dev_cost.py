"""`random-likes cost` against `make dev`'s stack, with a daily budget smaller than demo's likes: the operator
reads what the workers counted, which matches what the simulated X billed, and the page's API, `cost` and
`status` all say that syncing is paused, until when and why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.provision import LOCAL_CREDENTIALS, REGION
from tests.support.dev_stack import DevStack, running_stack

pytestmark = pytest.mark.e2e

BUDGET = 150  # post reads a day: demo has more likes than that


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    args = ("--accelerate", "300", "--parameter-overrides", f"XDailyReadBudget={BUDGET}")
    with running_stack(tmp_path_factory.mktemp("dev-cost"), *args) as running:
        yield running


def operator(stack: DevStack, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as an operator runs it, in a shell of its own, against the stack's moto."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": REGION,
        "NO_COLOR": "1",
    }
    env.pop("AWS_PROFILE", None)
    command = [sys.executable, "-m", "ops.cli", "--endpoint-url", stack.aws_endpoint, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, check=False)


def test_cost_reads_the_workers_counters_and_every_part_says_when_syncing_is_paused(stack: DevStack) -> None:
    # Given demo connected with X, and its first sync stopped by today's budget
    person = stack.connect("demo")

    def stopped() -> dict[str, Any] | None:
        # The pause shows as soon as the last page is reserved; the sync has ended when its status says so.
        code, body = stack.request("GET", "/api/subscriptions/demo", session=person)
        return body if code == 200 and body.get("sync_paused") and body["status"] == "usage_capped" else None

    subscription = stack.wait_until(stopped, 60, "the budget stops the sync and pauses syncing")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
    assert subscription["sync_paused"] == {"until": f"{tomorrow}T00:00:00Z", "reason": "daily_budget"}

    # When the operator asks what it cost, once the worker has counted the sync (just after it ended)
    def counted() -> dict[str, Any] | None:
        result = operator(stack, "cost", "--json")
        assert result.returncode == 0, result.stderr
        bill: dict[str, Any] = json.loads(result.stdout)
        return bill if bill["counters"].get("new_likes", 0) >= subscription["like_count"] else None

    bill = stack.wait_until(counted, 30, "the worker counts the likes it stored")

    # Then the posts and requests the workers counted are the ones the simulated X billed (each post once)
    billing = stack.sim("GET", "/_sim/billing")["apps"]
    billed_posts = sum(app["posts_read_total"] for app in billing.values())
    liked_tweets = sum(app["requests"].get("GET /2/users/:id/liked_tweets", 0) for app in billing.values())
    assert 0 < bill["counters"]["posts_read"] == billed_posts <= BUDGET
    assert bill["counters"]["x_requests"] == liked_tweets
    assert bill["counters"]["new_likes"] == subscription["like_count"]
    assert bill["counters"]["syncs"] >= 1
    assert bill["counters"]["fetcher_runs"] >= 1
    assert bill["x"]["lines"]["posts_read"] == pytest.approx(billed_posts * 0.005)
    assert bill["budgets"]["daily"]["budget"] == BUDGET
    assert bill["sync_paused"]["reason"] == "daily_budget"

    # And the operator's status and cost say it in words
    line = f"Syncing paused until {tomorrow} 00:00 UTC: today's budget of {BUDGET} post reads is spent"
    status = operator(stack, "status")
    assert status.returncode == 0, status.stderr
    assert "Cost  This month: $" in status.stdout
    assert line in status.stdout
    assert line in operator(stack, "cost").stdout

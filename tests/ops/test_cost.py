"""`random-likes cost` against moto: the month so far and its forecast, the last N days, the budgets and a
pause, from counters seeded through the store's own `count` (as the workers keep them)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from ops.cost import for_status, function_sizes, status_lines, template_sizes
from ops.render import Style
from shared.costs import FunctionSize, month_to_date
from shared.store import Stores
from tests.ops.conftest import Cli
from tests.ops.test_redrive_move_task import STACK

SYNCS = {"syncs": 40, "new_likes": 500, "worker_ms": 80_000, "ddb_writes": 4_000}
FETCHER = {"fetcher_runs": 288, "messages_sent": 40, "fetcher_ms": 57_600, "ddb_writes": 1_000}


def seed_today(store: Stores, now: datetime, *, posts_read: int = 600) -> None:
    # As the workers count: each request settles its posts (ReadBudget), syncs and fetcher runs count themselves
    store.app_state.settle(now, reserved=0, posts_read=posts_read, x_requests=30)
    store.app_state.count(now, {"user_reads": 2, **SYNCS})
    store.app_state.count(now, FETCHER)


def test_cost_prices_this_months_counters_and_forecasts_the_month(cli: Cli, store: Stores) -> None:
    # Given this month's reads, syncs and fetcher runs
    now = datetime.now(UTC)
    seed_today(store, now)

    # When the operator asks for the cost, for a script
    result = cli("cost", "--json")

    # Then X is $0.005 a post and $0.010 a user; AWS is priced with the functions' sizes in template.yaml
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["period"] == f"{now:%Y-%m}"
    assert data["counters"]["posts_read"] == 600
    assert data["x"]["lines"] == {"posts_read": pytest.approx(3.0), "user_reads": pytest.approx(0.02)}
    assert data["lambda_invocations"] == 40 + 288
    sizes = template_sizes()
    assert data["functions"]["from"] == "template.yaml"
    assert data["functions"]["worker"] == {"memory_mb": sizes.worker.memory_mb, "architecture": "arm64"}
    expected_compute = sizes.worker.price(80_000) + sizes.fetcher.price(57_600)
    assert data["aws"]["lines"]["lambda_compute"] == pytest.approx(expected_compute, rel=1e-4)
    assert data["aws"]["lines"]["dynamodb_writes"] == pytest.approx(5_000 * 0.625 / 1e6, rel=1e-4)
    assert data["aws"]["lines"]["sqs_requests"] == pytest.approx(40 * 3 * 0.40 / 1e6, rel=1e-4)
    # ... and the forecast carries the month to date over the whole month at the same daily rate
    # (by the days elapsed as the CLI counted them, between the test's clock reads before and after the call)
    assert data["forecast_days"] == month_to_date(now).forecast_days
    elapsed = (month_to_date(now).days_elapsed, month_to_date(datetime.now(UTC)).days_elapsed)
    assert elapsed[0] - 1e-4 <= data["days_elapsed"] <= elapsed[1] + 1e-4
    assert data["forecast"]["x"] == pytest.approx(3.02 / data["days_elapsed"] * data["forecast_days"], rel=1e-2)
    # ... beside the budgets the stack was deployed with (template.yaml's defaults here)
    assert data["budgets"]["daily"] == {"budget": 2000, "used": 600, "percent": 30.0}
    assert data["budgets"]["monthly"]["budget"] == 40000
    assert data["sync_paused"] is None


def test_cost_in_words_names_each_line_and_what_it_leaves_out(cli: Cli, store: Stores) -> None:
    seed_today(store, datetime.now(UTC))

    result = cli("cost")

    assert result.code == 0, result.err
    out = result.out
    assert "posts read" in out
    assert "$3.00" in out
    assert "328 (40 syncs + 288 fetcher runs)" in out
    assert "worker 512 MB arm64" in out
    assert "forecast" in out
    assert "today 600 of 2,000 post reads (30%)" in out
    assert "CloudWatch" in out  # where the api's invocations are
    assert "upper bound" in out


def test_days_sums_the_last_n_utc_days_and_forecasts_thirty(cli: Cli, store: Stores) -> None:
    # Given reads today, yesterday and five days ago
    now = datetime.now(UTC)
    store.app_state.count(now, {"posts_read": 100})
    store.app_state.count(now - timedelta(days=1), {"posts_read": 200})
    store.app_state.count(now - timedelta(days=5), {"posts_read": 400})

    # When the operator asks for the last two days
    data = json.loads(cli("cost", "--days", "2", "--json").out)

    # Then today and yesterday count, the older day does not, and the forecast spans 30 days
    assert data["period"] == "last 2 days"
    assert data["counters"]["posts_read"] == 300
    assert data["forecast_days"] == 30
    assert data["forecast"]["x"] == pytest.approx(1.5 / data["days_elapsed"] * 30, rel=1e-2)


@pytest.mark.parametrize("days", ["0", "91", "seven"])
def test_days_outside_the_kept_counters_is_a_bad_command_line(cli: Cli, days: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli("cost", "--days", days)
    assert exit_.value.code == 2


def test_a_spent_daily_budget_shows_as_a_pause_in_cost_and_status(cli: Cli, store: Stores) -> None:
    # Given today's budget of 2000 post reads spent
    now = datetime.now(UTC)
    seed_today(store, now, posts_read=2000)
    tomorrow = (now + timedelta(days=1)).strftime("%Y-%m-%d")

    # When the operator asks for the cost and the status
    cost = cli("cost")
    status = cli("status")
    status_json = json.loads(cli("status", "--json").out)

    # Then both say that syncing is paused, until when and why
    line = f"Syncing paused until {tomorrow} 00:00 UTC: today's budget of 2000 post reads is spent"
    assert line in cost.out
    assert line in status.out
    assert status_json["sync_paused"] == {"until": f"{tomorrow}T00:00:00Z", "reason": "daily_budget"}


def test_status_shows_the_cost_headline(cli: Cli, store: Stores) -> None:
    seed_today(store, datetime.now(UTC))

    result = cli("status")
    data = json.loads(cli("status", "--json").out)

    assert result.code == 0, result.err
    assert "Cost  This month: $3.02 on X, $" in result.out
    assert "; forecast $" in result.out
    assert data["cost"]["x"] == pytest.approx(3.02)
    assert data["cost"]["headline"].startswith("This month: $3.02 on X")
    assert "Syncing paused" not in result.out


def test_on_aws_the_deployed_functions_give_their_sizes() -> None:
    # Given a deployed stack, whose worker was given more memory than template.yaml's default
    class FakeLambda:
        def __init__(self) -> None:
            self.asked: list[str] = []

        def get_function_configuration(self, FunctionName: str) -> dict[str, object]:
            self.asked.append(FunctionName)
            memory = 1024 if "Worker" in FunctionName else 256
            return {"MemorySize": memory, "Architectures": ["x86_64"]}

    class FakeAws:
        lambda_ = FakeLambda()

    stack = replace(
        STACK, functions=(("WorkerFunction", "random-likes-WorkerFunction-abc"), ("FetcherFunction", "rl-Fetcher-x"))
    )

    # When cost reads the functions' sizes
    sizes, source = function_sizes(FakeAws(), stack)  # type: ignore[arg-type]

    # Then each is the deployed function's own
    assert source == "the deployed functions"
    assert sizes.worker == FunctionSize(1024, "x86_64")
    assert sizes.fetcher == FunctionSize(256, "x86_64")
    assert FakeAws.lambda_.asked == ["random-likes-WorkerFunction-abc", "rl-Fetcher-x"]


def test_a_policy_from_before_cost_still_gets_the_status_and_says_why_the_cost_is_unknown(store: Stores) -> None:
    # Given an operator whose policy does not allow reading the functions' configuration
    class Refusing:
        def get_function_configuration(self, FunctionName: str) -> dict[str, object]:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetFunctionConfiguration")

    class FakeAws:
        lambda_ = Refusing()

    stack = replace(STACK, functions=(("WorkerFunction", "w"), ("FetcherFunction", "f")))

    # When status gathers the cost
    found = for_status(FakeAws(), stack, store.app_state, now=datetime.now(UTC))  # type: ignore[arg-type]

    # Then it says why, instead of failing the whole report
    assert found == "GetFunctionConfiguration refused (AccessDeniedException)"
    assert "Cost  unknown: GetFunctionConfiguration refused" in "\n".join(status_lines(found, Style(enabled=False)))

"""`random-likes cost [--days N]`: what X and AWS have cost this month so far (or over the last N UTC days),
and the forecast, from the counters the workers keep; `status` shows its headline. The arithmetic and the
prices are shared/costs.py; here: reading the counters, the budgets and the functions' sizes, and the words.

The functions' memory and architecture come from the deployed functions (lambda:GetFunctionConfiguration)
or, on make dev's stack (whose functions run in-process, not in moto), from template.yaml, the same source
the local stack runs them from. The budgets are the stack's parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ops.connect import Aws
from ops.discover import FETCHER_FUNCTION, WORKER_FUNCTION, Stack
from ops.errors import error_code, refused
from ops.render import Style, iso, table
from shared.budget import usage_now
from shared.costs import Bill, FunctionSize, Sizes, add_counters, bill, last_days, month_to_date, read_units
from shared.models import Budgets, SyncPause, Usage
from shared.store.app_state import USAGE_KEPT, AppStateStore
from shared.subscriptions import sync_paused

MAX_DAYS = USAGE_KEPT.days  # a day's counters are kept this long (the table's TTL)
PRICES_FROM = "X pay-per-use; AWS us-east-1 on-demand, as listed on 2026-12-01"
NOT_COUNTED = (
    "X bills a post (and a user) once per UTC day: reading one twice counts twice here, so X is an upper bound",
    "a worker invocation may carry several syncs: invocations are an upper bound",
    "the api's invocations, time and reads: CloudWatch, AWS/Lambda Invocations and Duration of the ApiFunction",
    "DynamoDB storage, CloudWatch logs and metrics, X-Ray, the SQS poller's empty receives",
)


@dataclass(frozen=True)
class CostReport:
    bill: Bill
    sizes: Sizes
    sizes_from: str  # "the deployed functions" | "template.yaml"
    budgets: Budgets
    today: Usage
    month: Usage
    pause: SyncPause | None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.bill.to_json(),
            "prices": PRICES_FROM,
            "functions": {
                "worker": _size_json(self.sizes.worker),
                "fetcher": _size_json(self.sizes.fetcher),
                "from": self.sizes_from,
            },
            "budgets": budgets_json(self.budgets, self.today, self.month),
            "sync_paused": self.pause.to_json() if self.pause else None,
            "not_counted": list(NOT_COUNTED),
        }


def gather(aws: Aws, stack: Stack, app_state: AppStateStore, *, now: datetime, days: int | None = None) -> CostReport:
    period = last_days(now, days) if days else month_to_date(now)
    today, month = usage_now(app_state, now)
    if days:
        counters = add_counters(
            [today.counters if d == today.day else app_state.usage(d).counters for d in period.days()]
        )
    else:
        counters = dict(month.counters)
    sizes, sizes_from = function_sizes(aws, stack)
    budgets = stack_budgets(aws.cloudformation, stack.name)
    return CostReport(
        bill=bill(period, counters, sizes),
        sizes=sizes,
        sizes_from=sizes_from,
        budgets=budgets,
        today=today,
        month=month,
        pause=sync_paused(now, store=app_state, budgets=budgets),
    )


def for_status(aws: Aws, stack: Stack, app_state: AppStateStore, *, now: datetime) -> CostReport | str:
    """`status`'s cost, or why it could not be read: a policy from before `cost` (without DescribeStacks or
    GetFunctionConfiguration) still gets the rest of the report, as with the alarms."""
    try:
        return gather(aws, stack, app_state, now=now)
    except ClientError as exc:
        if not refused(exc):
            raise
        return f"{exc.operation_name} refused ({error_code(exc)})"


def function_sizes(aws: Aws, stack: Stack) -> tuple[Sizes, str]:
    deployed = dict(stack.functions)
    if WORKER_FUNCTION in deployed and FETCHER_FUNCTION in deployed:

        def size(name: str) -> FunctionSize:
            config = aws.lambda_.get_function_configuration(FunctionName=name)
            return FunctionSize(int(config["MemorySize"]), (config.get("Architectures") or ["x86_64"])[0])

        return Sizes(size(deployed[WORKER_FUNCTION]), size(deployed[FETCHER_FUNCTION])), "the deployed functions"
    return template_sizes(), "template.yaml"


def template_sizes(template: Mapping[str, Any] | None = None) -> Sizes:
    """The worker's and the fetcher's size in the SAM-transformed template.yaml (Globals applied)."""
    if template is None:
        from local.template import translated  # noqa: PLC0415 - the SAM translator, only for a local stack

        template = translated()
    resources = template["Resources"]

    def size(logical_id: str) -> FunctionSize:
        properties = resources[logical_id]["Properties"]
        # Lambda's own defaults where the template says nothing: 128 MB, x86_64.
        return FunctionSize(int(properties.get("MemorySize", 128)), (properties.get("Architectures") or ["x86_64"])[0])

    return Sizes(size(WORKER_FUNCTION), size(FETCHER_FUNCTION))


def stack_budgets(cloudformation: Any, stack_name: str) -> Budgets:
    """The read budgets the stack was deployed with (its parameters XDailyReadBudget, XMonthlyReadBudget)."""
    stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stacks[0].get("Parameters", [])}
    return Budgets(
        daily=int(parameters.get("XDailyReadBudget") or 0), monthly=int(parameters.get("XMonthlyReadBudget") or 0)
    )


# --- words ----------------------------------------------------------------------------------------------


def money(amount: float) -> str:
    """Dollars: cents, or four decimals below a cent, so that a small AWS bill is not shown as $0.00."""
    if 0 < amount < 0.0001:
        return "<$0.0001"
    return f"${amount:.4f}" if 0 < amount < 0.01 else f"${amount:,.2f}"


def headline(b: Bill) -> str:
    """'This month: $3.02 on X, $0.04 on AWS; forecast $63.50' (or 'Last 7 days: …; forecast … for 30 days')."""
    where = "This month" if b.period.whole_month else b.period.label.capitalize()
    over = "" if b.period.whole_month else f" for {b.period.forecast_days:g} days"
    return f"{where}: {money(b.x_cost)} on X, {money(b.aws_cost)} on AWS; forecast {money(b.forecast(b.total))}{over}"


def pause_line(pause: SyncPause, budgets: Budgets) -> str:
    """'Syncing paused until 2026-12-03 00:00 UTC: today's budget of 2000 post reads is spent'."""
    until = f"{pause.until.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    reasons = {
        "daily_budget": f"today's budget of {budgets.daily} post reads is spent",
        "monthly_budget": f"this month's budget of {budgets.monthly} post reads is spent",
        "x_usage_cap": "X answered usage-capped (its cap on the app's reads)",
    }
    return f"Syncing paused until {until}: {reasons.get(pause.reason, pause.reason)}"


def budgets_json(budgets: Budgets, today: Usage, month: Usage) -> dict[str, Any]:
    return {
        "daily": {
            "budget": budgets.daily,
            "used": today.posts_read,
            "percent": _percent(today.posts_read, budgets.daily),
        },
        "monthly": {
            "budget": budgets.monthly,
            "used": month.posts_read,
            "percent": _percent(month.posts_read, budgets.monthly),
        },
    }


def budget_line(budgets: Budgets, today: Usage, month: Usage) -> str:
    def one(label: str, used: int, budget: int) -> str:
        if budget <= 0:
            return f"{label} {used:,} post reads (no budget)"
        return f"{label} {used:,} of {budget:,} post reads ({_percent(used, budget):g}%)"

    return one("today", today.posts_read, budgets.daily) + " · " + one("this month", month.posts_read, budgets.monthly)


def status_lines(report: CostReport | str | None, style: Style) -> list[str]:
    """`status`'s part: the headline, and a line when syncing is paused (or why the cost is unknown)."""
    if report is None:
        return []
    if isinstance(report, str):
        return ["", style.bold("Cost") + style.paint(f"  unknown: {report}", "red")]
    lines = ["", style.bold("Cost") + f"  {headline(report.bill)}", style.dim("  → random-likes cost")]
    if report.pause is not None:
        lines.append(style.paint(f"  {pause_line(report.pause, report.budgets)}", "yellow"))
    return lines


def status_json(report: CostReport | str | None) -> dict[str, Any] | None:
    if report is None:
        return None
    if isinstance(report, str):
        return {"unavailable": report}
    b = report.bill
    return {
        "headline": headline(b),
        "x": round(b.x_cost, 6),
        "aws": round(b.aws_cost, 6),
        "forecast": round(b.forecast(b.total), 2),
        "budgets": budgets_json(report.budgets, report.today, report.month),
        "unavailable": None,
    }


def render(report: CostReport, style: Style) -> str:
    b = report.bill
    c = b.count
    period = b.period
    span = f"{period.days_elapsed:.2f} days" + (
        f" of {period.forecast_days:g}" if period.whole_month else f", forecast over {period.forecast_days:g}"
    )
    sizes = report.sizes
    compute_s = sizes.worker.gb_seconds(c("worker_ms")) + sizes.fetcher.gb_seconds(c("fetcher_ms"))
    x_rows = [
        ["posts read", f"{c('posts_read'):,}", money(b.x["posts_read"])],
        ["user reads", f"{c('user_reads'):,}", money(b.x["user_reads"])],
    ]
    aws_rows = [
        [
            "Lambda invocations",
            f"{b.lambda_invocations:,} ({_many(c('syncs'), 'sync')} + {_many(c('fetcher_runs'), 'fetcher run')})",
            money(b.aws["lambda_requests"]),
        ],
        [
            "Lambda compute",
            f"{compute_s:,.1f} GB-s (worker {_size(sizes.worker)}, fetcher {_size(sizes.fetcher)})",
            money(b.aws["lambda_compute"]),
        ],
        ["DynamoDB writes", f"{c('ddb_writes'):,} WRU (estimated)", money(b.aws["dynamodb_writes"])],
        ["DynamoDB reads", f"{read_units(c('posts_read')):,.0f} RRU (estimated)", money(b.aws["dynamodb_reads"])],
        [
            "SQS requests",
            f"{3 * c('messages_sent'):,} ({c('messages_sent'):,} messages, 3 requests each)",
            money(b.aws["sqs_requests"]),
        ],
    ]
    lines = [
        style.bold(f"Cost, {period.label}") + style.dim(f"  ({iso(period.start)} to {iso(period.now)}, {span})"),
        "",
        style.bold("X") + f"  {money(b.x_cost)}",
        table(["", "COUNT", "COST"], x_rows, indent="  "),
        "",
        style.bold("AWS") + f"  {money(b.aws_cost)}",
        table(["", "COUNT", "COST"], aws_rows, indent="  "),
        "",
        style.bold("Total") + f"  {money(b.total)} · " + style.bold("forecast") + f" {money(b.forecast(b.total))}"
        f" (X {money(b.forecast(b.x_cost))}, AWS {money(b.forecast(b.aws_cost))})",
        style.bold("Budgets") + f"  {budget_line(report.budgets, report.today, report.month)}",
    ]
    if report.pause:
        lines.append(style.paint(pause_line(report.pause, report.budgets), "yellow"))
    lines += [
        "",
        style.dim(f"Prices: {PRICES_FROM}; function sizes from {report.sizes_from}."),
        style.dim("Not counted, or counted high:"),
        *(style.dim(f"  - {note}") for note in NOT_COUNTED),
    ]
    return "\n".join(lines)


def _many(n: int, thing: str) -> str:
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


def _percent(used: int, budget: int) -> float | None:
    return None if budget <= 0 else round(100 * used / budget, 1)


def _size(size: FunctionSize) -> str:
    return f"{size.memory_mb} MB {size.architecture}"


def _size_json(size: FunctionSize) -> dict[str, Any]:
    return {"memory_mb": size.memory_mb, "architecture": size.architecture}

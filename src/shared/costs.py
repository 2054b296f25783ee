"""What X and AWS have cost, from the counters the workers keep (shared/store/items.COUNTERS): prices and the
arithmetic, pure. `random-likes cost` and `status` read the counters and call `bill`.

Every figure is an estimate from our own counters, not AWS's or X's invoice:
- X bills a post read (and a user read) once per resource per UTC day: a post read twice in one day is counted
  twice here, so the X figure is an upper bound.
- Lambda: the worker's syncs and the fetcher's runs, with the time they took. A worker invocation may carry a
  batch of several sync messages, so invocations are an upper bound; the api's invocations and time are not
  counted at all (CloudWatch's AWS/Lambda Invocations and Duration of the api function have them).
- DynamoDB: the write request units the syncs and fetcher runs spent, as `sync_write_units` and
  `fetcher_write_units` count them, and the read units of the syncs' marker lookups (`read_units`); the api's
  reads (a pick is two GetItems) and storage ($0.25 per GB-month) are not counted.
- SQS: three requests per message (send, receive, delete); the Lambda poller's empty long polls are not.
- EventBridge schedules are free; CloudWatch logs, metrics and X-Ray are not counted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# Prices as listed on 2026-12-01: X's pay-per-use API pricing, and AWS us-east-1, on-demand, in US dollars.
X_POST_READ = 0.005  # per post returned (X bills the app owner's own likes at $0.001: not told apart here)
X_USER_READ = 0.010  # per user looked up (GET /2/users/me, by username)
LAMBDA_REQUEST = 0.20 / 1_000_000
LAMBDA_GB_SECOND = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
DDB_WRITE_UNIT = 0.625 / 1_000_000  # on-demand write request unit
DDB_READ_UNIT = 0.125 / 1_000_000  # on-demand read request unit
SQS_REQUEST = 0.40 / 1_000_000  # standard queue, after the free tier
SQS_REQUESTS_PER_MESSAGE = 3  # SendMessage, the poller's ReceiveMessage, DeleteMessage

FORECAST_DAYS_OF_WINDOW = 30  # `--days N`: the N-day average times this
SLOT_UNITS = 2  # write units of one like's slot item: a post with its author, links and media is 1-2 KB
TRANSACTION_FACTOR = 2  # TransactWriteItems costs two write units per KB of each item


@dataclass(frozen=True)
class FunctionSize:
    """A function's memory and architecture (template.yaml, or the deployed function's configuration)."""

    memory_mb: int
    architecture: str = "arm64"  # "arm64" | "x86_64"

    def gb_seconds(self, ms: int) -> float:
        return ms / 1000 * self.memory_mb / 1024

    def price(self, ms: int) -> float:
        return self.gb_seconds(ms) * LAMBDA_GB_SECOND.get(self.architecture, LAMBDA_GB_SECOND["x86_64"])


@dataclass(frozen=True)
class Sizes:
    worker: FunctionSize
    fetcher: FunctionSize


def sync_write_units(
    *, pages: int, new_likes: int, budgeted: bool, windows: int = 1, acquired: bool = True, chunk: int = 49
) -> int:
    """The write request units one sync spends, counted where its code writes (the one place this estimate is
    kept). `budgeted`: the app has a read budget (each request reserves its posts first); `windows`: the X
    request windows each request counts against (1, or 2 with the app-wide one); `acquired`: the sync got the
    subscriber's lock (a skipped one spent only the attempt); `chunk`: likes per transaction (store/likes.py)."""
    units = 1  # the lock: one conditional UpdateItem on the profile, spent even when its condition fails
    units += 2  # this sync's own `count`: the day's and the month's USAGE# items
    if not acquired:
        return units
    per_request = windows  # take a request from each window (a conditional UpdateItem each)
    per_request += windows  # X's headers observed on each window afterwards
    per_request += 2  # settle: the day's and the month's counters
    if budgeted:
        per_request += TRANSACTION_FACTOR * 2  # reserve the posts: a transaction over the day and month items
    units += pages * per_request
    # Each page's append: a transaction of the slot and the marker of each new like, and the profile, once per
    # chunk of `chunk` likes (a page without new likes still moves the walk on the profile).
    transactions = pages + new_likes // max(chunk, 1)
    units += TRANSACTION_FACTOR * (new_likes * (SLOT_UNITS + 1) + transactions)
    units += 1  # the finish: the profile's status, schedule and counters
    return units


def fetcher_write_units(*, due: int) -> int:
    """A fetcher run's write units: a lease on each due subscriber, its last-run item, its own `count`."""
    return due + 1 + 2


def read_units(posts_read: int) -> float:
    """The syncs' marker lookups: a BatchGetItem of every post read, eventually consistent (half a unit each)."""
    return posts_read * 0.5


@dataclass(frozen=True)
class Period:
    """The days a bill covers: `start` (00:00 UTC of its first day) to `now`, and the days a forecast spans."""

    label: str  # "2026-12" (month to date) or "last 7 days"
    start: datetime
    now: datetime
    forecast_days: float  # the month's days, or FORECAST_DAYS_OF_WINDOW
    whole_month: bool = False  # the month to date (else the last N days)

    @property
    def days_elapsed(self) -> float:
        return max((self.now - self.start).total_seconds() / 86400, 1 / 1440)  # at least a minute

    def days(self) -> list[str]:
        """Each UTC day of the period, `YYYY-MM-DD`, oldest first."""
        first = self.start.date()
        count = (self.now.date() - first).days + 1
        return [(first + timedelta(days=i)).isoformat() for i in range(count)]


def month_to_date(now: datetime) -> Period:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (start + timedelta(days=32)).replace(day=1)
    return Period(f"{now:%Y-%m}", start, now, (following - start).days, whole_month=True)


def last_days(now: datetime, n: int) -> Period:
    """Today (so far) and the n-1 UTC days before it."""
    start = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=n - 1)
    return Period(f"last {n} day{'' if n == 1 else 's'}", start, now, FORECAST_DAYS_OF_WINDOW)


def add_counters(periods: list[Mapping[str, int]]) -> dict[str, int]:
    """Several days' counters, summed name by name."""
    total: dict[str, int] = {}
    for counters in periods:
        for name, value in counters.items():
            total[name] = total.get(name, 0) + int(value)
    return total


@dataclass(frozen=True)
class Bill:
    period: Period
    counters: Mapping[str, int]
    x: dict[str, float] = field(default_factory=dict)  # dollars by line
    aws: dict[str, float] = field(default_factory=dict)

    @property
    def x_cost(self) -> float:
        return sum(self.x.values())

    @property
    def aws_cost(self) -> float:
        return sum(self.aws.values())

    @property
    def total(self) -> float:
        return self.x_cost + self.aws_cost

    def forecast(self, amount: float) -> float:
        """Where `amount` ends at this rate: per elapsed day (fractional) times the forecast's days."""
        return amount / self.period.days_elapsed * self.period.forecast_days

    def count(self, name: str) -> int:
        return int(self.counters.get(name, 0))

    @property
    def lambda_invocations(self) -> int:
        return self.count("syncs") + self.count("fetcher_runs")

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period.label,
            "from": self.period.start.isoformat().replace("+00:00", "Z"),
            "to": self.period.now.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "days_elapsed": round(self.period.days_elapsed, 4),
            "forecast_days": self.period.forecast_days,
            "counters": dict(self.counters),
            "lambda_invocations": self.lambda_invocations,
            "x": {"lines": _cents(self.x), "total": round(self.x_cost, 6)},
            "aws": {"lines": _cents(self.aws), "total": round(self.aws_cost, 6)},
            "total": round(self.total, 6),
            "forecast": {
                "x": round(self.forecast(self.x_cost), 2),
                "aws": round(self.forecast(self.aws_cost), 2),
                "total": round(self.forecast(self.total), 2),
            },
        }


def bill(period: Period, counters: Mapping[str, int], sizes: Sizes) -> Bill:
    """What the counters of `period` cost at the prices above."""

    def c(name: str) -> int:
        return int(counters.get(name, 0))

    x = {"posts_read": c("posts_read") * X_POST_READ, "user_reads": c("user_reads") * X_USER_READ}
    aws = {
        "lambda_requests": (c("syncs") + c("fetcher_runs")) * LAMBDA_REQUEST,
        "lambda_compute": sizes.worker.price(c("worker_ms")) + sizes.fetcher.price(c("fetcher_ms")),
        "dynamodb_writes": c("ddb_writes") * DDB_WRITE_UNIT,
        "dynamodb_reads": math.ceil(read_units(c("posts_read"))) * DDB_READ_UNIT,
        "sqs_requests": c("messages_sent") * SQS_REQUESTS_PER_MESSAGE * SQS_REQUEST,
    }
    return Bill(period, dict(counters), x, aws)


def _cents(lines: Mapping[str, float]) -> dict[str, float]:
    return {name: round(value, 8) for name, value in lines.items()}

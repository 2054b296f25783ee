"""The bill's arithmetic (shared/costs.py): prices times counters, the month to date and its forecast."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.costs import (
    FunctionSize,
    Sizes,
    add_counters,
    bill,
    last_days,
    month_to_date,
    sync_write_units,
)

SIZES = Sizes(worker=FunctionSize(512, "arm64"), fetcher=FunctionSize(512, "arm64"))


def test_x_is_billed_per_post_and_per_user_read() -> None:
    # Given 2000 posts and 30 user reads this month
    b = bill(month_to_date(datetime(2026, 12, 2, 12, tzinfo=UTC)), {"posts_read": 2000, "user_reads": 30}, SIZES)

    # Then X costs $0.005 a post and $0.010 a user
    assert b.x == pytest.approx({"posts_read": 10.0, "user_reads": 0.30})
    assert b.x_cost == pytest.approx(10.30)


def test_aws_lines_follow_the_on_demand_prices() -> None:
    # Given a million syncs of one second each on a 512 MB arm64 worker, and a million of every other counter
    counters = {
        "syncs": 1_000_000,
        "fetcher_runs": 0,
        "worker_ms": 1_000_000_000,
        "ddb_writes": 1_000_000,
        "posts_read": 2_000_000,  # 0.5 read unit each: a million
        "messages_sent": 1_000_000,
    }
    b = bill(month_to_date(datetime(2026, 12, 2, tzinfo=UTC)), counters, SIZES)

    assert b.aws["lambda_requests"] == pytest.approx(0.20)
    assert b.aws["lambda_compute"] == pytest.approx(500_000 * 0.0000133334)  # GB-seconds at the arm64 price
    assert b.aws["dynamodb_writes"] == pytest.approx(0.625)
    assert b.aws["dynamodb_reads"] == pytest.approx(0.125)
    assert b.aws["sqs_requests"] == pytest.approx(1.20)  # send, receive and delete


def test_the_memory_and_architecture_given_set_the_compute_price() -> None:
    ms = {"worker_ms": 3_600_000, "fetcher_ms": 3_600_000}
    period = month_to_date(datetime(2026, 12, 2, tzinfo=UTC))
    small = bill(period, ms, Sizes(FunctionSize(512, "arm64"), FunctionSize(512, "arm64")))
    x86 = bill(period, ms, Sizes(FunctionSize(1024, "x86_64"), FunctionSize(512, "arm64")))

    assert small.aws["lambda_compute"] == pytest.approx(2 * 1800 * 0.0000133334)
    assert x86.aws["lambda_compute"] == pytest.approx(3600 * 0.0000166667 + 1800 * 0.0000133334)


def test_the_forecast_is_the_month_to_date_per_elapsed_day_times_the_days_of_the_month() -> None:
    # Given $3 of X spent by noon on 2 December (1.5 days of a 31-day month)
    b = bill(month_to_date(datetime(2026, 12, 2, 12, tzinfo=UTC)), {"posts_read": 600}, SIZES)

    assert b.period.days_elapsed == pytest.approx(1.5)
    assert b.period.forecast_days == 31
    assert b.forecast(b.x_cost) == pytest.approx(3.0 / 1.5 * 31)
    assert b.to_json()["forecast"]["x"] == pytest.approx(62.0)


def test_february_has_its_own_days() -> None:
    assert month_to_date(datetime(2027, 2, 10, tzinfo=UTC)).forecast_days == 28


def test_last_days_span_today_and_the_days_before_and_forecast_thirty() -> None:
    period = last_days(datetime(2026, 12, 2, 6, tzinfo=UTC), 3)

    assert period.days() == ["2026-11-30", "2026-12-01", "2026-12-02"]
    assert period.days_elapsed == pytest.approx(2.25)
    assert period.forecast_days == 30
    assert period.label == "last 3 days"


def test_counters_of_several_days_add_up_by_name() -> None:
    assert add_counters([{"syncs": 2, "posts_read": 5}, {"syncs": 1}, {}]) == {"syncs": 3, "posts_read": 5}


def test_a_sync_writes_more_with_each_page_each_like_and_the_budget() -> None:
    base = sync_write_units(pages=1, new_likes=0, budgeted=False)
    # A like is a slot (two units) and a marker, each written in a transaction (twice the units)
    assert sync_write_units(pages=1, new_likes=1, budgeted=False) - base == 2 * (2 + 1)
    # Reserving a request's posts is a transaction over the day's and the month's items
    assert sync_write_units(pages=1, new_likes=0, budgeted=True) - base == 4
    # The app-wide window adds a take and an observation per request
    assert sync_write_units(pages=1, new_likes=0, budgeted=False, windows=2) - base == 2
    # A sync that found its subscriber locked spent the attempt and its count only
    assert sync_write_units(pages=0, new_likes=0, budgeted=True, acquired=False) == 3
    # More than a transaction's likes on a page: the profile is written once more
    one_chunk = sync_write_units(pages=1, new_likes=48, budgeted=False, chunk=49)
    assert sync_write_units(pages=1, new_likes=49, budgeted=False, chunk=49) - one_chunk == 2 * 3 + 2

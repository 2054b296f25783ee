"""EventBridge schedule expressions (rate, cron, at) and the clock `--accelerate` speeds up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from local.stack.schedule_expressions import At, Cron, Rate, ScheduleError, parse
from local.stack.scheduler import AcceleratedClock, scheduled_event
from local.stack.spec import ScheduleSpec


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(2 hours)", 7200), ("rate(1 day)", 86400)],
)
def test_rates_are_periods(expression: str, seconds: int) -> None:
    schedule = parse(expression)
    assert schedule == Rate(seconds)
    assert schedule.next_after(at("2026-01-01T00:00:00")) == at("2026-01-01T00:00:00") + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("rate(5 minute)", "singular unit for 1 and the plural otherwise"),
        ("rate(1 minutes)", "singular unit for 1 and the plural otherwise"),
        ("rate(0 minutes)", "at least 1"),
        ("rate(five minutes)", "takes a whole number"),
        ("every(5 minutes)", "not a schedule expression"),
        ("cron(* * * * *)", "takes 6 fields"),
    ],
)
def test_expressions_eventbridge_refuses_are_refused_with_the_reason(expression: str, reason: str) -> None:
    with pytest.raises(ScheduleError) as refused:
        parse(expression)

    assert reason in str(refused.value)


def test_cron_needs_exactly_one_question_mark_among_the_day_fields() -> None:
    with pytest.raises(ScheduleError) as refused:
        parse("cron(0 12 * * * *)")

    assert "exactly one" in str(refused.value)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("cron(0/15 * * * ? *)", "2026-01-01T10:07:30", "2026-01-01T10:15:00"),
        ("cron(0 12 * * ? *)", "2026-01-01T12:00:00", "2026-01-02T12:00:00"),  # strictly after
        ("cron(0 18 ? * MON-FRI *)", "2026-01-02T19:00:00", "2026-01-05T18:00:00"),  # Fri evening -> Monday
        ("cron(0 8 1 JAN,JUL ? *)", "2026-02-01T00:00:00", "2026-07-01T08:00:00"),
        ("cron(0 0 L * ? *)", "2026-02-10T00:00:00", "2026-02-28T00:00:00"),  # last day of the month
        ("cron(0 0 ? * 6#3 *)", "2026-01-01T00:00:00", "2026-01-16T00:00:00"),  # third Friday (1 = Sunday)
        ("cron(0 0 ? * 2L *)", "2026-01-01T00:00:00", "2026-01-26T00:00:00"),  # last Monday
        ("cron(0 0 15W * ? *)", "2026-08-01T00:00:00", "2026-08-14T00:00:00"),  # Aug 15 2026 is a Saturday
        ("cron(30 9 * * ? 2027)", "2026-06-01T00:00:00", "2027-01-01T09:30:00"),
    ],
)
def test_cron_finds_the_next_firing(expression: str, after: str, expected: str) -> None:
    assert parse(expression).next_after(at(after)) == at(expected)


def test_cron_follows_a_scheduler_time_zone() -> None:
    schedule = parse("cron(0 9 * * ? *)", "Europe/Paris")
    assert isinstance(schedule, Cron)
    assert schedule.next_after(at("2026-01-01T00:00:00")) == at("2026-01-01T08:00:00")  # 09:00 CET


def test_a_one_time_schedule_fires_once() -> None:
    schedule = parse("at(2026-03-01T10:00:00)")
    assert schedule == At(at("2026-03-01T10:00:00"))
    assert schedule.next_after(at("2026-02-01T00:00:00")) == at("2026-03-01T10:00:00")
    assert schedule.next_after(at("2026-03-01T10:00:00")) is None


def test_the_accelerated_clock_runs_faster_and_waits_shorter() -> None:
    ticks = iter([0.0, 10.0, 10.0])
    clock = AcceleratedClock(60, start=at("2026-01-01T00:00:00"), monotonic=lambda: next(ticks))
    assert clock.now() == at("2026-01-01T00:10:00")  # 10 real seconds = 10 minutes
    assert clock.real_seconds_until(at("2026-01-01T00:15:00")) == pytest.approx(5.0)


def test_a_rule_delivers_the_scheduled_event_envelope_and_a_scheduler_its_input() -> None:
    rule = ScheduleSpec(
        "Rule", "n", "arn:aws:events:us-east-1:123456789012:rule/n", "rate(1 minute)", "F", None, "rule"
    )
    event = scheduled_event(rule, at("2026-01-01T12:00:00.500"))
    assert event["detail-type"] == "Scheduled Event"
    assert event["time"] == "2026-01-01T12:00:00Z"
    assert event["resources"] == [rule.arn]
    scheduler = ScheduleSpec("S", "n", "arn", "rate(1 minute)", "F", '{"job": "sync"}', "scheduler")
    assert scheduled_event(scheduler, at("2026-01-01T12:00:00")) == {"job": "sync"}

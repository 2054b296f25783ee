"""EventBridge schedule expressions: `rate(5 minutes)`, `cron(0/15 * * * ? *)` and Scheduler's `at(...)`.

`parse(expression)` returns an object whose `next_after(moment)` is the next firing strictly after `moment`
(None when a one-time schedule is spent). Cron follows EventBridge's six fields — minutes, hours,
day-of-month, month, day-of-week (1 = SUN), year — with `*`, `?`, lists, ranges, steps, month and day names,
`L` and `W` in day-of-month, and `L` / `#` in day-of-week.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
_MONTHS = {name: i for i, name in enumerate(calendar.month_abbr) if name}
_MONTHS = {k.upper(): v for k, v in _MONTHS.items()}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_SEARCH_DAYS = 366 * 8  # a cron that never fires within eight years (e.g. Feb 30) is refused, not looped on


class ScheduleError(ValueError):
    """The expression is not one EventBridge accepts (or one this parser does not know); says which part."""


class Schedule(Protocol):
    def next_after(self, moment: datetime) -> datetime | None: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Rate:
    seconds: int

    def next_after(self, moment: datetime) -> datetime | None:
        return moment + timedelta(seconds=self.seconds)

    def describe(self) -> str:
        return f"every {self.seconds} s"


@dataclass(frozen=True)
class At:
    when: datetime

    def next_after(self, moment: datetime) -> datetime | None:
        return self.when if self.when > moment else None

    def describe(self) -> str:
        return f"once at {self.when.isoformat()}"


def parse(expression: str, timezone: str = "UTC") -> Schedule:
    text = expression.strip()
    found = re.fullmatch(r"(rate|cron|at)\((.*)\)", text)
    if not found:
        raise ScheduleError(f"not a schedule expression: {expression!r} (rate(...), cron(...) or at(...))")
    kind, body = found.group(1), found.group(2).strip()
    if kind == "rate":
        return _rate(body)
    zone = ZoneInfo(timezone)
    if kind == "at":
        try:
            when = datetime.fromisoformat(body)
        except ValueError:
            raise ScheduleError(f"at() takes yyyy-mm-ddThh:mm:ss, got {body!r}") from None
        return At(when.replace(tzinfo=zone).astimezone(UTC))
    return Cron.parse(body, zone)


def _rate(body: str) -> Rate:
    parts = body.split()
    if len(parts) != 2 or not parts[0].isdigit() or parts[1] not in _UNITS:
        raise ScheduleError(f"rate() takes a whole number and minute(s), hour(s) or day(s), got {body!r}")
    value, unit = int(parts[0]), parts[1]
    if value < 1:
        raise ScheduleError("a rate must be at least 1")
    if (value == 1) != unit.endswith(("minute", "hour", "day")):
        raise ScheduleError(f"EventBridge wants the singular unit for 1 and the plural otherwise, got {body!r}")
    return Rate(value * _UNITS[unit])


def _numbers(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    """One cron field of plain values: `*`, lists, ranges `a-b`, steps `a/n` or `a-b/n`, names."""

    def value(token: str) -> int:
        token = token.upper()
        if names and token in names:
            return names[token]
        if not token.isdigit():
            raise ScheduleError(f"{token!r} is not a value here")
        number = int(token)
        if not low <= number <= high:
            raise ScheduleError(f"{number} is outside {low}-{high}")
        return number

    result: set[int] = set()
    for item in text.split(","):
        step, part = 1, item
        if "/" in item:
            part, step_text = item.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleError(f"bad step in {text!r}")
            step = int(step_text)
        if part in {"*", "?"}:
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = value(first), value(last)
        else:
            start = value(part)
            end = high if step > 1 else start
        if end >= start:
            result.update(range(start, end + 1, step))
        else:  # a range that wraps, e.g. FRI-MON or NOV-FEB
            result.update(v for v in [*range(start, high + 1), *range(low, end + 1)][::step])
    return frozenset(result)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    day_of_month: str  # kept as text: L and W depend on the month
    months: frozenset[int]
    day_of_week: str
    years: frozenset[int]
    zone: ZoneInfo
    text: str

    @classmethod
    def parse(cls, body: str, zone: ZoneInfo | None = None) -> Cron:
        fields = body.split()
        if len(fields) != 6:
            raise ScheduleError(f"cron() takes 6 fields (minutes hours day-of-month month day-of-week year): {body!r}")
        minutes, hours, dom, month, dow, year = fields
        if (dom == "?") == (dow == "?"):
            raise ScheduleError("cron(): exactly one of day-of-month and day-of-week must be '?'")
        cron = cls(
            minutes=_numbers(minutes, 0, 59),
            hours=_numbers(hours, 0, 23),
            day_of_month=dom.upper(),
            months=_numbers(month, 1, 12, _MONTHS),
            day_of_week=dow.upper(),
            years=_numbers(year, 1970, 2199),
            zone=zone or ZoneInfo("UTC"),
            text=body,
        )
        cron._day_matches(date(2026, 1, 1))  # validate the day fields now, not at the first firing
        return cron

    def describe(self) -> str:
        return f"cron({self.text})"

    def next_after(self, moment: datetime) -> datetime | None:
        local = moment.astimezone(self.zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = local.date()
        for _ in range(_SEARCH_DAYS):
            if day.year in self.years and day.month in self.months and self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
                        if candidate >= local:
                            return candidate.astimezone(UTC)
            day += timedelta(days=1)
            local = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        return None

    def _day_matches(self, day: date) -> bool:
        if self.day_of_month != "?":
            return _dom_matches(self.day_of_month, day)
        return _dow_matches(self.day_of_week, day)


def _dom_matches(text: str, day: date) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    if text == "L":
        return day.day == last
    if text == "LW":
        return day == _nearest_weekday(date(day.year, day.month, last))
    if text.endswith("W"):
        target = text[:-1]
        if not target.isdigit() or not 1 <= int(target) <= 31:
            raise ScheduleError(f"bad day-of-month {text!r}")
        wanted = min(int(target), last)
        return day == _nearest_weekday(date(day.year, day.month, wanted))
    return day.day in _numbers(text, 1, 31)


def _nearest_weekday(day: date) -> date:
    """EventBridge's W: the weekday nearest `day` without leaving its month."""
    weekday = day.weekday()  # Monday = 0
    if weekday < 5:
        return day
    last = calendar.monthrange(day.year, day.month)[1]
    if weekday == 5:  # Saturday: Friday, unless that is last month
        return day - timedelta(days=1) if day.day > 1 else day + timedelta(days=2)
    return day + timedelta(days=1) if day.day < last else day - timedelta(days=2)  # Sunday


def _aws_weekday(day: date) -> int:
    return (day.weekday() + 1) % 7 + 1  # EventBridge: 1 = Sunday ... 7 = Saturday


def _dow_matches(text: str, day: date) -> bool:
    if "#" in text:
        weekday, nth = text.split("#", 1)
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise ScheduleError(f"bad day-of-week {text!r}")
        wanted = next(iter(_numbers(weekday, 1, 7, _DAYS)))
        return _aws_weekday(day) == wanted and (day.day - 1) // 7 + 1 == int(nth)
    if text.endswith("L") and text != "L":
        wanted = next(iter(_numbers(text[:-1], 1, 7, _DAYS)))
        last = calendar.monthrange(day.year, day.month)[1]
        return _aws_weekday(day) == wanted and day.day > last - 7
    if text == "L":
        return _aws_weekday(day) == 7
    return _aws_weekday(day) in _numbers(text, 1, 7, _DAYS)

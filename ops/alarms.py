"""The stack's CloudWatch alarms that are firing, for `random-likes status`.

The alarms are the stack's own resources of type AWS::CloudWatch::Alarm (ops/discover.py), never guessed
from a name prefix: one DescribeAlarms call per 100 names reads their states. Only those in ALARM are
reported, each with since when and CloudWatch's reason. An operator whose policy lacks
cloudwatch:DescribeAlarms still gets the rest of the status: the report says the alarms are unknown, and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ops.errors import error_code, refused
from ops.render import iso

DESCRIBE_BATCH = 100  # DescribeAlarms takes at most 100 AlarmNames


@dataclass(frozen=True)
class FiringAlarm:
    name: str
    since: datetime | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "since": iso(self.since), "reason": self.reason}


@dataclass(frozen=True)
class Alarms:
    checked: int  # how many alarms the stack has (all were read, unless `unavailable`)
    firing: list[FiringAlarm] = field(default_factory=list)
    unavailable: str | None = None  # why the states could not be read

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "firing": [alarm.to_json() for alarm in self.firing],
            "unavailable": self.unavailable,
        }


def firing(cloudwatch: Any, names: Sequence[str]) -> Alarms:
    found: list[FiringAlarm] = []
    try:
        for start in range(0, len(names), DESCRIBE_BATCH):
            found += _in_alarm(cloudwatch, list(names[start : start + DESCRIBE_BATCH]))
    except ClientError as exc:
        if not refused(exc):
            raise
        return Alarms(len(names), unavailable=f"{exc.operation_name} refused ({error_code(exc)})")
    # Longest-firing first: the first cause is the likeliest root of the others.
    found.sort(key=lambda alarm: (alarm.since is None, alarm.since.timestamp() if alarm.since else 0.0, alarm.name))
    return Alarms(len(names), found)


def _in_alarm(cloudwatch: Any, names: list[str]) -> list[FiringAlarm]:
    found = []
    token: str | None = None
    while True:
        page = cloudwatch.describe_alarms(
            AlarmNames=names, AlarmTypes=["MetricAlarm", "CompositeAlarm"], **({"NextToken": token} if token else {})
        )
        for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
            if alarm.get("StateValue") == "ALARM":  # filtered here: moto ignores StateValue beside AlarmNames
                # StateTransitionedTimestamp is when it entered ALARM; StateUpdatedTimestamp also moves when
                # only the reason changes (older responses have only the latter).
                since = alarm.get("StateTransitionedTimestamp") or alarm.get("StateUpdatedTimestamp")
                found.append(FiringAlarm(alarm["AlarmName"], since, str(alarm.get("StateReason", ""))))
        token = page.get("NextToken")
        if not token:
            return found

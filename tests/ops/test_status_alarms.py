"""`random-likes status` shows the stack's firing alarms and the fetcher's failure queues, and still exits 0.

The stack is provisioned from template.yaml through moto's CloudFormation, alarms included, so the alarms
seen here are the template's own; a test puts one in ALARM with SetAlarmState, as CloudWatch would.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from local.provision import REGION, StackResources, client, stack_refs
from local.template import translated
from ops.alarms import firing
from ops.render import Style
from ops.status import render_alarms
from tests.ops.conftest import Cli

REASON = "Threshold Crossed: 1 datapoint [3.0 (02/12/26 10:05:00)] was greater than the threshold (0.0)."


# Every alarm the template declares (11 with the import pipeline's two).
ALARMS = sum(1 for r in translated()["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm")


@pytest.fixture
def cloudwatch(ops_endpoint: str) -> Any:
    return client("cloudwatch", ops_endpoint)


def test_every_alarm_of_the_template_exists_in_the_offline_stack(ops_stack: StackResources, ops_endpoint: str) -> None:
    refs = stack_refs(ops_endpoint, ops_stack.stack_name)
    names = {ref for kind, ref in refs.values() if kind == "AWS::CloudWatch::Alarm"}
    described = client("cloudwatch", ops_endpoint).describe_alarms(AlarmNames=sorted(names))["MetricAlarms"]
    assert len(names) == ALARMS == 11
    assert {a["AlarmName"] for a in described} == names
    assert all(a["AlarmActions"] == [refs["AlarmTopic"][1]] for a in described)


def test_status_shows_a_firing_alarm_with_since_when_and_why(cli: Cli, cloudwatch: Any) -> None:
    # Given the dead-letter alarm in ALARM, and the others quiet
    name = f"{cli.stack_name}-dead-letters"
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason=REASON)

    # When the operator asks for the status, as text and as JSON
    text = cli("status")
    data = json.loads(cli("--json", "status").out)

    # Then both name the alarm, since when and why, and it is still a report (exit 0)
    assert text.code == 0, text.err
    assert f"Alarms  1 of {ALARMS} firing" in text.out
    assert name in text.out
    assert "Threshold Crossed: 1 datapoint" in text.out
    assert "s ago)" in text.out
    (alarm,) = data["alarms"]["firing"]
    assert (alarm["name"], alarm["reason"]) == (name, REASON)
    assert alarm["since"].endswith("Z")
    assert (data["alarms"]["checked"], data["alarms"]["unavailable"]) == (ALARMS, None)


def test_alarms_in_ok_are_not_shown(cli: Cli, cloudwatch: Any) -> None:
    name = f"{cli.stack_name}-worker-errors"
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="errors")
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="no more errors")

    result = cli("status")

    assert result.code == 0
    assert f"Alarms  none firing ({ALARMS} checked)" in result.out
    assert name not in result.out


def test_only_the_stacks_own_alarms_count_not_any_with_a_similar_name(cli: Cli, cloudwatch: Any) -> None:
    # Given an alarm in ALARM that merely shares the stack's name prefix (another stack, or made by hand)
    stranger = f"{cli.stack_name}-dead-letters-copy"
    cloudwatch.put_metric_alarm(
        AlarmName=stranger,
        Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible",
        Statistic="Maximum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=stranger, StateValue="ALARM", StateReason="not ours")

    data = json.loads(cli("--json", "status").out)

    assert data["alarms"]["firing"] == []


def test_the_fetchers_failure_queues_are_counted(cli: Cli, ops_stack: StackResources, ops_endpoint: str) -> None:
    # Given one failed run recorded by Lambda's on-failure destination
    refs = stack_refs(ops_endpoint, ops_stack.stack_name)
    sqs = client("sqs", ops_endpoint)
    sqs.send_message(QueueUrl=refs["FetcherFailureQueue"][1], MessageBody='{"version": "1.0"}')

    text = cli("status")
    data = json.loads(cli("--json", "status").out)

    assert "fetcher failures   1 failed run · 0 undelivered ticks" in text.out
    assert data["fetcher_failures"]["failed_runs"]["visible"] == 1
    assert data["fetcher_failures"]["undelivered"] == {"visible": 0, "in_flight": 0, "delayed": 0}


def test_without_permission_to_read_alarms_the_report_says_so_instead_of_failing() -> None:
    # Given CloudWatch refusing DescribeAlarms (an operator policy from before the alarms)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(cloudwatch) as stub:
        stub.add_client_error("describe_alarms", service_error_code="AccessDenied", http_status_code=403)

        report = firing(cloudwatch, ["rl-dead-letters", "rl-worker-errors"])

    assert (report.checked, report.firing) == (2, [])
    assert report.unavailable == "DescribeAlarms refused (AccessDenied)"
    lines = render_alarms(report, datetime.now(UTC), Style(enabled=False))
    assert lines == ["Alarms  unknown: DescribeAlarms refused (AccessDenied)"]


def test_a_stack_with_more_than_a_hundred_alarms_is_read_in_batches() -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    names = [f"rl-alarm-{i:03d}" for i in range(150)]
    with Stubber(cloudwatch) as stub:
        for batch in (names[:100], names[100:]):
            stub.add_response(
                "describe_alarms",
                {"MetricAlarms": [{"AlarmName": batch[-1], "StateValue": "ALARM", "StateReason": "r"}]},
                {"AlarmNames": batch, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]},
            )

        report = firing(cloudwatch, names)

    assert [alarm.name for alarm in report.firing] == ["rl-alarm-099", "rl-alarm-149"]

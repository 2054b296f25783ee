"""template.yaml's alarms: what each watches, one topic for all (e-mail only with an address), a runbook entry each."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from local.provision import client
from local.template import load, translated
from shared.settings import Settings


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return translated()["Resources"]


def test_the_alarm_fires_on_one_visible_dead_letter_and_not_on_silence(resources: dict[str, Any]) -> None:
    alarm = resources["DeadLetterAlarm"]["Properties"]
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["FetchDeadLetterQueue", "QueueName"]}}
    ]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (300, 1, 1)
    # An idle queue publishes no datapoints: that is "nothing wrong", not "alarm".
    assert alarm["TreatMissingData"] == "notBreaching"
    assert "random-likes dlq peek" in alarm["AlarmDescription"]


def alarms(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::CloudWatch::Alarm"}


def test_the_stack_alarms_on_each_failure_the_issue_names(resources: dict[str, Any]) -> None:
    watched = {
        (
            a["Namespace"],
            a["MetricName"],
            tuple(d["Value"].get("Ref") or d["Value"]["Fn::GetAtt"][0] for d in a["Dimensions"]),
        )
        for a in alarms(resources).values()
        if a["Namespace"] != "RandomLikes"
    }
    assert watched == {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", ("FetchDeadLetterQueue",)),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", ("FetcherFailureQueue",)),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", ("FetcherScheduleDeadLetterQueue",)),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage", ("FetchQueue",)),
        ("AWS/Lambda", "Errors", ("FetcherFunction",)),
        ("AWS/Lambda", "Errors", ("WorkerFunction",)),
        ("AWS/Lambda", "Throttles", ("WorkerFunction",)),
        ("AWS/ApiGateway", "5xx", ("HttpApi", "StageName")),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", ("ImportDeadLetterQueue",)),
        ("AWS/Lambda", "Errors", ("ImportFunction",)),
    }
    rejected = alarms(resources)["SyncsRejectedAlarm"]
    # The worker's metric, as Powertools emits it: namespace RandomLikes, dimension service=worker.
    assert (rejected["MetricName"], rejected["Dimensions"]) == (
        "SyncsRejected",
        [{"Name": "service", "Value": "worker"}],
    )


def test_every_alarm_acts_through_the_one_topic_on_alarm_and_on_ok(resources: dict[str, Any]) -> None:
    for name, alarm in alarms(resources).items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["OKActions"] == [{"Ref": "AlarmTopic"}], name
    topics = [k for k, v in resources.items() if v["Type"] == "AWS::SNS::Topic"]
    assert topics == ["AlarmTopic"]


def test_every_alarm_has_a_stable_name_and_a_deliberate_missing_data_rule(resources: dict[str, Any]) -> None:
    names = set()
    for logical_id, alarm in alarms(resources).items():
        name = alarm["AlarmName"]["Fn::Sub"]
        assert re.fullmatch(r"\$\{AWS::StackName\}-[a-z0-9-]+", name), logical_id
        names.add(name)
        # Every metric watched here is silent while nothing happens; CloudWatch's default ("missing") would
        # leave an alarm in INSUFFICIENT_DATA instead of OK on a quiet day.
        assert alarm["TreatMissingData"] == "notBreaching", logical_id
    assert len(names) == len(alarms(resources))


def test_the_queue_age_threshold_sits_between_retries_and_the_fetchers_lease(resources: dict[str, Any]) -> None:
    age = alarms(resources)["FetchQueueAgeAlarm"]
    visibility = resources["FetchQueue"]["Properties"]["VisibilityTimeout"]
    # The template sets no SYNC_LEASE_SECONDS: a message older than the default lease is enqueued again.
    lease = Settings.from_env({"TABLE_NAME": "t"}).lease_seconds
    assert all("SYNC_LEASE_SECONDS" not in json.dumps(r) for r in resources.values())
    # SQS leaves a message out of ApproximateAgeOfOldestMessage after its third receive: two timeouts at most.
    assert 2 * visibility < age["Threshold"] < lease
    assert age["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_the_topic_always_exists_and_emails_only_when_an_address_is_given(resources: dict[str, Any]) -> None:
    template = load()
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    assert template["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    topic = resources["AlarmTopic"]
    assert "Condition" not in topic
    assert topic["Properties"]["Subscription"] == {
        "Fn::If": [
            "HasAlarmEmail",
            [{"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}],
            {"Ref": "AWS::NoValue"},
        ]
    }
    outputs = translated()["Outputs"]
    assert "Condition" not in outputs["AlarmTopicArn"]
    assert outputs["AlarmTopicArn"]["Value"] == {"Ref": "AlarmTopic"}
    assert outputs["DeadLetterAlarmName"]["Value"] == {"Ref": "DeadLetterAlarm"}


def test_cloudformation_creates_the_topic_always_and_its_subscription_only_with_an_address(
    ops_endpoint: str, aws_env: None
) -> None:
    # Given the topic's part of the translated template (moto's CloudFormation evaluates its condition)
    template = translated()
    part = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"AlarmEmail": template["Parameters"]["AlarmEmail"]},
        "Conditions": {"HasAlarmEmail": template["Conditions"]["HasAlarmEmail"]},
        "Resources": {"AlarmTopic": template["Resources"]["AlarmTopic"]},
    }
    cloudformation = client("cloudformation", ops_endpoint)

    # When it is deployed once without an address and once with one (stacks named for this run alone)
    run = uuid.uuid4().hex[:8]
    subscriptions = {}
    for label, email in (("quiet", ""), ("mail", "ops@example.com")):
        stack = f"alarm-{label}-{run}"
        cloudformation.create_stack(
            StackName=stack,
            TemplateBody=json.dumps(part),
            Parameters=[{"ParameterKey": "AlarmEmail", "ParameterValue": email}],
        )
        resources = cloudformation.describe_stack_resources(StackName=stack)["StackResources"]
        (topic_arn,) = [r["PhysicalResourceId"] for r in resources if r.get("LogicalResourceId") == "AlarmTopic"]
        found = client("sns", ops_endpoint).list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
        subscriptions[label] = [(s["Protocol"], s["Endpoint"]) for s in found]

    # Then both have the topic, and only the second e-mails the address
    assert subscriptions == {"quiet": [], "mail": [("email", "ops@example.com")]}


def test_the_email_parameter_refuses_what_is_not_an_address() -> None:
    pattern = re.compile(load()["Parameters"]["AlarmEmail"]["AllowedPattern"])
    assert pattern.fullmatch("")
    assert pattern.fullmatch("ops@example.com")
    assert not pattern.fullmatch("ops at example.com")
    assert not pattern.fullmatch("ops@localhost")


RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def runbook_entries() -> dict[str, str]:
    """docs/operations.md's sections headed by an alarm's name (### `<stack>-what`), by `what`."""
    entries = {}
    for section in RUNBOOK.read_text(encoding="utf-8").split("\n### ")[1:]:
        heading, _, body = section.partition("\n")
        if found := re.fullmatch(r"`<stack>-([a-z0-9-]+)`", heading.strip()):
            entries[found.group(1)] = body.split("\n## ", 1)[0]
    return entries


def test_every_alarm_has_a_runbook_entry_and_every_entry_an_alarm(resources: dict[str, Any]) -> None:
    names = {a["AlarmName"]["Fn::Sub"].removeprefix("${AWS::StackName}-") for a in alarms(resources).values()}
    assert set(runbook_entries()) == names


@pytest.mark.parametrize("part", ["**Means.**", "**Look.**", "**Do.**", "**Cleared.**"])
def test_each_runbook_entry_says_what_it_means_where_to_look_what_to_do_and_how_it_clears(part: str) -> None:
    missing = [name for name, body in runbook_entries().items() if part not in body]
    assert missing == []


def test_each_alarm_points_at_the_runbook(resources: dict[str, Any]) -> None:
    for logical_id, alarm in alarms(resources).items():
        assert "docs/operations.md" in alarm["AlarmDescription"], logical_id

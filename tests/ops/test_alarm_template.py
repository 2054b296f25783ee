"""template.yaml's dead-letter alarm: fires on one visible dead letter, e-mails only when an address is given."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from local.provision import client
from local.template import load, translated


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


def test_the_email_topic_exists_only_when_an_address_is_given(resources: dict[str, Any]) -> None:
    template = load()
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    assert template["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    topic = resources["DeadLetterAlarmTopic"]
    assert topic["Condition"] == "HasAlarmEmail"
    assert topic["Properties"]["Subscription"] == [{"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}]
    outputs = translated()["Outputs"]
    assert outputs["DeadLetterAlarmTopicArn"]["Condition"] == "HasAlarmEmail"
    assert outputs["DeadLetterAlarmName"]["Value"] == {"Ref": "DeadLetterAlarm"}


def test_the_alarm_acts_only_through_the_topic_and_only_when_it_exists(resources: dict[str, Any]) -> None:
    alarm = resources["DeadLetterAlarm"]["Properties"]
    conditional = {"Fn::If": ["HasAlarmEmail", [{"Ref": "DeadLetterAlarmTopic"}], {"Ref": "AWS::NoValue"}]}
    assert alarm["AlarmActions"] == conditional
    assert alarm["OKActions"] == conditional


def test_cloudformation_creates_the_topic_and_its_subscription_only_with_an_address(
    ops_endpoint: str, aws_env: None
) -> None:
    # Given the alarm's part of the translated template (moto's CloudFormation evaluates its condition;
    # it has no AWS::CloudWatch::Alarm, so the alarm itself is skipped there and checked above)
    template = translated()
    part = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"AlarmEmail": template["Parameters"]["AlarmEmail"]},
        "Conditions": {"HasAlarmEmail": template["Conditions"]["HasAlarmEmail"]},
        "Resources": {name: template["Resources"][name] for name in ("FetchDeadLetterQueue", "DeadLetterAlarmTopic")},
    }
    cloudformation = client("cloudformation", ops_endpoint)

    # When it is deployed once without an address and once with one
    topics = {}
    for stack, email in (("alarm-quiet", ""), ("alarm-mail", "ops@example.com")):
        cloudformation.create_stack(
            StackName=stack,
            TemplateBody=json.dumps(part),
            Parameters=[{"ParameterKey": "AlarmEmail", "ParameterValue": email}],
        )
        resources = cloudformation.describe_stack_resources(StackName=stack)["StackResources"]
        topics[stack] = [
            r["PhysicalResourceId"] for r in resources if r.get("LogicalResourceId") == "DeadLetterAlarmTopic"
        ]

    # Then only the second has a topic, and that topic e-mails the address
    assert topics["alarm-quiet"] == []
    (topic_arn,) = topics["alarm-mail"]
    subscriptions = client("sns", ops_endpoint).list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "ops@example.com")]


def test_the_email_parameter_refuses_what_is_not_an_address() -> None:
    pattern = re.compile(load()["Parameters"]["AlarmEmail"]["AllowedPattern"])
    assert pattern.fullmatch("")
    assert pattern.fullmatch("ops@example.com")
    assert not pattern.fullmatch("ops at example.com")
    assert not pattern.fullmatch("ops@localhost")

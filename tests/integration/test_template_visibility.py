"""template.yaml's visibility pieces as CloudFormation will see them: the fetcher's failure paths and the HTTP
API's access log (the alarms are tests/ops/test_alarm_template.py's, the permissions test_iam.py's)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from local.stack.schedule_expressions import Rate, parse
from local.template import translated

# What the access log holds, and nothing else: no header, cookie, query string or path (a path names a
# subscription, which may be private).
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "integrationError": "$context.integrationErrorMessage",
    "integrationLatency": "$context.integrationLatency",
}


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return translated()["Resources"]


def test_the_http_api_writes_one_json_line_per_request_with_only_the_chosen_fields(resources: dict[str, Any]) -> None:
    settings = resources["HttpApiStage"]["Properties"]["AccessLogSettings"]
    assert json.loads(settings["Format"]) == ACCESS_LOG_FIELDS
    assert not re.search(r"header|cookie|querystring|\$input|\$context\.path|authorizer", settings["Format"], re.I)
    assert settings["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}


def test_the_access_log_has_its_own_group_kept_as_long_as_the_functions_logs(resources: dict[str, Any]) -> None:
    group = resources["ApiAccessLogGroup"]["Properties"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert group["RetentionInDays"] == resources["ApiLogGroup"]["Properties"]["RetentionInDays"]
    # CloudWatch Logs' account-wide delivery policy covers /aws/vendedlogs/* with one wildcard.
    assert group["LogGroupName"] == {"Fn::Sub": "/aws/vendedlogs/${AWS::StackName}/http-api-access"}


def test_a_fetcher_run_that_fails_all_attempts_goes_to_its_failure_queue(resources: dict[str, Any]) -> None:
    config = resources["FetcherFunctionEventInvokeConfig"]["Properties"]
    assert config["FunctionName"] == {"Ref": "FetcherFunction"}
    assert config["Qualifier"] == "$LATEST"
    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": ["FetcherFailureQueue", "Arn"]}}}
    # A run older than the lease (an hour) has been superseded by twelve ticks: no point starting it.
    assert config["MaximumEventAgeInSeconds"] <= 3600


def test_an_undelivered_tick_is_retried_for_one_schedule_period_then_dead_lettered(resources: dict[str, Any]) -> None:
    rule = resources["FetcherFunctionSchedule"]["Properties"]
    (target,) = rule["Targets"]
    period = parse(rule["ScheduleExpression"])
    assert isinstance(period, Rate)
    # Beyond one period the next tick does the same work: a late retry would only duplicate it.
    assert 60 <= target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= period.seconds
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["FetcherScheduleDeadLetterQueue", "Arn"]}}


@pytest.mark.parametrize(
    ("queue", "name"),
    [("FetcherFailureQueue", "fetcher-failures"), ("FetcherScheduleDeadLetterQueue", "fetcher-schedule-dlq")],
)
def test_the_failure_queues_are_named_encrypted_and_keep_what_they_hold_two_weeks(
    resources: dict[str, Any], queue: str, name: str
) -> None:
    props = resources[queue]["Properties"]
    assert props["QueueName"] == {"Fn::Sub": f"${{AWS::StackName}}-{name}"}
    assert props["SqsManagedSseEnabled"] is True
    assert props["MessageRetentionPeriod"] == 14 * 24 * 3600
    # Nothing polls them: an operator reads them, so no redrive policy and no event source mapping.
    assert "RedrivePolicy" not in props
    assert not any(
        r["Type"] == "AWS::Lambda::EventSourceMapping" and r["Properties"]["EventSourceArn"]["Fn::GetAtt"][0] == queue
        for r in resources.values()
    )

"""template.yaml as CloudFormation will see it: cfn-lint on the source and on what SAM generates from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cfnlint.api import lint_all, lint_file

from local.template import TEMPLATE_PATH, translated


def _errors(matches: list[object]) -> list[str]:
    return [str(m) for m in matches if getattr(getattr(m, "rule", None), "severity", "error") in {"error", "warning"}]


def test_cfn_lint_passes_on_template_yaml() -> None:
    assert _errors(lint_file(TEMPLATE_PATH)) == []


def test_cfn_lint_passes_on_the_sam_generated_template(tmp_path: Path) -> None:
    # cfn-lint >= 1.54 no longer lints what SAM generates: the translated run catches what the first misses.
    assert _errors(lint_all(json.dumps(translated()))) == []


def test_the_fetch_queue_outlasts_the_worker_and_has_a_dead_letter_queue() -> None:
    resources = translated()["Resources"]
    queue = resources["FetchQueue"]["Properties"]
    worker = resources["WorkerFunction"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * worker["Timeout"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 5
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["FetchDeadLetterQueue", "Arn"]}
    allow = resources["FetchDeadLetterQueue"]["Properties"]["RedriveAllowPolicy"]
    assert allow["redrivePermission"] == "byQueue"
    assert allow["sourceQueueArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${AWS::StackName}-fetch"}
    ]
    assert queue["QueueName"] == {"Fn::Sub": "${AWS::StackName}-fetch"}


@pytest.mark.parametrize("function", ["FetcherFunction", "WorkerFunction", "ApiFunction"])
def test_every_function_logs_to_its_own_group_with_a_retention(function: str) -> None:
    resources = translated()["Resources"]
    group = resources[function]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    assert "RetentionInDays" in resources[group]["Properties"]


def test_the_table_has_point_in_time_recovery_and_the_sparse_due_index() -> None:
    table = translated()["Resources"]["LikesTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "DueIndex"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["due_pk", "next_sync_at"]

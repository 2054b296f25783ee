"""Least privilege, held against the SAM-transformed template: docs/permissions.md is the expected table.

The template is transformed offline with aws-sam-translator (what CloudFormation would receive), every
role statement and every AWS::Lambda::Permission is reduced to a readable row, and the rows must equal the
tables in docs/permissions.md exactly — no more, no less.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from local.template import translated

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
FUNCTIONS = ("FetcherFunction", "WorkerFunction", "ApiFunction", "ImportFunction")
# The imports bucket is named from the stack id (a reference would be a cycle): the doc calls it ImportsBucket.
STACK_ID_PART = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}
IMPORTS_BUCKET_ARN = "arn:${AWS::Partition}:s3:::random-likes-imports-${Id}"


def readable(value: Any) -> str:
    """A resource or source ARN as the doc writes it: logical ids instead of intrinsics."""
    if isinstance(value, str):
        return value
    if "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    if "Ref" in value:
        return str(value["Ref"])
    if "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        text, names = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])
        if names == {"Id": STACK_ID_PART} and text.startswith(IMPORTS_BUCKET_ARN):
            return "ImportsBucket" + text.removeprefix(IMPORTS_BUCKET_ARN)
        for name, ref in names.items():
            replacement = "*" if ref == "*" else readable(ref)
            text = text.replace("${" + name + "}", replacement)
        text = re.sub(r"\$\{(\w+)\.Arn\}", r"\1", text)
        return re.sub(r"^arn:\$\{AWS::Partition\}:[a-z-]+:\$\{AWS::Region\}:\$\{AWS::AccountId\}:", "", text)
    raise AssertionError(f"unexpected intrinsic {value}")


def scoped(statement: dict[str, Any]) -> str:
    """A role statement's resource and, if it has one, its condition, as the doc writes them:
    `LikesTable (ForAllValues:StringEquals dynamodb:LeadingKeys = APP)`."""
    resource = readable(statement["Resource"])
    terms = [
        f"{operator} {key} = {', '.join(values) if isinstance(values, list) else values}"
        for operator, tests in statement.get("Condition", {}).items()
        for key, values in tests.items()
    ]
    return f"{resource} ({'; '.join(terms)})" if terms else resource


def doc_table(heading: str) -> set[tuple[str, ...]]:
    """The rows of the first table under `heading` in docs/permissions.md."""
    lines = DOC.read_text(encoding="utf-8").split(heading, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = []
    for line in lines[start + 2 :]:  # after the header and its |---| line, until the table ends
        if not line.startswith("|"):
            break
        table.append(tuple(cell.strip() for cell in line.strip("|").split("|")))
    return set(table)


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return translated()["Resources"]


def actions_of(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return list(action) if isinstance(action, list) else [action]


def role_of(resources: dict[str, Any], function: str) -> dict[str, Any]:
    role = resources[function]["Properties"]["Role"]
    return resources[readable(role)]


def test_every_role_grants_exactly_the_documented_actions(resources: dict[str, Any]) -> None:
    actual = set()
    for function in FUNCTIONS:
        role = role_of(resources, function)
        assert not role["Properties"].get("ManagedPolicyArns"), f"{function}: managed policies grant too much"
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow"
                actual.add((function, ", ".join(actions_of(statement)), scoped(statement)))
    expected = {row for row in doc_table("## Execution roles")}
    assert actual == expected


def test_each_push_permission_is_scoped_to_its_own_source_and_the_worker_has_none(
    resources: dict[str, Any],
) -> None:
    actual = set()
    for resource in resources.values():
        if resource["Type"] != "AWS::Lambda::Permission":
            continue
        props = resource["Properties"]
        assert props["Action"] == "lambda:InvokeFunction"
        function = readable(props["FunctionName"])
        source = readable(props["SourceArn"]).replace("execute-api:", "")
        if function == "FetcherFunction":
            source += " (the schedule's own rule)"
        actual.add((function, props["Principal"], source))
    assert actual == doc_table("### Resource-based policies")
    assert not any(function == "WorkerFunction" for function, _, _ in actual)


def test_the_worker_and_the_importer_each_poll_exactly_their_own_queue_in_pull_mode(resources: dict[str, Any]) -> None:
    mappings = {
        readable(m["Properties"]["FunctionName"]): m["Properties"]
        for m in resources.values()
        if m["Type"] == "AWS::Lambda::EventSourceMapping"
    }
    own_queue = {"WorkerFunction": "FetchQueue", "ImportFunction": "ImportQueue"}
    assert {function: readable(m["EventSourceArn"]) for function, m in mappings.items()} == own_queue
    for mapping in mappings.values():
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["ScalingConfig"]["MaximumConcurrency"] >= 2

    poll = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
    for function in FUNCTIONS:
        for policy in role_of(resources, function)["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = set(actions_of(statement))
                if actions & poll:
                    assert function in own_queue
                    assert actions == poll
                    assert readable(statement["Resource"]) == own_queue[function]


def test_only_the_worker_may_read_the_x_credentials(resources: dict[str, Any]) -> None:
    readers = {
        function
        for function in FUNCTIONS
        for statement in statements_of(resources, function)
        if any(action.startswith(("ssm:", "secretsmanager:")) for action in actions_of(statement))
        and readable(statement["Resource"]) == "parameter${XCredentialsParameter}"
    }
    assert readers == {"WorkerFunction"}


READS_AN_ITEM = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:*"}
# An UpdateItem or DeleteItem can also read (ReturnValues ALL_OLD / ALL_NEW).
RETURNS_AN_ITEM = {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:TransactGetItems"}


def test_only_the_worker_can_read_tokens_and_the_api_can_only_write_them(resources: dict[str, Any]) -> None:
    """What each role may do with TokensTable and TokensKey: the api may put and encrypt, never get or decrypt."""
    token_rights: dict[str, set[str]] = {function: set() for function in FUNCTIONS}
    for function in FUNCTIONS:
        for statement in statements_of(resources, function):
            resource = statement["Resource"]
            resource_list = resource if isinstance(resource, list) else [resource]
            names = {readable(r) for r in resource_list}
            assert "*" not in names or not any(a.startswith(("kms:", "dynamodb:")) for a in actions_of(statement))
            if names & {"TokensTable", "TokensKey"}:
                token_rights[function] |= set(actions_of(statement))
    assert token_rights["FetcherFunction"] == set()
    assert token_rights["ApiFunction"] == {"dynamodb:PutItem", "kms:Encrypt"}
    assert not token_rights["ApiFunction"] & (READS_AN_ITEM | RETURNS_AN_ITEM | {"kms:Decrypt", "kms:*"})
    assert {"dynamodb:GetItem", "kms:Decrypt"} <= token_rights["WorkerFunction"]
    # The key policy grants no principal but the account's administration: use is the roles' to grant.
    policy = resources["TokensKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert [readable(s["Principal"]["AWS"]) for s in policy] == ["arn:${AWS::Partition}:iam::${AWS::AccountId}:root"]


def statements_of(resources: dict[str, Any], function: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in role_of(resources, function)["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def test_every_queue_and_topic_policy_grants_exactly_the_documented_rows(resources: dict[str, Any]) -> None:
    actual = set()
    for resource in resources.values():
        if resource["Type"] not in {"AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"}:
            continue
        props = resource["Properties"]
        attached = {readable(target) for target in props.get("Queues", props.get("Topics", []))}
        for statement in props["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            assert readable(statement["Resource"]) in attached, "a policy grants only on the queue it is attached to"
            # A service principal without a source condition would let any rule or API in the account send.
            # S3 also names the bucket's account: a bucket name is global, and could be taken by another
            # account once this stack's bucket is gone.
            condition = statement["Condition"]
            assert list(condition["ArnEquals"]) == ["aws:SourceArn"]
            if statement["Principal"]["Service"] == "s3.amazonaws.com":
                assert condition == {
                    "ArnEquals": condition["ArnEquals"],
                    "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                }
            else:
                assert list(condition) == ["ArnEquals"]
            source = readable(condition["ArnEquals"]["aws:SourceArn"])
            principal = statement["Principal"]["Service"]
            actual.add((readable(statement["Resource"]), principal, ", ".join(actions_of(statement)), source))
    assert actual == doc_table("### Queue and topic policies")


def test_each_rule_target_dead_letter_queue_may_be_written_by_that_rule_alone(resources: dict[str, Any]) -> None:
    documented = doc_table("### Queue and topic policies")
    dead_letter_targets = [
        (logical_id, readable(target["DeadLetterConfig"]["Arn"]))
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Events::Rule"
        for target in resource["Properties"]["Targets"]
        if "DeadLetterConfig" in target
    ]
    assert dead_letter_targets == [("FetcherFunctionSchedule", "FetcherScheduleDeadLetterQueue")]
    for rule, queue in dead_letter_targets:
        writers = {row for row in documented if row[0] == queue}
        assert writers == {(queue, "events.amazonaws.com", "sqs:SendMessage", rule)}


def test_each_on_failure_destination_is_sent_to_by_its_own_functions_role_only(resources: dict[str, Any]) -> None:
    configs = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::EventInvokeConfig"]
    assert len(configs) == 1
    for config in configs:
        function = readable(config["FunctionName"])
        destination = readable(config["DestinationConfig"]["OnFailure"]["Destination"])
        senders = {
            sender
            for sender in FUNCTIONS
            for statement in statements_of(resources, sender)
            if "sqs:SendMessage" in actions_of(statement) and readable(statement["Resource"]) == destination
        }
        assert (function, destination, senders) == ("FetcherFunction", "FetcherFailureQueue", {"FetcherFunction"})


def test_only_the_api_may_write_uploads_and_only_the_importer_may_read_or_delete_them(
    resources: dict[str, Any],
) -> None:
    """Who may do what in the imports bucket: the api presigns uploads (PutObject), the importer reads and
    deletes them, both on the uploads/ prefix only; nobody lists, and the bucket is private and TLS-only."""
    rights: dict[str, set[tuple[str, str]]] = {function: set() for function in FUNCTIONS}
    for function in FUNCTIONS:
        for statement in statements_of(resources, function):
            if any(action.startswith("s3:") for action in actions_of(statement)):
                for action in actions_of(statement):
                    rights[function].add((action, readable(statement["Resource"])))
    assert rights == {
        "FetcherFunction": set(),
        "WorkerFunction": set(),
        "ApiFunction": {("s3:PutObject", "ImportsBucket/uploads/*")},
        "ImportFunction": {("s3:GetObject", "ImportsBucket/uploads/*"), ("s3:DeleteObject", "ImportsBucket/uploads/*")},
    }
    bucket = resources["ImportsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    # The bucket policy only denies: plain-http requests, whoever makes them. It grants nothing.
    statements = resources["ImportsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert [(s["Effect"], s["Principal"], s["Action"], s["Condition"]) for s in statements] == [
        ("Deny", "*", "s3:*", {"Bool": {"aws:SecureTransport": "false"}})
    ]
    # The bucket notifies the import queue of uploads only, and only S3 on behalf of this bucket may send there.
    (notification,) = bucket["NotificationConfiguration"]["QueueConfigurations"]
    assert notification["Event"] == "s3:ObjectCreated:*"
    assert readable(notification["Queue"]) == "ImportQueue"
    assert notification["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "uploads/"}]
    assert bucket["BucketName"]["Fn::Sub"][1] == {"Id": STACK_ID_PART}
    assert resources["ImportsBucket"]["DependsOn"] == "ImportQueuePolicy"

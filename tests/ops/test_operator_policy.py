"""docs/operations.md's IAM policy is exactly what the CLI asks AWS for: no action missing, none to spare.

Every command runs with --endpoint-url pointed at a loopback proxy in front of moto. The proxy notes each
request's service (from the SigV4 credential scope), operation and resource (queue, table, index, stack)
and forwards it unchanged, so boto3's and pynamodb's calls are seen alike. Each noted call must be allowed
by a statement of the documented policy, and each documented action must be used — but for the three that
only exist on AWS (moto has no move-task API and no SQS metrics), which the Stubber tests cover.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from local.provision import REGION, StackResources, client, data_template, provision, put_x_credentials
from local.xsim import XSim
from ops.cli import main
from shared.store import Stores
from shared.store.items import PROFILE_SK, ProfileItem, bind, post_sk, slot_sk, subscriber_pk
from tests.support.recording_endpoint import RecordingEndpoint

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
ACCOUNT = "123456789012"  # moto's
# The IAM action of an API call, where it is not the call's own name.
BATCH_ACTIONS = {
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
}
# The IAM service prefix of a SigV4 signing name, where they differ.
SIGNING_NAMES = {"monitoring": "cloudwatch"}
# moto's stack has no functions (make dev runs them in-process), so `cost` reads their sizes from template.yaml.
AWS_ONLY = {
    "sqs:StartMessageMoveTask",
    "sqs:CancelMessageMoveTask",
    "cloudwatch:GetMetricStatistics",
    "lambda:GetFunctionConfiguration",
}


@dataclass(frozen=True)
class Call:
    action: str  # e.g. sqs:ReceiveMessage
    resource: str  # the ARN IAM would check


def describe(headers: dict[str, str], body: bytes, path: str = "") -> list[Call]:
    """The IAM action and resource(s) of one signed request (JSON protocols and CloudFormation's query one).

    A DescribeAlarms naming several alarms is one call per alarm: IAM checks each named alarm. A presigned S3
    POST (the archive upload) carries its signature in its form, not in a header: it is s3:PutObject on its key."""
    if "Authorization" not in headers and path:
        return [presigned_post(headers, body, path)]
    service = re.search(r"Credential=[^/]+/\d+/[^/]+/([^/]+)/", headers.get("Authorization", ""))
    assert service, "every request is signed"
    name = SIGNING_NAMES.get(service.group(1), service.group(1))
    target = headers.get("X-Amz-Target", "")
    if target:
        operation = target.rsplit(".", 1)[-1]
        params: dict[str, Any] = json.loads(body or b"{}")
    else:
        form = parse_qs(body.decode())
        operation = form["Action"][0]
        params = {key: values[0] for key, values in form.items()}
    operation = BATCH_ACTIONS.get(operation, operation)
    arn = f"arn:aws:{name}:{REGION}:{ACCOUNT}:"
    if name == "sqs":
        queue = (
            (params.get("QueueUrl") or params.get("SourceArn") or "").rstrip("/").replace(":", "/").rsplit("/", 1)[-1]
        )
        resource = arn + queue
    elif name == "dynamodb" and operation == "TransactWriteItems":
        # IAM checks each item's own action on its own table.
        kinds = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
        }
        return [
            Call(f"dynamodb:{kinds[kind]}", arn + f"table/{spec['TableName']}")
            for item in params["TransactItems"]
            for kind, spec in item.items()
        ]
    elif name == "dynamodb" and operation in ("BatchWriteItem", "BatchGetItem"):
        return [Call(f"dynamodb:{operation}", arn + f"table/{table}") for table in params["RequestItems"]]
    elif name == "ssm":
        resource = arn + "parameter" + params["Name"]
    elif name == "dynamodb":
        resource = (
            arn + f"table/{params['TableName']}" + (f"/index/{params['IndexName']}" if "IndexName" in params else "")
        )
    elif name == "cloudformation":
        resource = arn + f"stack/{params['StackName']}/id"
    elif name == "cloudwatch" and operation == "DescribeAlarms":
        return [Call(f"{name}:{operation}", arn + f"alarm:{alarm}") for alarm in params["AlarmNames"]]
    else:
        resource = "*"
    return [Call(f"{name}:{operation}", resource)]


def presigned_post(headers: dict[str, str], body: bytes, path: str) -> Call:
    """The bucket is the path's first part (path style, as under --endpoint-url); the key is the form's."""
    kind = next(v for k, v in headers.items() if k.lower() == "content-type")
    assert kind.startswith("multipart/form-data"), kind
    key = re.search(rb'name="key"\r\n\r\n([^\r]+)\r\n', body)
    assert key, "a presigned POST names its key"
    assert re.search(rb'name="x-amz-credential"\r\n\r\n[^/]+/\d+/[^/]+/s3/aws4_request', body), "signed for S3"
    bucket = path.strip("/").split("/", 1)[0]
    return Call("s3:PutObject", f"arn:aws:s3:::{bucket}/{key.group(1).decode()}")


def documented_policy() -> dict[str, Any]:
    text = DOC.read_text(encoding="utf-8").split("<!-- operator-policy -->", 1)[1]
    block = text.split("```json", 1)[1].split("```", 1)[0]
    policy: dict[str, Any] = json.loads(block)
    return policy


def allowed(policy: dict[str, Any], call: Call) -> bool:
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        patterns = [r.replace("REGION", REGION).replace("ACCOUNT_ID", ACCOUNT) for r in resources]
        if call.action in actions and any(fnmatch.fnmatchcase(call.resource, p) for p in patterns):
            return True
    return False


@pytest.fixture
def proxy(ops_endpoint: str) -> Iterator[RecordingEndpoint]:
    with RecordingEndpoint(upstream=ops_endpoint) as endpoint:
        yield endpoint


@pytest.fixture
def default_stack(ops_endpoint: str, aws_env: None, xsim: XSim) -> Iterator[StackResources]:
    """The stack under its default name, which the documented policy is written for. The name cannot be this
    test's own, so the stack is deleted after it: a rerun in the same moto gets new queues and a new table.
    Its X is the simulator (on loopback), with the operator's credentials where the default parameter says."""
    template = data_template(None, "random-likes", {"XApiBaseUrl": xsim.base_url})
    put_x_credentials(ops_endpoint, "/random-likes/prod/x-credentials", xsim.oauth1_credentials("demo").as_dict())
    yield provision(ops_endpoint, "random-likes", template=template)
    client("cloudformation", ops_endpoint).delete_stack(StackName="random-likes")


def test_the_documented_policy_allows_every_call_and_names_no_action_the_cli_does_not_use(
    proxy: RecordingEndpoint,
    default_stack: StackResources,
    xsim: XSim,
    ops_endpoint: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    url = proxy.url
    # Given a subscriber and a dead letter in the default stack. (Through the proxy too: pynamodb keeps one
    # connection per item class, table and URL, so stores on moto's own URL would take the CLI's calls past it.)
    now = datetime.now(UTC)
    # stored before accounts (keyed by name) and synced once (its X user id known, one like), so that `migrate`
    # has it to move
    stores = Stores.open(default_stack.table_name, REGION, url)
    legacy, _ = stores.subscribers.create_subscriber("demo", "demo", now, now)
    stores.subscribers.set_x_user(legacy, xsim.user_id("demo"), "demo")
    table = bind(default_stack.table_name, REGION, url)
    table.slot(
        subscriber_pk("demo"), slot_sk(0), post_id="20", post={"id": "20", "text": "hi"}, first_seen_at=now
    ).save()
    table.marker(subscriber_pk("demo"), post_sk("20"), slot=0).save()
    table.profile(subscriber_pk("demo"), PROFILE_SK).update(actions=[ProfileItem.like_count.set(1)])
    client("sqs", ops_endpoint).send_message(QueueUrl=default_stack.dlq_url, MessageBody='{"username": "demo"}')
    client("sqs", ops_endpoint).send_message(QueueUrl=default_stack.import_dlq_url, MessageBody='{"Records": []}')
    like_js = tmp_path / "like.js"
    like_js.write_text('window.YTD.like.part0 = [{"like": {"tweetId": "20", "fullText": "hi"}}]')
    setting_up = len(proxy.requests)

    # When an operator runs every command through the proxy
    for command in (
        ["status"],
        ["cost"],
        ["cost", "--days", "7"],
        ["dlq", "peek"],
        ["dlq", "redrive", "--dry-run"],
        ["dlq", "redrive"],
        ["subscribers", "list"],
        ["subscribers", "show", "demo"],
        ["sync", "demo"],
        ["migrate"],
        ["subscribers", "add", "demo"],
        ["dlq", "redrive", "--queue", "import"],
        ["import", str(like_js), "--username", "demo", "--no-wait"],
    ):
        assert main(["--endpoint-url", url, *command]) == 0, capsys.readouterr().err

    # Then the documented policy allows every request made, on its exact resource
    calls = [
        call
        for request in proxy.requests[setting_up:]
        for call in describe(request.headers, request.body, request.path)
    ]
    policy = documented_policy()
    refused = sorted({f"{c.action} on {c.resource}" for c in calls if not allowed(policy, c)})
    assert refused == [], refused
    # And every action it grants was used (or exists only on AWS, where the Stubber tests hold it)
    granted = {
        action
        for statement in policy["Statement"]
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    }
    assert granted - {c.action for c in calls} == AWS_ONLY

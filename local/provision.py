"""Create the template's tables and queues in moto, from the SAM-transformed template.yaml itself.

Only the data resources (DynamoDB tables, SQS queues with their redrive policies) are created, through moto's
CloudFormation so `!GetAtt` redrive targets and names resolve as on AWS. Never an EventSourceMapping: moto
would invoke on every SendMessage and steal receives from the offline poller.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

from local.template import translated

DATA_TYPES = ("AWS::DynamoDB::Table", "AWS::SQS::Queue")
REGION = "us-east-1"
# moto accepts any credentials; these only keep botocore from looking for real ones.
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass(frozen=True)
class StackResources:
    stack_name: str
    table_name: str
    queue_url: str
    dlq_url: str

    def function_env(self) -> dict[str, str]:
        """What the template's Globals give every function, resolved for this stack."""
        return {"TABLE_NAME": self.table_name, "FETCH_QUEUE_URL": self.queue_url}


def client(service: str, endpoint_url: str, region: str = REGION) -> Any:
    factory: Any = boto3.client  # boto3-stubs types one overload per service; this picks the service at run time
    return factory(service, endpoint_url=endpoint_url, region_name=region, **LOCAL_CREDENTIALS)


def data_template(template: dict[str, Any] | None = None) -> dict[str, Any]:
    source = template or translated()
    resources = {k: v for k, v in source["Resources"].items() if v["Type"] in DATA_TYPES}
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def provision(
    endpoint_url: str, stack_name: str = "random-likes", region: str = REGION, template: dict[str, Any] | None = None
) -> StackResources:
    """Create (or find, if it is already there) the stack's data resources in moto.

    `template`: the translated template to take them from (default: template.yaml with its default parameters).
    """
    cloudformation = client("cloudformation", endpoint_url, region)
    existing = {
        s["StackName"] for s in cloudformation.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"
    }
    if stack_name not in existing:
        cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps(data_template(template)))
    return describe(endpoint_url, stack_name, region)


def stack_refs(endpoint_url: str, stack_name: str, region: str = REGION) -> dict[str, tuple[str, str]]:
    """Each data resource of the stack: logical id -> (its type, what `!Ref` returns: a table's name, a queue's
    URL as moto serves it — CloudFormation reports AWS's URL form)."""
    cloudformation = client("cloudformation", endpoint_url, region)
    sqs = client("sqs", endpoint_url, region)
    refs: dict[str, tuple[str, str]] = {}
    for resource in cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]:
        kind, physical = resource["ResourceType"], resource["PhysicalResourceId"]
        if kind == "AWS::SQS::Queue":
            physical = sqs.get_queue_url(QueueName=physical.rstrip("/").rsplit("/", 1)[-1])["QueueUrl"]
        refs[resource["LogicalResourceId"]] = (kind, physical)
    return refs


def describe(endpoint_url: str, stack_name: str = "random-likes", region: str = REGION) -> StackResources:
    refs = stack_refs(endpoint_url, stack_name, region)
    return StackResources(
        stack_name=stack_name,
        table_name=refs["LikesTable"][1],
        queue_url=refs["FetchQueue"][1],
        dlq_url=refs["FetchDeadLetterQueue"][1],
    )


def put_x_credentials(endpoint_url: str, name: str, credentials: dict[str, str], region: str = REGION) -> None:
    """Store X credentials as the deployed stack expects them: a SecureString of JSON."""
    client("ssm", endpoint_url, region).put_parameter(
        Name=name, Value=json.dumps(credentials), Type="SecureString", Overwrite=True
    )

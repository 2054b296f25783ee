"""Create the template's tables, queues and alarms in moto, from the SAM-transformed template.yaml itself.

Only what moto keeps is created — DynamoDB tables, SQS queues with their redrive policies, the SNS topic,
the imports bucket (its queue notification set through S3's API: moto's CloudFormation ignores it) and
the CloudWatch alarms (the last through local/moto_fixes.py) — through moto's CloudFormation, so `!GetAtt`
redrive targets and names resolve as on AWS and `describe_stack_resources` lists them. Never an
EventSourceMapping: moto would invoke on every SendMessage and steal receives from the offline poller. Queue
policies and Lambda's invoke configs are left out: moto enforces neither (the offline stack reads the latter
from the template itself).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from local.stack.cfn import ACCOUNT_ID, physical_name
from local.template import translated

DATA_TYPES = (
    "AWS::DynamoDB::Table",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::CloudWatch::Alarm",
    "AWS::KMS::Key",
    "AWS::KMS::Alias",
    "AWS::S3::Bucket",
)
# What moto's CloudFormation cannot create of a resource it otherwise can: left out here (the offline stack
# applies a bucket's CORS itself, for its own origin; see local/stack).
_UNSUPPORTED_PROPERTIES = {"AWS::S3::Bucket": ("CorsConfiguration",)}
REGION = "us-east-1"
# moto accepts any credentials; these only keep botocore from looking for real ones.
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass(frozen=True)
class StackResources:
    stack_name: str
    table_name: str
    queue_url: str
    dlq_url: str
    imports_bucket: str = ""
    import_queue_url: str = ""
    import_dlq_url: str = ""

    def function_env(self) -> dict[str, str]:
        """What the template's Globals give every function, resolved for this stack."""
        return {"TABLE_NAME": self.table_name, "FETCH_QUEUE_URL": self.queue_url}


def client(service: str, endpoint_url: str, region: str = REGION) -> Any:
    factory: Any = boto3.client  # boto3-stubs types one overload per service; this picks the service at run time
    return factory(service, endpoint_url=endpoint_url, region_name=region, **LOCAL_CREDENTIALS)


def data_template(
    template: dict[str, Any] | None, stack_name: str, parameters: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The resources of DATA_TYPES, with what they need to resolve in moto.

    `parameters` (overrides) become the parameters' defaults, so the stack is created with the values the
    offline stack runs with. A Ref to a resource left out (an alarm's function name, the API id) becomes the
    name the offline stack gives that resource (local.stack.cfn.physical_name), since moto cannot resolve it.
    """
    source = template or translated()
    resources = {k: v for k, v in source["Resources"].items() if v["Type"] in DATA_TYPES}
    declared = {
        name: {**spec, "Default": parameters[name]} if parameters and name in parameters else spec
        for name, spec in source.get("Parameters", {}).items()
    }
    absent = set(source["Resources"]) - set(resources)
    resources = {logical_id: _supported(resource, absent) for logical_id, resource in resources.items()}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": declared,
        "Conditions": source.get("Conditions", {}),
        "Resources": _named_locally(resources, absent, stack_name),
    }


def _supported(resource: dict[str, Any], absent: set[str]) -> dict[str, Any]:
    """`resource` without what moto cannot create: unsupported properties, and dependencies on resources
    left out (a bucket waits for its queue's policy on AWS; moto enforces none)."""
    unsupported = _UNSUPPORTED_PROPERTIES.get(resource["Type"], ())
    kept = {**resource, "Properties": {k: v for k, v in resource.get("Properties", {}).items() if k not in unsupported}}
    depends = kept.pop("DependsOn", None)
    depends = [depends] if isinstance(depends, str) else list(depends or [])
    if remaining := [d for d in depends if d not in absent]:
        kept["DependsOn"] = remaining
    return kept


def _named_locally(value: Any, absent: set[str], stack_name: str) -> Any:
    if isinstance(value, list):
        return [_named_locally(item, absent, stack_name) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in absent:
        return physical_name(stack_name, value["Ref"])
    return {key: _named_locally(item, absent, stack_name) for key, item in value.items()}


def provision(
    endpoint_url: str, stack_name: str = "random-likes", region: str = REGION, template: dict[str, Any] | None = None
) -> StackResources:
    """Create (or find, if it is already there) the stack's data resources in moto.

    `template`: the translated template to take them from (default: template.yaml with its default parameters),
    or a `data_template` of it.
    """
    cloudformation = client("cloudformation", endpoint_url, region)
    existing = {
        s["StackName"] for s in cloudformation.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"
    }
    if stack_name not in existing:
        data = data_template(template, stack_name)
        cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps(data))
        _notify_queues(endpoint_url, stack_name, region, data)
    return describe(endpoint_url, stack_name, region)


def _notify_queues(endpoint_url: str, stack_name: str, region: str, data: dict[str, Any]) -> None:
    """Each bucket's queue notifications, which moto's CloudFormation ignores: set through S3's own API, as
    CloudFormation does on AWS (moto then sends S3's s3:TestEvent to the queue first, as AWS does)."""
    refs = stack_refs(endpoint_url, stack_name, region)
    s3 = client("s3", endpoint_url, region)
    for logical_id, resource in data["Resources"].items():
        if resource["Type"] != "AWS::S3::Bucket":
            continue
        configurations = []
        for config in resource["Properties"].get("NotificationConfiguration", {}).get("QueueConfigurations", []):
            queue_url = refs[config["Queue"]["Fn::GetAtt"][0]][1]
            entry: dict[str, Any] = {
                "QueueArn": f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{queue_url.rstrip('/').rsplit('/', 1)[-1]}",
                "Events": [config["Event"]],
            }
            if rules := config.get("Filter", {}).get("S3Key", {}).get("Rules"):
                entry["Filter"] = {"Key": {"FilterRules": rules}}
            configurations.append(entry)
        if configurations:
            s3.put_bucket_notification_configuration(
                Bucket=refs[logical_id][1], NotificationConfiguration={"QueueConfigurations": configurations}
            )


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
        imports_bucket=refs["ImportsBucket"][1] if "ImportsBucket" in refs else "",
        import_queue_url=refs["ImportQueue"][1] if "ImportQueue" in refs else "",
        import_dlq_url=refs["ImportDeadLetterQueue"][1] if "ImportDeadLetterQueue" in refs else "",
    )


def put_x_credentials(endpoint_url: str, name: str, credentials: dict[str, str], region: str = REGION) -> None:
    """Store X credentials as the deployed stack expects them: a SecureString of JSON."""
    client("ssm", endpoint_url, region).put_parameter(
        Name=name, Value=json.dumps(credentials), Type="SecureString", Overwrite=True
    )

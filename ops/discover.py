"""Find the stack's table, queues and alarms through CloudFormation: by logical id, and alarms by type.

`DescribeStackResources` answers the same on AWS and on moto (the offline stack provisions the template's
data resources through moto's CloudFormation), so the CLI needs no other configuration than a stack name.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from ops.connect import Aws
from ops.errors import StackNotFound, error_code

TABLE, FETCH_QUEUE, DEAD_LETTER_QUEUE = "LikesTable", "FetchQueue", "FetchDeadLetterQueue"
# The fetcher's two failure queues; a stack deployed before they existed has neither.
FAILED_RUNS_QUEUE, UNDELIVERED_QUEUE = "FetcherFailureQueue", "FetcherScheduleDeadLetterQueue"
# Archive imports: the bucket `random-likes import` uploads to, and the import queue and its DLQ (`dlq`); a stack
# deployed before imports existed has none of them.
IMPORTS_BUCKET, IMPORT_QUEUE, IMPORT_DEAD_LETTER_QUEUE = "ImportsBucket", "ImportQueue", "ImportDeadLetterQueue"
# The functions whose memory `cost` prices (make dev's stack has none: its functions run in-process).
WORKER_FUNCTION, FETCHER_FUNCTION = "WorkerFunction", "FetcherFunction"
ALARM_TYPE = "AWS::CloudWatch::Alarm"


@dataclass(frozen=True)
class QueuePair:
    """A work queue and its dead-letter queue: what `dlq peek` reads and `dlq redrive` moves between."""

    name: str  # fetch | import
    queue_url: str
    queue_arn: str
    dlq_url: str
    dlq_arn: str


@dataclass(frozen=True)
class Stack:
    name: str
    region: str
    endpoint_url: str | None
    table_name: str
    queue_url: str
    queue_arn: str
    dlq_url: str
    dlq_arn: str
    failed_runs_url: str | None = None
    undelivered_url: str | None = None
    alarm_names: tuple[str, ...] = ()  # an alarm's physical id is its name
    imports_bucket: str | None = None
    imports: QueuePair | None = None  # the import queue and its DLQ
    functions: tuple[tuple[str, str], ...] = ()  # (logical id, function name) of the worker and the fetcher

    @property
    def fetch(self) -> QueuePair:
        return QueuePair("fetch", self.queue_url, self.queue_arn, self.dlq_url, self.dlq_arn)

    def queue_pairs(self) -> list[QueuePair]:
        """Every queue with a dead-letter queue, fetch first."""
        return [self.fetch] + ([self.imports] if self.imports is not None else [])

    def to_json(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "region": self.region,
            "endpoint_url": self.endpoint_url,
            "table": self.table_name,
            "fetch_queue_url": self.queue_url,
            "dead_letter_queue_url": self.dlq_url,
        }


def discover(aws: Aws, stack_name: str) -> Stack:
    try:
        described = aws.cloudformation.describe_stack_resources(StackName=stack_name)
    except ClientError as exc:
        # CloudFormation says "Stack with id X does not exist" as a ValidationError, on AWS and on moto.
        if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
            where = f"at {aws.endpoint_url}" if aws.endpoint_url else f"in {aws.region}"
            raise StackNotFound(
                f"no stack named {stack_name!r} {where}",
                hint="pass --stack-name (and --region or --profile), or start `make dev` for the local stack",
            ) from None
        raise
    # DescribeStackResources lists up to 100 resources; this stack has about 45.
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in described["StackResources"]}
    alarms = sorted(r["PhysicalResourceId"] for r in described["StackResources"] if r["ResourceType"] == ALARM_TYPE)
    missing = [logical for logical in (TABLE, FETCH_QUEUE, DEAD_LETTER_QUEUE) if logical not in physical]
    if missing:
        raise StackNotFound(
            f"stack {stack_name!r} has no {', '.join(missing)}: is it a random-likes stack?",
            hint="pass the stack name `sam deploy` used with --stack-name",
        )
    # A queue's physical id is its URL; its ARN comes from the queue itself (SQS answers with it on both).
    queue_url, dlq_url = physical[FETCH_QUEUE], physical[DEAD_LETTER_QUEUE]
    queue_arn = _arn(aws, queue_url)
    imports = None
    if IMPORT_QUEUE in physical and IMPORT_DEAD_LETTER_QUEUE in physical:
        # Their ARNs from their names (a queue URL ends in its name): no call for queues a command may not touch.
        import_url, import_dlq_url = physical[IMPORT_QUEUE], physical[IMPORT_DEAD_LETTER_QUEUE]
        imports = QueuePair(
            "import",
            import_url,
            _sibling_arn(queue_arn, import_url),
            import_dlq_url,
            _sibling_arn(queue_arn, import_dlq_url),
        )
    return Stack(
        name=stack_name,
        region=aws.region,
        endpoint_url=aws.endpoint_url,
        table_name=physical[TABLE],
        queue_url=queue_url,
        queue_arn=queue_arn,
        dlq_url=dlq_url,
        dlq_arn=_arn(aws, dlq_url),
        failed_runs_url=physical.get(FAILED_RUNS_QUEUE),
        undelivered_url=physical.get(UNDELIVERED_QUEUE),
        alarm_names=tuple(alarms),
        imports_bucket=physical.get(IMPORTS_BUCKET),
        imports=imports,
        functions=tuple((f, physical[f]) for f in (WORKER_FUNCTION, FETCHER_FUNCTION) if f in physical),
    )


def _sibling_arn(known_arn: str, queue_url: str) -> str:
    """The ARN of another queue of the same account and region: its name (the URL's last part) in place."""
    return f"{known_arn.rsplit(':', 1)[0]}:{queue_url.rstrip('/').rsplit('/', 1)[-1]}"


def _arn(aws: Aws, queue_url: str) -> str:
    attributes = aws.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    return str(attributes["QueueArn"])

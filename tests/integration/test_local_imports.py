"""The offline stack's side of the archive import, on moto: the functions name the imports bucket moto created
(the resolver's AWS::StackId is the stack's real id, kept across restarts), an upload under uploads/ lands in
the import queue and the template's event source mapping hands it to ImportFunction, and an upload waiting in
the bucket survives a snapshot and a restore without a second notification."""

from __future__ import annotations

import io
import json
import threading
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from local.provision import client, provision, stack_refs
from local.stack.accelerate import Acceleration
from local.stack.aws import describe_resources, stack_id, stack_id_from
from local.stack.cfn import Resolver
from local.stack.functions import FunctionPool, Invocation
from local.stack.logstream import LogStream
from local.stack.persistence import Gate, restore, save, snapshot_lines
from local.stack.poller import QueuePoller
from local.stack.spec import StackSpec, read_stack
from local.template import TEMPLATE_PATH, load, translated
from tests.support.waiting import wait_until

KEY = "uploads/1234567890/abcdefghijklmnop0123.tar.gz"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def stack_spec(aws_endpoint: str, name: str) -> StackSpec:
    refs = {logical_id: ref for logical_id, (_, ref) in stack_refs(aws_endpoint, name).items()}
    template = translated()
    resolver = Resolver(template, name, {}, refs, stack_id=stack_id(aws_endpoint, name))
    return read_stack(template, load(), resolver, TEMPLATE_PATH.parent)


def import_messages(aws_endpoint: str, queue_url: str) -> list[dict[str, Any]]:
    sqs = client("sqs", aws_endpoint)
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def test_the_api_and_the_import_function_name_the_bucket_moto_created(aws_endpoint: str) -> None:
    # Given a stack created by moto's CloudFormation (its id ends in a random uuid)
    name = unique("imports-id")
    provision(aws_endpoint, name)
    created = stack_refs(aws_endpoint, name)["ImportsBucket"][1]
    # When the functions' environments are resolved with the stack's id
    spec = stack_spec(aws_endpoint, name)
    # Then the api (by a name made from AWS::StackId) and the importer (by Ref) name that very bucket
    assert spec.functions["ApiFunction"].environment["IMPORTS_BUCKET"] == created
    assert spec.functions["ImportFunction"].environment["IMPORTS_BUCKET"] == created
    assert created == f"random-likes-imports-{stack_id(aws_endpoint, name).split('/')[2]}"
    client("s3", aws_endpoint).head_bucket(Bucket=created)


def test_a_saved_stack_id_makes_the_same_bucket_again(aws_endpoint: str) -> None:
    # Given the id a stack had before a restart
    name = unique("imports-again")
    saved = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/{uuid.uuid4()}"
    # When the stack is created with it (as the AWS process does from its snapshot)
    with stack_id_from(saved, name):
        provision(aws_endpoint, name)
    # Then it has that id, and the bucket named after it
    assert stack_id(aws_endpoint, name) == saved
    assert stack_refs(aws_endpoint, name)["ImportsBucket"][1] == f"random-likes-imports-{saved.split('/')[2]}"
    # and another stack name is not given it
    other = unique("imports-other")
    with stack_id_from(saved, name):
        provision(aws_endpoint, other)
    assert stack_id(aws_endpoint, other) != saved


def test_an_upload_reaches_the_import_function_through_the_templates_mapping(aws_endpoint: str) -> None:
    # Given a stack, its import function (the real environment, the placeholder importer) and the template's
    # event source mapping for it, with the recorded events
    name = unique("imports-poll")
    resources = provision(aws_endpoint, name)
    spec = stack_spec(aws_endpoint, name)
    (mapping,) = [m for m in spec.queue_mappings if m.function == "ImportFunction"]
    function = spec.functions["ImportFunction"]
    assert (mapping.batch_size, mapping.maximum_concurrency, function.timeout) == (1, 2, 300)
    log = LogStream(io.StringIO(), color=False)
    pool = FunctionPool(function, limit=2, endpoint_url=aws_endpoint, sink=log.function_line, label="import")
    events: list[dict[str, Any]] = []
    answers: list[Invocation] = []
    lock = threading.Lock()

    def invoke(event: dict[str, Any]) -> Invocation:
        answer = pool.invoke(event, wait=60)
        with lock:
            events.append(event)
            answers.append(answer)
        return answer

    sqs = client("sqs", aws_endpoint)
    poller = QueuePoller(
        mapping,
        queue_url=resources.import_queue_url,
        queue_arn=f"arn:aws:sqs:us-east-1:123456789012:{name}-import",
        fifo=False,
        sqs=sqs,
        invoke=invoke,
        log=log,
        concurrency=1,
    )
    poller.start()
    try:
        # When an upload lands under uploads/ (and something outside it), and the importer sends its queue a
        # continuation message of its own
        s3 = client("s3", aws_endpoint)
        s3.put_object(Bucket=resources.imports_bucket, Key="elsewhere/x", Body=b"x")
        s3.put_object(Bucket=resources.imports_bucket, Key=KEY, Body=b"bundle")
        sqs.send_message(QueueUrl=resources.import_queue_url, MessageBody=json.dumps({"continue": "import-1"}))
        wait_until(lambda: len(events) >= 3, "three batches reached the import function")
    finally:
        poller.stop()
        pool.stop()
    # Then each message came in an SQS event of its own (batch size 1): S3's test event, which the importer
    # skips (success), the upload's ObjectCreated record, which the placeholder fails back to the queue, and
    # the continuation; nothing for the key outside uploads/
    bodies = [json.loads(e["Records"][0]["body"]) for e in events]
    assert all(len(e["Records"]) == 1 and e["Records"][0]["eventSource"] == "aws:sqs" for e in events)
    assert bodies[0]["Event"] == "s3:TestEvent"
    assert answers[0].ok
    assert answers[0].result == {"batchItemFailures": []}
    uploads = [b for b in bodies if "Records" in b]
    # (URL-encoded, as S3 puts keys in events; moto encodes "/" too, AWS does not: unquote_plus reads both)
    assert {unquote_plus(u["Records"][0]["s3"]["object"]["key"]) for u in uploads} == {KEY}
    assert uploads[0]["Records"][0]["eventName"].startswith("ObjectCreated:")
    assert {"continue": "import-1"} in bodies
    failed = [a for a in answers if a.ok and a.result and a.result["batchItemFailures"]]
    assert failed


def test_the_import_queue_is_accelerated_no_further_than_the_import_functions_timeout() -> None:
    # 1800 s is 6 x the import function's 300 s; Lambda refuses a visibility shorter than the timeout
    assert Acceleration(60).visibility_timeout(1800, 300) == 300
    assert Acceleration(3).visibility_timeout(1800, 300) == 600


def test_an_upload_waiting_in_the_bucket_survives_a_snapshot_without_a_second_notification(
    aws_endpoint: str, tmp_path: Path
) -> None:
    # Given an upload waiting in a stack's bucket
    source_name = unique("imports-save")
    provision(aws_endpoint, source_name)
    _, source = describe_resources(aws_endpoint, source_name)
    s3 = client("s3", aws_endpoint)
    s3.put_object(Bucket=source.buckets["ImportsBucket"], Key=KEY, Body=b"bundle", ContentType="application/gzip")
    # When the state is saved and loaded into a new stack
    objects = tmp_path / "s3-objects"
    path = tmp_path / "state.jsonl"
    save(path, snapshot_lines(source, Gate(), stack_id="arn:x", objects=objects))
    target_name = unique("imports-load")
    target_resources = provision(aws_endpoint, target_name)
    _, target = describe_resources(aws_endpoint, target_name)
    counts = restore(path, target, objects)
    # Then the object is there with its type, stored once on disk, and its one ObjectCreated message is the one
    # restored from the source's queue: restoring the object sent none
    assert counts.objects == 1
    got = s3.get_object(Bucket=target.buckets["ImportsBucket"], Key=KEY)
    assert (got["Body"].read(), got["ContentType"]) == (b"bundle", "application/gzip")
    assert len(list(objects.iterdir())) == 1
    messages = import_messages(aws_endpoint, target_resources.import_queue_url)
    created = [m for m in messages if "Records" in m]
    assert len(created) == 1
    assert unquote_plus(created[0]["Records"][0]["s3"]["object"]["key"]) == KEY


def test_an_upload_whose_file_is_gone_is_skipped_and_the_rest_restored(aws_endpoint: str, tmp_path: Path) -> None:
    # Given a snapshot with an upload whose body file was removed by hand
    source_name = unique("imports-gone")
    provision(aws_endpoint, source_name)
    _, source = describe_resources(aws_endpoint, source_name)
    client("s3", aws_endpoint).put_object(Bucket=source.buckets["ImportsBucket"], Key=KEY, Body=b"bundle")
    objects, path = tmp_path / "s3-objects", tmp_path / "state.jsonl"
    save(path, snapshot_lines(source, Gate(), objects=objects))
    for stored in objects.iterdir():
        stored.unlink()
    # When it is loaded
    target_name = unique("imports-gone-load")
    provision(aws_endpoint, target_name)
    _, target = describe_resources(aws_endpoint, target_name)
    counts = restore(path, target, objects)
    # Then the upload is missing, and the queued messages are back all the same
    assert counts.objects == 0
    assert counts.messages >= 2  # the source's s3:TestEvent and the upload's ObjectCreated
    listed = client("s3", aws_endpoint).list_objects_v2(Bucket=target.buckets["ImportsBucket"])
    assert listed["KeyCount"] == 0

"""The offline stack's state survives a restart: a snapshot of moto's tables and queues, loaded into freshly
created ones, gives back every item and every message, receive counts included."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from local.provision import client, provision
from local.stack.aws import describe_resources
from local.stack.persistence import Gate, Resources, restore, save, snapshot_lines
from tests.support.waiting import wait_until, waiting_on

ITEM = {
    "pk": {"S": "SUB#demo"},
    "sk": {"S": "SLOT#0000000001"},
    "n": {"N": "42"},
    "b": {"B": b"\x00\x01"},
    "blobs": {"BS": [b"\x02"]},
    "nested": {"M": {"blob": {"B": b"\x03"}, "list": {"L": [{"B": b"\x04"}]}}},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
    "list": {"L": [{"S": "a"}, {"N": "1"}]},
    "map": {"M": {"nested": {"S": "x"}}},
    "strings": {"SS": ["a", "b"]},
    "numbers": {"NS": ["1", "2"]},
}


def unique(prefix: str) -> str:
    """A stack name no other test, and no rerun of this one in the same moto, has used."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def stack_with_an_item_and_messages(aws_endpoint: str) -> Resources:
    """A stack with an item of every type, a message received twice and now in flight, and a fresh one."""
    name = unique("persist-source")
    provision(aws_endpoint, name)
    _, source = describe_resources(aws_endpoint, name)
    dynamodb, sqs = client("dynamodb", aws_endpoint), client("sqs", aws_endpoint)
    dynamodb.put_item(TableName=source.tables["LikesTable"], Item=ITEM)
    queue = sqs.get_queue_url(QueueName=source.queues["FetchQueue"])["QueueUrl"]
    attributes = {"k": {"DataType": "String", "StringValue": "v"}}
    sqs.send_message(QueueUrl=queue, MessageBody="tried", MessageAttributes=attributes)
    for visibility in (0, 600):
        assert len(sqs.receive_message(QueueUrl=queue, VisibilityTimeout=visibility)["Messages"]) == 1
    sqs.send_message(QueueUrl=queue, MessageBody="fresh")
    return source


def fresh_stack(aws_endpoint: str, prefix: str) -> Resources:
    name = unique(prefix)
    provision(aws_endpoint, name)
    return describe_resources(aws_endpoint, name)[1]


def test_items_and_messages_come_back_with_their_receive_counts(aws_endpoint: str, tmp_path: Path) -> None:
    # Given a stack with an item of every type, a message received twice and now in flight, and a fresh one
    source = stack_with_an_item_and_messages(aws_endpoint)
    dynamodb, sqs = client("dynamodb", aws_endpoint), client("sqs", aws_endpoint)
    # When the state is saved and loaded into a new stack (new table name, as each start of moto gives)
    path = tmp_path / "state.jsonl"
    save(path, snapshot_lines(source, Gate()))
    target = fresh_stack(aws_endpoint, "persist-target")
    counts = restore(path, target)
    # Then every item and every message is there, with what SQS knew about it
    assert (counts.items, counts.messages) == (1, 2 + 1)  # and the import queue's s3:TestEvent
    (item,) = dynamodb.scan(TableName=target.tables["LikesTable"])["Items"]
    assert item == ITEM
    target_queue = sqs.get_queue_url(QueueName=target.queues["FetchQueue"])["QueueUrl"]
    got = sqs.receive_message(
        QueueUrl=target_queue, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
    )
    by_body = {m["Body"]: m for m in got["Messages"]}
    assert set(by_body) == {"tried", "fresh"}  # the one in flight is visible again at once
    assert by_body["tried"]["Attributes"]["ApproximateReceiveCount"] == "3"  # 2 before, and this one
    assert by_body["tried"]["MessageAttributes"]["k"]["StringValue"] == "v"
    assert by_body["fresh"]["Attributes"]["ApproximateReceiveCount"] == "1"


def test_a_snapshot_of_an_unknown_format_is_refused_before_anything_is_loaded(
    aws_endpoint: str, tmp_path: Path
) -> None:
    # Given a snapshot whose header names a format this version does not know, an item and messages after it
    lines = snapshot_lines(stack_with_an_item_and_messages(aws_endpoint), Gate())
    path = tmp_path / "state.jsonl"
    save(path, ['{"format": 99}', *lines[1:]])
    target = fresh_stack(aws_endpoint, "persist-broken")

    # When it is loaded
    with pytest.raises(ValueError, match="format 99"):
        restore(path, target)

    # Then it is refused by its format (above), and nothing of it reached the table or the queue
    dynamodb, sqs = client("dynamodb", aws_endpoint), client("sqs", aws_endpoint)
    assert dynamodb.scan(TableName=target.tables["LikesTable"])["Items"] == []
    queue = sqs.get_queue_url(QueueName=target.queues["FetchQueue"])["QueueUrl"]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)


def test_a_snapshot_waits_for_requests_in_flight_and_holds_new_ones() -> None:
    # Given a request in flight
    gate = Gate()
    order: list[str] = []
    inside, release = threading.Event(), threading.Event()

    def in_flight() -> None:
        with gate.shared():
            inside.set()
            release.wait(10)
            order.append("request in flight done")

    def snapshot() -> None:
        with gate.exclusive():
            order.append("snapshot")

    def new_request() -> None:
        with gate.shared():
            order.append("new request")

    threads = [threading.Thread(target=in_flight)]
    threads[0].start()
    inside.wait(10)

    # When a snapshot starts, and then a new request arrives
    threads.append(threading.Thread(target=snapshot))
    threads[1].start()
    wait_until(lambda: waiting_on(gate._cond) == 1, "the snapshot waits")
    threads.append(threading.Thread(target=new_request))
    threads[2].start()
    wait_until(lambda: waiting_on(gate._cond) == 2, "the new request waits")
    nothing_yet = list(order)
    release.set()
    for thread in threads:
        thread.join(10)

    # Then the snapshot waited for the request in flight, and the new request for the snapshot
    assert nothing_yet == []
    assert order == ["request in flight done", "snapshot", "new request"]

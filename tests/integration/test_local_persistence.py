"""The offline stack's state survives a restart: a snapshot of moto's tables and queues, loaded into freshly
created ones, gives back every item and every message, receive counts included."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from local.provision import client, provision
from local.stack.aws import describe_resources
from local.stack.persistence import Gate, restore, save, snapshot_lines

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


def test_items_and_messages_come_back_with_their_receive_counts(aws_endpoint: str, tmp_path: Path) -> None:
    # Given a stack with an item of every type, a message received twice and now in flight, and a fresh one
    provision(aws_endpoint, "persist-source")
    _, source = describe_resources(aws_endpoint, "persist-source")
    dynamodb, sqs = client("dynamodb", aws_endpoint), client("sqs", aws_endpoint)
    dynamodb.put_item(TableName=source.tables["LikesTable"], Item=ITEM)
    queue = sqs.get_queue_url(QueueName=source.queues["FetchQueue"])["QueueUrl"]
    attributes = {"k": {"DataType": "String", "StringValue": "v"}}
    sqs.send_message(QueueUrl=queue, MessageBody="tried", MessageAttributes=attributes)
    for visibility in (0, 600):
        assert len(sqs.receive_message(QueueUrl=queue, VisibilityTimeout=visibility)["Messages"]) == 1
    sqs.send_message(QueueUrl=queue, MessageBody="fresh")
    # When the state is saved and loaded into a new stack (new table name, as each start of moto gives)
    path = tmp_path / "state.jsonl"
    save(path, snapshot_lines(source, Gate()))
    provision(aws_endpoint, "persist-target")
    _, target = describe_resources(aws_endpoint, "persist-target")
    counts = restore(path, target)
    # Then every item and every message is there, with what SQS knew about it
    assert (counts.items, counts.messages) == (1, 2)
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


def test_an_unreadable_snapshot_is_refused_not_half_loaded(aws_endpoint: str, tmp_path: Path) -> None:
    provision(aws_endpoint, "persist-broken")
    _, target = describe_resources(aws_endpoint, "persist-broken")
    path = tmp_path / "state.jsonl"
    path.write_text('{"format": 99}\n')
    with pytest.raises(ValueError, match="format"):
        restore(path, target)


def test_a_snapshot_waits_for_requests_in_flight_and_holds_new_ones() -> None:
    gate = Gate()
    order: list[str] = []
    inside = threading.Event()
    release = threading.Event()

    def request() -> None:
        with gate.shared():
            inside.set()
            release.wait(5)
            order.append("request done")

    thread = threading.Thread(target=request)
    thread.start()
    inside.wait(5)

    def snapshot() -> None:
        with gate.exclusive():
            order.append("snapshot")

    snapshotter = threading.Thread(target=snapshot)
    snapshotter.start()
    time.sleep(0.1)
    assert order == []  # the snapshot waits for the request in flight
    release.set()
    thread.join(5)
    snapshotter.join(5)
    assert order == ["request done", "snapshot"]

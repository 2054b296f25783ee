"""The AWS path of `dlq redrive`: StartMessageMoveTask, its progress, Ctrl-C — and where it is missing.

moto does not implement the move-task API, so the exact requests are held against botocore's Stubber
(which validates every parameter against SQS's own service model and fails on any request not expected,
in the order expected). The fallback is tested against moto itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ops import redrive
from ops.discover import Stack
from ops.errors import OpsError
from ops.redrive import RateLimiter, parse_rate
from tests.ops.conftest import Cli

ACCOUNT = "123456789012"
DLQ_ARN = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:random-likes-fetch-dlq"
QUEUE_ARN = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:random-likes-fetch"
STACK = Stack(
    name="random-likes",
    region="eu-west-1",
    endpoint_url=None,
    table_name="random-likes-LikesTable-ABC",
    queue_url=f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/random-likes-fetch",
    queue_arn=QUEUE_ARN,
    dlq_url=f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/random-likes-fetch-dlq",
    dlq_arn=DLQ_ARN,
)
LIST = {"SourceArn": DLQ_ARN, "MaxResults": 1}
DEPTH = {
    "QueueUrl": STACK.dlq_url,
    "AttributeNames": [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ],
}


def task(status: str, moved: int, to_move: int = 3, **extra: Any) -> dict[str, Any]:
    result = {
        "Status": status,
        "SourceArn": DLQ_ARN,
        "DestinationArn": QUEUE_ARN,
        "MaxNumberOfMessagesPerSecond": 10,
        "ApproximateNumberOfMessagesMoved": moved,
        "ApproximateNumberOfMessagesToMove": to_move,
        "StartedTimestamp": 1795867200000,
        **extra,
    }
    if status == "RUNNING":
        result["TaskHandle"] = "task-handle-1"
    return result


def depth_response(visible: int) -> dict[str, Any]:
    return {
        "Attributes": {
            "ApproximateNumberOfMessages": str(visible),
            "ApproximateNumberOfMessagesNotVisible": "0",
            "ApproximateNumberOfMessagesDelayed": "0",
        }
    }


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    # A real client (never sends: the Stubber answers every call and refuses any it was not told about).
    sqs = boto3.client("sqs", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(sqs) as stubber:
        yield sqs, stubber
        stubber.assert_no_pending_responses()


def test_a_move_task_is_started_from_the_dlq_to_the_fetch_queue_and_followed_until_done(
    stubbed: tuple[Any, Stubber],
) -> None:
    sqs, stub = stubbed
    # Given SQS with the move-task API and no task running
    stub.add_response("list_message_move_tasks", {"Results": []}, LIST)
    stub.add_response(
        "start_message_move_task",
        {"TaskHandle": "task-handle-1"},
        {"SourceArn": DLQ_ARN, "DestinationArn": QUEUE_ARN, "MaxNumberOfMessagesPerSecond": 7},
    )
    stub.add_response("list_message_move_tasks", {"Results": [task("RUNNING", 1)]}, LIST)
    stub.add_response("list_message_move_tasks", {"Results": [task("COMPLETED", 3)]}, LIST)
    stub.add_response("get_queue_attributes", depth_response(0), DEPTH)
    seen: list[tuple[int, int | None]] = []
    sleeps: list[float] = []

    # When the operator redrives at 7 messages a second
    report = redrive.redrive(
        sqs, STACK, rate=7, progress=lambda moved, total: seen.append((moved, total)), sleep=sleeps.append
    )

    # Then the task's progress was shown as it went, and the report says it completed
    assert seen == [(1, 3), (3, 3)]
    assert sleeps == [redrive.POLL_SECONDS, redrive.POLL_SECONDS]
    assert (report.path, report.moved, report.to_move, report.complete) == ("move-task", 3, 3, True)
    assert report.task == {"handle": "task-handle-1", "status": "COMPLETED", "failure_reason": None}
    assert report.moved_ids == []  # SQS moved them: which ones, only SQS knows
    assert report.remaining is not None
    assert report.remaining.visible == 0


def test_ctrl_c_cancels_the_move_task_and_reports_what_moved(stubbed: tuple[Any, Stubber]) -> None:
    sqs, stub = stubbed
    # Given a running move task
    stub.add_response("list_message_move_tasks", {"Results": []}, LIST)
    stub.add_response("start_message_move_task", {"TaskHandle": "task-handle-1"}, None)
    stub.add_response("list_message_move_tasks", {"Results": [task("RUNNING", 1)]}, LIST)
    stub.add_response(
        "cancel_message_move_task", {"ApproximateNumberOfMessagesMoved": 2}, {"TaskHandle": "task-handle-1"}
    )
    stub.add_response("get_queue_attributes", depth_response(1), DEPTH)
    polls = 0

    def sleep(_: float) -> None:
        nonlocal polls
        polls += 1
        if polls == 2:
            raise KeyboardInterrupt  # the operator presses Ctrl-C while the CLI waits between polls

    # When Ctrl-C arrives during the second wait
    report = redrive.redrive(sqs, STACK, rate=10, sleep=sleep)

    # Then CancelMessageMoveTask was sent for exactly that task, and the report says what happened
    assert report.interrupted
    assert not report.complete
    assert report.moved == 2
    assert report.task == {"handle": "task-handle-1", "status": "CANCELLING", "failure_reason": None}
    assert report.remaining is not None
    assert report.remaining.visible == 1


def test_a_failed_move_task_is_an_incomplete_redrive_with_its_reason(stubbed: tuple[Any, Stubber]) -> None:
    sqs, stub = stubbed
    stub.add_response("list_message_move_tasks", {"Results": []}, LIST)
    stub.add_response("start_message_move_task", {"TaskHandle": "task-handle-1"}, None)
    stub.add_response(
        "list_message_move_tasks", {"Results": [task("FAILED", 1, FailureReason="AWS.SimpleQueueService.Foo")]}, LIST
    )
    stub.add_response("get_queue_attributes", depth_response(2), DEPTH)

    report = redrive.redrive(sqs, STACK, rate=10, sleep=lambda _: None)

    assert not report.complete
    assert report.task is not None
    assert report.task["failure_reason"] == "AWS.SimpleQueueService.Foo"
    assert report.not_moved[0].reason == "the move task failed: AWS.SimpleQueueService.Foo"


def test_a_task_already_running_is_not_started_twice(stubbed: tuple[Any, Stubber]) -> None:
    sqs, stub = stubbed
    # Given another operator's move task still running (StartMessageMoveTask would refuse a second one)
    stub.add_response("list_message_move_tasks", {"Results": [task("RUNNING", 5, 9)]}, LIST)

    # When a redrive is asked for, then it stops with the handle needed to cancel the running one
    with pytest.raises(OpsError, match="already running") as raised:
        redrive.redrive(sqs, STACK, rate=10, sleep=lambda _: None)
    assert raised.value.hint is not None
    assert "task-handle-1" in raised.value.hint


def test_max_takes_the_manual_path_without_asking_for_move_tasks(stubbed: tuple[Any, Stubber]) -> None:
    sqs, _ = stubbed
    # A move task cannot stop after N messages: --max never starts one (the Stubber fails any call to it).
    path, reason = redrive.choose_path(sqs, STACK, manual=False, max_messages=2)
    assert (path, reason) == ("manual", "--max: a move task always moves every message")
    assert redrive.choose_path(sqs, STACK, manual=True, max_messages=None) == ("manual", "--manual")


def test_where_the_api_is_missing_the_manual_path_is_chosen_and_said_why(cli: Cli, sqs: Any) -> None:
    # Given moto, which answers ListMessageMoveTasks with HTTP 500, and two dead letters
    dlq_url = sqs.get_queue_url(QueueName=f"{cli.stack_name}-fetch-dlq")["QueueUrl"]
    for n in range(2):
        sqs.send_message(QueueUrl=dlq_url, MessageBody=json.dumps({"username": f"user{n}"}))

    # When the operator asks for a dry run, then a redrive
    planned = cli("--json", "dlq", "redrive", "--dry-run")
    done = cli("--json", "dlq", "redrive")

    # Then both name the manual path and the reason, the dry run touched nothing, and the redrive moved both
    plan, report = json.loads(planned.out), json.loads(done.out)
    assert planned.code == done.code == 0
    assert (plan["path"], plan["dry_run"], plan["to_move"], plan["moved"]) == ("manual", True, 2, 0)
    assert plan["path_reason"] == report["path_reason"]
    assert plan["path_reason"] == "StartMessageMoveTask is not available here (ListMessageMoveTasks: HTTP 500)"
    assert (report["moved"], report["remaining"]["visible"]) == (2, 0)


def test_a_dry_run_receives_nothing(cli: Cli, sqs: Any) -> None:
    # Given a dead letter received once
    dlq_url = sqs.get_queue_url(QueueName=f"{cli.stack_name}-fetch-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=dlq_url, MessageBody='{"username": "someone"}')

    # When the operator asks for a dry run (human output)
    result = cli("dlq", "redrive", "--dry-run", "--rate", "5/s")

    # Then it says what would happen, and the message was never received (its first receive is the next one)
    assert result.code == 0
    assert "Dry run: nothing was received, moved or deleted." in result.out
    assert "would move   ~1 message(s) from" in result.out
    assert "at 5/s" in result.out
    (message,) = sqs.receive_message(QueueUrl=dlq_url, MessageSystemAttributeNames=["All"])["Messages"]
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"


def test_max_moves_at_most_n_and_leaves_the_rest(cli: Cli, sqs: Any) -> None:
    dlq_url = sqs.get_queue_url(QueueName=f"{cli.stack_name}-fetch-dlq")["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=dlq_url, MessageBody=json.dumps({"username": f"user{n}"}))

    result = cli("--json", "dlq", "redrive", "--max", "2")

    report = json.loads(result.out)
    assert result.code == 0
    assert (report["path"], report["moved"], report["remaining"]["visible"]) == ("manual", 2, 1)


def test_the_rate_limiter_spaces_calls_evenly() -> None:
    # Given a limiter of 4 per second on a clock that only moves when it sleeps
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(4, clock=lambda: now[0], sleep=sleep)

    # When it is asked five times in a row
    for _ in range(5):
        limiter.wait()

    # Then the first goes at once and each of the others a quarter second after the one before
    assert slept == [0.25, 0.25, 0.25, 0.25]


@pytest.mark.parametrize(("text", "rate"), [("10/s", 10), ("1", 1), ("500/s", 500), (" 25/S ", 25)])
def test_a_rate_is_whole_messages_per_second(text: str, rate: int) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["0/s", "501/s", "2.5/s", "fast", "-1"])
def test_a_rate_sqs_would_refuse_is_refused_here(text: str) -> None:
    with pytest.raises(ValueError, match="whole number from 1 to 500") as refused:
        parse_rate(text)

    assert str(refused.value).endswith(f"got {text!r}")  # the operator sees what they typed

"""Poison, dead letter, fix, redrive: nothing lost, nothing stored twice — also when the redrive is cut short.

The real parts: moto's SQS with the template's redrive policy, the real worker handler driven as Lambda's
poller drives it, the simulated X API over loopback (its fault switched on to poison the messages and off
again to fix them), and `random-likes dlq redrive` in-process and as the installed command.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from local.template import translated
from ops.connect import Target, aws_environment, connect
from ops.discover import Stack, discover
from ops.redrive import run_manual
from shared.models import SubscriberStatus
from shared.store import Stores
from shared.x_client import XClient, XCredentials
from tests.ops.conftest import Cli, Pipeline
from tests.support.recording_endpoint import Recorded, RecordingEndpoint

MAX_RECEIVE_COUNT = int(translated()["Resources"]["FetchQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"])
COMMAND = str(Path(sys.executable).parent / "random-likes")  # the console script `pip install` made
OTHERS = ("ada_writes", "pixel_pablo", "bigfan")  # accounts X knows; their likes are not ours to read


def make_poison(p: Pipeline, *usernames: str) -> None:
    """X answers 503 to every request while these subscribe; the worker fails them until SQS gives up."""
    p.xsim.faults.set(error_rate=1.0)
    p.subscribe(*usernames)
    p.worker.drain()


def likes_x_gives(p: Pipeline) -> list[str]:
    """Every like of demo that X's API returns (deleted posts are not among them), walked page by page."""
    x = XClient(XCredentials(**p.xsim.oauth1_credentials("demo").as_dict()), p.xsim.base_url)
    user = x.user_by_username("demo")
    ids: list[str] = []
    token = None
    while True:
        page = x.liked_posts(user.id, max_results=100, pagination_token=token)
        ids += [post.id for post in page.posts]
        if page.next_token is None:
            return ids
        token = page.next_token


def assert_stored_exactly_once(store: Stores, expected: list[str]) -> None:
    stored = store.likes.all_post_ids("demo")
    assert [slot for slot, _ in stored] == list(range(len(expected))), "slots are dense"
    assert Counter(pid for _, pid in stored) == Counter(expected), "each like once, none missing"
    sub = store.subscribers.get_subscriber("demo", consistent=True)
    assert sub is not None
    assert sub.like_count == len(expected)
    assert sub.status is SubscriberStatus.READY


def depth(p: Pipeline, url: str) -> tuple[int, int]:
    """(visible, in flight)"""
    attributes = p.sqs.get_queue_attributes(  # type: ignore[attr-defined]
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def dlq_depth(p: Pipeline) -> tuple[int, int]:
    return depth(p, p.stack.dlq_url)


def fetch_queue_bodies(p: Pipeline) -> list[dict[str, Any]]:
    """Every body in the fetch queue, looked at and left in place."""
    bodies, held = [], []
    while messages := p.sqs.receive_message(  # type: ignore[attr-defined]
        QueueUrl=p.stack.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30
    ).get("Messages"):
        bodies += [json.loads(m["Body"]) for m in messages]
        held += messages
    for m in held:
        p.sqs.change_message_visibility(  # type: ignore[attr-defined]
            QueueUrl=p.stack.queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
        )
    return bodies


def the_stack(p: Pipeline) -> Stack:
    with aws_environment(Target(endpoint_url=p.endpoint_url)):
        return discover(connect(Target(endpoint_url=p.endpoint_url)), p.stack.stack_name)


def operator_env() -> dict[str, str]:
    """A shell with no AWS configuration at all: --endpoint-url alone must be enough for make dev's stack."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "X_", "POWERTOOLS_", "TABLE_", "FETCH_"))}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    return env


def test_a_poison_message_reaches_the_dlq_and_after_the_fix_a_redrive_stores_every_like_once(
    pipeline: Pipeline, cli: Cli
) -> None:
    # Given X failing every request while demo subscribes, and Lambda's poller driving the worker
    make_poison(pipeline, "demo")

    # Then the message was handed to the worker exactly maxReceiveCount times and now waits in the DLQ
    ((message_id, receives),) = pipeline.worker.receives.items()
    assert receives == MAX_RECEIVE_COUNT
    peeked = json.loads(cli("--json", "dlq", "peek").out)
    assert [m["message_id"] for m in peeked["messages"]] == [message_id]
    assert "503" in peeked["messages"][0]["last_error"]

    # When X is fixed, the operator redrives, and the worker processes the fetch queue again
    pipeline.xsim.faults.clear()
    result = cli("--json", "dlq", "redrive")
    pipeline.worker.drain()

    # Then the redrive took the manual path (moto has no StartMessageMoveTask) and moved that one message
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["path"] == "manual"
    assert "HTTP 500" in report["path_reason"]
    assert (report["moved"], report["moved_ids"], report["complete"]) == (1, [message_id], True)
    # And the DLQ is empty and every like X gives is stored exactly once
    assert dlq_depth(pipeline) == (0, 0)
    assert_stored_exactly_once(pipeline.store, likes_x_gives(pipeline))


def test_the_installed_command_redrives_as_a_subprocess(pipeline: Pipeline) -> None:
    # Given a dead letter, X fixed, and an operator's shell with no AWS configuration
    make_poison(pipeline, "demo")
    pipeline.xsim.faults.clear()
    args = [COMMAND, "--endpoint-url", pipeline.endpoint_url, "--stack-name", pipeline.stack.stack_name]

    # When the operator runs the real command, then the worker runs
    done = subprocess.run(
        [*args, "dlq", "redrive"], check=False, env=operator_env(), capture_output=True, text=True, timeout=60
    )
    pipeline.worker.drain()

    # Then it says what it did, and the likes are all there, once each
    assert done.returncode == 0, done.stderr
    assert "Redrive complete." in done.stdout
    assert "moved        1 of ~1" in done.stdout
    assert "Traceback" not in done.stderr
    assert dlq_depth(pipeline) == (0, 0)
    assert_stored_exactly_once(pipeline.store, likes_x_gives(pipeline))


def test_a_redrive_interrupted_half_way_and_run_again_loses_nothing(pipeline: Pipeline, cli: Cli) -> None:
    # Given four dead letters and X fixed
    make_poison(pipeline, "demo", *OTHERS)
    pipeline.xsim.faults.clear()
    assert dlq_depth(pipeline) == (4, 0)

    # When Ctrl-C arrives after two messages have moved
    def ctrl_c_after_two(moved: int, to_move: int | None) -> None:
        if moved == 2:
            raise KeyboardInterrupt

    first = run_manual(pipeline.sqs, the_stack(pipeline), rate=100, progress=ctrl_c_after_two)

    # Then the report says so, and the two not moved are back in the DLQ at once (not hidden until a timeout)
    assert (first.interrupted, first.moved, first.complete) == (True, 2, False)
    assert dlq_depth(pipeline) == (2, 0)

    # When the operator runs it again, and the worker processes the fetch queue
    again = cli("--json", "dlq", "redrive")
    pipeline.worker.drain()

    # Then the rest moved, each of the four was enqueued exactly once, and nothing is left anywhere
    assert again.code == 0, again.err
    assert json.loads(again.out)["moved"] == 2
    assert set(first.moved_ids).isdisjoint(json.loads(again.out)["moved_ids"])
    assert dlq_depth(pipeline) == (0, 0)
    assert_stored_exactly_once(pipeline.store, likes_x_gives(pipeline))
    # And the accounts whose likes X will not give us are marked so, not stuck in a retry loop
    for name in OTHERS:
        sub = pipeline.store.subscribers.get_subscriber(name)
        assert sub is not None
        assert sub.status is SubscriberStatus.FORBIDDEN


class ProcessKilled(BaseException):
    """kill -9: no except clause, no finally that calls SQS, nothing after it reaches AWS."""


class DyingSqs:
    """An SQS client whose process dies right after it sent the copy of demo's message. It remembers the
    receipt handles of what it received, as SQS does for the messages a dead process still holds."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.dead = False
        self.held: list[str] = []

    def __getattr__(self, name: str) -> Any:
        if self.dead:
            raise ProcessKilled
        attribute = getattr(self._inner, name)
        if name == "receive_message":

            def receive_message(**params: Any) -> Any:
                response = attribute(**params)
                self.held += [m["ReceiptHandle"] for m in response.get("Messages", [])]
                return response

            return receive_message
        if name == "send_message":

            def send_message(**params: Any) -> Any:
                response = attribute(**params)
                if json.loads(params["MessageBody"])["username"] == "demo":
                    self.dead = True
                    raise ProcessKilled
                return response

            return send_message
        return attribute


def test_a_redrive_killed_between_send_and_delete_duplicates_a_message_and_loses_none(
    pipeline: Pipeline, cli: Cli
) -> None:
    # Given four dead letters and X fixed
    make_poison(pipeline, "demo", *OTHERS)
    pipeline.xsim.faults.clear()

    # When the redrive's process is killed just after sending demo's copy, before deleting the original
    dying = DyingSqs(pipeline.sqs)
    with pytest.raises(ProcessKilled):
        run_manual(dying, the_stack(pipeline), rate=100)
    # ... and the visibility timeout of the messages it held ends (here at once, where SQS takes its time)
    assert dlq_depth(pipeline) == (0, 4)
    for handle in dying.held:
        pipeline.sqs.change_message_visibility(  # type: ignore[attr-defined]
            QueueUrl=pipeline.stack.dlq_url, ReceiptHandle=handle, VisibilityTimeout=0
        )
    # Then all four originals are back in the DLQ, demo's too (its copy is in the fetch queue already)
    assert dlq_depth(pipeline) == (4, 0)

    # When the operator runs it again
    again = cli("--json", "dlq", "redrive")

    # Then demo's message is in the fetch queue twice (a duplicate, never a loss) and every other once
    assert again.code == 0, again.err
    enqueued = Counter(body["username"] for body in fetch_queue_bodies(pipeline))
    assert enqueued == Counter({"demo": 2, **dict.fromkeys(OTHERS, 1)})
    # And the idempotent worker still stores each like exactly once
    pipeline.worker.drain()
    assert dlq_depth(pipeline) == (0, 0)
    assert_stored_exactly_once(pipeline.store, likes_x_gives(pipeline))


def test_ctrl_c_on_the_real_command_leaves_a_report_and_a_rerun_finishes(pipeline: Pipeline) -> None:
    # Given four dead letters and X fixed, and the real command redriving them one at a time, through an
    # endpoint that passes every request on to moto but holds back the third receive from the DLQ
    make_poison(pipeline, "demo", *OTHERS)
    pipeline.xsim.faults.clear()
    dlq_name = pipeline.stack.dlq_url.rsplit("/", 1)[-1].encode()
    dlq_receives = itertools.count(1)

    def third_receive_from_the_dlq(request: Recorded) -> bool:
        return request.target == "AmazonSQS.ReceiveMessage" and dlq_name in request.body and next(dlq_receives) == 3

    args = [COMMAND, "--stack-name", pipeline.stack.stack_name, "--json", "dlq", "redrive"]
    with RecordingEndpoint(upstream=pipeline.endpoint_url) as aws:
        aws.hold(third_receive_from_the_dlq)
        proc = subprocess.Popen(
            [*args, "--endpoint-url", aws.url, "--rate", "1/s"],
            env=operator_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

        # When the operator presses Ctrl-C while it waits for that receive (two messages moved), which then
        # answers: the signal is in before the answer, so the redrive stops at its next checkpoint
        assert aws.held.wait(60), "the redrive never asked the DLQ for a third message"
        proc.send_signal(signal.SIGINT)
        aws.release()
        out, err = proc.communicate(timeout=60)

    # Then it exits 130 with a report of the two it moved, and the message it had received is visible again
    assert proc.returncode == 130, err
    report = json.loads(out)
    assert (report["interrupted"], report["moved"]) == (True, 2)
    assert dlq_depth(pipeline) == (2, 0)
    assert depth(pipeline, pipeline.stack.queue_url) == (2, 0)

    # When it is run again, and the worker processes the fetch queue
    rerun = subprocess.run(
        [*args, "--endpoint-url", pipeline.endpoint_url],
        check=False,
        env=operator_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["moved"] == 2
    pipeline.worker.drain()

    # Then nothing is left and every like is stored once
    assert dlq_depth(pipeline) == (0, 0)
    assert_stored_exactly_once(pipeline.store, likes_x_gives(pipeline))

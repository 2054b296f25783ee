"""`make dev` as a subprocess, for tests and benchmarks: `with running_stack(tmp_path) as stack: ...`.

Starts `python -m local.dev` on free loopback ports with its own data directory, waits for the line with
`ready`, keeps everything it prints (`stack.output()`), and stops it with SIGINT, as Ctrl-C does.

`stack.connect("demo")` signs in as a person does, over HTTP: Connect with X, the simulator's consent page,
back to the app with a session cookie; `stack.request(..., session=...)` then speaks as that person.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from local.provision import client
from tests.support.accounts import connect_over_http

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc (children of children too)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class DevStack:
    process: subprocess.Popen[str]
    port: int
    aws_port: int
    x_port: int
    data_dir: Path
    ready_seconds: float = 0.0
    _lines: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def aws_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    @property
    def x_url(self) -> str:
        return f"http://127.0.0.1:{self.x_port}"

    def output(self) -> str:
        with self._lock:
            return "\n".join(self._lines)

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._lock:
                self._lines.append(line.rstrip("\n"))

    def wait_for_output(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.process.poll() is not None:
                raise AssertionError(f"the stack exited ({self.process.returncode}):\n{self.output()[-4000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} within {timeout} s:\n{self.output()[-4000:]}")
            time.sleep(0.05)

    def wait_until(self, condition: Callable[[], Any], timeout: float, what: str) -> Any:
        """Poll `condition` until it is truthy (its value is returned); on timeout, fail with the stack's last lines."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"{what}: not within {timeout} s\n{self.output()[-3000:]}")

    def interrupt(self, timeout: float = 10.0) -> float:
        """SIGINT, as Ctrl-C; returns the seconds until the process exited."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=timeout)
        return time.monotonic() - started

    # --- HTTP, as a client of the stack (and of the simulator's management API) ------------------------------

    def connect(self, username: str = "demo", *, next_path: str = "/") -> requests.Session:
        """A person who connected `username` with X: Connect, the consent page (approve), back with a session."""
        person = requests.Session()
        connect_over_http(f"{self.url}/", person, username, next_path)
        me = person.get(f"{self.url}/api/me", timeout=15)
        assert me.status_code == 200, (me.status_code, me.text[:500])
        assert me.json()["username"].lower() == username.lower()
        return person

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        base: str | None = None,
        timeout: float = 15.0,
        session: requests.Session | None = None,
    ) -> tuple[int, Any]:
        """(status, the JSON body, or the text if it is not JSON); `session`: as the person who connected."""
        if session is not None:
            answer = session.request(method, f"{base or self.url}{path}", json=body, timeout=timeout)
            try:
                return answer.status_code, answer.json() if answer.content else None
            except ValueError:
                return answer.status_code, answer.text
        target = base or self.url
        host, port = target.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
        try:
            payload = None if body is None else json.dumps(body)
            headers = {"content-type": "application/json"} if body is not None else {}
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            try:
                return response.status, json.loads(raw) if raw else None
            except ValueError:
                return response.status, raw.decode("utf-8", "replace")
        finally:
            connection.close()

    def sim(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = self.request(method, path, body, base=self.x_url)
        assert status < 300, (status, answer)
        return answer

    # --- AWS, as an operator reads it (boto3 against the stack's moto) --------------------------------------

    def resources(self) -> dict[str, str]:
        """What the ops CLI does: the resources of the CloudFormation stack `random-likes`, by logical id."""
        described = client("cloudformation", self.aws_endpoint).describe_stack_resources(StackName="random-likes")
        return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in described["StackResources"]}

    def queue_url(self, logical_id: str) -> str:
        name = self.resources()[logical_id].rstrip("/").rsplit("/", 1)[-1]
        url: str = client("sqs", self.aws_endpoint).get_queue_url(QueueName=name)["QueueUrl"]
        return url

    def subscription_key(self, username: str, user_id: str | None = None) -> str:
        """The partition (`SUB#<key>`) of a simulated account's subscription: its X user id (a subscription belongs
        to an X account), or its lowercased name where the store still keys it so. `user_id`: known already
        (from /api/me), else asked of the simulator."""
        user_id = user_id or str(self.sim("GET", f"/_sim/credentials/{username}")["user_id"])
        dynamodb = client("dynamodb", self.aws_endpoint)
        table = self.resources()["LikesTable"]
        for key in (user_id, username.lower()):
            item = dynamodb.get_item(TableName=table, Key={"pk": {"S": f"SUB#{key}"}, "sk": {"S": "PROFILE"}})
            if "Item" in item:
                return key
        return user_id

    def stored_likes_of(self, person: requests.Session) -> list[str]:
        """stored_likes of the account `person` connected (whichever X it is on)."""
        me = person.get(f"{self.url}/api/me", timeout=15)
        assert me.status_code == 200, (me.status_code, me.text[:500])
        return self.stored_likes(me.json()["username"], user_id=me.json()["x_user_id"])

    def stored_likes(self, username: str, user_id: str | None = None) -> list[str]:
        """The post ids in the subscriber's slots, in slot order, read straight from the table."""
        dynamodb = client("dynamodb", self.aws_endpoint)
        slots: list[tuple[str, str]] = []
        key = self.subscription_key(username, user_id)
        for page in dynamodb.get_paginator("query").paginate(
            TableName=self.resources()["LikesTable"],
            KeyConditionExpression="pk = :pk AND begins_with(sk, :slot)",
            ExpressionAttributeValues={":pk": {"S": f"SUB#{key}"}, ":slot": {"S": "SLOT#"}},
        ):
            slots.extend((item["sk"]["S"], item["post_id"]["S"]) for item in page["Items"])
        assert [sk for sk, _ in slots] == [f"SLOT#{n:010d}" for n in range(len(slots))], "slots are not dense"
        return [post_id for _, post_id in slots]


def start_stack(data_dir: Path, *args: str, timeout: float = 60.0, env: dict[str, str] | None = None) -> DevStack:
    port, aws_port, x_port = free_port(), free_port(), free_port()
    command = [
        sys.executable,
        "-m",
        "local.dev",
        "--port",
        str(port),
        "--aws-port",
        str(aws_port),
        "--x-port",
        str(x_port),
        "--data-dir",
        str(data_dir),
        "--no-color",
        *args,
    ]
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
    )
    stack = DevStack(process, port, aws_port, x_port, data_dir)
    threading.Thread(target=stack._collect, daemon=True).start()
    try:
        stack.wait_for_output(" ready on ", timeout)
    except BaseException:
        stop_stack(stack)
        raise
    stack.ready_seconds = time.monotonic() - started
    return stack


def stop_stack(stack: DevStack) -> None:
    if stack.process.poll() is None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            stack.interrupt(timeout=10)
    if stack.process.poll() is None:
        stack.process.kill()
        stack.process.wait(timeout=5)


@contextlib.contextmanager
def running_stack(data_dir: Path, *args: str, timeout: float = 60.0) -> Iterator[DevStack]:
    stack = start_stack(data_dir, *args, timeout=timeout)
    try:
        yield stack
    finally:
        stop_stack(stack)

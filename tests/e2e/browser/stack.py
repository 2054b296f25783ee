"""The offline stack (`python -m local.dev`) as a subprocess on free loopback ports, for tests and benchmarks.

Started once per test module (a few seconds), in a temporary data directory, stopped with SIGINT as a
person would stop `make dev`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[3]
READY = re.compile(r"ready on (?P<url>https?://\S+)")
X_URL = re.compile(r"\bX (?P<url>https?://[^\s;,)]+)")
START_TIMEOUT = 90.0


@dataclass
class RunningStack:
    url: str  # the page, with its stage prefix if any, ending in "/"
    x_url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """Call the stack's API (path relative to the page, e.g. "api/subscriptions/demo")."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("content-type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    def wait_for_status(self, username: str, statuses: set[str], timeout: float = 90.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            code, body = self.api("GET", f"api/subscriptions/{username}")
            last = body
            if code == 200 and body["subscription"]["status"] in statuses:
                subscription: dict[str, Any] = body["subscription"]
                return subscription
            time.sleep(0.2)
        raise AssertionError(f"@{username} never reached {statuses}; last answer {last}\n" + self.tail())

    def tail(self, lines: int = 40) -> str:
        return "".join(self.output[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_stack(data_dir: Path, *extra_args: str) -> Iterator[RunningStack]:
    command = [
        sys.executable, "-m", "local.dev",
        "--port", str(free_port()), "--aws-port", str(free_port()), "--x-port", str(free_port()),
        "--data-dir", str(data_dir), "--clean", "--no-color", *extra_args,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    output: list[str] = []
    ready = threading.Event()
    found: dict[str, str] = {}

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if not ready.is_set() and (match := READY.search(line)):
                found["url"] = match["url"].rstrip("/") + "/"
                if x := X_URL.search(line):
                    found["x"] = x["url"]
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.wait(0.1):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the stack did not start ({' '.join(command)}):\n" + "".join(output[-60:]))
        yield RunningStack(url=found["url"], x_url=found.get("x", ""), process=process, output=output)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        reader.join(timeout=5)

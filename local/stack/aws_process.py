"""The parent's handle on the AWS process (`aws.py`): start it, hand it the template, wait until its tables and
queues exist, relay its log lines, stop it (it saves its state as it goes)."""

from __future__ import annotations

import contextlib
import json
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from local.stack.logstream import LogStream


class AwsStartError(RuntimeError):
    pass


class AwsProcess:
    def __init__(
        self, *, host: str, port: int, data_dir: Path, clean: bool, snapshot_every: float, log: LogStream
    ) -> None:
        command = [
            sys.executable,
            "-m",
            "local.stack.aws",
            "--host",
            host,
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--snapshot-every",
            str(snapshot_every),
        ]
        if clean:
            command.append("--clean")
        self._log = log
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True, name="aws-out").start()
        threading.Thread(target=self._relay, args=(self.process.stderr,), daemon=True, name="aws-err").start()
        self.endpoint = ""

    def _read(self, stream: IO[str] | None) -> None:
        for line in stream or ():
            text = line.rstrip("\n")
            try:
                message = json.loads(text)
            except ValueError:
                message = None
            if isinstance(message, dict) and "event" in message:
                self._events.put(message)
            elif text:
                self._log.event("aws", text)
        self._events.put(None)

    def _relay(self, stream: IO[str] | None) -> None:
        for line in stream or ():
            if line.strip():
                self._log.event("aws", line.rstrip("\n"), level="WARNING")

    def _next(self, timeout: float) -> dict[str, Any]:
        try:
            message = self._events.get(timeout=timeout)
        except queue.Empty:
            raise AwsStartError(f"moto did not answer within {timeout:.0f} s") from None
        if message is None:
            raise AwsStartError("the AWS process (moto) exited during start-up; see its lines above")
        if message["event"] == "error":
            raise AwsStartError(str(message.get("message")))
        return message

    def wait_listening(self, timeout: float = 30.0) -> str:
        message = self._next(timeout)
        self.endpoint = str(message["endpoint"])
        return self.endpoint

    def provision(self, stack_name: str, template: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
        """Send the template; returns the ready message: `refs` (logical id -> Ref value) and `restored`."""
        stdin = self.process.stdin
        if stdin is None:
            raise AwsStartError("the AWS process has no stdin")
        stdin.write(json.dumps({"stack_name": stack_name, "template": template}) + "\n")
        stdin.flush()
        return self._next(timeout)

    def stop(self, timeout: float) -> None:
        """SIGTERM: it saves a last snapshot and exits; killed if it takes longer than `timeout`."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()  # wakes it if it still waits for the template
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._log.event(
                "aws", "moto did not stop in time; killed (the last periodic snapshot stands)", level="WARNING"
            )
            self.process.kill()
            self.process.wait(timeout=2)

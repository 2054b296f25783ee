"""Lambda execution environments as processes: one process per environment, a pool per function.

An environment starts cold (a fresh interpreter imports the handler), then stays warm and serves one
invocation at a time. A timeout kills it, as Lambda ends a timed-out environment: the next invocation
starts cold. When every environment of a function is busy and the pool may grow, a new one starts; the
pool never grows past the function's concurrency limit, and callers wait for a free environment instead.

Each process gets exactly the environment variables Lambda would give it (`lambda_environment`): the
template's, the runtime's reserved ones, and the local endpoints. Nothing of the parent's leaks in, so a
handler that only works because another one set a variable fails here as it would on AWS.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from local.stack.spec import FunctionSpec

INIT_LIMIT = 10.0  # seconds: Lambda's limit on the init phase of an on-demand environment
REGION = "us-east-1"

LogSink = Callable[[str, str | None, str, str], None]  # (function, request id, stream name, line)


class Throttled(Exception):
    """No environment became free in time (the pool is at its concurrency limit)."""


@dataclass(frozen=True)
class Invocation:
    request_id: str
    ok: bool
    result: Any = None
    error: Mapping[str, Any] | None = None  # errorType, errorMessage, stackTrace
    timed_out: bool = False
    duration_ms: float = 0.0
    init_ms: float | None = None  # set on a cold start

    @property
    def error_summary(self) -> str:
        if self.timed_out:
            return "Task timed out"
        if not self.error:
            return ""
        first_line = str(self.error.get("errorMessage", "")).strip().split("\n", 1)[0]
        return f"{self.error.get('errorType')}: {first_line}"


def lambda_environment(
    spec: FunctionSpec, *, endpoint_url: str, log_stream: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """What a function's process sees in os.environ: the template's variables, Lambda's reserved ones, and the
    local AWS endpoint. Only PATH and LANG come from the machine."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "_HANDLER": spec.handler,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}" if spec.runtime else "AWS_Lambda_python",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        # The execution role's credentials on AWS; moto takes any.
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        # Local only: every AWS SDK call goes to moto, and there is no X-Ray daemon to send traces to.
        "AWS_ENDPOINT_URL": endpoint_url,
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    env.update(spec.environment)  # the template's own values win, as on Lambda (reserved names aside)
    env.update(extra or {})
    return env


def log_stream_name() -> str:
    """Lambda's `2026/11/28/[$LATEST]<32 hex>`: one per environment."""
    return f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{secrets.token_hex(16)}"


@dataclass
class Environment:
    """One execution environment: a process running `local.stack.bootstrap`."""

    spec: FunctionSpec
    env: Mapping[str, str]
    label: str
    sink: LogSink
    process: subprocess.Popen[bytes] | None = None
    current_request: str | None = None
    warm: bool = False
    _inbox: IO[bytes] | None = None
    _answers: queue.Queue[dict[str, Any] | None] = field(default_factory=queue.Queue)
    _init_ms: float | None = None

    def start(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
            [sys.executable, "-m", "local.stack.bootstrap", str(to_child_r), str(from_child_w)],
            cwd=self.spec.code_dir,
            env=dict(self.env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(to_child_r, from_child_w),
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._inbox = os.fdopen(to_child_w, "wb")
        answers = os.fdopen(from_child_r, "rb")
        pipes = {"stdout": self.process.stdout, "stderr": self.process.stderr}
        for name, stream in pipes.items():
            threading.Thread(target=self._pump, args=(stream, name), daemon=True, name=f"{self.label}-{name}").start()
        threading.Thread(target=self._read_answers, args=(answers,), daemon=True, name=f"{self.label}-rpc").start()

    def _pump(self, stream: IO[bytes] | None, name: str) -> None:
        if stream is None:
            return
        for raw in stream:
            self.sink(self.label, self.current_request, name, raw.decode("utf-8", "replace").rstrip("\n"))
        stream.close()

    def _read_answers(self, answers: IO[bytes]) -> None:
        for line in answers:
            self._answers.put(json.loads(line))
        answers.close()
        self._answers.put(None)  # the process is gone

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def invoke(self, event: Any, request_id: str, deadline: float) -> Invocation:
        """Run one invocation; `deadline` is epoch seconds. A timeout or a crash kills the process."""
        started = time.monotonic()
        init_ms = None
        if not self.warm:
            ready = self._next(started + INIT_LIMIT)
            if ready is None or ready.get("type") != "ready":
                self.kill()
                return Invocation(request_id, False, error=_runtime_error("Runtime.InitError", "init did not finish"))
            init_ms = float(ready["init_ms"])
            self.warm = True
            self.sink(self.label, request_id, "runtime", f"cold start: init {init_ms:.0f} ms")
        self.current_request = request_id
        try:
            if self._inbox is None:
                raise OSError("the environment was never started")
            self._inbox.write(json.dumps({"request_id": request_id, "deadline": deadline, "event": event}).encode())
            self._inbox.write(b"\n")
            self._inbox.flush()
        except OSError:
            self.kill()
            return Invocation(request_id, False, error=_runtime_error("Runtime.ExitError", "the runtime exited"))
        answer = self._next(time.monotonic() + max(0.0, deadline - time.time()))
        duration = (time.monotonic() - started) * 1000 - (init_ms or 0)
        self.current_request = None
        if answer is None:
            timed_out = self.alive
            self.kill()
            if timed_out:
                return Invocation(request_id, False, timed_out=True, duration_ms=duration, init_ms=init_ms)
            error = _runtime_error("Runtime.ExitError", "the runtime exited without answering")
            return Invocation(request_id, False, error=error, duration_ms=duration, init_ms=init_ms)
        if answer.get("ok"):
            return Invocation(request_id, True, answer.get("result"), duration_ms=duration, init_ms=init_ms)
        if not self.alive or answer["error"].get("errorType", "").startswith("Runtime.Import"):
            self.kill()
        return Invocation(request_id, False, error=answer["error"], duration_ms=duration, init_ms=init_ms)

    def _next(self, until: float) -> dict[str, Any] | None:
        try:
            return self._answers.get(timeout=max(0.0, until - time.monotonic()))
        except queue.Empty:
            return None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=2)
        if self._inbox is not None:
            with contextlib.suppress(OSError):
                self._inbox.close()
        self.warm = False


def _runtime_error(kind: str, message: str) -> dict[str, Any]:
    return {"errorType": kind, "errorMessage": message, "stackTrace": []}


class FunctionPool:
    """The environments of one function; grows on demand up to `limit`, reuses warm ones first."""

    def __init__(
        self,
        spec: FunctionSpec,
        *,
        limit: int,
        endpoint_url: str,
        sink: LogSink,
        label: str,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.spec = spec
        self.limit = limit
        self.label = label
        self._endpoint_url = endpoint_url
        self._sink = sink
        self._extra_env = dict(extra_env or {})
        self._idle: list[Environment] = []
        self._all: list[Environment] = []
        self._cond = threading.Condition()
        self._closed = False

    def invoke(self, event: Any, *, request_id: str | None = None, wait: float = 30.0) -> Invocation:
        """Invoke synchronously (RequestResponse); raise `Throttled` if no environment frees up within `wait`."""
        request_id = request_id or str(uuid.uuid4())
        environment = self._acquire(wait)
        try:
            result = environment.invoke(event, request_id, time.time() + self.spec.timeout)
        finally:
            self._release(environment)
        self._report(result)
        return result

    def _acquire(self, wait: float) -> Environment:
        deadline = time.monotonic() + wait
        with self._cond:
            while True:
                if self._closed:
                    raise Throttled(f"{self.label} is stopping")
                if self._idle:
                    return self._idle.pop()  # the most recently used: warm, like Lambda's reuse
                if len(self._all) < self.limit:
                    environment = Environment(
                        self.spec,
                        lambda_environment(
                            self.spec,
                            endpoint_url=self._endpoint_url,
                            log_stream=log_stream_name(),
                            extra=self._extra_env,
                        ),
                        self.label,
                        self._sink,
                    )
                    self._all.append(environment)
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Throttled(f"all {self.limit} environments of {self.label} are busy")
                self._cond.wait(left)
        try:
            environment.start()
        except Exception:
            self._release(environment)
            raise
        return environment

    def _release(self, environment: Environment) -> None:
        with self._cond:
            if environment.alive and environment.warm and not self._closed:
                self._idle.append(environment)
            else:
                environment.kill()
                if environment in self._all:
                    self._all.remove(environment)
            self._cond.notify()

    def _report(self, result: Invocation) -> None:
        if result.timed_out:
            self._sink(self.label, result.request_id, "runtime", f"Task timed out after {self.spec.timeout}.00 seconds")

    @property
    def size(self) -> int:
        with self._cond:
            return len(self._all)

    def stop(self) -> None:
        with self._cond:
            self._closed = True
            environments = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._cond.notify_all()
        for environment in environments:
            if environment.process is not None and environment.process.poll() is None:
                environment.process.kill()
        for environment in environments:
            environment.kill()

"""Function processes as Lambda execution environments: their own environment and module state, warm reuse,
a timeout that ends the environment, concurrency as separate processes. The handlers are tiny modules
written for the test, so each behaviour is visible in what they return."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.stack.functions import FunctionPool, Invocation, lambda_environment
from local.stack.spec import FunctionSpec
from tests.support.dev_stack import alive
from tests.support.waiting import wait_until, waiting_on

HANDLERS = {
    "state.py": """
import os, time
invocations = 0

def handler(event, context):
    global invocations
    invocations += 1
    time.sleep(event.get("sleep", 0))
    while event.get("hold_until") and not os.path.exists(event["hold_until"]):
        time.sleep(0.01)  # held until the test creates the file
    return {
        "pid": os.getpid(),
        "invocations": invocations,
        "env": dict(os.environ),
        "remaining_ms": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
    }
""",
    "setter.py": """
import os

def handler(event, context):
    os.environ["SET_BY_ANOTHER_FUNCTION"] = "1"
    return "set"
""",
    "reader.py": """
import os

def handler(event, context):
    return os.environ["SET_BY_ANOTHER_FUNCTION"]
""",
    "broken_import.py": "import module_that_does_not_exist\n",
    "unserialisable.py": "def handler(event, context):\n    return object()\n",
}


@pytest.fixture(scope="module")
def code_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("code")
    for name, text in HANDLERS.items():
        (root / name).write_text(text)
    return root


def spec(code_dir: Path, handler: str, *, timeout: int = 10, env: dict[str, str] | None = None) -> FunctionSpec:
    return FunctionSpec(
        logical_id=handler.split(".", maxsplit=1)[0].title() + "Function",
        name=f"test-{handler.split('.', maxsplit=1)[0]}",
        handler=handler,
        runtime="python3.11",
        timeout=timeout,
        memory=256,
        environment=env or {"TABLE_NAME": "the-table"},
        code_dir=code_dir,
        log_group="/aws/lambda/test",
    )


@pytest.fixture
def pools() -> Iterator[list[FunctionPool]]:
    started: list[FunctionPool] = []
    yield started
    for pool in started:
        pool.stop()


def pool_for(pools: list[FunctionPool], function: FunctionSpec, limit: int = 1) -> FunctionPool:
    lines: list[str] = []
    pool = FunctionPool(
        function,
        limit=limit,
        endpoint_url="http://127.0.0.1:1",
        sink=lambda *parts: lines.append(parts[-1]),
        label=function.logical_id,
    )
    pools.append(pool)
    return pool


def test_an_environment_sees_only_what_lambda_would_give_it(code_dir: Path, pools: list[FunctionPool]) -> None:
    # Given a variable in the parent's environment that no function is given
    os.environ["PARENT_ONLY_CANARY"] = "leaked"
    try:
        result = pool_for(pools, spec(code_dir, "state.handler")).invoke({})
    finally:
        del os.environ["PARENT_ONLY_CANARY"]
    env = result.result["env"]
    assert "PARENT_ONLY_CANARY" not in env
    assert env["TABLE_NAME"] == "the-table"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "test-state"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"
    assert env["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert env["_HANDLER"] == "state.handler"
    expected = set(lambda_environment(spec(code_dir, "state.handler"), endpoint_url="x", log_stream="s"))
    assert set(env) - expected <= {"PWD", "LC_CTYPE"}  # what the interpreter adds itself


def test_a_handler_that_needs_another_functions_variable_fails_as_on_aws(
    code_dir: Path, pools: list[FunctionPool]
) -> None:
    assert pool_for(pools, spec(code_dir, "setter.handler")).invoke({}).ok
    result = pool_for(pools, spec(code_dir, "reader.handler")).invoke({})
    assert not result.ok
    assert result.error is not None
    assert result.error["errorType"] == "KeyError"


def test_a_warm_environment_keeps_its_module_state_and_a_handled_error_keeps_it_warm(
    code_dir: Path, pools: list[FunctionPool]
) -> None:
    pool = pool_for(pools, spec(code_dir, "state.handler"))
    first, second = pool.invoke({}), pool.invoke({})
    assert first.init_ms is not None  # a cold start
    assert second.init_ms is None
    assert second.result["pid"] == first.result["pid"]
    assert second.result["invocations"] == 2
    assert first.result["request_id"] != second.result["request_id"]


def test_the_remaining_time_counts_down_from_the_functions_own_timeout(
    code_dir: Path, pools: list[FunctionPool]
) -> None:
    # Given two functions, one with a 10 s timeout and one with 600 s
    short = pool_for(pools, spec(code_dir, "state.handler", timeout=10))
    long = pool_for(pools, spec(code_dir, "state.handler", timeout=600))

    # When each asks its context for the time left
    short_left, long_left = (pool.invoke({}).result["remaining_ms"] for pool in (short, long))

    # Then each counts down from its own timeout
    assert 0 < short_left <= 10_000 < long_left <= 600_000


def test_a_timeout_ends_the_environment_and_the_next_invocation_starts_cold(
    code_dir: Path, pools: list[FunctionPool]
) -> None:
    # Given a warm environment of a function with a 1 s timeout
    pool = pool_for(pools, spec(code_dir, "state.handler", timeout=1))
    warm = pool.invoke({})

    # When an invocation runs past the timeout (its handler would sleep ten minutes)
    timed_out = pool.invoke({"sleep": 600})

    # Then it is reported as timed out, its environment's process is gone, and the next invocation starts cold
    assert timed_out.timed_out
    assert not timed_out.ok
    assert not alive(warm.result["pid"])
    after = pool.invoke({})
    assert after.init_ms is not None
    assert after.result["pid"] != warm.result["pid"]
    assert after.result["invocations"] == 1


def test_concurrent_invocations_run_in_separate_processes_up_to_the_limit(
    code_dir: Path, pools: list[FunctionPool], tmp_path: Path
) -> None:
    # Given a function allowed two environments, and three invocations held inside the handler until released
    pool = pool_for(pools, spec(code_dir, "state.handler"), limit=2)
    release = tmp_path / "release"
    results: list[Invocation] = []
    threads = [
        threading.Thread(target=lambda: results.append(pool.invoke({"hold_until": str(release)}))) for _ in range(3)
    ]
    for thread in threads:
        thread.start()

    # When two environments are busy and the third invocation waits for one of them
    wait_until(lambda: pool.size == 2 and waiting_on(pool._cond) == 1, "two busy environments and one waiting")
    size_while_busy = pool.size
    release.touch()
    for thread in threads:
        thread.join()

    # Then no third environment was started: the third invocation ran in one of the two once it was free
    assert size_while_busy == 2
    assert all(r.ok for r in results)
    assert len({r.result["pid"] for r in results}) == 2
    assert pool.size == 2


@pytest.mark.parametrize(
    ("handler", "error_type"),
    [("broken_import.handler", "Runtime.ImportModuleError"), ("unserialisable.handler", "Runtime.MarshalError")],
)
def test_runtime_failures_are_reported_as_lambda_reports_them(
    code_dir: Path, pools: list[FunctionPool], handler: str, error_type: str
) -> None:
    result: Any = pool_for(pools, spec(code_dir, handler)).invoke({})
    assert not result.ok
    assert result.error["errorType"] == error_type

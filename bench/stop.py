"""Ctrl-C on a busy `make dev`: from SIGINT to exit once every function has run. Target <= 2 s.

The test of the same stop (tests/e2e/test_dev_lifecycle.py) checks what a stop leaves behind: no process,
no listening port, exit code 0. How long it takes is measured here, where a slow machine makes a slow
figure instead of a failed test. Each run starts the stack on free ports with a data directory of its own
(`python -m local.dev`, accelerated 60x), subscribes demo and waits until it is synced, so the api, fetcher
and worker processes are all alive and warm, then sends SIGINT as Ctrl-C does.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.report import write_section
from tests.support.dev_stack import descendants, start_stack, stop_stack

RUNS = 5
TARGET = 2.0


def one_stop(data_dir: Path) -> tuple[float, int]:
    """(seconds from SIGINT to exit, processes below the stack when it got it)."""
    stack = start_stack(data_dir, "--accelerate", "60")
    try:
        person = stack.connect("demo")  # the first sync starts at connect
        deadline = time.monotonic() + 60
        while stack.request("GET", "/api/subscriptions/demo", session=person)[1]["status"] != "ready":
            assert time.monotonic() < deadline, stack.output()[-2000:]
            time.sleep(0.1)
        processes = len(descendants(stack.process.pid))
        seconds = stack.interrupt()
        assert stack.process.returncode == 0, stack.output()[-2000:]
        return seconds, processes
    finally:
        stop_stack(stack)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        results = [one_stop(Path(tmp) / f"dev{n}") for n in range(RUNS)]
    stops = [seconds for seconds, _ in results]
    median, slowest = statistics.median(stops), max(stops)
    verdict = "met" if slowest <= TARGET else "NOT met"
    body = (
        f"""
`python -m bench stop`. {RUNS} runs of `python -m local.dev --accelerate 60` on free ports, each with a fresh
data directory: demo subscribed and synced (so moto, the api, fetcher and worker processes are all running),
then SIGINT to the stack's process, as Ctrl-C does; timed until it has exited (with code 0).

| run | processes running | SIGINT to exit (s) |
|---|---|---|
"""
        + "".join(f"| {n} | {p} | {s:.2f} |\n" for n, (s, p) in enumerate(results, start=1))
        + f"""
Median **{median:.2f} s**, slowest {slowest:.2f} s (target <= {TARGET:g} s): {verdict}.
What a stop leaves behind (no process, no port) is tested in tests/e2e/test_dev_lifecycle.py.
"""
    )
    write_section("stop", "Ctrl-C on a running stack (issue 9)", body)


if __name__ == "__main__":
    main()

"""Picks per second through `make dev`'s gateway, against moto GetItem calls in a loop, same run.

Target: picks/s (4 clients, HTTP keep-alive) / GetItem/s (one loop) >= 0.5.
The stack runs as `make dev` runs it (a subprocess: moto, the gateway, an api process per concurrent
request); the template's throttle (50/s) is lifted with --parameter-overrides, since this measures what the
local gateway can carry, not the configured limit. Each pick is the real path: HTTP -> gateway -> the api
function's process -> GetItem(s) on moto -> back.
"""

from __future__ import annotations

import http.client
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.report import write_section
from local.provision import client
from tests.support.dev_stack import DevStack, running_stack

CLIENTS = 4
SECONDS = 10.0
PICK = "/api/subscriptions/demo/likes/random"


def _picks(stack: DevStack, seconds: float, latencies: list[float], errors: list[int]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
    done = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.perf_counter()
        connection.request("GET", PICK)
        response = connection.getresponse()
        response.read()
        if response.status == 200:
            done += 1
            latencies.append((time.perf_counter() - started) * 1000)
        else:
            errors.append(response.status)
    connection.close()
    return done


def picks_per_second(stack: DevStack, clients: int, seconds: float) -> tuple[float, list[float], list[int]]:
    latencies: list[float] = []
    errors: list[int] = []
    counts: list[int] = []
    threads = [
        threading.Thread(target=lambda: counts.append(_picks(stack, seconds, latencies, errors)))
        for _ in range(clients)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started), latencies, errors


def get_items_per_second(stack: DevStack, seconds: float, clients: int = 1) -> float:
    table = stack.resources()["LikesTable"]
    key = {"pk": {"S": "SUB#demo"}, "sk": {"S": "SLOT#0000000000"}}
    counts: list[int] = []

    def loop() -> None:
        dynamodb: Any = client("dynamodb", stack.aws_endpoint)
        dynamodb.get_item(TableName=table, Key=key)  # connection set up outside the timing
        done = 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            dynamodb.get_item(TableName=table, Key=key)
            done += 1
        counts.append(done)

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_stack(
            Path(tmp),
            "--parameter-overrides",
            "ApiThrottlingRateLimit=100000",
            "ApiThrottlingBurstLimit=100000",
        ) as stack,
    ):
        # demo connected, synced and shared: picks are then anyone's, as a share link's visitors make them
        person = stack.connect("demo")
        deadline = time.monotonic() + 60
        while stack.request("GET", "/api/subscriptions/demo", session=person)[1]["status"] != "ready":
            assert time.monotonic() < deadline, stack.output()[-2000:]
            time.sleep(0.2)
        shared = stack.request("PATCH", "/api/subscriptions/demo", {"visibility": "public"}, session=person)
        assert shared[0] == 200, shared
        picks_per_second(stack, CLIENTS, 3.0)  # warm-up: CLIENTS api environments, warm
        get_items_per_second(stack, 2.0)
        rounds = []
        for _ in range(2):  # alternate, so neither side gets the quieter machine
            get_items = get_items_per_second(stack, SECONDS)
            picks, latencies, errors = picks_per_second(stack, CLIENTS, SECONDS)
            rounds.append((get_items, picks, latencies, errors))
        get_items_4 = get_items_per_second(stack, SECONDS / 2, clients=CLIENTS)
        cold_starts = stack.output().count("cold start: init")
    get_items = statistics.mean(r[0] for r in rounds)
    picks = statistics.mean(r[1] for r in rounds)
    latencies = [ms for r in rounds for ms in r[2]]
    errors = [code for r in rounds for code in r[3]]
    ratio = picks / get_items
    quantiles = statistics.quantiles(latencies, n=100)
    body = f"""
`python -m bench gateway`. Demo's ~315 likes synced first; then, twice and alternating, {SECONDS:g} s of
GetItem in a loop (one boto3 client, one slot item) and {SECONDS:g} s of picks by {CLIENTS} clients over
HTTP/1.1 keep-alive (`GET {PICK}`). The template's throttle is lifted for the run
(`--parameter-overrides ApiThrottlingRateLimit=100000 ApiThrottlingBurstLimit=100000`).

| measure | value |
|---|---|
| moto GetItem/s, one loop | {get_items:.0f} |
| moto GetItem/s, {CLIENTS} loops | {get_items_4:.0f} |
| picks/s through the gateway, {CLIENTS} clients | {picks:.0f} |
| pick latency p50 / p95 / p99 (ms) | {quantiles[49]:.1f} / {quantiles[94]:.1f} / {quantiles[98]:.1f} |
| non-200 answers | {len(errors)} |
| cold starts during the run (all functions) | {cold_starts} |

picks/s / GetItem/s = **{ratio:.2f}** (target >= 0.5): {"met" if ratio >= 0.5 else "NOT met"}.
A warm pick is one GetItem (the slot; the profile's count is cached 5 s in a warm api environment). moto
is the bottleneck: {CLIENTS} GetItem loops get no more out of it than one, and {CLIENTS} clients picking
keep it about as busy. What the gateway, the 2.0 event, the pipe to the api process and Powertools add
shows in the latency, not in the rate: the api processes run on the other core, beside moto.
"""
    write_section("gateway", "Picks through the local gateway vs moto GetItem (issue 4)", body)


if __name__ == "__main__":
    main()

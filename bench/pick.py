"""A random pick with 100 vs 100,000 stored likes, on moto: DynamoDB calls per pick and handler time.

Targets: <= 2 DynamoDB calls per warm pick at both sizes; median handler time big / small <= 1.2. The
subscriptions are public (anyone's picks, no session), found by name through their lookup item.
moto runs in its own process (so the handler's timing is not sharing a GIL with the server); the api
handler runs here, invoked with the sample event of events/api-random-like.json, cold start excluded.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import botocore.endpoint

from bench.report import write_section
from local.provision import LOCAL_CREDENTIALS, REGION, provision
from shared.models import AuthKind, SubscriberStatus, Visibility
from shared.store.items import DUE_PK, NAME_SK, PROFILE_SK, Table, bind, name_pk, post_sk, slot_sk, subscriber_pk
from tests.support.dev_stack import free_port
from tests.support.events import http_event
from tests.support.fake_x import make_post

SIZES = {"small": 100, "big": 100_000}
PICKS = 400
# moto in its own process, with the one-copy-per-transaction fix the offline stack uses.
MOTO_MAIN = (
    "from local import moto_fixes; moto_fixes.apply(); import sys; from moto.server import main; main(sys.argv[1:])"
)


def _seed(table: Table, username: str, count: int, x_user_id: str) -> None:
    """Bulk-load likes with BatchWriteItem (seeding, not the sync path: the sync is measured elsewhere)."""
    now = datetime.now(UTC)
    pk = subscriber_pk(x_user_id)
    table.profile(
        pk=pk,
        sk=PROFILE_SK,
        username=username,
        status=SubscriberStatus.READY.value,
        created_at=now,
        like_count=count,
        x_user_id=x_user_id,
        due_pk=DUE_PK,
        next_sync_at=int(now.timestamp()) + 3600,
        visibility=Visibility.PUBLIC.value,
        auth=AuthKind.OAUTH2.value,
    ).save()
    table.names(pk=name_pk(username), sk=NAME_SK, key=x_user_id).save()
    with table.slot.batch_write() as slots, table.marker.batch_write() as markers:
        for n in range(count):
            post = make_post(n)
            slots.save(table.slot(pk=pk, sk=slot_sk(n), post_id=post.id, post=post.to_json(), first_seen_at=now))
            markers.save(table.marker(pk=pk, sk=post_sk(post.id), slot=n))


class CallCounter:
    """Counts the DynamoDB operations botocore sends, whoever sends them."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._original = botocore.endpoint.Endpoint.make_request

    def __enter__(self) -> CallCounter:
        counter = self

        def make_request(endpoint: Any, operation_model: Any, request_dict: Any) -> Any:
            if operation_model.service_model.service_name == "dynamodb":
                counter.calls[operation_model.name] += 1
            return counter._original(endpoint, operation_model, request_dict)

        botocore.endpoint.Endpoint.make_request = make_request  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        botocore.endpoint.Endpoint.make_request = self._original  # type: ignore[method-assign]


def main() -> None:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            MOTO_MAIN,
            "-p",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        stack = provision(endpoint, stack_name="bench")
        os.environ.update(
            {
                **stack.function_env(),
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
                "POWERTOOLS_LOG_LEVEL": "WARNING",
            }
        )
        table = bind(stack.table_name, REGION, endpoint)
        started = time.perf_counter()
        for n, (name, count) in enumerate(SIZES.items()):
            _seed(table, name, count, x_user_id=str(1_700_000_000_000_000_000 + n))
        seeding = time.perf_counter() - started

        from api.app import handler  # noqa: PLC0415 - after the environment is set, as on a cold start
        from local.context import LocalLambdaContext  # noqa: PLC0415

        rows = []
        medians: dict[str, float] = {}
        events = {name: http_event("api-random-like", username=name) for name in SIZES}
        for event in events.values():
            handler(event, LocalLambdaContext("bench", 10))  # warm up: container start excluded
        times: dict[str, list[float]] = {name: [] for name in SIZES}
        calls: dict[str, Counter[str]] = {name: Counter() for name in SIZES}
        # Small and big alternate pick by pick, so a slow moment of the machine weighs on both alike.
        for _ in range(PICKS):
            for name, event in events.items():
                with CallCounter() as counter:
                    start = time.perf_counter()
                    response = handler(event, LocalLambdaContext("bench", 10))
                    times[name].append(time.perf_counter() - start)
                assert response["statusCode"] == 200, response
                calls[name].update(counter.calls)
        for name, count in SIZES.items():
            median = statistics.median(times[name])
            medians[name] = median
            per_pick = sum(calls[name].values()) / PICKS
            ops = ", ".join(f"{op} {n / PICKS:.2f}" for op, n in sorted(calls[name].items()))
            rows.append(
                f"| {count:,} | {per_pick:.2f} ({ops}) "
                f"| {median * 1000:.2f} | {statistics.quantiles(times[name], n=20)[18] * 1000:.2f} |"
            )
        ratio = medians["big"] / medians["small"]
        body = "\n".join(
            [
                f"{PICKS} picks per size, alternating, through `api.app.handler` (event api-random-like, no session:",
                f"public subscriptions), moto in its own process; {sum(SIZES.values()):,} likes seeded in",
                f"{seeding:.0f} s; DynamoDB calls are counted in botocore.",
                "",
                "| stored likes | DynamoDB calls per warm pick | median ms | p95 ms |",
                "|---|---|---|---|",
                *rows,
                "",
                f"Median big / small: **{ratio:.2f}** (target <= 1.2).",
                "A warm pick is two GetItems at both sizes: the profile (read every time: it says who may see the",
                "likes, and a subscription made private is private at once) and the slot. The name's lookup item",
                "is read once per name and warm container (then trusted for 60 s, and only while the profile still",
                "carries the name); nothing scales with the number of likes.",
            ]
        )
        write_section("pick", "Random pick: 100 vs 100,000 stored likes (issues 2, 10)", body)
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()

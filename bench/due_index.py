"""The fetcher's DueIndex query in moto at 100 vs 150,000 stored likes: moto as it comes, then with
local.moto_fixes (which `make dev` runs).

moto answers a Query on a GSI by sorting the whole table; the fetcher asks DueIndex for due subscribers on
every schedule tick (5 minutes; every 5 s with --accelerate 60). Each variant runs moto in its own process
(as `make dev` does) with the template's tables, three subscriber profiles, and likes as the sync stores them
(a slot item and a post marker each); the query is the one the fetcher sends
(`SubscriberStore.iter_subscribers(due_before=now)`).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime

import boto3
from botocore.config import Config

from bench.report import write_section
from local.provision import LOCAL_CREDENTIALS, REGION, client, provision
from shared.store.items import DUE_INDEX, DUE_PK, PROFILE_SK, post_sk, slot_sk, subscriber_pk
from tests.support.dev_stack import free_port

SIZES = (100, 150_000)
QUERIES = 7
SERVE = "import sys; from moto.server import main; main(sys.argv[1:])"
# Both with the fixes the template needs (alarms in CloudFormation, one copy per transaction); only FIXED
# answers a Query from its candidates.
MOTO = "from local import moto_fixes; moto_fixes.apply(query_candidates=False); " + SERVE
FIXED = "from local import moto_fixes; moto_fixes.apply(); " + SERVE
POST = json.dumps({"id": "1", "text": "x" * 180, "author": {"username": "someone", "name": "Some One"}})


def _moto(code: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", code, "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.1)
    return process, f"http://127.0.0.1:{port}"


def _seed_likes(endpoint: str, table: str, start: int, stop: int) -> None:
    """Slot items and post markers of one subscriber, as BatchWriteItem (moto takes more than 25 at once)."""
    dynamodb = client("dynamodb", endpoint)
    pk = {"S": subscriber_pk("1000")}
    for first in range(start, stop, 1000):
        requests = []
        for n in range(first, min(stop, first + 1000)):
            post_id = str(1_500_000_000_000_000_000 + n)
            slot = {"pk": pk, "sk": {"S": slot_sk(n)}, "post_id": {"S": post_id}, "post": {"S": POST}}
            marker = {"pk": pk, "sk": {"S": post_sk(post_id)}, "slot": {"N": str(n)}}
            requests += [{"PutRequest": {"Item": slot}}, {"PutRequest": {"Item": marker}}]
        dynamodb.batch_write_item(RequestItems={table: requests})


def _seed_profiles(endpoint: str, table: str) -> None:
    dynamodb = client("dynamodb", endpoint)
    now = int(datetime.now(UTC).timestamp())
    for n, due in enumerate((now - 60, now + 600, now + 3600)):
        dynamodb.put_item(
            TableName=table,
            Item={
                "pk": {"S": subscriber_pk(str(1000 + n))},
                "sk": {"S": PROFILE_SK},
                "username": {"S": f"user{n}"},
                "status": {"S": "ready"},
                "created_at": {"S": "2026-01-01T00:00:00.000000+0000"},
                "due_pk": {"S": DUE_PK},
                "next_sync_at": {"N": str(due)},
            },
        )


def _query_ms(endpoint: str, table: str) -> tuple[float, int]:
    """The fetcher's request (as pynamodb sends it for `iter_subscribers(due_before=now)`), timed; boto3 here
    because moto as it comes outlasts pynamodb's read timeout at 150,000 likes."""
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(read_timeout=600, retries={"max_attempts": 1}),
        **LOCAL_CREDENTIALS,
    )
    times = []
    found = 0
    for _ in range(QUERIES):
        started = time.perf_counter()
        answer = dynamodb.query(
            TableName=table,
            IndexName=DUE_INDEX,
            KeyConditionExpression="#0 = :0 AND #1 <= :1",
            ExpressionAttributeNames={"#0": "due_pk", "#1": "next_sync_at"},
            ExpressionAttributeValues={":0": {"S": DUE_PK}, ":1": {"N": str(int(time.time()))}},
        )
        times.append(time.perf_counter() - started)
        found = len(answer["Items"])
    return statistics.median(times) * 1000, found


def measure(code: str) -> dict[int, tuple[float, int]]:
    process, endpoint = _moto(code)
    try:
        table = provision(endpoint, stack_name="bench").table_name
        _seed_profiles(endpoint, table)
        results = {}
        stored = 0
        for size in SIZES:
            _seed_likes(endpoint, table, stored, size)
            stored = size
            results[size] = _query_ms(endpoint, table)
        return results
    finally:
        process.kill()  # nothing to save; a moto holding 300,000 items takes long to tear down
        process.wait(timeout=30)


def main() -> None:
    os.environ.update(  # pynamodb's client finds its (fake) credentials in the environment
        {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
        }
    )
    started = time.perf_counter()
    plain = measure(MOTO)
    fixed = measure(FIXED)
    rows = [
        f"| {size:,} | {2 * size + 3:,} | {plain[size][0]:.1f} | {fixed[size][0]:.1f} | {fixed[size][1]} |"
        for size in SIZES
    ]
    big, small = SIZES[-1], SIZES[0]
    body = "\n".join(
        [
            "`python -m bench due_index`: the fetcher's query (`SubscriberStore.iter_subscribers(due_before=now)`:",
            "DueIndex `due_pk = SUB AND next_sync_at <= now`) against moto in its own process, median of",
            f"{QUERIES}; three subscriber profiles (one due) and one subscriber's likes, a slot item and a post",
            f"marker per like. Whole run {time.perf_counter() - started:.0f} s.",
            "",
            "| stored likes | items in the table | moto as it comes, ms | with local.moto_fixes, ms | due found |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"moto as it comes: {plain[big][0] / plain[small][0]:.0f}x slower at {big:,} likes than at {small}: each",
            "Query sorts every item of the table (`Table.all_items`) before it looks at the index. With the fix",
            "(`make dev` applies it) the query reads only the items that carry the index's hash key, so its time",
            "stays at a few ms whatever the likes; the answer is moto's own",
            "(tests/integration/test_local_moto_query.py).",
        ]
    )
    write_section("due_index", "The fetcher's DueIndex query in moto at 100 vs 150,000 likes (issue 11)", body)


if __name__ == "__main__":
    main()

"""A seeded mix of writes and queries on a table shaped like the likes table, run in moto in-process; prints
every query's pages as JSON. `python -m tests.support.moto_query_scenario fixed|moto`: with local.moto_fixes
applied, or moto as it comes. The two outputs must be equal (tests/integration/test_local_moto_query.py).
"""

from __future__ import annotations

import contextlib
import json
import random
import sys
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends

from local import moto_fixes

TABLE = "likes"
KEYS = [("pk", "S"), ("sk", "S"), ("due_pk", "S"), ("next_sync_at", "N"), ("kind", "S"), ("rank", "N")]


def _create(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in KEYS],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "DueIndex",
                "KeySchema": [
                    {"AttributeName": "due_pk", "KeyType": "HASH"},
                    {"AttributeName": "next_sync_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {  # hash key only, keys-only projection
                "IndexName": "KindIndex",
                "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
            {
                "IndexName": "RankIndex",
                "KeySchema": [
                    {"AttributeName": "kind", "KeyType": "HASH"},
                    {"AttributeName": "rank", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["post"]},
            },
        ],
    )


def _profile(rng: random.Random, n: int) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": {"S": f"SUB#{n % 7}"}, "sk": {"S": f"PROFILE#{n}"}, "post": {"S": "p" * n}}
    if rng.random() < 0.8:
        item["due_pk"] = {"S": rng.choice(["SUB", "SUB", "OTHER"])}
    if rng.random() < 0.9:
        item["next_sync_at"] = {"N": str(rng.choice([5, 10, 10, 20, 30, 40]))}  # ties on the range key
    if rng.random() < 0.5:
        item["kind"] = {"S": rng.choice(["a", "b"])}
        item["rank"] = {"N": str(rng.randint(0, 4))}
    return item


def _writes(dynamodb: Any, rng: random.Random) -> None:
    for n in range(600):  # the likes: none carries an index key
        dynamodb.put_item(
            TableName=TABLE, Item={"pk": {"S": f"SUB#{n % 7}"}, "sk": {"S": f"SLOT#{n:06d}"}, "post": {"S": "x"}}
        )
    for n in range(60):
        dynamodb.put_item(TableName=TABLE, Item=_profile(rng, n))
    for n in range(60, 90):  # UpdateItem creating items with index keys, and changing others in place
        dynamodb.update_item(
            TableName=TABLE,
            Key={"pk": {"S": f"SUB#{n % 7}"}, "sk": {"S": f"PROFILE#{n % 75}"}},
            UpdateExpression="SET due_pk = :d, next_sync_at = :t",
            ExpressionAttributeValues={":d": {"S": "SUB"}, ":t": {"N": str(rng.randint(1, 50))}},
        )
    for n in range(0, 60, 6):  # losing the index key, and deletions
        key = {"pk": {"S": f"SUB#{n % 7}"}, "sk": {"S": f"PROFILE#{n}"}}
        dynamodb.update_item(TableName=TABLE, Key=key, UpdateExpression="REMOVE due_pk")
        dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": f"SUB#{(n + 1) % 7}"}, "sk": {"S": f"PROFILE#{n + 1}"}})
    with_keys = {"due_pk": {"S": "SUB"}, "next_sync_at": {"N": "3"}}
    dynamodb.transact_write_items(  # a transaction that stores, and one that rolls back
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "SUB#9"}, "sk": {"S": "PROFILE#t1"}, **with_keys}}},
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"pk": {"S": "SUB#1"}, "sk": {"S": "SLOT#000001"}},
                    "UpdateExpression": "SET due_pk = :d, next_sync_at = :t",
                    "ExpressionAttributeValues": {":d": {"S": "SUB"}, ":t": {"N": "4"}},
                }
            },
        ]
    )
    with contextlib.suppress(ClientError):  # the condition fails: nothing of it is stored
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "SUB#9"}, "sk": {"S": "PROFILE#t2"}, **with_keys}}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "SUB#0"}, "sk": {"S": "SLOT#000000"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    batch = [{"PutRequest": {"Item": _profile(rng, n)}} for n in range(100, 130)]
    dynamodb.batch_write_item(RequestItems={TABLE: batch})


def _queries() -> list[dict[str, Any]]:
    due = {":p": {"S": "SUB"}}
    queries: list[dict[str, Any]] = []
    for forward in (True, False):
        for limit in (None, 1, 4):
            base = {"ScanIndexForward": forward, **({"Limit": limit} if limit else {})}
            queries += [
                {"IndexName": "DueIndex", "KeyConditionExpression": "due_pk = :p", "ExpressionAttributeValues": due},
                {
                    "IndexName": "DueIndex",
                    "KeyConditionExpression": "due_pk = :p AND next_sync_at <= :t",
                    "ExpressionAttributeValues": {**due, ":t": {"N": "20"}},
                },
                {
                    "IndexName": "DueIndex",
                    "KeyConditionExpression": "due_pk = :p AND next_sync_at BETWEEN :a AND :b",
                    "FilterExpression": "attribute_exists(post)",
                    "ExpressionAttributeValues": {**due, ":a": {"N": "4"}, ":b": {"N": "30"}},
                },
                {
                    "IndexName": "DueIndex",
                    "KeyConditionExpression": "due_pk = :p",
                    "ProjectionExpression": "pk, next_sync_at",
                    "ExpressionAttributeValues": {":p": {"S": "OTHER"}},
                },
                {
                    "IndexName": "KindIndex",
                    "KeyConditionExpression": "kind = :k",
                    "ExpressionAttributeValues": {":k": {"S": "a"}},
                },
                {
                    "IndexName": "RankIndex",
                    "KeyConditionExpression": "kind = :k AND #r > :r",
                    "ExpressionAttributeNames": {"#r": "rank"},
                    "ExpressionAttributeValues": {":k": {"S": "b"}, ":r": {"N": "1"}},
                },
                {
                    "KeyConditionExpression": "pk = :pk AND begins_with(sk, :s)",
                    "ExpressionAttributeValues": {":pk": {"S": "SUB#3"}, ":s": {"S": "PROFILE#"}},
                },
                {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "SUB#2"}}},
                {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "SUB#404"}}},
            ]
            queries = [{**q, **base} for q in queries]
    return queries


def _pages(dynamodb: Any, query: dict[str, Any]) -> list[dict[str, Any]]:
    pages = []
    start: dict[str, Any] | None = None
    while True:
        response = dynamodb.query(TableName=TABLE, **query, **({"ExclusiveStartKey": start} if start else {}))
        response.pop("ResponseMetadata")
        pages.append(response)
        start = response.get("LastEvaluatedKey")
        if not start or len(pages) > 200:
            return pages


def main(mode: str) -> None:
    if mode == "fixed":
        moto_fixes.apply()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        _create(dynamodb)
        rng = random.Random(11)
        results = []
        for phase in range(2):  # queries before some writes (indexes built lazily), then after more writes
            _writes(dynamodb, rng)
            results.append([{"phase": phase, "query": q, "pages": _pages(dynamodb, q)} for q in _queries()])
        if mode == "fixed":  # which indexes the fix answered from their own keys
            table = dynamodb_backends["123456789012"]["us-east-1"].get_table(TABLE)
            print(json.dumps(sorted(table.__dict__.get(moto_fixes.SPARSE_KEYS, {}))), file=sys.stderr)
    json.dump(results, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])

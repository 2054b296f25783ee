"""moto's TransactWriteItems with local/moto_fixes.py: a transaction that fails leaves every item it named as it
was (a new item gone again, an updated one back, a deleted one back), one that succeeds writes them all, and
the cost no longer grows with the table (the fix journals the named items instead of copying the table)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.provision import StackResources, client


def everything(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def due(dynamodb: Any, table: str) -> list[str]:
    found = dynamodb.query(
        TableName=table,
        IndexName="DueIndex",
        KeyConditionExpression="due_pk = :p",
        ExpressionAttributeValues={":p": {"S": "SUB"}},
    )["Items"]
    return [i["pk"]["S"] for i in found]


@pytest.fixture
def dynamodb(stack: StackResources, aws_endpoint: str) -> Any:
    return client("dynamodb", aws_endpoint)


def seed(dynamodb: Any, table: str) -> None:
    for pk, sk, extra in [
        ("SUB#1", "PROFILE", {"like_count": {"N": "2"}, "due_pk": {"S": "SUB"}, "next_sync_at": {"N": "5"}}),
        ("SUB#1", "SLOT#0000000000", {"post_id": {"S": "10"}}),
        ("SUB#1", "SLOT#0000000001", {"post_id": {"S": "11"}}),
        ("SUB#2", "PROFILE", {"like_count": {"N": "0"}}),
    ]:
        dynamodb.put_item(TableName=table, Item={"pk": {"S": pk}, "sk": {"S": sk}, **extra})


def transaction(table: str, *, guard: str) -> list[dict[str, Any]]:
    """A new slot in a new partition, an update, a delete, and a condition that holds only for `guard`."""
    return [
        {"Put": {"TableName": table, "Item": {"pk": {"S": "SUB#3"}, "sk": {"S": "SLOT#0000000000"}}}},
        {
            "Update": {
                "TableName": table,
                "Key": {"pk": {"S": "SUB#1"}, "sk": {"S": "PROFILE"}},
                "UpdateExpression": "SET like_count = :n REMOVE due_pk",
                "ExpressionAttributeValues": {":n": {"N": "3"}},
            }
        },
        {"Delete": {"TableName": table, "Key": {"pk": {"S": "SUB#1"}, "sk": {"S": "SLOT#0000000001"}}}},
        {
            "ConditionCheck": {
                "TableName": table,
                "Key": {"pk": {"S": "SUB#2"}, "sk": {"S": "PROFILE"}},
                "ConditionExpression": "like_count = :c",
                "ExpressionAttributeValues": {":c": {"N": guard}},
            }
        },
    ]


def test_a_failed_transaction_leaves_every_item_it_named_as_it_was(stack: StackResources, dynamodb: Any) -> None:
    # Given a profile due for a sync, two slots and another profile
    seed(dynamodb, stack.table_name)
    before = everything(dynamodb, stack.table_name)

    # When a transaction whose last condition fails would add, update and delete
    with pytest.raises(ClientError) as failed:
        dynamodb.transact_write_items(TransactItems=transaction(stack.table_name, guard="7"))

    # Then it was cancelled for that condition alone, and the table is exactly as before, index included
    assert failed.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in failed.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert everything(dynamodb, stack.table_name) == before
    assert due(dynamodb, stack.table_name) == ["SUB#1"]
    assert (
        dynamodb.query(
            TableName=stack.table_name,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "SUB#3"}},
        )["Items"]
        == []
    )


def test_a_transaction_that_holds_writes_every_item(stack: StackResources, dynamodb: Any) -> None:
    seed(dynamodb, stack.table_name)

    dynamodb.transact_write_items(TransactItems=transaction(stack.table_name, guard="0"))

    keys = [(i["pk"]["S"], i["sk"]["S"]) for i in everything(dynamodb, stack.table_name)]
    assert keys == [
        ("SUB#1", "PROFILE"),
        ("SUB#1", "SLOT#0000000000"),
        ("SUB#2", "PROFILE"),
        ("SUB#3", "SLOT#0000000000"),
    ]
    profile = dynamodb.get_item(TableName=stack.table_name, Key={"pk": {"S": "SUB#1"}, "sk": {"S": "PROFILE"}})
    assert profile["Item"]["like_count"] == {"N": "3"}
    assert due(dynamodb, stack.table_name) == []


def test_two_writes_of_one_item_in_a_transaction_are_refused_and_change_nothing(
    stack: StackResources, dynamodb: Any
) -> None:
    seed(dynamodb, stack.table_name)
    before = everything(dynamodb, stack.table_name)
    twice = [
        *transaction(stack.table_name, guard="0")[:2],
        {"Delete": {"TableName": stack.table_name, "Key": {"pk": {"S": "SUB#1"}, "sk": {"S": "PROFILE"}}}},
    ]

    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=twice)

    assert everything(dynamodb, stack.table_name) == before

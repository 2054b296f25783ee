"""Three changes to moto 5.x: two fixes that keep it usable as a store of 150,000 likes, and one resource
type its CloudFormation lacks.

- moto's TransactWriteItems deep-copies the whole table once per item in the transaction, to roll back on a
  failed condition: a 99-item transaction on a table of n items costs 99 copies of n items, so syncing a few
  thousand likes slows to minutes, and an archive import of 150,000 likes (3,000 transactions on a table
  growing to 300,000 items) never ends and takes the machine's memory. A transaction can only change the
  items it names, so this keeps a copy of exactly those (or their absence) before moto runs it, lets moto's
  table "snapshot" be the table itself, and on any failure puts those items back as they were. Conditions,
  CancellationReasons and the writes are moto's own code; tests/integration/test_local_moto_transactions.py
  checks atomicity against a table moto rolled back itself.
- moto answers every Query by sorting the whole table (`Table.all_items` sorts all items by key, comparing
  DynamoTypes) and then keeping the items of the asked key: the fetcher's query on the sparse `DueIndex`, a
  handful of subscriber profiles, takes ~0.4 s per 150,000 items (bench/RESULTS.md, "DueIndex"). This hands
  moto's own `Table.query` only the candidates that can match: for a GSI, the items that carry the index's
  hash key attributes (their keys kept per table as items are written: every PutItem and UpdateItem path ends
  in `Table.put_item` or `DynamoDBBackend.update_item`; a key whose item is gone or lost the attribute is
  skipped); for the table itself, the items under the asked partition key. In the order `all_items` gives
  them. Everything after (range conditions, sort, filters, Limit, pagination, projection) is moto's own code,
  so the answer is moto's; tests/integration/test_local_moto_query.py compares them.
- moto's CloudFormation skips `AWS::CloudWatch::Alarm` (it creates no alarm and says CREATE_COMPLETE), though
  its CloudWatch has alarms. This registers the type, so the offline stack's alarms come from the template
  and `describe_stack_resources` lists them with the alarm's name as physical id, as on AWS — which is how
  `random-likes status` finds them. Single-metric alarms only (the template has no metric math).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

_lock = threading.Lock()
_applied = False
# The candidates of the Query running on this thread: (table, items), read by the patched Table.all_items.
_query_scope = threading.local()
SPARSE_KEYS = "_random_likes_sparse_keys"  # on a moto Table: hash attribute names -> keys of items with them


def apply(*, query_candidates: bool = True) -> None:
    """Idempotent; call before moto serves its first request. `query_candidates=False` leaves moto's Query as it
    comes (bench/due_index.py compares the two)."""
    global _applied  # noqa: PLW0603 - a process-wide, once-only patch
    with _lock:
        if _applied:
            return
        _memoise_transaction_snapshots()
        if query_candidates:
            _query_only_candidates()
        _register_cloudformation_alarms()
        _applied = True


def _memoise_transaction_snapshots() -> None:
    from moto.dynamodb import models  # noqa: PLC0415 - only when a moto server is about to run
    from moto.dynamodb.models.table import Table  # noqa: PLC0415

    original = models.DynamoDBBackend.transact_write_items

    def table_as_is(value: Any, memo: Any = None) -> Any:
        # moto copies each table a transaction names, to put it back on failure; the journal does that instead.
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        # The swap is process-wide, so transactions run one at a time (moto is not thread-safe anyway).
        with _lock:
            journal = _journal(self, transact_items)
            setattr(models, "copy", SimpleNamespace(deepcopy=table_as_is))  # noqa: B010 - the module global moto calls
            try:
                original(self, transact_items)
            except BaseException:
                _restore(journal)
                raise
            finally:
                setattr(models, "copy", copy)  # noqa: B010

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _journal(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    """(table, hash key, range key, a copy of the item or None) for each item the transaction names."""
    from moto.dynamodb.models.dynamo_type import DynamoType  # noqa: PLC0415

    journal = []
    for entry in transact_items:
        for body in entry.values():
            table = backend.tables.get(body.get("TableName")) if isinstance(body, dict) else None
            if table is None:
                continue
            key = body.get("Key") or body.get("Item") or {}
            if table.hash_key_attr not in key:
                continue  # moto refuses it before writing anything
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = None
            if table.range_key_attr:
                if table.range_key_attr not in key:
                    continue
                range_key = DynamoType(key[table.range_key_attr])
            item = _item_at(table, (hash_key, range_key))
            journal.append((table, hash_key, range_key, None if item is None else copy.deepcopy(item)))
    return journal


def _restore(journal: list[tuple[Any, Any, Any, Any]]) -> None:
    """Put each journalled item back as it was (the first copy of a key wins: it is the state before)."""
    for table, hash_key, range_key, item in reversed(journal):
        if table.range_key_attr:
            partition = table.items[hash_key]
            if item is None:
                partition.pop(range_key, None)
                if not partition:
                    del table.items[hash_key]
            else:
                partition[range_key] = item
                _remember(table, item)
        elif item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
            _remember(table, item)


_originals: dict[str, Callable[..., Any]] = {}


def _all_items(table: Any) -> list[Any]:
    """moto's own Table.all_items: every item, sorted by key."""
    items: list[Any] = _originals["all_items"](table)
    return items


def _global_index_type() -> Any:
    from moto.dynamodb.models.table import GlobalSecondaryIndex  # noqa: PLC0415

    return GlobalSecondaryIndex


def _item_at(table: Any, key: tuple[Any, Any]) -> Any:
    entry = table.items.get(key[0])
    if entry is None or not table.range_key_attr:
        return entry
    return entry.get(key[1])


def _sparse_keys(table: Any, attributes: tuple[str, ...]) -> set[tuple[Any, Any]]:
    """Keys of the items that carry `attributes` (a superset: checked again when read)."""
    indexed: dict[tuple[str, ...], set[tuple[Any, Any]]] = table.__dict__.setdefault(SPARSE_KEYS, {})
    if attributes not in indexed:  # first query on this index (or a table moto made anew): one pass
        indexed[attributes] = {
            (item.hash_key, item.range_key)
            for item in _all_items(table)
            if all(name in item.attrs for name in attributes)
        }
    return indexed[attributes]


def _remember(table: Any, item: Any) -> None:
    for attributes, keys in table.__dict__.get(SPARSE_KEYS, {}).items():
        if all(name in item.attrs for name in attributes):
            keys.add((item.hash_key, item.range_key))


def _candidates(table: Any, hash_key: Any, index_name: str | None, conditions: Any) -> list[Any] | None:
    """What can match, as all_items would list it; None: let moto look at everything."""
    if not index_name:
        if hash_key is None:
            return None
        entry = table.items.get(hash_key)
        found = list(entry.values()) if isinstance(entry, dict) else [entry] if entry is not None else []
    else:
        index: Any = next((i for i in table.global_indexes or [] if i.name == index_name), None)
        if not isinstance(index, _global_index_type()):
            return None
        attributes = tuple(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
        if not attributes or {name for name, _ in conditions or []} != set(attributes):
            return None  # moto keeps items without the attributes only when the query does not name them all
        found = []
        for key in _sparse_keys(table, attributes):
            item = _item_at(table, key)
            if item is not None and all(name in item.attrs for name in attributes):
                found.append(item)
    return sorted(found, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


def _query_only_candidates() -> None:
    from moto.dynamodb.models import DynamoDBBackend  # noqa: PLC0415
    from moto.dynamodb.models.table import Table  # noqa: PLC0415

    original_query: Callable[..., Any] = Table.query
    original_all_items: Callable[..., Any] = Table.all_items
    _originals["all_items"] = original_all_items
    original_put_item: Callable[..., Any] = Table.put_item
    original_update_item: Callable[..., Any] = DynamoDBBackend.update_item

    def put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = original_put_item(self, *args, **kwargs)
        _remember(self, item)
        return item

    def update_item(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        item = original_update_item(self, table_name, *args, **kwargs)
        _remember(self.get_table(table_name), item)  # an update changes the item in place
        return item

    def all_items(self: Any) -> Any:
        scope = getattr(_query_scope, "candidates", None)
        if scope is not None and scope[0] is self:
            return list(scope[1])
        return original_all_items(self)

    def query(
        self: Any,
        hash_key: Any,
        range_comparison: Any,
        range_objs: Any,
        limit: Any,
        exclusive_start_key: Any,
        scan_index_forward: Any,
        projection_expressions: Any,
        index_name: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        chosen = _candidates(self, hash_key, index_name, kwargs.get("hash_key_conditions"))
        arguments = (range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward)
        if chosen is None:
            return original_query(self, hash_key, *arguments, projection_expressions, index_name, *args, **kwargs)
        _query_scope.candidates = (self, chosen)
        try:
            return original_query(self, hash_key, *arguments, projection_expressions, index_name, *args, **kwargs)
        finally:
            _query_scope.candidates = None

    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.put_item = put_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]


def _register_cloudformation_alarms() -> None:
    from moto.cloudformation import parsing  # noqa: PLC0415
    from moto.cloudwatch.models import cloudwatch_backends  # noqa: PLC0415
    from moto.core.common_models import CloudFormationModel  # noqa: PLC0415

    class CloudFormationAlarm(CloudFormationModel):
        """An alarm as a stack resource; the alarm itself lives in moto's CloudWatch backend."""

        def __init__(self, name: str, arn: str) -> None:
            self.name = name
            self.arn = arn

        @property
        def physical_resource_id(self) -> str:
            return self.name  # Ref on AWS::CloudWatch::Alarm is its name

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::CloudWatch::Alarm"

        @staticmethod
        def cloudformation_name_type() -> str:
            return "AlarmName"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name: str) -> str:
            if attribute_name != "Arn":
                raise KeyError(attribute_name)
            return self.arn

        def is_created(self) -> bool:
            return True

        @classmethod
        def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **_: Any
        ) -> CloudFormationAlarm:
            props = cloudformation_json["Properties"]
            if "Metrics" in props:
                raise ValueError(f"{resource_name}: metric-math alarms are not created offline")
            alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
                name=resource_name,
                namespace=props["Namespace"],
                metric_name=props["MetricName"],
                comparison_operator=props["ComparisonOperator"],
                evaluation_periods=int(props["EvaluationPeriods"]),
                period=int(props["Period"]),
                threshold=float(props["Threshold"]),
                statistic=props.get("Statistic"),
                description=props.get("AlarmDescription", ""),
                dimensions=props.get("Dimensions", []),
                alarm_actions=props.get("AlarmActions", []),
                datapoints_to_alarm=props.get("DatapointsToAlarm"),
                extended_statistic=props.get("ExtendedStatistic"),
                ok_actions=props.get("OKActions", []),
                insufficient_data_actions=props.get("InsufficientDataActions", []),
                unit=props.get("Unit"),
                actions_enabled=str(props.get("ActionsEnabled", True)).lower() != "false",
                treat_missing_data=props.get("TreatMissingData"),
            )
            return cls(resource_name, alarm.alarm_arn)

        @classmethod
        def update_from_cloudformation_json(
            cls,
            original_resource: CloudFormationAlarm,
            new_resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
        ) -> CloudFormationAlarm:
            cls.delete_from_cloudformation_json(original_resource.name, cloudformation_json, account_id, region_name)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

        @classmethod
        def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
        ) -> None:
            cloudwatch_backends[account_id][region_name].delete_alarms([resource_name])

    # moto finds resource types among CloudFormationModel's subclasses, cached on first use.
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()

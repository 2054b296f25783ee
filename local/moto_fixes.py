"""Two changes to moto 5.x: one fix that keeps it usable as a store of thousands of likes, and one resource
type its CloudFormation lacks.

- moto's TransactWriteItems deep-copies the whole table once per item in the transaction, to roll back on a
  failed condition: a 99-item transaction on a table of n items costs 99 copies of n items, so syncing a few
  thousand likes slows to minutes. All those copies are taken before anything is written, so one copy per
  table is the same snapshot. This wraps the method so `copy.deepcopy` is memoised for the length of one
  call; behaviour (atomicity, rollback, CancellationReasons) is moto's own.
- moto's CloudFormation skips `AWS::CloudWatch::Alarm` (it creates no alarm and says CREATE_COMPLETE), though
  its CloudWatch has alarms. This registers the type, so the offline stack's alarms come from the template
  and `describe_stack_resources` lists them with the alarm's name as physical id, as on AWS — which is how
  `random-likes status` finds them. Single-metric alarms only (the template has no metric math).
"""

from __future__ import annotations

import copy
import threading
from types import SimpleNamespace
from typing import Any

_lock = threading.Lock()
_applied = False


def apply() -> None:
    """Idempotent; call before moto serves its first request."""
    global _applied  # noqa: PLW0603 - a process-wide, once-only patch
    with _lock:
        if _applied:
            return
        _memoise_transaction_snapshots()
        _register_cloudformation_alarms()
        _applied = True


def _memoise_transaction_snapshots() -> None:
    from moto.dynamodb import models  # noqa: PLC0415 - only when a moto server is about to run

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        snapshots: dict[int, Any] = {}

        def deepcopy_once(value: Any, memo: Any = None) -> Any:
            if id(value) not in snapshots:
                snapshots[id(value)] = copy.deepcopy(value, memo)
            return snapshots[id(value)]

        # The swap is process-wide, so transactions run one at a time (moto is not thread-safe anyway).
        with _lock:
            setattr(models, "copy", SimpleNamespace(deepcopy=deepcopy_once))  # noqa: B010 - the module global moto calls
            try:
                original(self, transact_items)
            finally:
                setattr(models, "copy", copy)  # noqa: B010

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


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

"""CloudFormation's intrinsic functions, evaluated offline against the local stack's resources.

The offline stack reads every setting from the SAM-transformed template, whose values are still
`{"Ref": ...}`, `{"Fn::GetAtt": ...}`, `{"Fn::Sub": ...}` or `{"Fn::If": ...}`. `Resolver` turns them into
the strings CloudFormation would put there: parameters (defaults or overrides), pseudo parameters, the
physical ids of what moto created, and names made up the way CloudFormation makes them for what it did not.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
PARTITION = "aws"


class TemplateError(ValueError):
    """The template uses something the offline stack cannot evaluate; the message says what."""


class _NoValue:
    """`Ref: AWS::NoValue`: the property disappears."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()
_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def physical_name(stack_name: str, logical_id: str, max_length: int = 64) -> str:
    """A generated name as CloudFormation makes one: stack, logical id, a 12-character suffix (stable here)."""
    digest = hashlib.sha256(f"{stack_name}/{logical_id}".encode()).hexdigest().upper()
    suffix = "".join(c for c in digest if c.isalnum())[:12]
    head = f"{stack_name}-{logical_id}"[: max_length - 13]
    return f"{head}-{suffix}"


@dataclass
class Resolver:
    """Evaluates intrinsics. `physical` maps logical ids to what `Ref` returns (table name, queue URL ...)."""

    template: Mapping[str, Any]
    stack_name: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    physical: Mapping[str, str] = field(default_factory=dict)
    region: str = REGION
    account_id: str = ACCOUNT_ID
    # The id of the stack moto's CloudFormation created (`Ref AWS::StackId`): names made from it, such as the
    # imports bucket's, must match what moto made. Without one (no moto), a fixed stand-in.
    stack_id: str = ""

    def __post_init__(self) -> None:
        declared = self.template.get("Parameters", {})
        unknown = set(self.parameters) - set(declared)
        if unknown:
            raise TemplateError(f"unknown template parameter(s): {', '.join(sorted(unknown))}")
        self._values: dict[str, Any] = {}
        for name, spec in declared.items():
            if name in self.parameters:
                value: Any = self.parameters[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                raise TemplateError(f"template parameter {name} has no default: pass it with --parameter-overrides")
            if str(spec.get("Type", "String")).startswith(("CommaDelimitedList", "List<")):
                value = [part.strip() for part in str(value).split(",")] if isinstance(value, str) else value
            else:
                value = str(value)
            self._values[name] = value
        self._conditions: dict[str, bool] = {}

    # --- what callers ask --------------------------------------------------------------------------------

    def parameter(self, name: str) -> Any:
        return self._values[name]

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic evaluated; properties that resolve to AWS::NoValue are dropped."""
        if isinstance(value, list):
            return [r for item in value if (r := self.resolve(item)) is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition":
                return self.condition(arg)
            if key.startswith("Fn::"):
                return self._function(key, arg)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            conditions = self.template.get("Conditions", {})
            if name not in conditions:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = bool(self._evaluate(conditions[name]))
        return self._conditions[name]

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": self.stack_id
            or f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local",
            "AWS::NotificationARNs": [],
        }
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in pseudo:
            return pseudo[name]
        if name in self._values:
            return self._values[name]
        if name in self.physical:
            return self.physical[name]
        if name in self.template.get("Resources", {}):
            return physical_name(self.stack_name, name)
        raise TemplateError(f"Ref to unknown {name}")

    def get_att(self, logical_id: str, attribute: str) -> str:
        resources = self.template.get("Resources", {})
        if logical_id not in resources:
            raise TemplateError(f"GetAtt on unknown resource {logical_id}")
        kind = resources[logical_id]["Type"]
        name = str(self.ref(logical_id))
        prefix = f"arn:{PARTITION}"
        where = f"{self.region}:{self.account_id}"
        if kind == "AWS::SQS::Queue":
            queue_name = name.rstrip("/").rsplit("/", 1)[-1]  # Ref is the URL; the ARN names the queue
            attributes = {"Arn": f"{prefix}:sqs:{where}:{queue_name}", "QueueName": queue_name, "QueueUrl": name}
        elif kind == "AWS::DynamoDB::Table":
            attributes = {"Arn": f"{prefix}:dynamodb:{where}:table/{name}"}
            attributes["StreamArn"] = f"{attributes['Arn']}/stream/local"
        elif kind == "AWS::Lambda::Function":
            attributes = {"Arn": f"{prefix}:lambda:{where}:function:{name}"}
        elif kind == "AWS::Events::Rule":
            attributes = {"Arn": f"{prefix}:events:{where}:rule/{name}"}
        elif kind == "AWS::Scheduler::Schedule":
            attributes = {"Arn": f"{prefix}:scheduler:{where}:schedule/default/{name}"}
        elif kind == "AWS::IAM::Role":
            attributes = {"Arn": f"{prefix}:iam::{self.account_id}:role/{name}", "RoleId": f"AROA{name[-12:]}"}
        elif kind == "AWS::Logs::LogGroup":
            attributes = {"Arn": f"{prefix}:logs:{where}:log-group:{name}:*"}
        elif kind == "AWS::ApiGatewayV2::Api":
            attributes = {"ApiId": name, "ApiEndpoint": f"https://{name}.execute-api.{self.region}.amazonaws.com"}
        else:
            attributes = {"Arn": f"{prefix}:{kind.split('::')[1].lower()}:{where}:{name}"}
        if attribute not in attributes:
            raise TemplateError(f"GetAtt {logical_id}.{attribute} ({kind}) is not known offline")
        return attributes[attribute]

    # --- the functions -----------------------------------------------------------------------------------

    def _function(self, key: str, arg: Any) -> Any:  # noqa: PLR0911 - one branch per intrinsic
        if key == "Fn::GetAtt":
            logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
            return self.get_att(str(logical_id), str(self.resolve(attribute)))
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::If":
            name, when_true, when_false = arg
            return self.resolve(when_true if self.condition(name) else when_false)
        if key == "Fn::Join":
            separator, items = arg
            return str(separator).join(str(i) for i in self.resolve(items))
        if key == "Fn::Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if key == "Fn::Split":
            separator, text = arg
            return str(self.resolve(text)).split(str(separator))
        if key == "Fn::ToJsonString":
            return json.dumps(self.resolve(arg), separators=(",", ":"))
        if key in {"Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"}:
            return self._evaluate({key: arg})
        raise TemplateError(f"{key} is not supported offline")

    def _evaluate(self, expression: Any) -> Any:
        if isinstance(expression, dict) and len(expression) == 1:
            ((key, arg),) = expression.items()
            if key == "Fn::Equals":
                left, right = (self.resolve(a) for a in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._evaluate(arg[0])
            if key == "Fn::And":
                return all(self._evaluate(a) for a in arg)
            if key == "Fn::Or":
                return any(self._evaluate(a) for a in arg)
            if key == "Condition":
                return self.condition(arg)
        return self.resolve(expression)

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        local = {name: self.resolve(value) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} stays as ${Literal}
                return "${" + name[1:] + "}"
            if name in local:
                return str(local[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, str(text))

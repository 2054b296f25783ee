"""template.yaml, read and SAM-transformed offline: the one source of truth for tables, queues, functions and routes.

The IAM tests, the test fixtures that build moto tables and queues, and the offline stack all read the
resources from here, so none of them can drift from what `sam deploy` creates.
"""

from __future__ import annotations

import copy
import os
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"
CODE_PLACEHOLDER = "s3://random-likes-code/placeholder.zip"


class _CfnLoader(yaml.SafeLoader):
    """A SafeLoader that reads CloudFormation's short tags (!Ref, !GetAtt, !Sub ...) as their long forms."""


def _intrinsic(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in {"Ref", "Condition"} else f"Fn::{suffix}"
    value: Any
    if suffix == "GetAtt" and isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node).split(".", 1)
    elif isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a template")
    return data


class _BundledPolicies:
    """SAM's managed-policy lookup without calling IAM: the map bundled with aws-sam-translator."""

    def load(self) -> dict[str, str]:
        from samtranslator.internal.managed_policies import get_bundled_managed_policy_map  # noqa: PLC0415

        return dict(get_bundled_managed_policy_map("aws") or {})


def translate(template: dict[str, Any], parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """The CloudFormation that `sam deploy` would submit, made offline (~0.3 s)."""
    from samtranslator.translator.transform import transform  # noqa: PLC0415 - heavy, only here

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    sam = copy.deepcopy(template)
    for resource in sam.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.setdefault("Properties", {})["CodeUri"] = CODE_PLACEHOLDER
    globals_function = sam.get("Globals", {}).get("Function", {})
    if "CodeUri" in globals_function:
        globals_function["CodeUri"] = CODE_PLACEHOLDER
    result: dict[str, Any] = transform(sam, parameters or {}, _BundledPolicies())
    return result


@cache
def translated() -> dict[str, Any]:
    """template.yaml translated with its default parameters (cached: callers must not mutate it)."""
    return translate(load())

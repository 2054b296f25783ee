"""The spec subset the tests read is complete on its own, and scripts/derive_x_spec.py derives it as it says."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from openapi_spec_validator import validate
from x_spec_check import SPEC_PATH

ROOT = Path(__file__).resolve().parents[2]


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("derive_x_spec", ROOT / "scripts" / "derive_x_spec.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_subset_is_a_valid_self_contained_openapi_document() -> None:
    # Given the subset the tests and fixtures are checked against
    document = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    derive = load_script()

    # When every reference in it is followed
    unresolved = []
    for ref in derive.refs_in(document):
        try:
            derive.resolve(document, ref)
        except KeyError:
            unresolved.append(ref)

    # Then all resolve inside it, it is valid OpenAPI, and it has the five operations the simulator serves
    assert unresolved == []
    validate(document)
    assert {(path, method) for path, ops in document["paths"].items() for method in ops} == set(derive.OPERATIONS)


def test_deriving_copies_what_the_operations_reach_and_nothing_else(tmp_path: Path) -> None:
    # Given a small spec: an operation reaching A -> B, a discriminator mapping to C, and an unrelated D
    schema = {"$ref": "#/components/schemas/A"}
    operation: dict[str, Any] = {
        "security": [{"UserToken": []}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}},
    }
    source = {
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://api.x.com"}],
        "paths": {path: {method: operation} for path, method in load_script().OPERATIONS},
        "components": {
            "schemas": {
                "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
                "B": {
                    "type": "object",
                    "discriminator": {"propertyName": "t", "mapping": {"c": "#/components/schemas/C"}},
                },
                "C": {"type": "object"},
                "D": {"type": "object"},
            },
            "securitySchemes": {
                "UserToken": {"type": "http", "scheme": "OAuth"},
                "Other": {"type": "http", "scheme": "x"},
            },
        },
    }
    (tmp_path / "full.json").write_text(json.dumps(source), encoding="utf-8")

    # When the script derives the subset, twice
    derive = load_script()
    out = tmp_path / "subset.json"
    assert derive.main(["--source", str(tmp_path / "full.json"), "--output", str(out)]) == 0
    first = out.read_bytes()
    derive.main(["--source", str(tmp_path / "full.json"), "--output", str(out)])

    # Then it holds A, B and C (reached through the discriminator) but not D, one security scheme, byte-stable
    subset = json.loads(first)
    assert set(subset["components"]["schemas"]) == {"A", "B", "C"}
    assert set(subset["components"]["securitySchemes"]) == {"UserToken"}
    assert out.read_bytes() == first


def test_without_a_source_the_script_says_how_to_give_one(tmp_path: Path, capsys: Any) -> None:
    # When the script runs where there is no ../shared spec
    code = load_script().main(["--source", str(tmp_path / "missing.json"), "--output", str(tmp_path / "o.json")])

    # Then it stops with a message, and writes nothing
    assert code == 2
    assert "--source" in capsys.readouterr().err
    assert not (tmp_path / "o.json").exists()

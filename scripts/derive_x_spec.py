"""Derive the part of X's OpenAPI spec that the tests and the simulator answer to.

X's full spec is 750 kB and lives outside this repository (`../shared/x-api-openapi.json`). The tests must
run in any clone, so this script copies the operations we use, with every component they reach through
`$ref` (transitively) and the security schemes they name, into `tests/spec/x-api-openapi.subset.json`.
The output is stable (sorted keys, fixed indent), so re-running it on the same source changes nothing.

    python scripts/derive_x_spec.py [--source PATH] [--output PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "x-api-openapi.json"
DEFAULT_OUTPUT = ROOT / "tests" / "spec" / "x-api-openapi.subset.json"

# The operations the simulator implements, as (path, method).
OPERATIONS = [
    ("/2/users/me", "get"),
    ("/2/users/by/username/{username}", "get"),
    ("/2/users/{id}", "get"),
    ("/2/users/{id}/liked_tweets", "get"),
    ("/2/tweets", "get"),
]
# X's OAuth 2.0 endpoints: copied only if the spec describes them (v2.159 does not).
OPTIONAL_PATHS = ["/2/oauth2/token", "/2/oauth2/revoke", "/2/oauth2/authorize", "/i/oauth2/authorize"]


def refs_in(node: Any) -> Iterator[str]:
    """Every reference inside `node`: `$ref` values, and the schemas a discriminator maps its values to."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            elif key == "discriminator" and isinstance(value, dict):
                yield from (v for v in value.get("mapping", {}).values() if isinstance(v, str))
            else:
                yield from refs_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs_in(item)


def resolve(spec: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported, got {ref}")
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def derive(spec: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, method in OPERATIONS:
        operation = spec["paths"][path][method]
        paths.setdefault(path, {})[method] = operation
    for path in OPTIONAL_PATHS:
        if path in spec["paths"]:
            paths[path] = spec["paths"][path]

    # Walk the reference graph from the chosen paths; a component reached twice is copied once.
    components: dict[str, dict[str, Any]] = {}
    pending = list(refs_in(paths))
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, section, kind, name = ref.split("/", 3)
        if section != "components":
            raise ValueError(f"unexpected reference outside components: {ref}")
        target = resolve(spec, ref)
        components.setdefault(kind, {})[name] = target
        pending.extend(refs_in(target))

    # Security requirements name schemes instead of referencing them; copy the ones named.
    schemes = spec["components"].get("securitySchemes", {})
    for methods in paths.values():
        for operation in methods.values():
            for requirement in operation.get("security", []):
                for name in requirement:
                    components.setdefault("securitySchemes", {})[name] = schemes[name]

    return {
        "openapi": spec["openapi"],
        "info": {
            **spec["info"],
            "description": (
                f"{spec['info'].get('description', '')} — the subset random-likes uses, derived by "
                "scripts/derive_x_spec.py; do not edit by hand."
            ),
        },
        "servers": spec.get("servers", []),
        "paths": paths,
        "components": components,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="X's full OpenAPI spec (JSON)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the subset")
    args = parser.parse_args(argv)
    if not args.source.is_file():
        print(f"no spec at {args.source}: pass --source PATH (make spec SPEC=PATH)", file=sys.stderr)
        return 2
    spec = json.loads(args.source.read_text(encoding="utf-8"))
    subset = derive(spec)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(subset, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    args.output.write_text(text, encoding="utf-8")
    counts = ", ".join(f"{len(v)} {k}" for k, v in sorted(subset["components"].items()))
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"wrote {shown}: {len(subset['paths'])} paths, {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

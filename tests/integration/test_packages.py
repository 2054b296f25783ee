"""Each function's package holds what its handler imports, and nothing it has no use for.

A package is made as `sam build` makes it, but offline: src/Makefile's code-<LogicalId> target copies the code,
and the distributions that src/requirements/<function>.txt pins are linked in from this venv (the same versions:
both come from uv.lock). The handler is then imported in a fresh interpreter that sees nothing but that package
and the standard library, as on Lambda, so a function that imports something its package does not ship fails here.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from local.template import ROOT, load

SRC = ROOT / "src"
FUNCTIONS = {
    logical_id: resource
    for logical_id, resource in load()["Resources"].items()
    if resource["Type"] == "AWS::Serverless::Function"
}
# template.yaml: python3.11 on arm64 Linux.
LAMBDA_MARKERS = {"python_version": "3.11", "python_full_version": "3.11.0", "platform_machine": "aarch64"}
# The api and the fetcher never call X (DESIGN.md), so they neither ship nor load its client.
NEVER_SHIPPED = {"ApiFunction": {"tweepy"}, "FetcherFunction": {"tweepy"}, "ImportFunction": {"tweepy"}}

# Run in the package's own directory with -S (no site-packages): what the handler loads, by top-level name.
PROBE = """
import importlib, json, sys
sys.path.insert(0, ".")
module, _, name = sys.argv[1].rpartition(".")
assert callable(getattr(importlib.import_module(module), name))
stdlib = set(sys.stdlib_module_names) | set(sys.builtin_module_names)
print(json.dumps(sorted({m.partition(".")[0] for m in sys.modules} - stdlib)))
"""


def pins(logical_id: str) -> dict[str, str]:
    """The distributions the function's requirements file pins for Lambda's Python, name -> version."""
    requirements = SRC / "requirements" / f"{_code(logical_id)[0]}.txt"
    found = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        if not line or line[0] in "# ":  # comments, and the --hash lines that continue a requirement
            continue
        requirement = Requirement(line.rstrip(" \\"))
        if requirement.marker is None or requirement.marker.evaluate(LAMBDA_MARKERS):
            found[requirement.name] = str(requirement.specifier).removeprefix("==")
    return found


def _code(logical_id: str) -> list[str]:
    """The folders src/Makefile copies beside shared/ for this function (its CODE_<LogicalId> line)."""
    found = re.search(rf"^CODE_{logical_id} := (.+)$", (SRC / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)
    return found.group(1).split() if found else []


def build(logical_id: str, package: Path) -> Path:
    """The function's package, from src/Makefile and this venv's copies of its pinned distributions."""
    package.mkdir()
    subprocess.run(["make", "-s", "-C", str(SRC), f"code-{logical_id}", f"ARTIFACTS_DIR={package}"], check=True)
    for name, version in pins(logical_id).items():
        dist = importlib.metadata.distribution(name)
        assert dist.version == version, f"this venv has {name} {dist.version}, the lock {version}: run `make venv`"
        site = Path(str(dist.locate_file("")))
        for top in {f.parts[0] for f in dist.files or [] if f.parts[0] not in {"..", "__pycache__"}}:
            if not (package / top).exists():
                (package / top).symlink_to(site / top)
    return package


def loaded_by_handler(logical_id: str, package: Path) -> list[str]:
    handler = FUNCTIONS[logical_id]["Properties"]["Handler"]
    # As Lambda starts it: its task root is the package, and tracing is on (Powertools' Tracer patches what it
    # finds, which must be there too).
    env = {
        "PATH": os.environ["PATH"],
        "LAMBDA_TASK_ROOT": str(package),
        "AWS_LAMBDA_FUNCTION_NAME": logical_id,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-S", "-c", PROBE, handler], cwd=package, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{logical_id} cannot import {handler} from its own package:\n{done.stderr}"
    result: Any = json.loads(done.stdout)
    return list(result)


def test_every_function_is_packaged_by_src_makefile() -> None:
    # Without it, SAM would package the whole CodeUri (src/) with every dependency, for each function.
    assert FUNCTIONS
    for logical_id, resource in FUNCTIONS.items():
        assert resource.get("Metadata", {}).get("BuildMethod") == "makefile", logical_id
        assert _code(logical_id), f"src/Makefile has no CODE_{logical_id}"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_the_handler_imports_from_its_own_package_alone(logical_id: str, tmp_path: Path) -> None:
    package = build(logical_id, tmp_path / logical_id)
    loaded = loaded_by_handler(logical_id, package)
    assert not NEVER_SHIPPED.get(logical_id, set()) & set(loaded), loaded


@pytest.mark.parametrize("logical_id", sorted(NEVER_SHIPPED))
def test_functions_that_never_call_x_do_not_ship_its_client(logical_id: str) -> None:
    assert not NEVER_SHIPPED[logical_id] & set(pins(logical_id))


def test_the_api_package_serves_the_page_from_its_own_files(tmp_path: Path) -> None:
    package = build("ApiFunction", tmp_path / "api")
    probe = "import sys; sys.path.insert(0, '.'); from api import web; print(web.asset('index.html').content_type)"
    done = subprocess.run([sys.executable, "-S", "-c", probe], cwd=package, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "text/html; charset=utf-8"

"""Each function's package as `sam build` makes it: its zip size, and the cold import of its handler (issue 9).

`python -m bench package` (needs PyPI for the wheels). Both shapes are built here from the same lock, so what
differs is the packaging alone:

- before: what `CodeUri: src/` and one requirements file gave every function: all of src/ and every dependency
  (the three functions' requirements together), source only (SAM's pip builder compiles nothing);
- after: `make -C src build-<Function>` (src/Makefile, what `sam build` runs now): the function's own code,
  shared/ and its locked requirements, with their bytecode.

Zip sizes are of the arm64 packages that ship, deflated as `sam deploy` does. Imports are timed on the same
packages built for this machine's platform (arm64 wheels do not load here), in a fresh `python -S` started in the
package with nothing else on its path and PYTHONDONTWRITEBYTECODE=1: Lambda's /var/task is read-only, so a module
without bytecode is compiled again at every cold start. "after, no bytecode" is the after package without it.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from bench.report import write_section
from local.template import ROOT, load

RUNS = 11
SRC = ROOT / "src"
LAMBDA = "manylinux2014_aarch64"  # template.yaml: python3.11 on arm64, Amazon Linux 2
HERE = f"manylinux2014_{platform.machine()}"
# What relying on the Lambda runtime's AWS SDK would take out of a package (pynamodb needs botocore).
SDK = ("boto3", "botocore", "s3transfer")


def functions() -> dict[str, str]:
    """Logical id -> handler module, for each function src/Makefile packages."""
    return {
        logical_id: resource["Properties"]["Handler"].rpartition(".")[0]
        for logical_id, resource in load()["Resources"].items()
        if resource.get("Metadata", {}).get("BuildMethod") == "makefile"
    }


def build_after(logical_id: str, target: str, into: Path) -> Path:
    into.mkdir(parents=True)
    env = {**os.environ, "LAMBDA_PYTHON": sys.executable, "LAMBDA_PLATFORM": target, "ARTIFACTS_DIR": str(into)}
    subprocess.run(["make", "-s", "-C", str(SRC), f"build-{logical_id}"], env=env, check=True)
    return into


def build_before(target: str, into: Path) -> Path:
    shutil.copytree(SRC, into, ignore=shutil.ignore_patterns("__pycache__", "Makefile", "requirements"))
    requirements = [
        arg for name in ("fetcher", "worker", "api") for arg in ("-r", str(SRC / "requirements" / f"{name}.txt"))
    ]
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-warn-conflicts"]
    wheels = ["--only-binary=:all:", "--platform", target, "--implementation", "cp", "--python-version", "3.11"]
    subprocess.run(
        [*pip, "--no-compile", "--require-hashes", *wheels, "--target", str(into), *requirements], check=True
    )
    return into


def without_bytecode(package: Path, into: Path) -> Path:
    shutil.copytree(package, into, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    return into


def zipped(package: Path, leave_out: tuple[str, ...] = ()) -> int:
    """Bytes of the package's zip (deflate, as `sam deploy` uploads it), without the top-level names given."""
    archive = package.parent / f"{package.name}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(package.rglob("*")):
            relative = path.relative_to(package)
            if path.is_file() and not relative.parts[0].startswith(leave_out):  # boto3/, boto3-1.x.dist-info/ ...
                zf.write(path, relative)
    size = archive.stat().st_size
    archive.unlink()
    return size


def unpacked(package: Path) -> int:
    return sum(p.stat().st_size for p in package.rglob("*") if p.is_file())


def _import_seconds(package: Path, module: str) -> float:
    env = {"PATH": os.environ["PATH"], "PYTHONDONTWRITEBYTECODE": "1", "LAMBDA_TASK_ROOT": str(package)}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-S", "-c", f"import sys; sys.path.insert(0, '.'); import {module}"],
        cwd=package,
        env=env,
        check=True,
    )
    return time.perf_counter() - start


def _loads_tweepy(package: Path, module: str) -> bool:
    code = f"import sys; sys.path.insert(0, '.'); import {module}; print('tweepy' in sys.modules)"
    env = {"PATH": os.environ["PATH"], "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=package, env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip() == "True"


def mb(size: int) -> str:
    return f"{size / 1_000_000:.1f}"


def main() -> None:
    handlers = functions()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        before = {"ship": build_before(LAMBDA, work / "before-arm64"), "here": build_before(HERE, work / "before-here")}
        after: dict[str, dict[str, Path]] = {}
        for logical_id in handlers:
            here = build_after(logical_id, HERE, work / "after-here" / logical_id)
            after[logical_id] = {
                "ship": build_after(logical_id, LAMBDA, work / "after-arm64" / logical_id),
                "here": here,
                "plain": without_bytecode(here, work / "after-plain" / logical_id),
            }
        subjects = {
            (logical_id, shape): (package, module)
            for logical_id, module in handlers.items()
            for shape, package in (
                ("before", before["here"]),
                ("plain", after[logical_id]["plain"]),
                ("after", after[logical_id]["here"]),
            )
        }
        subjects["python -S", "empty"] = (work, "sys")  # the interpreter alone, the floor of every row
        samples: dict[tuple[str, str], list[float]] = {key: [] for key in subjects}
        for _ in range(RUNS):  # interleaved, so a busy moment hurts every subject alike
            for key, (package, module) in subjects.items():
                samples[key].append(_import_seconds(package, module))
        ms = {key: statistics.median(values) * 1000 for key, values in samples.items()}

        before_zip, before_size = zipped(before["ship"]), unpacked(before["ship"])
        rows, sdk_rows, sdk_bytes, bytecode_bytes = [], [], [], []
        for logical_id, module in handlers.items():
            ship = after[logical_id]["ship"]
            sdk_bytes.append(zipped(ship) - zipped(ship, SDK))
            bytecode_bytes.append(
                zipped(ship) - zipped(without_bytecode(ship, work / "after-arm64-plain" / logical_id))
            )
            tweepy = "yes" if _loads_tweepy(after[logical_id]["here"], module) else "no"
            sizes = f"{mb(before_zip)} → **{mb(zipped(ship))}** | {mb(before_size)} → {mb(unpacked(ship))}"
            imports = (
                f"{ms[logical_id, 'before']:.0f} | {ms[logical_id, 'plain']:.0f} | **{ms[logical_id, 'after']:.0f}**"
            )
            rows.append(f"| {logical_id} | {sizes} | {imports} | {tweepy} |")
            sdk_rows.append(f"| {logical_id} | {mb(zipped(ship))} | {mb(zipped(ship, SDK))} |")
    body = "\n".join(
        [
            "`python -m bench package`. Zip (MB, arm64, as shipped) and unpacked size; cold import of the handler",
            f"(median of {RUNS} fresh interpreters, interleaved, ms) from the package alone. `python -S` with an empty",
            f"program takes {ms['python -S', 'empty']:.0f} ms here.",
            "",
            "| function | zip MB before → after | unpacked MB (file bytes) before → after | import ms before "
            "| after, no bytecode | after | loads tweepy |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            "Before, every function was one and the same package (a `sam build` of 63f2825 gave 19.6 MB zipped, 42 MB",
            "on disk, each), and its worker could not start at all on Lambda: it lacked aws-xray-sdk, which the",
            "worker's Tracer imports. Its row is timed with it added.",
            "",
            "The zips grow: their bytecode adds about "
            f"{mb(int(statistics.mean(bytecode_bytes)))} MB each, more than the api and the fetcher shed",
            "(tweepy, requests, oauthlib and the rest), and it is what cuts the import. Most of the bytes are the",
            "AWS SDK:",
            "",
            f"| function | zip MB with its own {', '.join(SDK)} | zip MB using the runtime's |",
            "|---|---|---|",
            *sdk_rows,
            "",
            "Decision: each package carries its own boto3 and botocore, the versions in uv.lock that the tests ran.",
            "The runtime's SDK is whatever AWS last put into python3.11, changed without a deploy of ours; pynamodb",
            "reaches into botocore's internals; and the runtime's botocore would load the worker's own urllib3 (there",
            "for requests), a pair nothing here has tested. The price is about "
            f"{mb(int(statistics.mean(sdk_bytes)))} MB more per zip, uploaded at",
            "each deploy and fetched at a cold start (that fetch cannot be timed here); the limits are 50 MB zipped",
            "and 250 MB unpacked.",
        ]
    )
    write_section("package", "Function packages: zip size and cold import (issue 9)", body)


if __name__ == "__main__":
    main()

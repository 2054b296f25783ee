"""Derive every requirements file from uv.lock (`make lock`), or check that they are derived (`--check`).

uv.lock is the one lock: pyproject.toml says which packages and ranges, the lock says exactly which versions
(with the hashes of every file), resolved once for the tests and all three functions together, so a function
ships the versions the tests ran. pip reads requirements files, not uv.lock, so each reader gets its export:
`make venv` installs requirements-dev.txt, and src/Makefile (`sam build`) installs src/requirements/<function>.txt.

`--check` needs no network: it asks uv whether the lock still matches pyproject.toml and compares each file
with a fresh export of the lock.
"""

from __future__ import annotations

import argparse
import difflib
import os
import subprocess
import sys
from pathlib import Path

from uv import find_uv_bin

ROOT = Path(__file__).resolve().parent.parent
HEADER = "# Generated from uv.lock by `make lock` (scripts/lock.py): do not edit.\n# Exported with: uv export {args}\n"
# Each generated file and what it holds; the function groups are [dependency-groups] in pyproject.toml.
EXPORTS = {
    "requirements-dev.txt": ["--extra", "dev", "--no-emit-project"],
    "src/requirements/fetcher.txt": ["--only-group", "fetcher"],
    "src/requirements/worker.txt": ["--only-group", "worker"],
    "src/requirements/api.txt": ["--only-group", "api"],
    "src/requirements/importer.txt": ["--only-group", "importer"],
}


def _uv(root: Path, *args: str, offline: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UV_OFFLINE": "1"} if offline else None
    # The uv of this venv, the version pinned in the lock: another uv could write the lock differently.
    return subprocess.run([find_uv_bin(), *args], cwd=root, env=env, capture_output=True, text=True, check=False)  # noqa: S603


def _uv_output(root: Path, *args: str, offline: bool = False) -> str:
    done = _uv(root, *args, offline=offline)
    if done.returncode != 0:
        sys.exit(f"uv {' '.join(args)} failed:\n{done.stderr.strip()}")
    return done.stdout


def export(root: Path, args: list[str]) -> str:
    body = _uv_output(root, "export", "--frozen", "--no-header", "--format", "requirements.txt", *args, offline=True)
    return HEADER.format(args=" ".join(args)) + body


def stale(root: Path) -> list[str]:
    """What is out of date, with a diff for each file; empty when the lock and every export are current."""
    locked = _uv(root, "lock", "--check", offline=True)
    problems = [] if locked.returncode == 0 else [f"uv.lock does not match pyproject.toml:\n{locked.stderr.strip()}"]
    for name, args in EXPORTS.items():
        path = root / name
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        wanted = export(root, args)
        if current != wanted:
            diff = difflib.unified_diff(current.splitlines(), wanted.splitlines(), name, "from uv.lock", lineterm="")
            problems.append("\n".join(diff))
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is out of date")
    parser.add_argument("--upgrade", action="store_true", help="let every package move to its newest allowed version")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)  # tests check a copy
    args = parser.parse_args(argv)
    if args.check:
        problems = stale(args.root)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("out of date: run `make lock` and commit the result", file=sys.stderr)
        return 1 if problems else 0
    _uv_output(args.root, "lock", *(["--upgrade"] if args.upgrade else []))
    for name, export_args in EXPORTS.items():
        path = args.root / name
        text = export(args.root, export_args)
        # Unchanged files keep their time: `make venv` rebuilds the venv when requirements-dev.txt is newer.
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

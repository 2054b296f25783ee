"""The lock and its exports agree: uv.lock matches pyproject.toml, and every requirements file is its export.

`scripts/lock.py --check` decides, offline (uv with UV_OFFLINE); these tests run it on the repository, and on
copies with one thing changed by hand to show that it notices.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from local.template import ROOT

SCRIPT = ROOT / "scripts" / "lock.py"
LOCKED_FILES = ["pyproject.toml", "uv.lock", "requirements-dev.txt", "src/requirements"]


def check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--root", str(root)],
        env={**os.environ, "UV_OFFLINE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of what the lock is made from and what is made from it."""
    for name in LOCKED_FILES:
        source, target = ROOT / name, tmp_path / name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    assert check(tmp_path).returncode == 0, "the untouched copy must pass, or the tests below prove nothing"
    return tmp_path


def test_the_requirements_files_are_exactly_the_exports_of_the_lock() -> None:
    done = check(ROOT)
    assert done.returncode == 0, done.stderr


def test_a_requirements_file_edited_by_hand_is_caught(project: Path) -> None:
    api = project / "src" / "requirements" / "api.txt"
    api.write_text(re.sub(r"^([\w.-]+)==\S+", r"\1==0.0.1", api.read_text(), count=1, flags=re.MULTILINE))

    done = check(project)

    assert done.returncode == 1
    assert "src/requirements/api.txt" in done.stderr
    assert "==0.0.1" in done.stderr


def test_a_dependency_added_without_relocking_is_caught(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("[dependency-groups]\n", '[dependency-groups]\nprobe = ["six"]\n')
    )

    done = check(project)

    assert done.returncode == 1
    assert "uv.lock does not match pyproject.toml" in done.stderr

"""The data directory `make dev` keeps its state in, held by one stack at a time."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO


class DataDirInUse(RuntimeError):
    pass


def lock(data_dir: Path) -> IO[str]:
    """Hold `data_dir` for this process (released when the returned file closes or the process ends)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    held = (data_dir / "lock").open("w")
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        held.close()
        raise DataDirInUse(f"another stack is running on {data_dir}: stop it, or pass another --data-dir") from None
    return held

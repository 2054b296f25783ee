"""One fix to moto 5.x that keeps it usable as a store of thousands of likes.

moto's TransactWriteItems deep-copies the whole table once per item in the transaction, to roll back on a
failed condition: a 99-item transaction on a table of n items costs 99 copies of n items, so syncing a few
thousand likes slows to minutes. All those copies are taken before anything is written, so one copy per
table is the same snapshot. This wraps the method so `copy.deepcopy` is memoised for the length of one call;
behaviour (atomicity, rollback, CancellationReasons) is moto's own.
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
        _applied = True

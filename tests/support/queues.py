"""A fetch queue that keeps what it was sent, for tests of the code that enqueues (the fetcher, the api)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.sync_queue import SyncRequest


@dataclass
class SentQueue:
    sent: list[SyncRequest] = field(default_factory=list)

    def send(self, requests: Sequence[SyncRequest]) -> list[SyncRequest]:
        self.sent.extend(requests)
        return []

"""The fetch queue as the domain sees it: send sync requests, ten to a SendMessageBatch."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from shared.models import SyncRequest

log = logging.getLogger(__name__)
SQS_BATCH = 10


class SyncQueue(Protocol):
    def send(self, requests: Sequence[SyncRequest]) -> list[SyncRequest]:
        """Enqueue; returns the requests that could not be sent."""
        ...


class SqsSyncQueue:
    """SQS through a botocore client made on first use (the read path never pays for it)."""

    def __init__(self, queue_url: str, region: str, endpoint_url: str | None = None) -> None:
        self._queue_url = queue_url
        self._region = region
        self._endpoint_url = endpoint_url
        self._client: Any = None

    def send(self, requests: Sequence[SyncRequest]) -> list[SyncRequest]:
        failed: list[SyncRequest] = []
        for start in range(0, len(requests), SQS_BATCH):
            chunk = list(requests[start : start + SQS_BATCH])
            entries = [{"Id": str(i), "MessageBody": json.dumps(r.to_json())} for i, r in enumerate(chunk)]
            try:
                response = self._sqs().send_message_batch(QueueUrl=self._queue_url, Entries=entries)
            except Exception:
                log.exception("SendMessageBatch failed", extra={"messages": len(chunk)})
                failed.extend(chunk)
                continue
            for failure in response.get("Failed", []):
                log.error(
                    "message not enqueued",
                    extra={"username": chunk[int(failure["Id"])].username, "code": failure.get("Code")},
                )
                failed.append(chunk[int(failure["Id"])])
        return failed

    def _sqs(self) -> Any:
        if self._client is None:
            # botocore is already loaded by pynamodb; boto3 on top would add to every api cold start.
            import botocore.session  # noqa: PLC0415

            self._client = botocore.session.get_session().create_client(
                "sqs", region_name=self._region, endpoint_url=self._endpoint_url
            )
        return self._client

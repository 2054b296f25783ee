"""The SQS event source mapping, as Lambda runs it: pollers that long-poll the queue, gather a batch, invoke
the function synchronously and delete what succeeded.

- `MaximumConcurrency` pollers (one invocation in flight each), so at most that many environments run.
- A batch is up to `BatchSize` messages gathered for at most `MaximumBatchingWindowInSeconds` (a FIFO queue
  takes no batching window: each receive is a batch, and SQS itself never hands out a message group that
  has messages in flight, so each group is processed one batch at a time, in order).
- A failed message comes back when its visibility ends: after the queue's visibility timeout, unless the
  function set another (the worker does, with ChangeMessageVisibility: 30 s, doubling per receive). The
  poller never touches a message's visibility, as Lambda's does not.
- With `ReportBatchItemFailures`, `batchItemFailures` is honoured exactly (`settle`): the other messages are
  deleted; an invalid answer (an item without an id, an id not in the batch) fails the whole batch, as do a
  function error and a timeout. Without it, any failure keeps the whole batch.
- The pollers keep receiving: that is when SQS (moto) moves a message received maxReceiveCount times to the
  dead-letter queue.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from local.stack.functions import Invocation
from local.stack.logstream import LogStream
from local.stack.spec import QueueMappingSpec

LONG_POLL_SECONDS = 20  # what Lambda's pollers use
MAX_RECEIVE = 10  # SQS's ceiling per ReceiveMessage
REGION = "us-east-1"


@dataclass(frozen=True)
class Settlement:
    delete: tuple[str, ...]  # message ids to delete
    outcome: str  # for the log: why


def settle(  # noqa: PLR0911 - one return per rule Lambda applies, in its order
    message_ids: Sequence[str], invocation: Invocation, *, report_batch_item_failures: bool
) -> Settlement:
    """Which messages of a batch Lambda deletes after this invocation, and why."""
    everything = tuple(message_ids)
    if invocation.timed_out:
        return Settlement((), "function timed out: the whole batch returns to the queue")
    if not invocation.ok:
        return Settlement((), f"function error ({invocation.error_summary}): the whole batch returns to the queue")
    if not report_batch_item_failures:
        return Settlement(everything, "success")
    result = invocation.result
    if result is None:
        return Settlement(everything, "success (no response)")
    if not isinstance(result, dict):
        return Settlement((), "invalid response (not a JSON object): the whole batch returns to the queue")
    failures = result.get("batchItemFailures")
    if failures is None or failures == []:
        return Settlement(everything, "success")
    if not isinstance(failures, list):
        return Settlement((), "invalid batchItemFailures (not a list): the whole batch returns to the queue")
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or not identifier or identifier not in everything:
            return Settlement((), f"invalid itemIdentifier {identifier!r}: the whole batch returns to the queue")
        failed.add(identifier)
    kept = [m for m in everything if m in failed]
    return Settlement(
        tuple(m for m in everything if m not in failed),
        f"{len(kept)} of {len(everything)} reported failed: deleting the rest",
    )


def sqs_record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    """A received message as Lambda puts it in the event (shape as events/worker-*.json)."""
    attributes = {
        k: v
        for k, v in (message.get("Attributes") or {}).items()
        if k
        in {
            "ApproximateReceiveCount",
            "SentTimestamp",
            "SenderId",
            "ApproximateFirstReceiveTimestamp",
            "SequenceNumber",
            "MessageGroupId",
            "MessageDeduplicationId",
            "AWSTraceHeader",
            "DeadLetterQueueSourceArn",
        }
    }
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": attributes,
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": value.get("StringListValues", []),
                "binaryListValues": value.get("BinaryListValues", []),
                "dataType": value.get("DataType"),
            }
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody")
        or hashlib.md5(message.get("Body", "").encode(), usedforsecurity=False).hexdigest(),
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record["eventSource"] = "aws:sqs"
    record["eventSourceARN"] = queue_arn
    record["awsRegion"] = REGION
    return record


class QueuePoller:
    def __init__(
        self,
        mapping: QueueMappingSpec,
        *,
        queue_url: str,
        queue_arn: str,
        fifo: bool,
        sqs: Any,
        invoke: Callable[[dict[str, Any]], Invocation],
        log: LogStream,
        concurrency: int,
    ) -> None:
        self.mapping = mapping
        self._url = queue_url
        self._arn = queue_arn
        self._fifo = fifo
        self._sqs = sqs
        self._invoke = invoke
        self._log = log
        self.concurrency = concurrency
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for number in range(self.concurrency):
            thread = threading.Thread(target=self._run, daemon=True, name=f"{self.mapping.logical_id}-{number}")
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self._collect()
            except Exception as exc:  # moto restarting or stopping: wait a little and poll again
                if self._stop.is_set():
                    return
                self._log.event("sqs", f"ReceiveMessage failed: {exc}", level="WARNING")
                self._stop.wait(1.0)
                continue
            if batch and not self._stop.is_set():
                self._process(batch)

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=max(1, min(MAX_RECEIVE, count)),
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def _collect(self) -> list[dict[str, Any]]:
        size = self.mapping.batch_size
        batch = self._receive(size, LONG_POLL_SECONDS)
        if not batch or self._fifo:
            return batch
        window_end = time.monotonic() + self.mapping.batching_window
        while len(batch) < size and not self._stop.is_set():
            left = window_end - time.monotonic()
            if left <= 0:
                break
            more = self._receive(size - len(batch), int(left))  # long polls take whole seconds
            if not more:
                self._stop.wait(min(0.1, max(0.0, window_end - time.monotonic())))
            batch.extend(more)
        return batch

    def _process(self, batch: list[dict[str, Any]]) -> None:
        event = {"Records": [sqs_record(m, self._arn) for m in batch]}
        receives = [int(m.get("Attributes", {}).get("ApproximateReceiveCount", 0)) for m in batch]
        try:
            invocation = self._invoke(event)
        except Exception as exc:  # the pool is stopping: the messages come back after their visibility timeout
            self._log.event("sqs", f"{self.mapping.function} not invoked: {exc}", level="WARNING")
            return
        ids = [m["MessageId"] for m in batch]
        settlement = settle(ids, invocation, report_batch_item_failures=self.mapping.report_batch_item_failures)
        by_id = {m["MessageId"]: m for m in batch}
        deleted = self._delete([by_id[i] for i in settlement.delete])
        kept = len(batch) - len(settlement.delete)
        self._log.event(
            "sqs",
            f"batch of {len(batch)} -> {self.mapping.function}: {settlement.outcome}",
            request_id=invocation.request_id,
            level="INFO" if not kept else "WARNING",
            fields={"receives": receives, "deleted": deleted, "kept": kept or None},
        )

    def _delete(self, messages: list[dict[str, Any]]) -> int:
        deleted = 0
        for start in range(0, len(messages), MAX_RECEIVE):
            chunk = messages[start : start + MAX_RECEIVE]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            try:
                response = self._sqs.delete_message_batch(QueueUrl=self._url, Entries=entries)
            except Exception as exc:  # not deleted: delivered again after the visibility timeout, as on AWS
                self._log.event("sqs", f"DeleteMessageBatch failed: {exc}", level="WARNING")
                continue
            deleted += len(response.get("Successful", []))
        return deleted

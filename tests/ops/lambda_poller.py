"""What Lambda's SQS event source mapping does with the worker, one batch per `poll()`, against moto.

Receive a batch, hand it to the real `worker.app.handler` as the SQS event Lambda would build
(tests/support/events.py's `sqs_event_from`: the record shape of events/worker-sync.json), delete the
messages the handler did not report as failed, and leave the failed ones in the queue. A handler that raises
(Powertools does when every record of a batch fails) fails the whole batch, as on Lambda. moto moves a
message to the DLQ inside the receive after maxReceiveCount.

One shortcut: time does not pass. Messages are received with VisibilityTimeout=0, and a failed message's
visibility, which the worker sets to its redelivery delay (30 s and more), is set back to 0, so it is visible
again at once (the receive count, which is what the redrive policy counts, is the same). Lambda's own poller
leaves the worker's delay in place (local/stack/poller.py does too).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import worker.app
from local.context import LocalLambdaContext
from tests.support.events import sqs_event_from

WORKER_TIMEOUT = 120  # template.yaml, WorkerFunction.Timeout
BATCH_SIZE = 5  # template.yaml, the FetchQueue event's BatchSize


@dataclass
class WorkerPoller:
    sqs: Any
    queue_url: str
    queue_arn: str
    receives: Counter[str] = field(default_factory=Counter)  # message id -> times handed to the worker
    failures: int = 0

    def poll(self) -> int:
        """One batch through the worker; returns how many messages it received (0: the queue looked empty)."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=BATCH_SIZE,
            VisibilityTimeout=0,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        self.receives.update(m["MessageId"] for m in messages)
        event = sqs_event_from(messages, self.queue_arn)
        try:
            response = worker.app.handler(event, LocalLambdaContext("WorkerFunction", WORKER_TIMEOUT))
            failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        except Exception:
            failed = {m["MessageId"] for m in messages}  # the whole batch goes back, as on Lambda
        self.failures += len(failed)
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            else:  # the redelivery delay, skipped
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
        return len(messages)

    def drain(self, max_polls: int = 100) -> int:
        """Poll until a receive finds nothing; returns the number of polls that found messages."""
        for count in range(max_polls):
            if not self.poll():
                return count
        raise AssertionError(f"the fetch queue was not empty after {max_polls} polls")

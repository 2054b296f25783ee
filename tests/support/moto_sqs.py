"""What moto's SQS knows about a message that SQS's API never tells: when it becomes visible again.

moto runs inside the test process (tests/support/aws.py), so its backend can be read directly. SQS has no call
that returns a message's visibility, and waiting 30 s for a message to come back would only make a test slow.
"""

from __future__ import annotations

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sqs.models import sqs_backends

from local.provision import REGION


def visible_at(queue_url: str, message_id: str) -> float:
    """Epoch seconds at which moto delivers the message again (moto keeps milliseconds)."""
    queue = sqs_backends[DEFAULT_ACCOUNT_ID][REGION].queues[queue_url.rstrip("/").rsplit("/", 1)[-1]]
    for message in queue._messages:
        if message.id == message_id:
            return float(message.visible_at) / 1000
    raise AssertionError(f"moto holds no message {message_id} in {queue.name}")

"""The import function: one archive import per SQS message, from the imports bucket into the table.

Until the importer lands, every upload's message is reported as failed (back to the queue, then its DLQ):
nothing is dropped. S3's s3:TestEvent, sent when the notification is set up, is skipped.
"""

from __future__ import annotations

import json
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event.get("Records", []):
        body = json.loads(record.get("body") or "{}")
        if body.get("Event") == "s3:TestEvent":
            continue
        failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}

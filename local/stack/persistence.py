"""moto's tables, queues and KMS keys, saved to one file and loaded back, so `make dev` keeps its state across
restarts.

moto keeps everything in memory and has no persistence of its own. This runs inside the AWS process
(`aws.py`), next to moto's backends, and reads and writes them directly:

- a snapshot is one JSON-lines file: per table every item (DynamoDB JSON), per queue every message with
  what SQS knows of it (body, attributes, receive count, first-receive and sent timestamps, FIFO group and
  deduplication ids). It is written to a temporary file and renamed, so a crash leaves the previous one.
- DynamoDB requests pass a shared gate and a snapshot takes it exclusively, so a snapshot never sees half
  of a request (a TransactWriteItems is all in or all out).
- restored messages are visible at once: one that was in flight when the stack stopped is delivered again
  (its receive count kept), as SQS would after its visibility timeout.
- the CloudFormation stack's id is in the header: the next start creates the stack under the same id, so
  what is named after it (the imports bucket: `random-likes-imports-<the id's uuid>`) keeps its name, and
  a presigned POST or a queued upload notification made before the restart still names the right bucket.
  The bucket itself, its CORS rule and its queue notification are made again at each start, from the template.
- the objects of the stack's buckets (uploads waiting for, or being read by, the import function) are kept
  as files named by their SHA-256 in `s3-objects/` beside the snapshot, each written once, and listed in
  the snapshot with their key and metadata (content type ...); restored without sending a notification again (the queued
  message that names them is restored too).
- a KMS key (the tokens' key) keeps its key material, and the ids it had: moto's ciphertext names the key id
  it was made with, and each start creates the key anew under a new id. The new key takes the saved material
  and answers to its old ids as well, so tokens encrypted before a restart still decrypt after it (one more id
  per restart, 36 bytes).

Tables and queues are keyed by their logical id in the template, since moto names tables anew each start.
This reads moto 5.x's internal models (Table.all_items / put_item, Queue._messages / add_message): a moto
upgrade that changes them fails tests/unit/test_local_persistence.py before it fails anyone's data.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = 1
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


class Gate:
    """Many requests at once, or one snapshot alone (a readers-writer lock, writer = the snapshot)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._exclusive = False

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._exclusive:
                self._cond.wait()
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            while self._exclusive:
                self._cond.wait()
            self._exclusive = True  # new requests wait from here on; running ones finish
            while self._active:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()


@dataclass(frozen=True)
class Resources:
    """The logical ids of the stack's tables and queues and their names in moto."""

    tables: Mapping[str, str]  # logical id -> table name
    queues: Mapping[str, str]  # logical id -> queue name
    keys: Mapping[str, str] = field(default_factory=dict)  # logical id -> KMS key id
    buckets: Mapping[str, str] = field(default_factory=dict)  # logical id -> bucket name


@dataclass(frozen=True)
class Counts:
    items: int
    messages: int
    keys: int = 0
    objects: int = 0

    def __str__(self) -> str:
        keys = f", {self.keys} KMS key(s)" if self.keys else ""
        objects = f", {self.objects} S3 object(s)" if self.objects else ""
        return f"{self.items} item(s), {self.messages} message(s){keys}{objects}"


def _dynamodb() -> Any:
    from moto.dynamodb.models import dynamodb_backends  # noqa: PLC0415 - only in the AWS process

    return dynamodb_backends[ACCOUNT_ID][REGION]


def _sqs() -> Any:
    from moto.sqs.models import sqs_backends  # noqa: PLC0415

    return sqs_backends[ACCOUNT_ID][REGION]


def _s3() -> Any:
    from moto.s3.models import s3_backends  # noqa: PLC0415

    return s3_backends[ACCOUNT_ID]["aws"]


def _kms() -> Any:
    from moto.kms.models import kms_backends  # noqa: PLC0415

    return kms_backends[ACCOUNT_ID][REGION]


_MESSAGE_FIELDS = (
    "sender_id",
    "sent_timestamp",
    "approximate_first_receive_timestamp",
    "approximate_receive_count",
    "deduplication_id",
    "group_id",
    "sequence_number",
)


def to_wire(attribute: Mapping[str, Any]) -> dict[str, Any]:
    """moto's attribute value (binary as bytes) -> DynamoDB JSON as the API sends it (binary as base64)."""
    ((kind, value),) = attribute.items()
    if kind == "B":
        return {kind: base64.b64encode(value).decode() if isinstance(value, bytes) else value}
    if kind == "BS":
        return {kind: [base64.b64encode(v).decode() if isinstance(v, bytes) else v for v in value]}
    if kind == "L":
        return {kind: [to_wire(v) for v in value]}
    if kind == "M":
        return {kind: {k: to_wire(v) for k, v in value.items()}}
    return {kind: value}


def from_wire(attribute: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB JSON -> what moto's put_item takes (binary as bytes, as its request parser hands it over)."""
    ((kind, value),) = attribute.items()
    if kind == "B":
        return {kind: base64.b64decode(value)}
    if kind == "BS":
        return {kind: [base64.b64decode(v) for v in value]}
    if kind == "L":
        return {kind: [from_wire(v) for v in value]}
    if kind == "M":
        return {kind: {k: from_wire(v) for k, v in value.items()}}
    return {kind: value}


def snapshot_lines(resources: Resources, gate: Gate, *, stack_id: str = "", objects: Path | None = None) -> list[str]:
    """The current tables, queues, keys and objects as JSON lines (the caller writes them); the objects' bodies
    go to `objects` (a directory), once each, if it is given."""
    lines = [json.dumps({"format": FORMAT, **({"stack_id": stack_id} if stack_id else {})})]
    with gate.exclusive():
        for logical_id, name in sorted(resources.tables.items()):
            table = _dynamodb().get_table(name)
            for item in table.all_items():
                attributes = {k: to_wire(v) for k, v in item.to_json()["Attributes"].items()}
                lines.append(json.dumps({"table": logical_id, "item": attributes}, separators=(",", ":")))
    for logical_id, name in sorted(resources.queues.items()):
        queue = _sqs().get_queue(name)
        for message in list(queue._messages):
            record = {field: getattr(message, field) for field in _MESSAGE_FIELDS}
            record.update(id=message.id, body=message.body, message_attributes=message.message_attributes)
            lines.append(json.dumps({"queue": logical_id, "message": record}, separators=(",", ":")))
    for logical_id, key_id in sorted(resources.keys.items()):
        keys = _kms().keys
        key = keys[key_id]
        ids = sorted(other for other, value in keys.items() if value is key)
        material = base64.b64encode(key.key_material).decode()
        lines.append(json.dumps({"kms_key": logical_id, "ids": ids, "material": material}, separators=(",", ":")))
    if objects is not None:
        lines.extend(_object_lines(resources, objects))
    return lines


def _object_lines(resources: Resources, objects: Path) -> list[str]:
    lines = []
    for logical_id, name in sorted(resources.buckets.items()):
        bucket = _s3().get_bucket(name)
        for key in list(bucket.keys.values()):  # the latest version of each key
            body: bytes = key.value
            digest = hashlib.sha256(body).hexdigest()
            stored = objects / digest
            if not stored.exists():
                objects.mkdir(parents=True, exist_ok=True)
                save_bytes(stored, body)
            record = {"key": key.name, "sha256": digest, "metadata": dict(key.metadata)}
            lines.append(json.dumps({"bucket": logical_id, "object": record}, separators=(",", ":")))
    return lines


def save_bytes(path: Path, body: bytes) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(body)
    os.replace(temporary, path)


def forget_unlisted_objects(lines: list[str], objects: Path) -> None:
    """Delete the object files no line of the snapshot just saved lists (imported uploads are deleted)."""
    if not objects.is_dir():
        return
    listed = {json.loads(line)["object"]["sha256"] for line in lines if line.startswith('{"bucket"')}
    for stored in objects.iterdir():
        if stored.name not in listed:
            stored.unlink(missing_ok=True)


def saved_stack_id(path: Path) -> str | None:
    """The CloudFormation stack id the snapshot at `path` was taken under, if any."""
    try:
        with path.open(encoding="utf-8") as lines:
            header = json.loads(next(lines, "{}"))
    except (OSError, ValueError):
        return None
    stack_id = header.get("stack_id") if isinstance(header, dict) else None
    return stack_id if isinstance(stack_id, str) and stack_id else None


def save(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    with temporary.open("w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def restore(path: Path, resources: Resources, objects: Path | None = None) -> Counts:
    """Load a snapshot into the freshly created tables, queues, keys and buckets (bodies from `objects`);
    raises ValueError if it is unreadable."""
    from moto.sqs.models import Message  # noqa: PLC0415

    items = messages = keys = restored_objects = 0
    with path.open(encoding="utf-8") as lines:
        header = json.loads(next(lines, "{}"))
        if header.get("format") != FORMAT:
            raise ValueError(f"{path} is not a snapshot this version can read (format {header.get('format')!r})")
        for number, line in enumerate(lines, start=2):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise ValueError(f"{path}:{number} is not JSON") from None
            if "table" in record and record["table"] in resources.tables:
                attributes = {k: from_wire(v) for k, v in record["item"].items()}
                _dynamodb().get_table(resources.tables[record["table"]]).put_item(attributes)
                items += 1
            elif "queue" in record and record["queue"] in resources.queues:
                saved = record["message"]
                message = Message(saved["id"], saved["body"])
                message.message_attributes = saved.get("message_attributes") or {}
                for field in _MESSAGE_FIELDS:
                    setattr(message, field, saved.get(field))
                message.approximate_receive_count = int(saved.get("approximate_receive_count") or 0)
                _sqs().get_queue(resources.queues[record["queue"]]).add_message(message)
                messages += 1
            elif "kms_key" in record and record["kms_key"] in resources.keys:
                backend = _kms().keys
                key = backend[resources.keys[record["kms_key"]]]
                key.key_material = base64.b64decode(record["material"])
                for old_id in record["ids"]:
                    backend.setdefault(old_id, key)
                keys += 1
            elif "bucket" in record and record["bucket"] in resources.buckets and objects is not None:
                saved_object = record["object"]
                stored = objects / saved_object["sha256"]
                if not stored.exists():  # removed by hand: that upload is gone, the rest of the state is not
                    continue
                body = stored.read_bytes()
                key = _s3().put_object(
                    resources.buckets[record["bucket"]], saved_object["key"], body, disable_notification=True
                )
                key.set_metadata(dict(saved_object.get("metadata") or {}))
                restored_objects += 1
    return Counts(items, messages, keys, restored_objects)

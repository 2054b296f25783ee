"""The AWS of the offline stack: moto's server in its own process, with the template's tables, queues and keys,
and their contents saved to the data directory and loaded back at start.

`python -m local.stack.aws --port 4566 --data-dir DIR` serves at once, then reads one JSON line on stdin —
`{"stack_name": ..., "template": <the SAM-transformed template>}` — creates the stack's data resources
through moto's CloudFormation (so `describe_stack_resources` works for the ops CLI), loads the snapshot, and
prints `{"event": "ready", ...}` on stdout with the resources' names. It saves a snapshot every few seconds
when something changed, and once more when it stops: on SIGTERM, or when stdin closes (the parent is gone).
SIGINT is ignored: Ctrl-C reaches the whole process group, and the parent stops the functions first.

A process of its own because moto is the busiest thing in the stack: here it has a core, and the GIL, to
itself, instead of sharing them with the gateway.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from local import moto_fixes
from local.provision import REGION, client, provision, stack_refs
from local.stack.persistence import (
    Gate,
    Resources,
    forget_unlisted_objects,
    restore,
    save,
    saved_stack_id,
    snapshot_lines,
)

SNAPSHOT_FILE = "aws-state.jsonl"
OBJECTS_DIR = "s3-objects"  # the buckets' objects, one file per body (persistence.py)
# DynamoDB operations that change nothing: they skip the "something changed" mark (and still pass the gate).
_DYNAMODB_READS = {
    "GetItem",
    "BatchGetItem",
    "Query",
    "Scan",
    "TransactGetItems",
    "DescribeTable",
    "ListTables",
    "DescribeTimeToLive",
    "DescribeContinuousBackups",
    "ListTagsOfResource",
    "DescribeEndpoints",
}

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def say(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def log(message: str) -> None:
    print(message, flush=True)


class ChangeTracker:
    """WSGI middleware in front of moto: DynamoDB requests pass the snapshot gate; writes mark the state dirty."""

    def __init__(self, app: WsgiApp, gate: Gate) -> None:
        self._app = app
        self._gate = gate
        self.dirty = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if target.startswith("DynamoDB_"):
            if target.split(".", 1)[-1] not in _DYNAMODB_READS:
                self.dirty.set()
            with self._gate.shared():
                return list(self._app(environ, start_response))  # moto's work happens inside the gate
        if environ.get("REQUEST_METHOD") not in {"GET", "HEAD", "OPTIONS"}:
            self.dirty.set()  # SQS (receives change receive counts too), S3 uploads and deletes, SSM ...
        return self._app(environ, start_response)


def start_moto(host: str, port: int, wrap: Callable[[WsgiApp], WsgiApp]) -> tuple[Any, int]:
    """moto's ThreadedMotoServer, with `wrap` around its WSGI app; returns (server, port)."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer  # noqa: PLC0415 - heavy import
    from moto.moto_server.werkzeug_app import (  # noqa: PLC0415
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server  # noqa: PLC0415

    class Server(ThreadedMotoServer):
        error: OSError | None = None

        def _server_entry(self) -> None:
            try:
                app = wrap(DomainDispatcherApplication(create_backend_app))
                self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
            except (OSError, SystemExit) as exc:  # werkzeug exits on a taken port: say so, do not hang
                self.error = exc if isinstance(exc, OSError) else OSError(f"port {self._port} is in use")
                self._server_ready_event.set()
                return
            self._server_ready_event.set()
            self._server.serve_forever(poll_interval=0.05)  # a quick shutdown

    server = Server(ip_address=host, port=port, verbose=False)
    server.start()
    if server.error is not None:
        raise server.error
    return server, server.get_host_and_port()[1]


def describe_resources(endpoint: str, stack_name: str) -> tuple[dict[str, str], Resources]:
    """(logical id -> what Ref returns: table name, queue URL), and the table/queue names by logical id."""
    refs: dict[str, str] = {}
    tables: dict[str, str] = {}
    queues: dict[str, str] = {}
    keys: dict[str, str] = {}
    buckets: dict[str, str] = {}
    for logical_id, (kind, ref) in stack_refs(endpoint, stack_name).items():
        refs[logical_id] = ref
        if kind == "AWS::DynamoDB::Table":
            tables[logical_id] = ref
        elif kind == "AWS::SQS::Queue":
            queues[logical_id] = ref.rsplit("/", 1)[-1]
        elif kind == "AWS::KMS::Key":
            keys[logical_id] = ref
        elif kind == "AWS::S3::Bucket":
            buckets[logical_id] = ref
    return refs, Resources(tables=tables, queues=queues, keys=keys, buckets=buckets)


@contextlib.contextmanager
def stack_id_from(saved: str | None, stack_name: str) -> Iterator[None]:
    """While it lasts, moto's CloudFormation creates the stack `stack_name` under the id `saved` (the one the
    snapshot was taken under) instead of a new random one: names made from the id then stay the same."""
    from moto.cloudformation import models  # noqa: PLC0415

    if not saved or saved.split(":stack/", 1)[-1].split("/", 1)[0] != stack_name:
        yield
        return
    original = getattr(models, "generate_stack_id")  # noqa: B009 - moto's module global, not exported

    def generate_stack_id(name: str, region: str, account: str) -> str:
        return saved if name == stack_name else str(original(name, region, account))

    setattr(models, "generate_stack_id", generate_stack_id)  # noqa: B010
    try:
        yield
    finally:
        setattr(models, "generate_stack_id", original)  # noqa: B010


def stack_id(endpoint: str, stack_name: str) -> str:
    stacks = client("cloudformation", endpoint).describe_stacks(StackName=stack_name)["Stacks"]
    return str(stacks[0]["StackId"])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m local.stack.aws", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=4566)
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--clean", action="store_true", help="ignore (and replace) the saved state")
    p.add_argument("--snapshot-every", type=float, default=5.0, help="seconds between snapshots (when changed)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 - one start-up sequence, read top to bottom
    args = parse_args(argv)
    stop = threading.Event()
    holding_state = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        if not holding_state.is_set():
            os._exit(0)  # nothing loaded yet, so nothing to save: do not wait for moto's imports to finish
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    moto_fixes.apply()
    gate = Gate()
    trackers: list[ChangeTracker] = []

    def wrap(app: WsgiApp) -> WsgiApp:
        trackers.append(ChangeTracker(app, gate))
        return trackers[0]

    try:
        server, port = start_moto(args.host, args.port, wrap)
    except OSError as exc:
        say("error", message=f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
        return 2
    endpoint = f"http://{args.host}:{port}"
    say("listening", endpoint=endpoint)

    # Warm moto's CloudFormation (it imports most of moto) while the parent translates the template.
    import moto.cloudformation.parsing  # noqa: F401, PLC0415

    request = json.loads(sys.stdin.readline() or "{}")
    if "template" not in request:
        return 0  # the parent went away before it got this far
    started = time.monotonic()
    holding_state.set()
    path = args.data_dir / SNAPSHOT_FILE
    objects = args.data_dir / OBJECTS_DIR
    stack_name = request["stack_name"]
    with stack_id_from(None if args.clean else saved_stack_id(path), stack_name):
        provision(endpoint, stack_name, REGION, request["template"])
    refs, resources = describe_resources(endpoint, stack_name)
    the_stack_id = stack_id(endpoint, stack_name)
    restored = "clean start"
    if path.exists() and not args.clean:
        try:
            restored = f"restored {restore(path, resources, objects)} from {path}"
        except (ValueError, KeyError, TypeError) as exc:
            kept = path.with_name(f"{path.name}.unreadable-{int(time.time())}")
            path.rename(kept)
            restored = f"could not read the saved state ({exc}); kept it as {kept.name} and started clean"
    trackers[0].dirty.set()  # the first snapshot records the (possibly clean) start
    say("ready", refs=refs, stack_id=the_stack_id, restored=restored, seconds=round(time.monotonic() - started, 2))

    def parent_gone() -> None:
        sys.stdin.read()  # returns at EOF: the parent closed our stdin or died
        stop.set()

    threading.Thread(target=parent_gone, daemon=True).start()
    last: list[str] = []
    while True:
        stopping = stop.wait(args.snapshot_every)
        if trackers[0].dirty.is_set() or stopping:
            trackers[0].dirty.clear()
            lines = snapshot_lines(resources, gate, stack_id=the_stack_id, objects=objects)
            if lines != last:
                save(path, lines)
                forget_unlisted_objects(lines, objects)
                last = lines
        if stopping:
            break
    log(f"saved {len(last) - 1 if last else 0} record(s) to {path}")
    del server  # no orderly shutdown: the state is saved, and the socket closes with the process
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # Tearing down moto's hundreds of modules takes most of a second; the Ctrl-C budget is two.
    os._exit(code)

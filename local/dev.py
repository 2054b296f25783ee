"""`make dev`: the whole random-likes system on this machine, offline, driven by template.yaml.

    python -m local.dev [--port 3000] [--accelerate 60] [--clean] ...

Starts moto (as AWS), the simulated X API, every function of the template in its own process, the
schedules, the SQS event source mapping and the HTTP API gateway, prints a line containing `ready` and the
URL, and runs until Ctrl-C (SIGINT) or SIGTERM, which stop everything within two seconds. docs/local.md
explains the pieces and what differs from AWS.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from local.stack import data_dir
from local.stack.aws_process import AwsProcess
from local.stack.logstream import LogStream
from local.stack.spec import DEFAULT_LOCAL_CONCURRENCY


def _parameter(raw: str) -> tuple[str, str]:
    if "=" not in raw:
        raise argparse.ArgumentTypeError(f"expected Key=Value, got {raw!r}")
    key, value = raw.split("=", 1)
    return key.strip(), value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m local.dev",
        description="Run random-likes offline: moto as AWS, a simulated X API, the functions of template.yaml "
        "in their own processes, the schedule, the SQS poller and the HTTP API, on loopback.",
        epilog="X: with X_API_BASE_URL set, the stack uses that server instead of the simulator, with credentials "
        "from X_CREDENTIALS_FILE (a JSON file) or X_CREDENTIALS_JSON, and for Connect with X the app's OAuth 2.0 "
        "client from X_OAUTH2_CLIENT_ID and X_OAUTH2_CLIENT_SECRET (consent page: X_AUTHORIZE_URL, default X's). "
        "See docs/local.md.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address every part binds to (default 127.0.0.1)")
    p.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT") or 3000),
        help="the page and the API (HTTP API gateway); default $PORT or 3000",
    )
    p.add_argument("--aws-port", type=int, default=4566, help="moto, the AWS endpoint (default 4566)")
    p.add_argument("--x-port", type=int, default=8787, help="the simulated X API (default 8787)")
    p.add_argument(
        "--data-dir", type=Path, default=Path(".local/dev"), help="where the state is kept (default .local/dev)"
    )
    p.add_argument("--clean", action="store_true", help="start from nothing (the saved state is replaced)")
    p.add_argument(
        "--accelerate",
        type=float,
        default=1.0,
        metavar="N",
        help="shorten schedules, visibility timeouts, the sync interval and X's rate-limit window N times (default 1)",
    )
    p.add_argument("--seed", type=int, default=42, help="the simulated X API's demo data seed (default 42)")
    p.add_argument(
        "--parameter-overrides",
        nargs="+",
        type=_parameter,
        default=[],
        metavar="KEY=VALUE",
        help="template parameters, as `sam deploy --parameter-overrides` takes them",
    )
    p.add_argument(
        "--max-environments",
        type=int,
        default=DEFAULT_LOCAL_CONCURRENCY,
        help="processes per function when the template sets no limit (default %(default)s)",
    )
    p.add_argument(
        "--snapshot-every", type=float, default=5.0, help="seconds between saves of the state when it changed (5)"
    )
    p.add_argument("--stack-name", default="random-likes", help="the CloudFormation stack name in moto (random-likes)")
    p.add_argument("--no-color", action="store_true", help="no colours, even on a terminal")
    p.add_argument("--verbose", action="store_true", help="also show metrics, stack traces and every schedule firing")
    args = p.parse_args(argv)
    if args.accelerate < 1:
        p.error("--accelerate must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    color = sys.stdout.isatty() and not args.no_color and "NO_COLOR" not in os.environ
    log = LogStream(sys.stdout, color=color, verbose=args.verbose)
    try:
        held = data_dir.lock(args.data_dir)
    except data_dir.DataDirInUse as exc:
        log.event("stack", str(exc), level="ERROR")
        return 2
    # moto takes longest to start (its CloudFormation imports most of moto): under way before the rest of
    # the stack is even imported.
    aws = AwsProcess(
        host=args.host,
        port=args.aws_port,
        data_dir=args.data_dir,
        clean=args.clean,
        snapshot_every=args.snapshot_every,
        log=log,
    )
    from local.stack.stack import Options, Stack, StackError  # noqa: PLC0415 - see above

    options = Options(
        host=args.host,
        port=args.port,
        aws_port=args.aws_port,
        x_port=args.x_port,
        data_dir=args.data_dir,
        clean=args.clean,
        accelerate=args.accelerate,
        seed=args.seed,
        stack_name=args.stack_name,
        parameter_overrides=dict(args.parameter_overrides),
        max_environments=args.max_environments,
        snapshot_every=args.snapshot_every,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stack = Stack(options, log, aws=aws, data_dir_lock=held)
    try:
        endpoints = stack.start()
    except StackError as exc:
        log.event("stack", str(exc), level="ERROR")
        stack.stop()
        return 2
    except Exception as exc:
        log.event("stack", f"could not start: {type(exc).__name__}: {exc}", level="ERROR")
        stack.stop()
        raise
    log.event(
        "stack",
        f"random-likes ready on {endpoints.url} in {time.monotonic() - started:.1f} s"
        f"  (AWS {endpoints.aws}, X {endpoints.x}; Ctrl-C stops)",
    )
    while not stop.wait(0.2):
        pass
    stopping = time.monotonic()
    stack.stop()
    log.event("stack", f"stopped in {time.monotonic() - stopping:.2f} s")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # Everything is stopped and saved: skip the interpreter's teardown (threads, modules), part of the 2 s budget.
    os._exit(code)

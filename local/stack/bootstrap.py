"""The runtime inside one function process: a Lambda execution environment for one function.

Started by `functions.Environment` as `python -m local.stack.bootstrap IN_FD OUT_FD` with the function's
code directory as its working directory and exactly the environment Lambda would give it. It imports the
handler once (the init phase, as a cold start does), then answers invocations one at a time, read as JSON
lines from IN_FD and answered on OUT_FD, until the parent closes the pipe. stdout and stderr stay the
function's own: the parent turns them into the log stream. Like the Lambda Python runtime it gives the root
logger a handler that prefixes level, time and request id, and reports an unhandled exception as
errorType / errorMessage / stackTrace.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import sys
import time
import traceback
from typing import Any, BinaryIO

from local.context import LocalLambdaContext

_request_id = ""


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id
        return True


def _lambda_root_logger() -> None:
    """The Python runtime's root handler: `[LEVEL]\\tTIME\\tREQUEST_ID\\tmessage` on stdout."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"
        )
    )
    handler.formatter.converter = time.gmtime  # type: ignore[union-attr]
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorType": error_type or type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def _send(out: BinaryIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message).encode() + b"\n")
    out.flush()


def _init() -> tuple[Any, dict[str, Any] | None]:
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, function_name), None
    except Exception as exc:  # reported to the first invocation, as Lambda reports Runtime.ImportModuleError
        kind = "Runtime.HandlerNotFound" if isinstance(exc, AttributeError) else "Runtime.ImportModuleError"
        error = _error(exc, kind)
        error["errorMessage"] = f"Unable to import module '{module_name}': {exc}"
        print(json.dumps(error), file=sys.stderr)
        return None, error


def main(argv: list[str]) -> int:
    global _request_id  # noqa: PLW0603 - one invocation at a time, as in a Lambda environment
    # Ctrl-C reaches the whole process group; the parent decides when this environment ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    inbox = os.fdopen(int(argv[0]), "rb")
    out = os.fdopen(int(argv[1]), "wb")
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
    _lambda_root_logger()

    started = time.monotonic()
    handler, init_error = _init()
    _send(out, {"type": "ready", "init_ms": round((time.monotonic() - started) * 1000, 1)})

    for line in inbox:
        invocation = json.loads(line)
        _request_id = invocation["request_id"]
        if init_error is not None:
            _send(out, {"type": "result", "ok": False, "error": init_error})
            return 1  # a failed init is retried by the next cold start
        context = LocalLambdaContext(
            function_name=os.environ["AWS_LAMBDA_FUNCTION_NAME"],
            timeout_seconds=max(0.0, float(invocation["deadline"]) - time.time()),
            memory_limit_in_mb=int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]),
            region=os.environ["AWS_REGION"],
            aws_request_id=_request_id,
            log_group_name=os.environ["AWS_LAMBDA_LOG_GROUP_NAME"],
            log_stream_name=os.environ["AWS_LAMBDA_LOG_STREAM_NAME"],
        )
        try:
            result = handler(invocation["event"], context)
        except Exception as exc:
            error = _error(exc)
            # As the Lambda runtime logs an unhandled error: one record, the stack trace inside it.
            print(json.dumps({**error, "requestId": _request_id}), file=sys.stderr)
            _send(out, {"type": "result", "ok": False, "error": error})
            continue
        try:
            payload = json.dumps(result)
        except (TypeError, ValueError) as exc:
            error = _error(exc, "Runtime.MarshalError")
            print(json.dumps({**error, "requestId": _request_id}), file=sys.stderr)
            _send(out, {"type": "result", "ok": False, "error": error})
            continue
        out.write(b'{"type": "result", "ok": true, "result": ' + payload.encode() + b"}\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

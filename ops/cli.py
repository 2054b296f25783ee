"""`random-likes`: the operator's command line — argument parsing and dispatch, and errors as exit codes.

The work is done in ops/commands.py and the modules it calls. Here: the flags, which function runs, and
the one place where an AWS or operator error becomes a one-line message and an exit code (no traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ops import commands, errors
from ops.connect import Target, aws_environment
from ops.cost import MAX_DAYS
from ops.redrive import DEFAULT_RATE, parse_rate
from ops.status import AGE_SOURCES

EPILOG = """\
exit codes: 0 ok · 1 failed (AWS refused for another reason) · 2 bad command line · 3 stack not found ·
4 no credentials, region or access · 5 endpoint unreachable · 6 unknown subscriber ·
7 redrive incomplete (see its report) · 8 archive refused (nothing uploaded) · 9 import failed or not started ·
130 interrupted (Ctrl-C; cleaned up)

examples:
  random-likes --endpoint-url http://127.0.0.1:4566 status      # make dev's stack
  random-likes cost --days 7                                    # the last 7 days and their forecast
  random-likes --profile ops --region eu-west-1 dlq peek          # a deployed stack named random-likes
  random-likes dlq redrive --dry-run
  random-likes import twitter-archive.zip --username demo
  random-likes --json subscribers list | jq '.subscribers[].status'
"""

Handler = Callable[[commands.Context, argparse.Namespace], int]
QUEUES = ("fetch", "import", "all")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="random-likes",
        description="Operate a random-likes stack: status, dead letters, subscribers. "
        "Local (make dev) with --endpoint-url, on AWS with the usual AWS configuration.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_flags(parser, defaults=True)
    # The same flags after the command (`random-likes status --json`) without resetting them when absent.
    common = argparse.ArgumentParser(add_help=False)
    _global_flags(common, defaults=False)

    commands_ = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    status = commands_.add_parser("status", parents=[common], help="queues, subscribers, fetcher, X usage, errors")
    status.add_argument(
        "--dlq-age",
        choices=AGE_SOURCES,
        default="auto",
        help="where the age of the oldest dead letter comes from: CloudWatch (auto on AWS) or a peek (auto locally)",
    )
    status.set_defaults(handler=commands.cmd_status)

    cost = commands_.add_parser(
        "cost", parents=[common], help="what X and AWS have cost this month so far, and the forecast"
    )
    cost.add_argument(
        "--days",
        type=_days,
        metavar="N",
        help=f"the last N UTC days (today included, at most {MAX_DAYS}) instead of the month to date; "
        "the forecast is then their daily average times 30",
    )
    cost.set_defaults(handler=commands.cmd_cost)

    dlq = commands_.add_parser("dlq", help="the dead-letter queues (fetch, import): peek, redrive")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", metavar="SUBCOMMAND", required=True)
    peek = dlq_commands.add_parser("peek", parents=[common], help="show dead letters and why, without consuming them")
    peek.add_argument("--max", type=_positive, default=10, metavar="N", help="at most N messages a queue (default 10)")
    peek.add_argument(
        "--queue", choices=QUEUES, default="all", help="which dead-letter queue: fetch, import, or all (default)"
    )
    peek.set_defaults(handler=commands.cmd_dlq_peek)

    redrive = dlq_commands.add_parser("redrive", parents=[common], help="move dead letters back to their queue")
    redrive.add_argument(
        "--queue",
        choices=QUEUES,
        default="fetch",
        help="whose dead letters: fetch (default: the syncs), import (archive imports), or all",
    )
    redrive.add_argument("--dry-run", action="store_true", help="say what would happen; touch no message")
    redrive.add_argument(
        "--rate",
        type=_rate,
        default=DEFAULT_RATE,
        metavar="N/s",
        help=f"messages per second (default {DEFAULT_RATE}/s)",
    )
    redrive.add_argument("--max", type=_positive, metavar="N", help="move at most N messages (uses the manual path)")
    redrive.add_argument(
        "--manual", action="store_true", help="receive → send → delete even where StartMessageMoveTask exists"
    )
    redrive.set_defaults(handler=commands.cmd_dlq_redrive)

    subs = commands_.add_parser("subscribers", help="list subscribers, or show one")
    subs_commands = subs.add_subparsers(dest="subscribers_command", metavar="SUBCOMMAND", required=True)
    subs_commands.add_parser("list", parents=[common], help="every subscriber").set_defaults(
        handler=commands.cmd_subscribers_list
    )
    show = subs_commands.add_parser("show", parents=[common], help="one subscriber in full")
    show.add_argument("username", type=commands.name_or_key, metavar="NAME")
    show.set_defaults(handler=commands.cmd_subscribers_show)
    add = subs_commands.add_parser(
        "add",
        parents=[common],
        help="subscribe the account of the stack's own X credentials (the operator's), owned by its X user id",
    )
    add.add_argument("username", type=commands.username, metavar="NAME")
    add.add_argument("--public", action="store_true", help="anyone with the link /?u=NAME may see it")
    add.set_defaults(handler=commands.cmd_subscribers_add)

    migrate = commands_.add_parser(
        "migrate",
        parents=[common],
        help="move subscriptions stored before accounts to their owner's X user id (private; idempotent)",
    )
    migrate.add_argument("--dry-run", action="store_true", help="say what would move, move nothing")
    migrate.set_defaults(handler=commands.cmd_migrate)

    sync = commands_.add_parser("sync", parents=[common], help="enqueue a sync of one subscriber now")
    sync.add_argument("username", type=commands.name_or_key, metavar="NAME")
    sync.set_defaults(handler=commands.cmd_sync)

    archive = commands_.add_parser(
        "import",
        parents=[common],
        help="import an X archive (its zip, or a bare like.js) into a subscription, as the page does",
    )
    archive.add_argument("archive", type=Path, metavar="ARCHIVE", help="X's archive zip, or its data/like.js")
    archive.add_argument(
        "--username", required=True, type=commands.name_or_key, metavar="NAME", help="the subscription to import into"
    )
    archive.add_argument("--no-wait", action="store_true", help="return once the upload is in S3")
    archive.set_defaults(handler=commands.cmd_import)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    target = Target(
        stack_name=args.stack_name, profile=args.profile, region=args.region, endpoint_url=args.endpoint_url
    )
    handler: Handler = args.handler
    try:
        with aws_environment(target):
            return handler(commands.Context.open(target, args), args)
    except errors.OpsError as exc:
        return _fail(exc, as_json=args.json)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return errors.INTERRUPTED
    except Exception as exc:
        mapped = errors.from_aws(exc, target.endpoint_url)
        if mapped is None:
            raise  # not AWS, not the operator: a bug, and its traceback is the report
        return _fail(mapped, as_json=args.json)


def _fail(exc: errors.OpsError, *, as_json: bool) -> int:
    print(f"random-likes: {exc}", file=sys.stderr)
    if exc.hint:
        print(f"  hint: {exc.hint}", file=sys.stderr)
    if as_json:
        print(json.dumps({"error": {"code": exc.code, "message": str(exc), "hint": exc.hint}}))
    return exc.exit_code


def _global_flags(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "--stack-name", default=default("random-likes"), help="the CloudFormation stack (default random-likes)"
    )
    parser.add_argument("--profile", default=default(None), help="an AWS profile (as AWS_PROFILE)")
    parser.add_argument("--region", default=default(None), help="the AWS region (default: your AWS configuration)")
    parser.add_argument(
        "--endpoint-url",
        default=default(None),
        metavar="URL",
        help="an AWS-compatible endpoint, e.g. make dev's moto at http://127.0.0.1:4566",
    )
    parser.add_argument("--json", action="store_true", default=default(False), help="JSON for scripts")
    parser.add_argument("--no-color", action="store_true", default=default(False), help="no colour in tables")


def _positive(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {raw!r}")
    return int(raw)


def _days(raw: str) -> int:
    days = _positive(raw)
    if days > MAX_DAYS:
        raise argparse.ArgumentTypeError(f"at most {MAX_DAYS}: older days' counters are gone (the table's TTL)")
    return days


def _rate(raw: str) -> int:
    try:
        return parse_rate(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


if __name__ == "__main__":
    sys.exit(main())

"""One function per command: open the stack, call the module that does the work, print table or JSON.

Each returns the exit code. Everything a command knows about AWS comes through `Context`, opened once.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ops import accounts, archive, cost, dlq, errors, imports, redrive, status, subscribers
from ops.connect import Aws, Target, connect
from ops.discover import QueuePair, Stack, discover
from ops.interrupt import StopSignal
from ops.queues import depth
from ops.render import Progress, Style, print_json
from shared.clock import SystemClock
from shared.errors import InvalidUsername
from shared.models import AuthKind, ImportStatus, normalize_username, valid_key
from shared.store import Stores
from shared.store.imports import ImportStore
from shared.store.items import bind
from shared.store.presign import S3Presigner


@dataclass(frozen=True)
class Context:
    aws: Aws
    stack: Stack
    stores: Stores
    json: bool
    style: Style
    now: datetime

    @classmethod
    def open(cls, target: Target, args: argparse.Namespace) -> Context:
        aws = connect(target)
        stack = discover(aws, target.stack_name)
        return cls(
            aws=aws,
            stack=stack,
            stores=Stores.open(stack.table_name, aws.region, target.endpoint_url),
            json=args.json,
            style=Style.for_stream(sys.stdout, no_color=args.no_color),
            now=datetime.now(UTC),
        )

    def emit(self, data: dict[str, Any], text: str) -> None:
        if self.json:
            print_json(data)
        else:
            print(text)


def cmd_status(ctx: Context, args: argparse.Namespace) -> int:
    report = status.gather(ctx.aws, ctx.stack, ctx.stores, now=ctx.now, age_from=args.dlq_age)
    ctx.emit(report.to_json(), status.render(report, ctx.style))
    return errors.OK


def cmd_cost(ctx: Context, args: argparse.Namespace) -> int:
    report = cost.gather(ctx.aws, ctx.stack, ctx.stores.app_state, now=ctx.now, days=args.days)
    ctx.emit(report.to_json(), cost.render(report, ctx.style))
    return errors.OK


def cmd_dlq_peek(ctx: Context, args: argparse.Namespace) -> int:
    peeks = []
    for pair in queue_pairs(ctx.stack, args.queue):
        visible = depth(ctx.aws.sqs, pair.dlq_url).visible
        if pair.name == "import":
            imports_store = ImportStore(bind(ctx.stack.table_name, ctx.aws.region, ctx.aws.endpoint_url))
            letters = dlq.peek_import_dead_letters(
                ctx.aws.sqs, pair.dlq_url, ctx.stores.subscribers, imports_store, max_messages=args.max
            )
        else:
            letters = dlq.peek_dead_letters(ctx.aws.sqs, pair.dlq_url, ctx.stores.subscribers, max_messages=args.max)
        peeks.append(dlq.QueuePeek(pair.name, pair.dlq_url, visible, letters))
    ctx.emit(dlq.to_json_all(peeks), dlq.render_all(peeks, ctx.now, ctx.style))
    return errors.OK


def cmd_dlq_redrive(ctx: Context, args: argparse.Namespace) -> int:
    reports: list[tuple[str, redrive.RedriveReport]] = []
    for pair in queue_pairs(ctx.stack, args.queue):
        report = _redrive_one(ctx, args, pair)
        reports.append((pair.name, report))
        if report.interrupted:
            break  # Ctrl-C stops this queue and the ones after it
    if len(reports) == 1 and args.queue != "all":
        name, report = reports[0]
        ctx.emit({**report.to_json(), "queue": name}, redrive.render(report, ctx.style))
    else:
        ctx.emit(
            {
                "queues": [{**report.to_json(), "queue": name} for name, report in reports],
                "complete": None if args.dry_run else all(r.complete for _, r in reports),
            },
            "\n\n".join(ctx.style.bold(f"{name} queue") + "\n" + redrive.render(r, ctx.style) for name, r in reports),
        )
    if any(r.interrupted for _, r in reports):
        return errors.INTERRUPTED
    return errors.OK if args.dry_run or all(r.complete for _, r in reports) else errors.INCOMPLETE


def _redrive_one(ctx: Context, args: argparse.Namespace, pair: QueuePair) -> redrive.RedriveReport:
    if args.dry_run:
        return redrive.plan(ctx.aws.sqs, pair, rate=args.rate, manual=args.manual, max_messages=args.max)
    progress = Progress(sys.stderr, enabled=not ctx.json)

    def show(moved: int, to_move: int | None) -> None:
        progress.update(f"moving {pair.name} dead letters back: {moved}" + (f" of ~{to_move}" if to_move else ""))

    try:
        with StopSignal().on_ctrl_c() as stop:
            return redrive.redrive(
                ctx.aws.sqs,
                pair,
                rate=args.rate,
                manual=args.manual,
                max_messages=args.max,
                progress=show,
                stop=stop,
            )
    finally:
        progress.done()


def queue_pairs(stack: Stack, chosen: str) -> list[QueuePair]:
    """The queues `--queue` names (fetch, import, or all of the stack's); an import queue the stack lacks is an
    error, not an empty result."""
    pairs = stack.queue_pairs()
    if chosen == "all":
        return pairs
    found = [pair for pair in pairs if pair.name == chosen]
    if not found:
        raise errors.OpsError(
            f"stack {stack.name!r} has no {chosen} queue: it was deployed before archive imports",
            hint="deploy the current template, or leave out --queue",
        )
    return found


def cmd_subscribers_list(ctx: Context, args: argparse.Namespace) -> int:
    subs = sorted(ctx.stores.subscribers.iter_subscribers(), key=lambda sub: sub.username)
    ctx.emit(
        {"subscribers": [subscribers.to_json(sub) for sub in subs]},
        subscribers.render_list(subs, ctx.now, ctx.style),
    )
    return errors.OK


def cmd_subscribers_show(ctx: Context, args: argparse.Namespace) -> int:
    sub = subscribers.find(ctx.stores.subscribers, args.username)
    # A connected account has its own window at X (per user token); the operator's is app state (`status`).
    window = ctx.stores.subscribers.rate_window(sub.key) if sub.auth is AuthKind.OAUTH2 else None
    ctx.emit(
        {**subscribers.detail_json(sub), "rate_window": subscribers.window_json(window)},
        subscribers.render_show(sub, ctx.now, ctx.style, window),
    )
    return errors.OK


def cmd_subscribers_add(ctx: Context, args: argparse.Namespace) -> int:
    me = accounts.operator_account(ctx.aws.ssm, accounts.stack_x(ctx.aws.cloudformation, ctx.stack.name))
    queue = subscribers.CliQueue(ctx.aws.sqs, ctx.stack.queue_url)
    added = accounts.add_operator_subscription(
        ctx.stores.subscribers, queue, args.username, me, public=args.public, now=ctx.now
    )
    sub = added.subscriber
    if added.created:
        text = f"Subscribed @{sub.display_username} (X user id {sub.x_user_id}, {sub.visibility.value})."
    else:
        text = f"@{sub.display_username} is subscribed already ({sub.status.value}, {sub.visibility.value})."
    if sub.visibility.value == "public":
        text += f"\nAnyone may see it at <app>/?u={sub.display_username}."
    else:
        text += "\nIts owner sees it after Connect with X on the page."
    ctx.emit(added.to_json(), text)
    return errors.OK


def cmd_migrate(ctx: Context, args: argparse.Namespace) -> int:
    progress = Progress(sys.stderr, enabled=not ctx.json)
    queue = subscribers.CliQueue(ctx.aws.sqs, ctx.stack.queue_url)
    table = bind(ctx.stack.table_name, ctx.aws.region, ctx.aws.endpoint_url)
    report = accounts.migrate(
        table, ctx.stores.subscribers, queue, now=ctx.now, dry_run=args.dry_run, progress=progress.update
    )
    progress.done()
    verb = "would move" if report.dry_run else "moved"
    lines = [f"{verb} @{m['username']} to X user id {m['x_user_id']} ({m['likes']} likes)" for m in report.moved]
    lines += [
        f"left @{name}: never synced, so no X user id owns it (private: nobody sees it)" for name in report.unowned
    ]
    lines += [f"skipped @{s['username']}: {s['reason']}" for s in report.skipped]
    ctx.emit(report.to_json(), "\n".join(lines) or "Nothing to migrate: every subscription is keyed by its owner.")
    return errors.OK


def cmd_sync(ctx: Context, args: argparse.Namespace) -> int:
    queue = subscribers.CliQueue(ctx.aws.sqs, ctx.stack.queue_url)
    done = subscribers.sync_now(ctx.stores.subscribers, queue, args.username, now=ctx.now)
    if done.leased_until is None:
        text = f"Enqueued the purge of {done.username} again (it is being unsubscribed; the worker deletes its likes)."
    else:
        until = f"{done.leased_until:%H:%M}Z"
        text = f"Enqueued a sync of {done.username} (leased until {until}; the worker picks it up next)."
    ctx.emit(done.to_json(), text)
    return errors.OK


def cmd_import(ctx: Context, args: argparse.Namespace) -> int:
    sub = subscribers.find(ctx.stores.subscribers, args.username)
    if not ctx.stack.imports_bucket:
        raise errors.OpsError(
            f"stack {ctx.stack.name!r} has no ImportsBucket: it was deployed before archive imports",
            hint="deploy the current template (sam deploy)",
        )
    say = imports.StatusLine(sys.stderr, enabled=not ctx.json or sys.stderr.isatty())
    source: Path = args.archive
    bundle = archive.build_bundle(source, progress=lambda n: say(f"reading {source.name}: {n:,} bytes of likes"))
    store = ImportStore(bind(ctx.stack.table_name, ctx.aws.region, ctx.aws.endpoint_url))
    clock = SystemClock()
    try:
        parts = ", ".join(m.name for m in bundle.members)
        say(f"read {parts} ({bundle.size:,} bytes to upload of {bundle.source_size:,} on disk)")
        if not bundle.has_account:
            print(
                f"note: no account.js, so the archive's owner cannot be checked: you vouch that it is "
                f"@{sub.display_username}'s",
                file=sys.stderr,
            )
        started, post = imports.start(
            sub,
            store=store,
            presigner=S3Presigner(ctx.stack.imports_bucket, ctx.aws.region, ctx.aws.endpoint_url),
            clock=clock,
        )
        imports.upload(post, bundle, say=say)
    finally:
        bundle.discard()
    imp = store.get(sub.key, started.id) or started
    if not args.no_wait:
        try:
            imp = imports.wait(sub, imp, store=store, clock=clock, say=say)
        except KeyboardInterrupt:
            say.done()
            print(f"stopped waiting; import {imp.id} of @{sub.display_username} goes on", file=sys.stderr)
            return errors.INTERRUPTED
    say.done()
    run = imports.ImportRun(sub, imp, bundle.size)
    ctx.emit(run.to_json(), imports.summary(run))
    if imp.status is ImportStatus.FAILED:
        print(f"random-likes: {imports.failure(imp)}", file=sys.stderr)
        return imports.IMPORT_FAILED
    return errors.OK


def name_or_key(raw: str) -> str:
    """argparse type: a username, or a subscription's key (an X user id, up to 20 digits)."""
    try:
        return valid_key(raw.strip().removeprefix("@"))
    except InvalidUsername as exc:
        raise argparse.ArgumentTypeError(f"{exc} (or give the subscription's X user id)") from None


def username(raw: str) -> str:
    """argparse type: the canonical username, or the worker's own words for why it is not one."""
    try:
        return normalize_username(raw)
    except InvalidUsername as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None

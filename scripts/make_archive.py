"""Write an X data archive (a zip shaped like X's) with N likes, for the importer's tests and the bench.

    python scripts/make_archive.py archive.zip                     # 150,000 likes, seed 1
    python scripts/make_archive.py small.zip --likes 1000 --media-mb 5 --account-id 42 --username someone
    python scripts/make_archive.py broken.zip --likes 1000 --break-at 900     # like.js stops being JSON there

The likes look like real ones: fullText of realistic lengths (most under 280 characters, some long-form posts
of thousands, t.co links, a few other scripts and emoji), expandedUrl as X writes it, and snowflake ids spread
over 2011-2026, newest first, so a date read from an id is plausible. Same options, same bytes. The zip is
written by local.xsim.archive (as the simulator's export): account.js, manifest.js, like.js + like-partN.js,
X's other data files and, with --media-mb, JPEG-sized media stored as X stores them.

Deliberate faults, one option each: --break-at K, --duplicates N, --foreign-account ID (account.js names
another account), --dotdot (an entry named ../like.js), --bomb-mb MB (a like part that declares 1 KB and
inflates to MB), --no-like (no like*.js at all).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from local.xsim.archive import ArchiveAccount, ArchiveLike, Faults, write_archive

TWITTER_EPOCH_MS = 1288834974657  # snowflake ids count milliseconds from here
FIRST = datetime(2011, 1, 1, tzinfo=UTC)
LAST = datetime(2026, 11, 30, tzinfo=UTC)
_VOCABULARY = (
    "the a of to and in is it you that was for on are with as I his they be at one have this from or had by "
    "hot word but what some we can out other were all there when up use your how said an each she which do "
    "their time if will way about many then them write would like so these her long make thing see him two "
    "has look more day could go come did number sound no most people my over know water than call first who "
    "may down side been now find any new work part take get place made live where after back little only "
    "round man year came show every good me give our under name very through just form sentence great think "
    "thread launch release bug fix deploy coffee morning weekend photo video today tomorrow finally honestly "
    "wow lol yes nope amazing terrible beautiful cat dog music movie book game city train rain sun "
    "#python #serverless #aws #music #photography #news @someone @friend @news 🎉 😂 ❤️ 🔥 👀 "
    "すごい 今日 ありがとう مرحبا شكرا שלום תודה"
)
_WORDS = _VOCABULARY.split()


@dataclass(frozen=True)
class Options:
    likes: int = 150_000
    seed: int = 1
    account_id: str = "1234567890"
    username: str = "archivist"
    display_name: str = "Archive Tester"
    part_size: int = 50_000
    media_mb: float = 0.0
    faults: Faults = field(default_factory=Faults)
    duplicates: int = 0


@dataclass(frozen=True)
class Summary:
    entries: int  # like entries written (duplicates included)
    unique_ids: int
    zip_bytes: int
    like_text_bytes: int  # the data/like*.js files, uncompressed (a bomb's real size included)
    media_bytes: int
    account_id: str
    newest_id: str | None
    oldest_id: str | None
    seconds: float


def snowflake(when_ms: int, worker: int, sequence: int) -> int:
    return ((when_ms - TWITTER_EPOCH_MS) << 22) | (worker << 12) | sequence


def generate_likes(count: int, seed: int, duplicates: int = 0) -> list[ArchiveLike]:
    """`count` distinct likes, newest first, and `duplicates` repeats of earlier ones placed just after them."""
    rng = random.Random(seed)
    pool = " ".join(rng.choices(_WORDS, k=max(4000, min(count, 50_000) * 4)))
    start_ms, end_ms = int(FIRST.timestamp() * 1000), int(LAST.timestamp() * 1000)
    ids: set[int] = set()
    while len(ids) < count:
        ids.add(snowflake(rng.randrange(start_ms, end_ms), rng.randrange(1024), rng.randrange(4096)))
    likes = []
    for post_id in sorted(ids, reverse=True):
        text: str | None = _text(rng, pool)
        if rng.random() < 0.01:  # deleted since it was liked: X keeps the id and link only
            text = None
        likes.append(ArchiveLike(str(post_id), text, f"https://twitter.com/i/web/status/{post_id}"))
    for _ in range(duplicates):
        at = rng.randrange(len(likes))
        likes.insert(at + 1, likes[at])
    return likes


def _text(rng: random.Random, pool: str) -> str:
    roll = rng.random()
    if roll < 0.45:
        length = rng.randint(15, 100)
    elif roll < 0.80:
        length = rng.randint(100, 200)
    elif roll < 0.96:
        length = rng.randint(200, 280)
    else:
        length = rng.randint(281, 4000)  # long-form: the archive has the whole text
    start = pool.find(" ", rng.randrange(len(pool) - length - 30)) + 1
    text = pool[start : start + length].rsplit(" ", 1)[0] if length < len(pool) else pool
    if rng.random() < 0.3:
        text += " https://t.co/" + "".join(
            rng.choices("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", k=10)
        )
    return text


def make_archive(out: BinaryIO, options: Options) -> Summary:
    """Write the archive to `out`; returns what it holds."""
    started = time.perf_counter()
    likes = generate_likes(options.likes, options.seed, options.duplicates)
    account = ArchiveAccount(
        account_id=options.account_id,
        username=options.username,
        display_name=options.display_name,
        created_at="2010-06-01T12:00:00.000Z",
    )
    media_bytes = round(options.media_mb * 2**20)
    position = out.tell()
    sizes = write_archive(
        out,
        account,
        likes,
        part_size=options.part_size,
        media_bytes=media_bytes,
        seed=options.seed,
        faults=options.faults,
    )
    like_text = sum(size for name, size in sizes.items() if name.startswith("data/like"))
    return Summary(
        entries=len(likes),
        unique_ids=len({like.tweet_id for like in likes}),
        zip_bytes=out.tell() - position,
        like_text_bytes=like_text,
        media_bytes=media_bytes,
        account_id=options.faults.foreign_account or options.account_id,
        newest_id=likes[0].tweet_id if likes else None,
        oldest_id=likes[-1].tweet_id if likes else None,
        seconds=round(time.perf_counter() - started, 2),
    )


def parse_args(argv: list[str] | None) -> tuple[Path, Options]:
    p = argparse.ArgumentParser(prog="python scripts/make_archive.py", description=__doc__.split("\n\n")[0])
    p.add_argument("output", type=Path, help="the zip to write")
    p.add_argument("--likes", type=int, default=150_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--account-id", default="1234567890", help="the accountId of account.js (the X user id)")
    p.add_argument("--username", default="archivist")
    p.add_argument("--part-size", type=int, default=50_000, help="likes per like*.js file (50,000)")
    p.add_argument("--media-mb", type=float, default=0.0, help="MB of media files (0)")
    p.add_argument("--break-at", type=int, default=None, help="like.js stops being JSON at this entry (0-based)")
    p.add_argument("--duplicates", type=int, default=0, help="repeat this many likes (same id)")
    p.add_argument("--foreign-account", default=None, help="account.js names this account id instead")
    p.add_argument("--dotdot", action="store_true", help="add an entry named ../like.js")
    p.add_argument("--bomb-mb", type=int, default=0, help="add a like part declaring 1 KB, inflating to MB")
    p.add_argument("--no-like", action="store_true", help="leave out every like*.js")
    args = p.parse_args(argv)
    faults = Faults(
        break_at=args.break_at,
        foreign_account=args.foreign_account,
        dotdot=args.dotdot,
        bomb_mb=args.bomb_mb,
        no_like=args.no_like,
    )
    options = Options(
        likes=args.likes,
        seed=args.seed,
        account_id=args.account_id,
        username=args.username,
        part_size=args.part_size,
        media_mb=args.media_mb,
        faults=faults,
        duplicates=args.duplicates,
    )
    return args.output, options


def main(argv: list[str] | None = None) -> int:
    output, options = parse_args(argv)
    with output.open("wb") as out:
        summary = make_archive(out, options)
    print(json.dumps({"output": str(output), **asdict(summary)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

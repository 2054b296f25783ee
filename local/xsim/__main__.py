"""Run the simulator standalone: `python -m local.xsim --port 8787 --seed 42 ...` (see local/README.md).

Prints one line, `xsim ready on http://HOST:PORT`, once it serves (with `--port 0` that is how to learn the
port), then serves until interrupted. Credentials: `GET /_sim/credentials/demo` (loopback only).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from datetime import datetime
from types import FrameType

from local.xsim.app import XSimApp
from local.xsim.clock import DEFAULT_START, ManualClock, ScaledClock, SimClock
from local.xsim.config import DEV_ARCHIVE_MEDIA_BYTES, XSimConfig
from local.xsim.server import XSimServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m local.xsim", description="A simulated X API v2 for random-likes.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8787, help="port to bind; 0 picks a free one (default 8787)")
    p.add_argument("--seed", type=int, default=42, help="demo data seed: same seed, same data (default 42)")
    p.add_argument("--rate-limit", type=int, default=75, help="requests per window per user and endpoint (75)")
    p.add_argument("--app-rate-limit", type=int, default=None, help="per app and endpoint (default: --rate-limit)")
    p.add_argument(
        "--app-window-for-users",
        action="store_true",
        help="count user-context requests against the per-app window too (default: app-only requests only)",
    )
    p.add_argument("--window", type=int, default=900, help="rate-limit window in seconds (900)")
    p.add_argument("--depth-cap", type=int, default=3200, help="how deep a like list can be paged (3200)")
    p.add_argument("--usage-cap", type=int, default=None, help="billed post reads per period per app (no cap)")
    p.add_argument("--usage-cap-period", choices=("daily", "monthly"), default="daily")
    p.add_argument("--demo-likes", type=int, default=300, help="likes of @demo before any arrive (300)")
    p.add_argument("--bigfan-likes", type=int, default=None, help="likes of @bigfan (default depth cap + 800)")
    p.add_argument(
        "--like-every", type=float, default=30.0, help="@demo gains a like every N simulated minutes (30; 0 = never)"
    )
    p.add_argument(
        "--arrivals-since", type=_when, default=None, help="count arrivals from this ISO time (default: start)"
    )
    p.add_argument(
        "--archive-media-mb",
        type=float,
        default=DEV_ARCHIVE_MEDIA_BYTES / 2**20,
        help=f"MB of media in an archive export ({DEV_ARCHIVE_MEDIA_BYTES // 2**20})",
    )
    p.add_argument("--media-base-url", default=None, help="base URL of avatars and media (default: this server)")
    p.add_argument("--clock", choices=("real", "manual"), default="real", help="real (optionally --speed) or manual")
    p.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second (real clock; 1)")
    p.add_argument("--start", type=_when, default=None, help="the clock's start time, ISO 8601 (default: now)")
    p.add_argument("--error-rate", type=float, default=0.0, help="share of API requests answered 503 (0)")
    p.add_argument("--error-every", type=int, default=0, help="answer every Nth API request 503 (0 = never)")
    p.add_argument("--latency-ms", type=int, default=0, help="latency added to every API answer (0)")
    p.add_argument("--drop-rate", type=float, default=0.0, help="share of API connections dropped (0)")
    p.add_argument("--storm", action="store_true", help="start with the storm preset of faults on")
    p.add_argument("--verbose", action="store_true", help="log every request line (never headers)")
    return p.parse_args(argv)


def _when(raw: str) -> datetime:
    when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, e.g. 2026-01-15T12:00:00Z")
    return when


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(asctime)s %(message)s")
    config = XSimConfig(
        seed=args.seed,
        rate_limit=args.rate_limit,
        app_rate_limit=args.app_rate_limit or args.rate_limit,
        app_window_for_users=args.app_window_for_users,
        window_seconds=args.window,
        depth_cap=args.depth_cap,
        usage_cap=args.usage_cap,
        usage_cap_period=args.usage_cap_period,
        demo_likes=args.demo_likes,
        bigfan_likes=args.bigfan_likes,
        like_every_minutes={"demo": args.like_every},
        arrivals_since=args.arrivals_since,
        media_base_url=args.media_base_url,
        archive_media_bytes=round(args.archive_media_mb * 2**20),
    )
    manual = args.clock == "manual"
    clock: SimClock = ManualClock(args.start or DEFAULT_START) if manual else ScaledClock(args.speed, args.start)
    app = XSimApp(config, clock)
    if args.storm:
        app.faults.storm()
    chosen = {
        "error_rate": args.error_rate,
        "error_every": args.error_every,
        "latency_ms": args.latency_ms,
        "drop_rate": args.drop_rate,
    }
    app.faults.set(**{name: value for name, value in chosen.items() if value})
    server = XSimServer(app, args.host, args.port)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104 - only for the URL shown
    print(f"xsim ready on http://{shown_host}:{server.port} (seed {args.seed})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

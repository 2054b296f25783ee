"""Everything about the simulator a test or `python -m local.xsim` may choose, with X's values as defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

DEV_ARCHIVE_MEDIA_BYTES = 48 * 1024 * 1024  # make dev's archives: tens of MB, as a modest real one


@dataclass(frozen=True)
class XSimConfig:
    seed: int = 42
    # X: 75 requests / 15 min on liked_tweets per user token (user context), and a window per app for app-only
    # (bearer) requests. Applied to each endpoint separately.
    rate_limit: int = 75
    app_rate_limit: int = 75
    window_seconds: int = 900
    # Count user-context requests against the app's window too, as a plan with an app-wide cap would.
    app_window_for_users: bool = False
    # How deep X lets anyone page into a like list (seen 3-5k on X); pagination simply ends there.
    depth_cap: int = 3200
    # Billed post reads per app per period before X answers 429 usage-capped; None = no cap.
    usage_cap: int | None = None
    usage_cap_period: str = "daily"  # "daily" | "monthly", as X's UsageCapExceededProblem says
    # Pay-per-use prices (USD per post read, per user read), for the cost estimate the billing endpoint shows.
    price_per_post: float = 0.005
    price_per_owned_post: float = 0.001
    price_per_user: float = 0.010
    demo_likes: int = 300
    bigfan_likes: int | None = None  # None: depth_cap + 800, always beyond the cap
    # New likes arriving as simulated time passes: account -> one new like every N simulated minutes.
    like_every_minutes: dict[str, float] = field(default_factory=lambda: {"demo": 30.0})
    # When arrivals are counted from (default: the clock's time at start). Pass the same value across
    # restarts and the arrived likes (and their ids) come back identical.
    arrivals_since: datetime | None = None
    # Where avatars and media point (default: the server's own base URL).
    media_base_url: str | None = None
    access_token_ttl_seconds: int = 7200  # X: OAuth 2.0 user access tokens last 2 hours
    auth_code_ttl_seconds: int = 30  # X: an authorization code must be exchanged within 30 s
    oauth1_timestamp_skew_seconds: int = 300
    # Redirect URIs the demo OAuth 2.0 app accepts; empty: any http(s) URI on a loopback host.
    redirect_uris: tuple[str, ...] = ()
    archive_part_size: int = 2000  # likes per data/like*.js file in an archive export
    # Media (photos on own posts, in DMs) in an archive export, in bytes: what makes a real archive large and
    # what the page must not upload. Small here, for tests; `make dev` asks for DEV_ARCHIVE_MEDIA_BYTES.
    archive_media_bytes: int = 256 * 1024
    # Fault presets: what "storm" switches on.
    storm_error_rate: float = 0.3
    storm_drop_rate: float = 0.1
    storm_latency_ms: int = 200

    def __post_init__(self) -> None:
        if self.rate_limit < 1 or self.app_rate_limit < 1:
            raise ValueError("rate limits must be at least 1")
        if self.window_seconds < 1:
            raise ValueError("window_seconds must be at least 1")
        if self.depth_cap < 1:
            raise ValueError("depth_cap must be at least 1")
        if self.usage_cap is not None and self.usage_cap < 0:
            raise ValueError("usage_cap must be >= 0")
        if self.usage_cap_period not in ("daily", "monthly"):
            raise ValueError("usage_cap_period is daily or monthly")
        if self.demo_likes < 0:
            raise ValueError("demo_likes must be >= 0")
        if any(minutes < 0 for minutes in self.like_every_minutes.values()):
            raise ValueError("like_every_minutes must be >= 0 (0 = no arrivals)")
        if self.archive_part_size < 1:
            raise ValueError("archive_part_size must be at least 1")
        if self.archive_media_bytes < 0:
            raise ValueError("archive_media_bytes must be >= 0")

    @property
    def bigfan_like_count(self) -> int:
        return self.bigfan_likes if self.bigfan_likes is not None else self.depth_cap + 800

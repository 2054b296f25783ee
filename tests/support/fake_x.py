"""An in-memory stand-in for the XApi protocol, for the sync algorithm's tests.

The sync's own logic (walks, cursors, crash recovery) is tested against this, where a fault can be placed
on an exact request; the real X client is tested over HTTP against the simulator (tests/xsim, tests/contract).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from shared.errors import XError, XForbidden, XRateLimited, XUnavailable, XUsageCapped, XUserNotFound
from shared.models import Author, LikesPage, Post, RateLimit, XUser

# Shaped like an X pagination token (long, opaque, letters and digits), and plainly not one.
FAKE_CURSOR = "fake0cursor" * 4

AUTHOR = Author(id="42", username="someone", name="Some One")


def make_post(n: int) -> Post:
    return Post(id=str(10_000 + n), text=f"post number {n}", author=AUTHOR, created_at="2024-01-01T00:00:00.000Z")


@dataclass
class FakeX:
    """likes[0] is the most recently liked, as X orders them."""

    likes: list[Post]
    user: XUser = field(default_factory=lambda: XUser(id="1001", username="demo", name="Demo"))
    depth_cap: int | None = None
    fail_on: set[int] = field(default_factory=set)  # request numbers (1-based) that answer 5xx
    rate_limit_after: int | None = None  # requests allowed before a 429
    forbidden: bool = False
    usage_capped_after: int | None = None  # requests answered before X's usage cap (a 429 with no reset time)
    reset_at: datetime = field(default_factory=lambda: datetime(2026, 11, 28, 12, 15, tzinfo=UTC))
    requests: list[tuple[int, str | None]] = field(default_factory=list)  # (max_results, token) per request
    probes: list[int] = field(default_factory=list)  # the like_count each users/me probe answered
    probe_error: XError | None = None  # what the next users/me probe raises instead (once)

    def like(self, post: Post) -> None:
        self.likes.insert(0, post)

    def user_by_username(self, username: str) -> XUser:
        if username != self.user.username.lower():
            raise XUserNotFound(f"no user @{username}")
        return self.user

    def own_like_count(self) -> int:
        """X's like_count for the user: every like it holds (the depth cap limits paging, not the count)."""
        if self.probe_error is not None:
            error, self.probe_error = self.probe_error, None
            raise error
        self.probes.append(len(self.likes))
        return len(self.likes)

    def liked_posts(self, user_id: str, *, max_results: int, pagination_token: str | None) -> LikesPage:
        self.requests.append((max_results, pagination_token))
        number = len(self.requests)
        if self.forbidden or user_id != self.user.id:
            raise XForbidden("not authorized for resource")
        if self.rate_limit_after is not None and number > self.rate_limit_after:
            raise XRateLimited(self.reset_at, "rate limit reached")
        if self.usage_capped_after is not None and number > self.usage_capped_after:
            raise XUsageCapped(None, "Usage cap exceeded: Monthly product cap")
        if number in self.fail_on:
            raise XUnavailable("X answered 503")
        visible = self.likes[: self.depth_cap] if self.depth_cap else self.likes
        # Tokens name a post id, not an offset, so a like made mid-walk does not shift later pages (as on X).
        start = 0 if pagination_token is None else next(i for i, p in enumerate(visible) if p.id == pagination_token)
        page = visible[start : start + max_results]
        after = visible[start + max_results : start + max_results + 1]
        remaining = None if self.rate_limit_after is None else max(0, self.rate_limit_after - number)
        return LikesPage(
            posts=tuple(page),
            next_token=after[0].id if after else None,
            rate=RateLimit(limit=75, remaining=remaining, reset_at=self.reset_at),
            result_count=len(page),
        )


@dataclass
class ManualClock:
    current: datetime = field(default_factory=lambda: datetime(2026, 11, 28, 12, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)

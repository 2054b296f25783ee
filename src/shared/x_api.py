"""What the domain needs from X, as a port: the tweepy client (`x_client.py`) and test fakes both provide it.

The sync, the budget and the rest of the domain import this module, never the client: they run without
tweepy, and a test hands them whatever speaks this protocol.
"""

from __future__ import annotations

from typing import Protocol

from shared.models import LikesPage, XUser

MIN_PAGE, MAX_PAGE = 5, 100  # liked_tweets max_results bounds; every post on a page is billed


class XApi(Protocol):
    def user_by_username(self, username: str) -> XUser: ...

    def liked_posts(self, user_id: str, *, max_results: int, pagination_token: str | None) -> LikesPage: ...

    def own_like_count(self) -> int:
        """How many posts the authenticated user has liked, as X counts them now
        (`GET /2/users/me?user.fields=public_metrics`): one billed user read, instead of a page of posts."""
        ...

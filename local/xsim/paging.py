"""Pages through a like list as X does: newest-liked first, tokens that survive new likes arriving on top,
and an end at the depth cap however many likes there are.

A token names the like it continues from (its place in the account's like list, which never changes) and
the direction, with a MAC over both and the user id: a token from another user's walk, or made up, is refused.
Every token starts `xsimcursor` (still base36, as X's are): like every other value the simulator hands out, it
says what it is, and no recorded fixture or log line holds anything that looks like a real X token.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from local.xsim.data import Like

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_MAC_LENGTH = 12
_PREFIX = "xsimcursor"


@dataclass(frozen=True)
class Page:
    likes: list[Like]  # newest first
    next_token: str | None
    previous_token: str | None


class InvalidToken(ValueError):
    pass


class Pager:
    def __init__(self, seed: int) -> None:
        self._key = f"xsim-paging:{seed}".encode()

    def page(self, user_id: str, likes: list[Like], *, size: int, token: str | None, depth_cap: int) -> Page:
        """One page of `likes` (oldest first, as stored) in X's order, starting where `token` says."""
        newest = len(likes) - 1
        oldest_reachable = max(0, len(likes) - depth_cap)  # X lets no one page deeper than the cap
        high, low = newest, newest - size + 1
        if token is not None:
            direction, seq = self._parse(user_id, token)
            if direction == "n":  # the page just older than `seq`
                high, low = seq - 1, seq - size
            else:  # the page just newer than `seq`
                high, low = min(newest, seq + size), seq + 1
        low = max(low, oldest_reachable)
        if high < low:
            return Page([], None, None)
        chosen = [likes[i] for i in range(high, low - 1, -1)]
        return Page(
            chosen,
            next_token=self._token(user_id, "n", low) if low > oldest_reachable else None,
            previous_token=self._token(user_id, "p", high) if high < newest else None,
        )

    def _token(self, user_id: str, direction: str, seq: int) -> str:
        body = direction + _base36(seq)
        return _PREFIX + body + self._mac(user_id, body)

    def _parse(self, user_id: str, token: str) -> tuple[str, int]:
        if not token.startswith(_PREFIX):
            raise InvalidToken(token)
        unprefixed = token.removeprefix(_PREFIX)
        body, mac = unprefixed[:-_MAC_LENGTH], unprefixed[-_MAC_LENGTH:]
        if (
            len(body) < 2
            or body[0] not in "np"
            or not hmac.compare_digest(mac.encode(), self._mac(user_id, body).encode())
        ):
            raise InvalidToken(token)
        return body[0], int(body[1:], 36)

    def _mac(self, user_id: str, body: str) -> str:
        digest = hmac.new(self._key, f"{user_id}:{body}".encode(), hashlib.sha256).digest()
        return _base36(int.from_bytes(digest[:10], "big")).rjust(_MAC_LENGTH, "0")[:_MAC_LENGTH]


def _base36(number: int) -> str:
    digits = []
    while True:
        number, index = divmod(number, 36)
        digits.append(_BASE36[index])
        if number == 0:
            return "".join(reversed(digits))

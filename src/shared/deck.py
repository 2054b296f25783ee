"""A shuffled deck over a subscriber's slots: draw k of deck d is a slot, and no slot comes twice in a deck.

The page sends a random deck number and counts its draws, so "no repeat until every stored like has been
shown" needs no server state and still costs one slot read. A keyed Feistel permutation over the next power
of four, walked in cycles until it lands below n, is a bijection on [0, n) for every deck.
"""

from __future__ import annotations

import hashlib

ROUNDS = 4
MAX_DECK = 2**53 - 1  # what a browser's Number holds exactly


def deck_slot(deck: int, draw: int, n: int) -> int:
    """The slot of the draw-th card (0-based, wrapping every n draws) of deck `deck` over n slots."""
    if n <= 0:
        raise ValueError("a deck needs at least one slot")
    if n == 1:
        return 0
    half_bits = max(1, ((n - 1).bit_length() + 1) // 2)
    x = draw % n
    while True:  # cycle walking: at most a few steps, as n > 4**half_bits / 4
        x = _permute(deck, x, half_bits)
        if x < n:
            return x


def _permute(deck: int, x: int, half_bits: int) -> int:
    mask = (1 << half_bits) - 1
    left, right = x >> half_bits, x & mask
    for round_ in range(ROUNDS):
        digest = hashlib.blake2b(f"{deck}:{round_}:{right}".encode(), digest_size=8).digest()
        left, right = right, left ^ (int.from_bytes(digest, "big") & mask)
    return (left << half_bits) | right

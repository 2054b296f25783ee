"""Small deterministic SVGs for avatars and media, so pages show an image without any host but the simulator."""

from __future__ import annotations

import hashlib
from html import escape

from local.xsim.data import Account, MediaItem

_PALETTE = ("#1d9bf0", "#f91880", "#00ba7c", "#ffd400", "#7856ff", "#ff7a00", "#536471")


def _colour(seed: str, shift: int = 0) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return _PALETTE[(digest[0] + shift) % len(_PALETTE)]


def avatar(account: Account) -> bytes:
    letter = escape(account.username[:1].upper())
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">'
        f'<circle cx="48" cy="48" r="48" fill="{_colour(account.id)}"/>'
        '<text x="48" y="62" font-family="sans-serif" font-size="44" text-anchor="middle" fill="#fff">'
        f"{letter}</text></svg>"
    ).encode()


def media(item: MediaItem, *, preview: bool = False) -> bytes:
    label = escape(f"{item.type} {item.width}x{item.height}" + (" ▶" if preview else ""))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{item.width}" height="{item.height}" '
        f'viewBox="0 0 {item.width} {item.height}">'
        f'<rect width="100%" height="100%" fill="{_colour(item.media_key)}"/>'
        f'<rect x="8%" y="8%" width="84%" height="84%" rx="24" fill="{_colour(item.media_key, 3)}" opacity="0.6"/>'
        f'<text x="50%" y="52%" font-family="sans-serif" font-size="{max(item.width // 20, 16)}" '
        f'text-anchor="middle" fill="#fff">{label}</text></svg>'
    ).encode()

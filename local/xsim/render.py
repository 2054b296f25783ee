"""Posts, users and media as X's v2 JSON, with only the fields a request asked for (plus X's defaults).

The field and expansion names are X's (copied from the OpenAPI spec; a contract test keeps them equal).
A field X would leave out because the object has no such data (no links, not long-form) is left out too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from local.xsim.data import Account, MediaItem, Post, UrlEntity, World

TWEET_FIELDS = frozenset(
    {
        "article", "attachments", "author_id", "card_uri", "community_id", "context_annotations",
        "conversation_id", "created_at", "display_text_range", "edit_controls", "edit_history_tweet_ids",
        "entities", "geo", "id", "in_reply_to_user_id", "lang", "media_metadata", "non_public_metrics",
        "note_tweet", "organic_metrics", "possibly_sensitive", "promoted_metrics", "public_metrics",
        "referenced_tweets", "reply_settings", "scopes", "source", "suggested_source_links",
        "suggested_source_links_with_counts", "text", "withheld",
    }
)  # fmt: skip
TWEET_EXPANSIONS = frozenset(
    {
        "article.cover_media", "article.media_entities", "attachments.media_keys",
        "attachments.media_source_tweet", "attachments.poll_ids", "author_id", "edit_history_tweet_ids",
        "entities.mentions.username", "geo.place_id", "in_reply_to_user_id", "entities.note.mentions.username",
        "referenced_tweets.id", "referenced_tweets.id.attachments.media_keys", "referenced_tweets.id.author_id",
    }
)  # fmt: skip
USER_FIELDS = frozenset(
    {
        "affiliation", "confirmed_email", "connection_status", "created_at", "description", "entities", "id",
        "is_identity_verified", "location", "most_recent_tweet_id", "name", "parody", "pinned_tweet_id",
        "profile_banner_url", "profile_image_url", "protected", "public_metrics", "receives_your_dm",
        "subscription", "subscription_type", "url", "username", "verified", "verified_followers_count",
        "verified_type", "withheld",
    }
)  # fmt: skip
USER_EXPANSIONS = frozenset({"affiliation.user_id", "most_recent_tweet_id", "pinned_tweet_id"})
MEDIA_FIELDS = frozenset(
    {
        "alt_text", "duration_ms", "height", "media_key", "non_public_metrics", "organic_metrics",
        "preview_image_url", "promoted_metrics", "public_metrics", "type", "url", "variants", "width",
    }
)  # fmt: skip
POLL_FIELDS = frozenset({"duration_minutes", "end_datetime", "id", "options", "voting_status"})
PLACE_FIELDS = frozenset(
    {"contained_within", "country", "country_code", "full_name", "geo", "id", "name", "place_type"}
)


@dataclass(frozen=True)
class Selection:
    """What a request asked for: `tweet.fields`, `user.fields`, `media.fields` and `expansions`."""

    tweet_fields: frozenset[str] = frozenset()
    user_fields: frozenset[str] = frozenset()
    media_fields: frozenset[str] = frozenset()
    expansions: frozenset[str] = frozenset()


def x_escape(text: str) -> str:
    """X sends post text with &, < and > as HTML entities (and nothing else escaped): so do we."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def timestamp(when: datetime) -> str:
    """X's date-time format: UTC, milliseconds, `Z`."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class Renderer:
    def __init__(self, world: World, media_base_url: str) -> None:
        self._world = world
        self._media_base = media_base_url.rstrip("/")

    # --- objects ----------------------------------------------------------------------------------------

    def tweet(self, post: Post, sel: Selection) -> dict[str, Any]:
        fields, expansions = sel.tweet_fields, sel.expansions
        # X's defaults: id, text and (since edits exist) edit_history_tweet_ids.
        out: dict[str, Any] = {"id": post.id, "text": x_escape(post.text), "edit_history_tweet_ids": [post.id]}
        # An expansion implies the field it expands: X shows author_id when asked to expand it.
        if "author_id" in fields or "author_id" in expansions:
            out["author_id"] = post.author_id
        if "created_at" in fields:
            out["created_at"] = timestamp(post.created_at)
        if "lang" in fields:
            out["lang"] = post.lang
        if "entities" in fields and post.urls:
            out["entities"] = {"urls": [_url(u) for u in post.urls]}
        if "note_tweet" in fields and post.note_text is not None:
            note: dict[str, Any] = {"text": x_escape(post.note_text)}
            if post.note_urls:
                note["entities"] = {"urls": [_url(u) for u in post.note_urls]}
            out["note_tweet"] = note
        if post.media_keys and ("attachments" in fields or "attachments.media_keys" in expansions):
            out["attachments"] = {"media_keys": list(post.media_keys)}
        out.update(self._tweet_extras(post, fields))
        return out

    @staticmethod
    def _tweet_extras(post: Post, fields: frozenset[str]) -> dict[str, Any]:
        """The fields nothing in random-likes reads, shaped as X shapes them for completeness."""
        out: dict[str, Any] = {}
        if "conversation_id" in fields:
            out["conversation_id"] = post.id
        if "possibly_sensitive" in fields:
            out["possibly_sensitive"] = post.possibly_sensitive
        if "public_metrics" in fields:
            out["public_metrics"] = {
                "retweet_count": post.retweet_count,
                "reply_count": post.reply_count,
                "like_count": post.like_count,
                "quote_count": post.quote_count,
                "bookmark_count": post.quote_count // 2,
                "impression_count": post.like_count * 37,
            }
        if "display_text_range" in fields:
            media_link = next((u for u in post.urls if u.media_key), None)
            out["display_text_range"] = [0, media_link.start - 1 if media_link else len(post.text)]
        if "edit_controls" in fields:
            out["edit_controls"] = {
                "edits_remaining": 5,
                "is_edit_eligible": False,
                "editable_until": timestamp(post.created_at + timedelta(hours=1)),
            }
        if "reply_settings" in fields:
            out["reply_settings"] = "everyone"
        return out

    def user(self, account: Account, sel: Selection) -> dict[str, Any]:
        fields = sel.user_fields
        out: dict[str, Any] = {"id": account.id, "name": account.name, "username": account.username}
        if "created_at" in fields:
            out["created_at"] = timestamp(account.created_at)
        if "description" in fields:
            out["description"] = account.description
        if "location" in fields and account.location:
            out["location"] = account.location
        if "url" in fields:
            out["url"] = account.url or ""
        if "entities" in fields and account.url:
            shown = account.url.split("://", 1)[-1]
            link = {"start": 0, "end": len(account.url), "url": account.url}
            out["entities"] = {"url": {"urls": [{**link, "expanded_url": account.url, "display_url": shown}]}}
        if "profile_image_url" in fields:
            out["profile_image_url"] = self.avatar_url(account)
        if "protected" in fields:
            out["protected"] = account.protected
        if "verified" in fields:
            out["verified"] = account.verified
        if "verified_type" in fields:
            out["verified_type"] = account.verified_type
        if "public_metrics" in fields:
            out["public_metrics"] = {
                "followers_count": account.followers_count,
                "following_count": account.following_count,
                "tweet_count": account.tweet_count,
                "listed_count": account.listed_count,
                "like_count": len(self._world.likes_of(account.id)),
            }
        return out

    def media(self, item: MediaItem, sel: Selection) -> dict[str, Any]:
        fields = sel.media_fields
        out: dict[str, Any] = {"media_key": item.media_key, "type": item.type}
        if "url" in fields and item.type == "photo":
            out["url"] = f"{self._media_base}/media/{item.media_key}.svg"
        if "preview_image_url" in fields and item.type != "photo":
            out["preview_image_url"] = f"{self._media_base}/media/{item.media_key}_preview.svg"
        if "alt_text" in fields and item.alt_text:
            out["alt_text"] = item.alt_text
        if "width" in fields:
            out["width"] = item.width
        if "height" in fields:
            out["height"] = item.height
        if "duration_ms" in fields and item.duration_ms is not None:
            out["duration_ms"] = item.duration_ms
        if "public_metrics" in fields and item.view_count is not None:
            out["public_metrics"] = {"view_count": item.view_count}
        return out

    def avatar_url(self, account: Account) -> str:
        return f"{self._media_base}/profile_images/{account.id}/{account.username}_normal.svg"

    # --- includes ---------------------------------------------------------------------------------------

    def tweet_includes(self, posts: list[Post], sel: Selection) -> dict[str, Any]:
        """`includes` for these posts: their authors and media, each once, in order of first appearance."""
        includes: dict[str, Any] = {}
        if "attachments.media_keys" in sel.expansions:
            keys = list(dict.fromkeys(key for post in posts for key in post.media_keys))
            media = [self.media(self._world.media[key], sel) for key in keys if key in self._world.media]
            if media:
                includes["media"] = media
        if "author_id" in sel.expansions:
            ids = list(dict.fromkeys(post.author_id for post in posts))
            users = [self.user(self._world.accounts[i], sel) for i in ids if i in self._world.accounts]
            if users:
                includes["users"] = users
        return includes


def _url(entity: UrlEntity) -> dict[str, Any]:
    out: dict[str, Any] = {
        "start": entity.start,
        "end": entity.end,
        "url": entity.url,
        "expanded_url": entity.expanded_url,
        "display_url": entity.display_url,
    }
    if entity.media_key:
        out["media_key"] = entity.media_key
    return out

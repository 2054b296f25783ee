"""Deterministic demo data from a seed: accounts, posts (text, links, media), and each account's likes in order.

Same seed, same world: ids, texts and order never depend on the clock or on how the simulator is started,
so a restart (or another machine) serves the same posts under the same ids. Existing likes are dated before
`DATA_EPOCH`; likes that arrive later are numbered from the seed too and dated when they arrive.
"""

from __future__ import annotations

import functools
import random
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from local.xsim import corpus

# Everything the seed generates is dated before this instant, whatever the clock says.
DATA_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
TWITTER_EPOCH_MS = 1288834974657  # snowflake ids count milliseconds from here
MEDIA_TYPE_PREFIX = {"photo": "3", "video": "7", "animated_gif": "16"}
TCO_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@dataclass(frozen=True)
class Account:
    id: str
    username: str
    name: str
    description: str
    created_at: datetime
    location: str | None
    url: str | None
    verified: bool
    verified_type: str
    protected: bool
    followers_count: int
    following_count: int
    tweet_count: int
    listed_count: int


@dataclass(frozen=True)
class UrlEntity:
    """A t.co link in a text; `start`/`end` count Unicode code points, as X's do."""

    start: int
    end: int
    url: str
    expanded_url: str
    display_url: str
    media_key: str | None = None


@dataclass(frozen=True)
class MediaItem:
    media_key: str
    type: str  # photo | video | animated_gif
    width: int
    height: int
    alt_text: str | None = None
    duration_ms: int | None = None
    view_count: int | None = None


@dataclass(frozen=True)
class Post:
    id: str
    author_id: str
    text: str
    created_at: datetime
    lang: str
    urls: tuple[UrlEntity, ...] = ()
    # A long-form post: `text` is X's truncated preview, `note_text` the whole post with its own entities.
    note_text: str | None = None
    note_urls: tuple[UrlEntity, ...] = ()
    media_keys: tuple[str, ...] = ()
    possibly_sensitive: bool = False
    like_count: int = 0
    retweet_count: int = 0
    reply_count: int = 0
    quote_count: int = 0
    deleted: bool = False  # deleted by its author after it was liked


@dataclass(frozen=True)
class Like:
    post_id: str
    liked_at: datetime  # X never shows this; kept so arrivals and the archive stay in order


class _Text:
    """Builds a post's text and its url entities together, so the indices always match the text."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.urls: list[UrlEntity] = []

    def add(self, text: str) -> _Text:
        self._parts.append(text)
        self._length += len(text)  # len() counts code points, which is what X's indices count
        return self

    def link(self, tco: str, expanded: str, display: str, media_key: str | None = None) -> _Text:
        start = self._length
        self.add(tco)
        self.urls.append(UrlEntity(start, self._length, tco, expanded, display, media_key))
        return self

    @property
    def text(self) -> str:
        return "".join(self._parts)


class LazyPosts(dict[str, Post]):
    """Posts by id, where the posts of cheap likes (World.add_cheap_likes) are made when first asked for and not
    kept: a thousand accounts' histories cost their ids, not their texts."""

    def __init__(self, world: World, posts: dict[str, Post]) -> None:
        super().__init__(posts)
        self._world = world

    def __missing__(self, post_id: str) -> Post:
        if post_id not in self._world.cheap_ids:
            raise KeyError(post_id)
        return self._world.cheap_post(post_id)

    def get(self, post_id: str, default: Post | None = None) -> Post | None:  # type: ignore[override]
        try:
            return self[post_id]
        except KeyError:
            return default

    def __contains__(self, post_id: object) -> bool:
        return super().__contains__(post_id) or post_id in self._world.cheap_ids


class World:
    """The accounts, posts, media and likes; adds likes (generated from the seed) when asked."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.accounts: dict[str, Account] = {}  # by id
        self.posts: dict[str, Post] = {}
        self.media: dict[str, MediaItem] = {}
        self.likes: dict[str, list[Like]] = {}  # user id -> likes, oldest first (index = the like's seq)
        self._by_username: dict[str, str] = {}
        self._ids: set[str] = set()
        self._generated: dict[str, int] = {}  # generator namespace -> how many generated so far
        self._lock = threading.RLock()
        self.cheap_ids: set[str] = set()  # posts made on demand from their id (add_cheap_likes)

    # --- lookups ----------------------------------------------------------------------------------------

    def account_by_username(self, username: str) -> Account | None:
        user_id = self._by_username.get(username.lower())
        return self.accounts.get(user_id) if user_id else None

    def account(self, username: str) -> Account:
        found = self.account_by_username(username)
        if found is None:
            raise KeyError(f"no demo account @{username}")
        return found

    def likes_of(self, user_id: str) -> list[Like]:
        return self.likes.get(user_id, [])

    def copy(self) -> World:
        """An independent world with the same content. Shallow is enough: posts, media and accounts are frozen."""
        with self._lock:
            twin = World(self.seed)
            twin.accounts = dict(self.accounts)
            twin.posts = dict(self.posts)
            twin.media = dict(self.media)
            twin.likes = {user_id: list(likes) for user_id, likes in self.likes.items()}
            twin._by_username = dict(self._by_username)
            twin._ids = set(self._ids)
            twin._generated = dict(self._generated)
            return twin

    # --- changes ----------------------------------------------------------------------------------------

    def rename(self, username: str, new_username: str) -> Account:
        """The account changes its handle on X: same id, same likes; the old name is free (and unknown) now."""
        with self._lock:
            account = self.account(username)
            taken = self._by_username.get(new_username.lower())
            if taken is not None and taken != account.id:
                raise ValueError(f"@{new_username} is taken")
            renamed = replace(account, username=new_username)
            self.accounts[account.id] = renamed
            del self._by_username[account.username.lower()]
            self._by_username[new_username.lower()] = account.id
            return renamed

    def add_likes(self, username: str, count: int, liked_at: datetime, *, source: str = "added") -> list[str]:
        """`count` new posts liked by `username` at `liked_at`, generated from the seed; returns their ids.

        Each `source` numbers its posts separately, so arrivals and likes added by hand never shift each other.
        """
        with self._lock:
            account = self.account(username)
            namespace = f"{source}:{account.username}"
            added: list[str] = []
            for _ in range(count):
                n = self._generated.get(namespace, 0)
                self._generated[namespace] = n + 1
                rng = random.Random(f"{self.seed}:{namespace}:{n}")
                created = liked_at - timedelta(minutes=rng.randint(1, 600))
                post = self._ordinary_post(rng, self._pick_author(rng), created)
                self.likes.setdefault(account.id, []).append(Like(post.id, liked_at))
                added.append(post.id)
            return added

    def delete_post(self, post_id: str) -> None:
        with self._lock:
            self.posts[post_id] = replace(self.posts[post_id], deleted=True)

    # --- many accounts, cheaply (the simulated month) -------------------------------------------------------

    def add_plain_account(self, username: str) -> Account:
        """An account with nothing special about it, its id and numbers drawn from the seed and its name."""
        rng = random.Random(f"{self.seed}:plain:{username}")
        with self._lock:
            account = Account(
                id=str(rng.randrange(10**17, 10**18)),
                username=username,
                name=username.title(),
                description="",
                created_at=DATA_EPOCH - timedelta(days=rng.randint(400, 5000)),
                location=None,
                url=None,
                verified=False,
                verified_type="none",
                protected=False,
                followers_count=rng.randint(3, 5000),
                following_count=rng.randint(10, 3000),
                tweet_count=rng.randint(50, 40_000),
                listed_count=rng.randint(0, 90),
            )
            if account.id in self.accounts:
                raise ValueError(f"account id {account.id} is taken")
            self.accounts[account.id] = account
            self._by_username[username.lower()] = account.id
            return account

    def add_cheap_likes(self, user_id: str, count: int, liked_at: datetime) -> list[str]:
        """`count` likes by `user_id` at `liked_at` of posts made only when a request returns them (their id
        holds their date, the seed and the id the rest): ids, not posts, are what a thousand accounts keep."""
        with self._lock:
            if not isinstance(self.posts, LazyPosts):
                self.posts = LazyPosts(self, self.posts)
            likes = self.likes.setdefault(user_id, [])
            millis = int(liked_at.timestamp() * 1000) - TWITTER_EPOCH_MS
            added: list[str] = []
            for _ in range(count):
                n = self._generated.get("cheap", 0)
                self._generated["cheap"] = n + 1
                # Low 22 bits: a counter, so ids made in the same millisecond never collide.
                post_id = str((millis << 22) | (n & 0x3FFFFF))
                if post_id in self._ids or post_id in self.cheap_ids:
                    continue
                self.cheap_ids.add(post_id)
                likes.append(Like(post_id, liked_at))
                added.append(post_id)
            return added

    def cheap_post(self, post_id: str) -> Post:
        """The post of a cheap like, the same every time it is asked for."""
        rng = random.Random(f"{self.seed}:cheap:{post_id}")
        created = datetime.fromtimestamp(((int(post_id) >> 22) + TWITTER_EPOCH_MS) / 1000, UTC)
        author = self._pick_author(rng)
        lang = rng.choices([code for code, _ in corpus.LANGUAGES], weights=[w for _, w in corpus.LANGUAGES])[0]
        text = rng.choice(corpus.SENTENCES[lang])
        return Post(
            id=post_id,
            author_id=author.id,
            text=text,
            created_at=(created - timedelta(minutes=rng.randint(1, 600))).replace(microsecond=0),
            lang=lang,
            like_count=rng.randint(1, 50_000),
        )

    def unlike(self, user_id: str, post_id: str) -> bool:
        """The account takes its like back: the post leaves its list (False if it was not there)."""
        with self._lock:
            likes = self.likes.get(user_id, [])
            for index in range(len(likes) - 1, -1, -1):
                if likes[index].post_id == post_id:
                    del likes[index]
                    return True
            return False

    # --- accounts and history ---------------------------------------------------------------------------

    def add_account(self, rng: random.Random, spec: corpus.AccountSpec) -> Account:
        account = Account(
            id=str(rng.randrange(10**9, 10**18)),
            username=spec.username,
            name=spec.name,
            description=spec.description,
            created_at=DATA_EPOCH - timedelta(days=rng.randint(400, 5000), seconds=rng.randint(0, 86399)),
            location=spec.location,
            url=spec.url,
            verified=spec.verified,
            verified_type=spec.verified_type,
            protected=spec.protected,
            followers_count=rng.randint(3, 250_000),
            following_count=rng.randint(10, 3000),
            tweet_count=rng.randint(50, 40_000),
            listed_count=rng.randint(0, 900),
        )
        self.accounts[account.id] = account
        self._by_username[account.username.lower()] = account.id
        return account

    def add_history(self, rng: random.Random, username: str, count: int) -> None:
        """`count` likes spread over the years before DATA_EPOCH, oldest first; about 1 in 70 since deleted."""
        likes = self.likes.setdefault(self.account(username).id, [])
        gap = timedelta(hours=9)
        for i in range(count):
            liked_at = DATA_EPOCH - gap * (count - i) - timedelta(minutes=rng.randint(0, 500))
            # Most likes are of recent posts, some of posts years old: likes are not in post order.
            recent = rng.random() < 0.85
            age = timedelta(minutes=rng.randint(1, 2000)) if recent else timedelta(days=rng.randint(2, 900))
            post = self._ordinary_post(rng, self._pick_author(rng), liked_at - age)
            if rng.random() < 0.015:
                self.delete_post(post.id)
            likes.append(Like(post.id, liked_at))

    def add_hostile_likes(self, rng: random.Random, username: str) -> None:
        """The newest likes of `username`: every kind of post that breaks a naive renderer, two of them deleted."""
        likes = self.likes.setdefault(self.account(username).id, [])
        newest = likes[-1].liked_at if likes else DATA_EPOCH - timedelta(days=1)
        posts: list[Post] = []

        def post(who: str, hours: int, text: _Text, lang: str = "en", media: list[MediaItem] | None = None) -> None:
            when = newest + timedelta(hours=hours)
            author = self.account(who)
            post_id = self._new_id(rng, when)
            self._attach_media(rng, text, author, post_id, media or [])
            posts.append(self._store(rng, post_id, author, when, lang, text, media=media))

        def link(text: _Text, target: str) -> _Text:
            return text.link(self._tco(rng), target, _display(target))

        def when(hours: int) -> datetime:
            return newest + timedelta(hours=hours)

        post("xss_tester", 1, _Text().add(corpus.HTML_IMG_TEXT))
        post("xss_tester", 2, _Text().add(corpus.SCRIPT_TEXT))
        js = _Text().add("Totally safe link, click it: ")
        post("xss_tester", 3, js.link(self._tco(rng), corpus.JAVASCRIPT_URL, corpus.JAVASCRIPT_URL))
        post("news_bot", 4, _Text().add("Fish & chips < 5 > 3 &amp; that is not an entity."))
        posts.append(self._long_post(rng, self.account("ada_writes"), when(5)))
        cat = self._add_media(rng, "photo", when(6), 'A cat "sleeping" on a <b>keyboard</b> & dreaming')
        post("pixel_pablo", 6, _Text().add("Caught him mid-nap 🐈"), media=[cat])
        sunsets = [self._add_media(rng, "photo", when(7)) for _ in range(4)]
        post("pixel_pablo", 7, _Text().add("Four angles of the same sunset."), media=sunsets)
        video = self._add_media(rng, "video", when(8), "A presenter at a whiteboard drawing a token bucket.")
        post("linkshare", 8, _Text().add("Watch: how rate limits work, in 90 seconds"), media=[video])
        gif = self._add_media(rng, "animated_gif", when(9))
        post("emoji_emma", 9, _Text().add("reaction gif incoming"), media=[gif])
        emoji = link(
            _Text().add("🧑🏽‍💻 shipping on a Friday 🚀🔥 👨‍👩‍👧‍👦 🇺🇦 🏳️‍🌈 — details: "), corpus.LINK_TARGETS[0]
        )
        post("emoji_emma", 10, emoji.add(" ✨"))
        arabic = link(_Text().add("مرحبا بالعالم! اقرأ المقال هنا: "), corpus.LINK_TARGETS[1])
        post("noor_codes", 11, arabic.add(" 🌙"), lang="ar")
        post("yael_design", 12, _Text().add("שלום עולם! mixed עברית and English, 123 מספרים."), lang="he")
        post("kenji_dev", 13, _Text().add("bidi override: abc \u202edcba\u202c, zero\u200bwidth, e\u0301\u0301\u0301"))
        long_word = "Supercalifragilisticexpialidocious" * 6
        post("news_bot", 14, _Text().add(f"Line one\nLine two\n\n\nLine five {long_word}"))
        post("linkshare", 15, link(_Text().add("A long one: "), corpus.LINK_TARGETS[4]))
        # Deleted after being liked: X leaves these out of `data` and names them in `errors`.
        post("ada_writes", 16, _Text().add("I will delete this post later."))
        post("news_bot", 17, _Text().add("Breaking: correction to follow."))
        for deleted in posts[-2:]:
            self.delete_post(deleted.id)

        order = list(range(len(posts)))
        rng.shuffle(order)  # liked in another order than posted
        for offset, index in enumerate(order):
            likes.append(Like(posts[index].id, newest + timedelta(hours=18 + offset)))

    # --- posts ------------------------------------------------------------------------------------------

    def _pick_author(self, rng: random.Random) -> Account:
        specs = [spec for spec in corpus.ACCOUNTS if spec.author_weight]
        spec = rng.choices(specs, weights=[spec.author_weight for spec in specs])[0]
        return self.account(spec.username)

    def _new_id(self, rng: random.Random, when: datetime) -> str:
        """A snowflake: milliseconds since X's epoch in the high bits, so ids sort roughly by time, as X's do."""
        millis = int(when.timestamp() * 1000) - TWITTER_EPOCH_MS
        while True:
            candidate = str((millis << 22) | rng.getrandbits(22))
            if candidate not in self._ids:
                self._ids.add(candidate)
                return candidate

    def _tco(self, rng: random.Random) -> str:
        return "https://t.co/" + "".join(rng.choice(TCO_ALPHABET) for _ in range(10))

    def _add_media(self, rng: random.Random, kind: str, when: datetime, alt_text: str | None = None) -> MediaItem:
        width, height = rng.choice(((1200, 675), (1080, 1080), (900, 1200), (1920, 1080)))
        item = MediaItem(
            media_key=f"{MEDIA_TYPE_PREFIX[kind]}_{self._new_id(rng, when)}",
            type=kind,
            width=width,
            height=height,
            alt_text=alt_text or rng.choice(corpus.ALT_TEXTS),
            duration_ms=rng.randint(3_000, 180_000) if kind == "video" else None,
            view_count=rng.randint(10, 2_000_000) if kind != "photo" else None,
        )
        self.media[item.media_key] = item
        return item

    def _attach_media(
        self, rng: random.Random, text: _Text, author: Account, post_id: str, items: list[MediaItem]
    ) -> None:
        """X appends one t.co link for a post's media, pointing at the first item's page."""
        if not items:
            return
        kind = "photo" if items[0].type == "photo" else "video"
        code = "".join(rng.choice(TCO_ALPHABET) for _ in range(10))
        text.add(" ").link(
            f"https://t.co/{code}",
            f"https://x.com/{author.username}/status/{post_id}/{kind}/1",
            f"pic.x.com/{code}",
            media_key=items[0].media_key,
        )

    def _store(
        self,
        rng: random.Random,
        post_id: str,
        author: Account,
        created: datetime,
        lang: str,
        text: _Text,
        *,
        media: list[MediaItem] | None = None,
        note: _Text | None = None,
    ) -> Post:
        post = Post(
            id=post_id,
            author_id=author.id,
            text=text.text,
            created_at=created.replace(microsecond=0),
            lang=lang,
            urls=tuple(text.urls),
            note_text=note.text if note else None,
            note_urls=tuple(note.urls) if note else (),
            media_keys=tuple(item.media_key for item in media or []),
            possibly_sensitive=rng.random() < 0.02,
            like_count=rng.randint(1, 50_000),
            retweet_count=rng.randint(0, 5_000),
            reply_count=rng.randint(0, 800),
            quote_count=rng.randint(0, 300),
        )
        self.posts[post.id] = post
        return post

    def _ordinary_post(self, rng: random.Random, author: Account, created: datetime) -> Post:
        post_id = self._new_id(rng, created)
        lang = rng.choices([code for code, _ in corpus.LANGUAGES], weights=[w for _, w in corpus.LANGUAGES])[0]
        text = _Text().add(rng.choice(corpus.SENTENCES[lang]))
        if rng.random() < 0.3:
            text.add(" " + rng.choice(corpus.SENTENCES[lang]))
        if rng.random() < 0.2:
            text.add(" " + "".join(rng.choices(corpus.EMOJI, k=rng.randint(1, 3))))
        if rng.random() < 0.3:
            target = rng.choice(corpus.LINK_TARGETS)
            text.add(" ").link(self._tco(rng), target, _display(target))
        roll = rng.random()
        if roll < 0.03:
            return self._long_post(rng, author, created, post_id)
        media: list[MediaItem] = []
        if roll < 0.15:
            media = [self._add_media(rng, "photo", created) for _ in range(rng.choice((1, 1, 1, 2, 4)))]
        elif roll < 0.19:
            media = [self._add_media(rng, "video", created)]
        elif roll < 0.21:
            media = [self._add_media(rng, "animated_gif", created)]
        self._attach_media(rng, text, author, post_id, media)
        return self._store(rng, post_id, author, created, lang, text, media=media)

    def _long_post(self, rng: random.Random, author: Account, created: datetime, post_id: str | None = None) -> Post:
        post_id = post_id or self._new_id(rng, created)
        paragraphs = rng.sample(corpus.LONG_PARAGRAPHS, k=len(corpus.LONG_PARAGRAPHS))
        note = _Text().add("\n\n".join(paragraphs[:2]))
        target = rng.choice(corpus.LINK_TARGETS)
        note.add("\n\nMore here: ").link(self._tco(rng), target, _display(target))
        note.add("\n\n" + "\n\n".join(paragraphs[2:]))
        # X's `text` for a long-form post is a preview: its first 280 characters or so, cut with an ellipsis.
        cut = note.text[:279].rstrip()
        preview = _Text().add(cut + "…")
        preview.urls.extend(u for u in note.urls if u.end <= len(cut))
        return self._store(rng, post_id, author, created, "en", preview, note=note)


def build_world(seed: int, *, demo_likes: int = 300, bigfan_likes: int = 4000) -> World:
    """The demo world for `seed`: the accounts, `demo`'s likes (hostile posts newest), `bigfan`'s many likes."""
    # Generating ~4,000 posts takes a noticeable fraction of a second; a copy of a cached world takes a millisecond.
    return _generate(seed, demo_likes, bigfan_likes).copy()


@functools.lru_cache(maxsize=8)
def _generate(seed: int, demo_likes: int, bigfan_likes: int) -> World:
    world = World(seed)
    # Each part draws from its own stream, so changing one part leaves the others' ids where they were.
    account_rng = random.Random(f"{seed}:accounts")
    for spec in corpus.ACCOUNTS:
        world.add_account(account_rng, spec)
    world.add_history(random.Random(f"{seed}:likes:demo"), "demo", demo_likes)
    world.add_history(random.Random(f"{seed}:likes:bigfan"), "bigfan", bigfan_likes)
    world.add_hostile_likes(random.Random(f"{seed}:hostile"), "demo")
    return world


def _display(url: str) -> str:
    """X's display_url: no scheme, no www., cut at 25 characters with an ellipsis."""
    shown = url.split("://", 1)[-1].removeprefix("www.")
    return shown if len(shown) <= 25 else shown[:24] + "…"

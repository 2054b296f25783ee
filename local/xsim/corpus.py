"""What the demo posts and accounts say: ordinary chatter in several scripts, and the posts meant to break renderers.

Links only ever point at reserved example domains (RFC 2606) or at nothing, so following one never reaches a
real site. The hostile strings are exact on purpose: tests look for them by value.
"""

from __future__ import annotations

from dataclasses import dataclass

# The hostile texts a safe page must show as text (tests compare them exactly).
HTML_IMG_TEXT = "<img src=x onerror=alert(1)>"
SCRIPT_TEXT = "Found this in a bio: <script>alert(1)</script> — totally harmless, right?"
JAVASCRIPT_URL = "javascript:alert(1)"


@dataclass(frozen=True)
class AccountSpec:
    username: str
    name: str
    description: str
    location: str | None = None
    url: str | None = None
    verified: bool = False
    verified_type: str = "none"
    protected: bool = False
    # How often this account turns up as the author of a liked post (relative weight).
    author_weight: int = 0


ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("demo", "Demo Liker", "I like things. A demo account of the X simulator.", "Localhost"),
    AccountSpec("bigfan", "Big Fan 🎉", "Likes everything. More likes than X lets anyone page through."),
    AccountSpec("ada_writes", "Ada Writes", "Long threads, longer posts.", "London", author_weight=5),
    AccountSpec(
        "pixel_pablo",
        "Pablo Pixel",
        "Photos, mostly of my cat.",
        "Valencia",
        url="https://example.com/pablo",
        author_weight=5,
    ),
    AccountSpec("noor_codes", "نور البرمجة", "مبرمجة وكاتبة — أكتب عن البرمجيات.", "عمّان", author_weight=3),
    AccountSpec("yael_design", "יעל עיצוב", "מעצבת ממשקים. כותבת מימין לשמאל.", "תל אביב", author_weight=2),
    AccountSpec("kenji_dev", "健二 🍣", "東京のエンジニア。", "東京", author_weight=3),
    AccountSpec(
        "linkshare",
        "Link Share",
        "Links worth reading, daily.",
        url="https://example.org/links",
        verified=True,
        verified_type="business",
        author_weight=6,
    ),
    AccountSpec("quiet_mouse", "Quiet Mouse", "Protected account: my posts are for followers.", protected=True),
    AccountSpec(
        "xss_tester",
        '<img src=x onerror=alert("name")>',
        "My display name is a test. So is my bio: <b>bold?</b> &amp; <i>italic?</i>",
        author_weight=1,
    ),
    AccountSpec("emoji_emma", "Emma ✨🦄✨", "🌈🌈🌈", author_weight=3),
    AccountSpec("news_bot", "News Bot", "Automated headlines from example.net.", author_weight=4),
)

SENTENCES: dict[str, tuple[str, ...]] = {
    "en": (
        "Just shipped a tiny feature and it already has a bug report.",
        "Hot take: tabs and spaces are both fine if the linter agrees.",
        "The best debugging tool is still a good night's sleep.",
        "Reading about rate limits on a Sunday, as one does.",
        "Coffee number three. The build is still red.",
        "Remember when pagination was simple? Me neither.",
        "New blog post: what I learned running a side project for a year.",
        "This sunset did not need to go this hard.",
        "If it works on the first try, check that the test actually ran.",
        "Cats understand caching better than most of us.",
        "Wrote a migration today. Tested the rollback too. Growth.",
        "Small reminder: drink water and commit often.",
        "Today's lesson: read the error message, all of it.",
        "Finally fixed the flaky test. It was time zones. It is always time zones.",
    ),
    "es": (
        "Hoy aprendí algo nuevo sobre bases de datos.",
        "¿Alguien más programa mejor de noche?",
        "Qué bonito es cuando todas las pruebas pasan a la primera.",
    ),
    "ja": (
        "今日はとても良い天気ですね。",
        "新しいライブラリを試してみました。",
        "バグを直したら別のバグが出てきた。",
    ),
    "ar": (
        "مرحبا بالعالم! هذا منشور تجريبي.",
        "تعلمت اليوم شيئاً جديداً عن قواعد البيانات.",
        "القهوة أولاً، ثم البرمجة.",
    ),
    "he": (
        "שלום עולם! זה פוסט לדוגמה.",
        "היום למדתי משהו חדש על מסדי נתונים.",
    ),
    "de": (
        "Heute habe ich endlich die Tests repariert.",
        "Kaffee ist auch eine Abhängigkeit.",
    ),
    "fr": (
        "Petit rappel : sauvegardez vos données.",
        "Le café est prêt, le code aussi (presque).",
    ),
}
# (language, weight) for ordinary posts.
LANGUAGES: tuple[tuple[str, int], ...] = (
    ("en", 70),
    ("es", 6),
    ("ja", 7),
    ("ar", 5),
    ("he", 3),
    ("de", 5),
    ("fr", 4),
)
EMOJI: tuple[str, ...] = ("🚀", "🔥", "😂", "🎉", "👀", "🙏🏽", "❤️", "🧑🏽‍💻", "👨‍👩‍👧‍👦", "🇺🇦", "🏳️‍🌈", "✨")
LINK_TARGETS: tuple[str, ...] = (
    "https://example.com/blog/rate-limits-explained",
    "https://example.org/articles/2025/pagination-done-right",
    "https://example.net/news/local-cat-becomes-mayor",
    "https://www.example.com/docs/getting-started?utm_source=x&utm_medium=social",
    "https://example.org/a/really/long/path/that/keeps/going/and/going/until/it/wraps/the/layout",
    "http://example.net/plain-http-still-exists",
)
ALT_TEXTS: tuple[str | None, ...] = (
    "A grey cat asleep on a laptop keyboard.",
    'A whiteboard reading "ship it" in red marker.',
    "Sunset over the sea, orange and purple.",
    None,  # many photos have no alt text at all
    "A bar chart: requests per minute, flat until a spike at 3 am.",
)
LONG_PARAGRAPHS: tuple[str, ...] = (
    "I have been thinking about why side projects stall. It is rarely the code. It is the moment the "
    "project stops teaching you anything new and starts asking you to maintain it.",
    "So here is the plan: write down what the project is for, in one sentence, and delete every feature "
    "that does not serve that sentence. Then write tests for what is left, and only then refactor.",
    "The surprising part was how much faster everything became once the scope was small. Builds finished "
    "before the coffee did. Reviews took minutes. Releases stopped being events.",
    "None of this is new, of course. But knowing something and doing it are different skills, and the "
    "second one only comes from practice — ideally on a project small enough to finish.",
)

"""Chat-like text from pools built once per run, assembled by keyed picks.

Faker is slow per call (about 10k names/s), so it fills pools of names, sentences and paragraphs once, seeded
from the run's seed; rows then pick from the pools by index. Decorations (mentions, links, code, emoji,
markdown) make the text read like chat rather than lorem ipsum.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import faker

FAKER_VERSION = faker.VERSION

EMOJI = ("👍", "🎉", "😂", "🔥", "🙏", "👀", "🚀", "✅", "💯", "😅", "🤔", "❤️", ":)", "😄", "🙌")
CHAT_OPENERS = (
    "hey team,",
    "quick question:",
    "fyi",
    "heads up:",
    "update:",
    "+1",
    "agreed,",
    "not sure, but",
    "lgtm!",
    "thanks!",
    "good morning ☀️",
    "btw",
    "done ✅",
    "on it",
    "can someone take a look?",
)
CODE_SNIPPETS = (
    "git pull --rebase",
    "make test",
    "SELECT count(*) FROM messages;",
    "npm run build",
    "docker compose up -d",
    "kubectl get pods",
    "pytest -k flaky",
    "export DEBUG=1",
    "curl -I localhost:8080/health",
    "alembic upgrade head",
)
CODE_BLOCKS = (
    "def retry(fn, times=3):\n    for _ in range(times):\n        try:\n            return fn()\n        except Exception:\n            pass",  # noqa: E501
    "SELECT channel_id, count(*)\nFROM messages\nGROUP BY channel_id\nORDER BY 2 DESC\nLIMIT 10;",
    "const res = await fetch('/api/channels');\nconsole.log(await res.json());",
    "Traceback (most recent call last):\n  File \"app.py\", line 42\nKeyError: 'user_id'",
)
LINK_HOSTS = ("https://github.com/acme/chat", "https://docs.example.com", "https://jira.example.com/browse")
AVATAR_URL = "https://api.dicebear.com/9.x/personas/svg?seed={}"
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")

SENTENCE_POOL = 4096
PARAGRAPH_POOL = 1024
NAME_POOL = 512
BIO_POOL = 512
BIO_MAX = 200


def slug(text: str) -> str:
    """ASCII letters and digits only (for email local parts); empty for scripts without a transliteration."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", ascii_text.lower())


@dataclass(frozen=True)
class TextPools:
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    sentences: tuple[str, ...]
    paragraphs: tuple[str, ...]
    bios: tuple[str, ...]
    topics: tuple[str, ...]


def build_pools(seed: int, locale: str) -> TextPools:
    """Fill the pools with Faker, seeded: the same seed, locale and Faker version give the same pools."""
    fake = faker.Faker(locale)
    fake.seed_instance(seed)
    first = tuple(dict.fromkeys(fake.first_name() for _ in range(NAME_POOL)))
    last = tuple(dict.fromkeys(fake.last_name() for _ in range(NAME_POOL)))
    sentences = tuple(fake.sentence(nb_words=4 + i % 11) for i in range(SENTENCE_POOL))
    paragraphs = tuple(fake.paragraph(nb_sentences=2 + i % 4) for i in range(PARAGRAPH_POOL))
    bios = tuple(_bio(fake) for _ in range(BIO_POOL))
    topics = tuple(dict.fromkeys(slug(fake.word()) or f"topic{i}" for i in range(256)))
    return TextPools(first, last, sentences, paragraphs, bios, topics)


def _bio(fake: faker.Faker) -> str:
    try:
        job = fake.job()
    except AttributeError:
        job = ""
    text = f"{job} · {fake.sentence(nb_words=8)}" if job else fake.sentence(nb_words=10)
    return text[:BIO_MAX]

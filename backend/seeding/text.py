"""Names and short texts from pools built once per run, assembled by keyed picks.

Names are the locale's whole first- and family-name lists from Faker's person provider (read as data, no
Faker calls), joined in the locale's order (family name first for ja_JP, zh_CN, ...); `name_indexes` gives
distinct (first, family) pairs to distinct users while the lists allow. Faker is slow per call (about 10k
names/s), so it fills pools of sentences, bios and topic words once, seeded from the run's seed, in the
locale's own words (ar_SA takes Faker's Arabic words; a locale whose Faker has no words of its own takes
English, never Latin lorem). Decorations (mentions, links, code, emoji, markdown) make text read like chat.
"""

from __future__ import annotations

import pkgutil
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import faker
import numpy as np
import numpy.typing as npt

from backend.seeding.keyed import IntArray, affine_permutation, column_key

FAKER_VERSION = faker.VERSION

EMOJI = ("👍", "🎉", "😂", "🔥", "🙏", "👀", "🚀", "✅", "💯", "😅", "🤔", "❤️", ":)", "😄", "🙌")
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

SENTENCE_POOL = 512  # channel descriptions and bio endings
BIO_POOL = 512
BIO_MAX = 200


def slug(text: str) -> str:
    """ASCII letters and digits only (for email local parts); empty for scripts without a transliteration."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", ascii_text.lower())


def topic_word(word: str) -> str:
    """A word as a channel-name part: lower case, letters and digits of any script, no spaces."""
    return re.sub(r"[\W_]+", "", word.lower())


@dataclass(frozen=True)
class TextPools:
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    sentences: tuple[str, ...]
    bios: tuple[str, ...]
    topics: tuple[str, ...]
    family_first: bool = False  # the locale writes the family name first (ja_JP: 山田 太郎)
    name_separator: str = " "  # between the two names ("" for zh_CN: 王伟)

    def full_name(self, first: int, last: int) -> str:
        return self.full_names([first], [last])[0]

    def full_names(self, first: list[int], last: list[int]) -> list[str]:
        """The full name of each (first, last) pair of name indexes, in the locale's order."""
        given = map(self.first_names.__getitem__, first)
        family = map(self.last_names.__getitem__, last)
        pairs = zip(family, given, strict=True) if self.family_first else zip(given, family, strict=True)
        return list(map(self.name_separator.join, pairs))


def side_by_side(*pieces: bytes | npt.NDArray[np.uint8]) -> list[str]:
    """Per row, ASCII strings made of the pieces in order: a bytes piece is the same in every row, an
    n x w array of byte values gives each row its own w characters (at least one piece is an array)."""
    rows = next(len(piece) for piece in pieces if isinstance(piece, np.ndarray))
    widths = [len(piece) if isinstance(piece, bytes) else piece.shape[1] for piece in pieces]
    block = np.empty((rows, sum(widths)), dtype=np.uint8)
    at = 0
    for piece, width in zip(pieces, widths, strict=True):
        block[:, at : at + width] = (
            np.frombuffer(piece, dtype=np.uint8) if isinstance(piece, bytes) else piece
        )
        at += width
    text = block.tobytes().decode("ascii")
    return [text[start : start + at] for start in range(0, len(text), at)] if at else [""] * rows


@dataclass(frozen=True)
class PersonNames:
    first: tuple[str, ...]
    last: tuple[str, ...]
    family_first: bool
    separator: str


@lru_cache(maxsize=16)
def person_names(locale: str) -> PersonNames:
    """The locale's first- and family-name lists (all of them, in Faker's order) and how they are joined."""
    provider = next(
        p for p in faker.Faker(locale).providers if type(p).__module__.startswith("faker.providers.person")
    )

    def names(*attributes: str) -> tuple[str, ...]:
        found: dict[str, None] = {}
        for attribute in attributes:
            found.update(dict.fromkeys(getattr(provider, attribute, None) or ()))
        return tuple(found)

    first = names("first_names", "first_names_male", "first_names_female")
    last = names("last_names", "last_names_male", "last_names_female")
    pattern = next(iter(provider.formats))
    family_first = pattern.find("{{last_name") < pattern.find("{{first_name")
    between = re.search(r"\}\}([^{]*)\{\{", pattern)
    return PersonNames(first, last, family_first, between.group(1) if between else " ")


def name_indexes(seed: int, users: IntArray, n_first: int, n_last: int) -> tuple[IntArray, IntArray]:
    """(first, family) name indexes per user index: a keyed affine permutation of all the pairs, so users
    below n_first * n_last get distinct full names (unique by construction, no retries)."""
    pairs = n_first * n_last
    picked = affine_permutation(users, pairs, column_key(seed, "users", "name_pair"))
    return picked // n_last, picked % n_last


def native_words_locale(locale: str) -> str | None:
    """A Faker locale with lorem words in locale's language (ar_SA -> ar_AA), or None when Faker has none."""
    import faker.providers.lorem

    available = sorted(m.name for m in pkgutil.iter_modules(faker.providers.lorem.__path__) if m.ispkg)
    if locale in available:
        return locale
    language = locale.split("_")[0]
    same = [name for name in available if name.split("_")[0] == language]
    return same[0] if same else None


def build_pools(seed: int, locale: str) -> TextPools:
    """Fill the pools, seeded: the same seed, locale and Faker version give the same pools."""
    people = faker.Faker(locale)
    people.seed_instance(seed)
    words = faker.Faker(native_words_locale(locale) or "en_US")
    words.seed_instance(seed)
    names = person_names(locale)
    sentences = tuple(words.sentence(nb_words=4 + i % 11) for i in range(SENTENCE_POOL))
    bios = tuple(_bio(people, words) for _ in range(BIO_POOL))
    topics = tuple(dict.fromkeys(topic_word(words.word()) or f"topic{i}" for i in range(256)))
    return TextPools(
        names.first,
        names.last,
        sentences,
        bios,
        topics,
        family_first=names.family_first,
        name_separator=names.separator,
    )


def _bio(people: faker.Faker, words: faker.Faker) -> str:
    try:
        job = people.job()
    except AttributeError:
        job = ""
    text = f"{job} · {words.sentence(nb_words=8)}" if job else words.sentence(nb_words=10)
    return text[:BIO_MAX]

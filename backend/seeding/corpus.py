"""Conversational text from real dialogue corpora, filtered once and kept in a compact, cached form.

A `Corpus` is a list of two-person conversations: each conversation is a run of turns (speakers A and B
alternate, A first), each turn one or more utterances. Sources, by the locale's language:

- English: the `chitchat-dataset` package (7,168 human chats, 258k utterances; MIT licence);
- the languages `chatterbot-corpus` covers (Spanish, Japanese, Russian, ...; BSD licence): its dialogues;
- any other language whose Faker has native words: Faker sentences in that language, laid out as turns;
- otherwise the English corpus (never Latin lorem ipsum).

A turn holding a word from data/blocked_words.txt (profanity, slurs) is dropped, and its conversation is
split there into two, so no kept turn answers a dropped one. The result is stored as numpy arrays (a
UTF-8 blob, the offsets of utterances, turns and conversations, the spelling variants that apply to each
utterance, and where in the blob the "i", shorthand and texting words are, for spelling.respell_spans) in a
cache directory keyed by the source, its pinned version and the word list (beside the Python
environment, else in the temp directory, or in $CHAT_SEED_CACHE_DIR), so a run maps a few megabytes instead
of parsing a 40 MB JSON file. The arrays are opened memory-mapped: worker processes share the pages.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import itertools
import json
import logging
import mmap
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from backend.seeding import spelling
from backend.seeding.text import native_words_locale

log = logging.getLogger(__name__)

BLOCKED_WORDS_FILE = Path(__file__).with_name("data") / "blocked_words.txt"
# Bump when the compact form or the way it is built changes (spelling.utterance_flags included): older
# caches are then ignored.
CORPUS_FORMAT = "12"
CACHE_ENV = "CHAT_SEED_CACHE_DIR"
CHITCHAT = "chitchat-dataset"
CHATTERBOT = "chatterbot-corpus"
# chatterbot-corpus' folder per language code (its English is replaced by chitchat, which is real chat).
CHATTERBOT_LANGUAGES = {
    "bn": "bengali",
    "zh_CN": "chinese",
    "zh_TW": "traditionalchinese",
    "nl": "dutch",
    "fr": "french",
    "de": "german",
    "he": "hebrew",
    "hi": "hindi",
    "id": "indonesian",
    "it": "italian",
    "ja": "japanese",
    "ko": "korean",
    "mr": "marathi",
    "fa": "persian",
    "pt": "portuguese",
    "ru": "russian",
    "es": "spanish",
    "sv": "swedish",
    "ta": "tamil",
    "te": "telugu",
    "th": "thai",
    "tr": "turkish",
    "uk": "ukrainian",
    "ur": "urdu",
    "yo": "yoruba",
}
# Categories of chatterbot-corpus that are a bot talking about itself, not people chatting.
CHATTERBOT_SKIPPED = ("botprofile", "ai")
FAKER_CONVERSATIONS = 1500
FAKER_TURNS = 12

_WORD = re.compile(r"[^\W\d_]+")

Utf8Array = npt.NDArray[np.uint8]
IntArray = npt.NDArray[np.int64]
Conversation = list[list[str]]  # turns of utterances


@dataclass(frozen=True)
class Corpus:
    """Conversations as offsets into one UTF-8 blob.

    Every utterance is followed by a newline in the blob, so utterance u is
    text[utterance_start[u]:utterance_start[u + 1] - 1] and the utterances a..b-1 of one turn, on separate
    lines, are the single slice text[utterance_start[a]:utterance_start[b] - 1]. Turn t holds utterances
    turn_start[t]..turn_start[t + 1] - 1; conversation c holds turns conversation_start[c]..
    conversation_start[c + 1] - 1. Speaker A has a conversation's even turns, B its odd ones.
    """

    source: str
    text: Utf8Array
    utterance_start: IntArray
    turn_start: IntArray
    conversation_start: IntArray
    spelling: npt.NDArray[np.uint16]  # per utterance: the spelling variants that apply to it (spelling.py)
    spelling_to_turn_end: npt.NDArray[np.uint16]  # per utterance: spelling.suffix_flags
    i_words: spelling.Offsets  # byte offsets of the "i" words in text: spelling.i_word_offsets
    shorthands: spelling.Offsets  # where the shorthand variant swaps words: spelling.word_swaps
    texting_words: spelling.Offsets  # where the texting variant swaps words: spelling.word_swaps
    swap_hazards: IntArray  # where those may not hold: spelling.swap_hazards

    @property
    def conversations(self) -> int:
        return len(self.conversation_start) - 1

    @property
    def turns(self) -> int:
        return len(self.turn_start) - 1

    @property
    def utterances(self) -> int:
        return len(self.utterance_start) - 1

    @cached_property
    def blob(self) -> bytes:
        """The text as one bytes object (per process): slicing it is cheaper than slicing the array."""
        blob = self.text.tobytes()
        # Copying read the whole memory-mapped file in: drop those pages from this process (they count in its
        # memory until then, beside the copy; a later read of the array maps them again from the file).
        mapped = getattr(self.text, "_mmap", None)  # np.memmap's mmap.mmap
        if isinstance(mapped, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
            mapped.madvise(mmap.MADV_DONTNEED)
        return blob

    @cached_property
    def multi_utterance_share(self) -> float:
        """Share of turns with more than one utterance (the turns a paragraph message can carry)."""
        return float((np.diff(self.turn_start) > 1).mean()) if self.turns else 0.0

    @cached_property
    def offsets(self) -> list[int]:
        """utterance_start as Python ints, for per-message loops."""
        return self.utterance_start.tolist()  # type: ignore[no-any-return]

    def lines(self, first: int, end: int) -> str:
        """Utterances first..end-1 (of one turn), one per line."""
        return self.blob[self.offsets[first] : self.offsets[end] - 1].decode()

    def utterance(self, u: int) -> str:
        return self.lines(u, u + 1)

    def turn(self, t: int, separator: str = "\n") -> str:
        """All utterances of turn t, joined."""
        text = self.lines(int(self.turn_start[t]), int(self.turn_start[t + 1]))
        return text if separator == "\n" else text.replace("\n", separator)

    def conversation(self, c: int) -> Conversation:
        turns = range(self.conversation_start[c], self.conversation_start[c + 1])
        return [[self.utterance(u) for u in range(self.turn_start[t], self.turn_start[t + 1])] for t in turns]

    def iter_utterances(self) -> Iterator[str]:
        blob = self.text.tobytes()
        starts = self.utterance_start.tolist()
        for a, b in itertools.pairwise(starts):
            yield blob[a : b - 1].decode()


# ----- the word filter --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WordFilter:
    exact: frozenset[str]
    prefixes: tuple[str, ...]

    def blocks(self, text: str) -> bool:
        """True when a whole word of text (case-insensitive) is blocked."""
        for word in _WORD.findall(text.lower()):
            if word in self.exact or word.startswith(self.prefixes):
                return True
        return False


def load_word_filter(path: Path = BLOCKED_WORDS_FILE) -> WordFilter:
    exact: set[str] = set()
    prefixes: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = line.strip().lower()
        if not entry or entry.startswith("#"):
            continue
        if entry.endswith("*"):
            prefixes.append(entry[:-1])
        else:
            exact.add(entry)
    return WordFilter(frozenset(exact), tuple(prefixes))


# ----- sources --------------------------------------------------------------------------------------


def source_for(locale: str) -> tuple[str, str]:
    """(source, detail) for a Faker locale: the corpus package and language folder, or the Faker locale."""
    language = locale.split("_")[0]
    if language == "en":
        return CHITCHAT, "en"
    folder = CHATTERBOT_LANGUAGES.get(locale) or CHATTERBOT_LANGUAGES.get(language)
    if language == "zh" and locale not in CHATTERBOT_LANGUAGES:
        folder = CHATTERBOT_LANGUAGES["zh_CN"]
    if folder:
        return CHATTERBOT, folder
    lorem = native_words_locale(locale)
    if lorem:
        return "faker", lorem
    return CHITCHAT, "en"


def _chitchat_conversations() -> Iterator[Conversation]:
    import chitchat_dataset

    path = Path(chitchat_dataset.__file__).with_name("dataset.json")
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    for key in sorted(data):
        turns = [
            [" ".join(u["text"].split()) for u in turn if u["text"].strip()] for turn in data[key]["messages"]
        ]
        yield [turn for turn in turns if turn]


def _chatterbot_conversations(folder: str) -> Iterator[Conversation]:
    import chatterbot_corpus.corpus
    import yaml

    directory = Path(chatterbot_corpus.corpus.DATA_DIRECTORY) / folder
    for path in sorted(directory.glob("*.yml")):
        if path.stem in CHATTERBOT_SKIPPED:
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for dialogue in data.get("conversations") or []:
            turns = [[" ".join(str(line).split())] for line in dialogue if str(line).strip()]
            if len(turns) >= 2:
                yield turns


def _faker_conversations(locale: str) -> Iterator[Conversation]:
    import faker

    fake = faker.Faker(locale)
    fake.seed_instance(0)  # the corpus is a fixed artefact: the run's seed picks from it
    for c in range(FAKER_CONVERSATIONS):
        yield [
            [fake.sentence(nb_words=3 + (c + t + i) % 9) for i in range(1 + (c * 7 + t) % 3 // 2)]
            for t in range(FAKER_TURNS)
        ]


def _package_version(source: str, detail: str) -> str:
    if source == "faker":
        import faker

        return faker.VERSION
    return importlib.metadata.version(source)


def _conversations(source: str, detail: str) -> Iterator[Conversation]:
    if source == CHITCHAT:
        return _chitchat_conversations()
    if source == CHATTERBOT:
        return _chatterbot_conversations(detail)
    return _faker_conversations(detail)


# ----- the compact form ------------------------------------------------------------------------------


def _clean_stretches(
    conversations: Iterable[Conversation], word_filter: WordFilter
) -> Iterator[Conversation]:
    """Each conversation's runs of turns between turns holding a blocked word, of two turns or more each."""
    for conversation in conversations:
        stretch: Conversation = []
        for turn in [*conversation, None]:
            if turn is not None and not any(word_filter.blocks(u) for u in turn):
                stretch.append(turn)
                continue
            if len(stretch) >= 2:
                yield stretch
            stretch = []


def build_corpus(source: str, conversations: Iterable[Conversation], word_filter: WordFilter) -> Corpus:
    """Filter and pack conversations: a turn holding a blocked word is dropped and splits its conversation in
    two (a reply to it would answer nothing), and only stretches of at least two turns are kept."""
    chunks: list[bytes] = []
    utterance_start, turn_start, conversation_start = [0], [0], [0]
    size = 0
    for conversation in _clean_stretches(conversations, word_filter):
        for turn in conversation:
            for utterance in turn:
                encoded = utterance.encode() + b"\n"  # a separator (utterances hold none: see the sources)
                chunks.append(encoded)
                size += len(encoded)
                utterance_start.append(size)
            turn_start.append(len(utterance_start) - 1)
        conversation_start.append(len(turn_start) - 1)
    text = b"".join(chunks)
    if b"\x00" in text:  # spelling.respell_spans separates texts by NULs (and PostgreSQL text refuses them)
        raise ValueError(f"the {source} corpus holds a NUL character")
    flags = np.array(
        [spelling.utterance_flags(text[a : b - 1].decode()) for a, b in itertools.pairwise(utterance_start)],
        dtype=np.int64,
    )
    turns = np.array(turn_start, dtype=np.int64)
    return Corpus(
        source=source,
        text=np.frombuffer(text, dtype=np.uint8),
        utterance_start=np.array(utterance_start, dtype=np.int64),
        turn_start=turns,
        conversation_start=np.array(conversation_start, dtype=np.int64),
        spelling=flags.astype(np.uint16),
        spelling_to_turn_end=spelling.suffix_flags(flags, turns).astype(np.uint16),
        i_words=spelling.i_word_offsets(text),
        shorthands=spelling.word_swaps(text, spelling.SHORTHAND),
        texting_words=spelling.word_swaps(text, spelling.TEXTING),
        swap_hazards=spelling.swap_hazards(text),
    )


_ARRAYS = (
    "text",
    "utterance_start",
    "turn_start",
    "conversation_start",
    "spelling",
    "spelling_to_turn_end",
    "i_words",
    "shorthands",
    "texting_words",
    "swap_hazards",
)


def cache_roots() -> list[Path]:
    """Where compact corpora are kept, in order: $CHAT_SEED_CACHE_DIR alone if set; else beside the Python
    environment, then the temp directory (for an environment the user cannot write to, as in the image)."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return [Path(configured)]
    return [
        Path(sys.prefix) / "share" / "chat-seed" / "corpus",
        Path(tempfile.gettempdir()) / "chat-seed-corpus",
    ]


def cache_key(source: str, detail: str) -> str:
    words = BLOCKED_WORDS_FILE.read_bytes()
    version = _package_version(source, detail)
    material = f"{CORPUS_FORMAT}\x1f{source}\x1f{detail}\x1f{version}\x1f".encode() + words
    return f"{source}-{detail}-{version}-{hashlib.sha256(material).hexdigest()[:16]}"


def _load_cached(directory: Path, source: str) -> Corpus | None:
    try:
        arrays = {name: np.load(directory / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
    except (OSError, ValueError):
        return None
    return Corpus(source=source, **arrays)


def _store(directory: Path, corpus: Corpus) -> None:
    """Write the arrays to a temporary folder, then rename it into place (concurrent builders are safe)."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=directory.parent))
    try:
        for name in _ARRAYS:
            np.save(staging / f"{name}.npy", np.ascontiguousarray(getattr(corpus, name)))
        os.replace(staging, directory)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not directory.is_dir():
            raise


@lru_cache(maxsize=8)
def load_corpus(locale: str) -> Corpus:
    """The corpus for a locale, from the cache; built (and cached, if the cache is writable) on first use."""
    source, detail = source_for(locale)
    key = cache_key(source, detail)
    roots = cache_roots()
    for root in roots:
        cached = _load_cached(root / key, source)
        if cached is not None:
            return cached
    log.info("building the %s corpus (%s) once", source, detail)
    corpus = build_corpus(source, _conversations(source, detail), load_word_filter())
    for root in roots:
        try:
            _store(root / key, corpus)
        except OSError as exc:
            log.info("cannot cache the corpus in %s (%s)", root, exc)
            continue
        return _load_cached(root / key, source) or corpus
    log.warning("cannot cache the corpus in %s; it is rebuilt on each run", " or ".join(map(str, roots)))
    return corpus


def main() -> None:
    """Build caches ahead of time (e.g. in a Docker image): python -m backend.seeding.corpus [LOCALE...]"""
    for locale in sys.argv[1:] or ["en_US"]:
        corpus = load_corpus(locale)
        print(
            f"{locale}: {corpus.source}, {corpus.conversations:,} conversations, "
            f"{corpus.turns:,} turns, {corpus.utterances:,} utterances"
        )


if __name__ == "__main__":
    main()

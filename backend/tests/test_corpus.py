"""The dialogue corpora: sources per locale, the word filter (nothing blocked gets through), the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backend.seeding import corpus as corpus_module
from backend.seeding.corpus import (
    CHATTERBOT,
    CHATTERBOT_LANGUAGES,
    CHITCHAT,
    build_corpus,
    load_corpus,
    load_word_filter,
    source_for,
)

WORDS = load_word_filter()


@pytest.mark.parametrize(
    ("locale", "source", "detail"),
    [
        ("en_US", CHITCHAT, "en"),
        ("en_GB", CHITCHAT, "en"),
        ("ja_JP", CHATTERBOT, "japanese"),
        ("es_ES", CHATTERBOT, "spanish"),
        ("zh_TW", CHATTERBOT, "traditionalchinese"),
        ("ar_SA", "faker", "ar_AA"),  # no dialogue corpus; Faker's Arabic words, not Latin lorem
        ("hu_HU", CHITCHAT, "en"),  # neither a corpus nor native Faker words: English chat
    ],
)
def test_source_per_locale(locale: str, source: str, detail: str) -> None:
    assert source_for(locale) == (source, detail)


def test_english_corpus_is_real_two_person_chat() -> None:
    corpus = load_corpus("en_US")
    assert corpus.source == CHITCHAT
    assert corpus.conversations > 3_000
    assert corpus.utterances > 150_000
    lengths = np.diff(corpus.conversation_start)
    assert lengths.min() >= 2
    assert corpus.turn_start[-1] == corpus.utterances
    assert corpus.conversation_start[-1] == corpus.turns
    questions = sum(text.endswith("?") for text in corpus.iter_utterances())
    assert questions / corpus.utterances > 0.1


@pytest.mark.parametrize("locale", ["en_US", "ja_JP", "es_ES", "ru_RU", "de_DE", "ar_SA"])
def test_no_blocked_word_gets_through(locale: str) -> None:
    corpus = load_corpus(locale)
    offending = [text for text in corpus.iter_utterances() if WORDS.blocks(text)]
    assert offending == []


def test_every_chatterbot_language_is_filtered() -> None:
    for language in CHATTERBOT_LANGUAGES:
        corpus = load_corpus(language)
        assert corpus.conversations > 0
        assert not any(WORDS.blocks(text) for text in corpus.iter_utterances())


def test_filter_drops_blocked_turns_and_splits_their_conversations() -> None:
    clean = [["hi there", "how are you?"], ["fine, thanks"]]
    rude = [["what the Fuck happened"], ["no idea"]]
    slur = [["hello"], ["you RETARDED or what"]]
    # The blocked turn goes; the stretches around it stay where they have two turns or more.
    split = [["morning"], ["hey"], ["this is bullshit"], ["why?"], ["the build broke"], ["again?"]]
    packed = build_corpus("test", [clean, rude, slur, [["only one turn"]], split], WORDS)
    assert packed.conversations == 3
    assert packed.conversation(0) == clean
    assert packed.conversation(1) == [["morning"], ["hey"]]
    assert packed.conversation(2) == [["why?"], ["the build broke"], ["again?"]]
    assert packed.turn(0, " / ") == "hi there / how are you?"
    # Whole words only: "class" and "Scunthorpe"-like words are not matched by "ass" or a prefix elsewhere.
    assert not WORDS.blocks("my class assignment is due")
    assert WORDS.blocks("ASS")


def test_compact_cache_is_built_once_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(corpus_module.CACHE_ENV, str(tmp_path))
    load_corpus.cache_clear()
    try:
        first = load_corpus("es_ES")
        stored = list(tmp_path.iterdir())
        assert len(stored) == 1 and (stored[0] / "text.npy").is_file()
        load_corpus.cache_clear()
        built: list[str] = []
        monkeypatch.setattr(corpus_module, "build_corpus", lambda *args: built.append("again"))
        second = load_corpus("es_ES")
        assert built == []
        assert np.array_equal(first.text, second.text)
        assert isinstance(second.text, np.memmap)
    finally:
        load_corpus.cache_clear()


def test_unwritable_cache_still_gives_the_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(corpus_module.CACHE_ENV, str(blocker / "cache"))
    load_corpus.cache_clear()
    try:
        assert load_corpus("es_ES").conversations > 0
    finally:
        load_corpus.cache_clear()


def test_the_blob_is_the_text_and_the_array_still_reads_after_it() -> None:
    """Building the blob drops the mapped file's pages from the process; the array maps them again."""
    source, detail = source_for("en_US")
    load_corpus("en_US")  # cached by now
    key = corpus_module.cache_key(source, detail)
    fresh = next(
        loaded
        for root in corpus_module.cache_roots()
        if (loaded := corpus_module._load_cached(root / key, source)) is not None
    )
    blob = fresh.blob
    assert fresh.text[-100:].tobytes() == blob[-100:]
    assert fresh.text.tobytes() == blob

"""Spelling variants: which apply, the replay bits going to applicable ones, distinct spellings per replay."""

from __future__ import annotations

import re

import numpy as np
import pytest

from backend.seeding import spelling
from backend.seeding.corpus import Corpus, build_corpus, load_corpus, load_word_filter
from backend.seeding.spelling import (
    APOSTROPHES,
    COMMAS,
    END,
    I_WORDS,
    SHORTHAND,
    START,
    TEXTING,
    applicable,
    choose,
    i_word_offsets,
    respell,
    respell_all,
    respell_spans,
    swap_hazards,
    utterance_flags,
    word_swaps,
)


def test_a_variant_applies_only_where_it_changes_the_text() -> None:
    assert utterance_flags("Yes! What a finish.") == END | START
    assert utterance_flags("i think you're right, I'm going to go") & ~spelling.I_ANYWHERE == (
        END | START | I_WORDS | APOSTROPHES | COMMAS | SHORTHAND
    )
    assert utterance_flags("are you there") & TEXTING
    assert utterance_flags("ok :)") & END == 0  # nothing sensible to drop or add after a smiley
    assert utterance_flags("42 is the answer") & START == 0


def test_each_variant_respells() -> None:
    text = "I think you're right, I'm going to go."
    assert respell(text, END, 0) == "I think you're right, I'm going to go"
    assert respell(text, START, 0) == "i think you're right, I'm going to go."
    assert respell(text, I_WORDS, 0) == "I think you're right, i'm going to go."
    assert respell(text, APOSTROPHES, 0) == "I think youre right, Im going to go."
    assert respell(text, COMMAS, 0) == "I think you're right I'm going to go."
    assert respell(text, SHORTHAND, 0) == "I think you're right, I'm gonna go."
    assert respell(text, TEXTING, 0) == "I think you're right, I'm going to go."  # not "u're"
    assert respell("are you and your dog ok", TEXTING, 0) == "r u and ur dog ok"
    assert respell("what time?", END, 0) == "what time"
    assert respell("see you there", END, 0) == "see you there."


def test_replay_bits_go_to_the_applicable_variants_in_order() -> None:
    usable = np.array([END | COMMAS | TEXTING] * 8)
    chosen = choose(usable, np.zeros(8, dtype=np.int64), np.arange(8))
    assert chosen.tolist() == [
        0,
        END,
        COMMAS,
        END | COMMAS,
        TEXTING,
        END | TEXTING,
        COMMAS | TEXTING,
        END | COMMAS | TEXTING,
    ]
    # The mask flips on top; a variant that does not apply is never chosen.
    assert choose(np.array([END]), np.array([END | START]), np.array([0])).tolist() == [END]


def test_the_replays_of_a_corpus_text_are_all_spelt_differently() -> None:
    corpus = load_corpus("en_US")
    rng = np.random.default_rng(7)
    utterances = rng.choice(corpus.utterances, 3000, replace=False)
    flags = corpus.spelling.astype(np.int64)
    suffix = corpus.spelling_to_turn_end.astype(np.int64)
    usable = applicable(flags, suffix, utterances, utterances, english=True)
    mask = rng.integers(0, 256, len(utterances))
    checked = 0
    for u, use, m in zip(utterances.tolist(), usable.tolist(), mask.tolist(), strict=True):
        n = bin(use).count("1")
        replays = min(2**n, 8)
        text = corpus.utterance(u)
        picks = choose(np.full(replays, use), np.full(replays, m), np.arange(replays))
        spelt = {respell(text, int(c), 0) for c in picks}
        assert len(spelt) == replays, (text, use)
        checked += replays > 1
    assert checked > 2500


def test_applicable_flags_match_the_text_they_describe() -> None:
    """What the cache says applies to a paragraph span is what utterance_flags finds in its text."""
    corpus = load_corpus("en_US")
    turns = np.flatnonzero(np.diff(corpus.turn_start) >= 3)[:500]
    first, last = corpus.turn_start[turns], corpus.turn_start[turns + 1] - 1
    usable = applicable(
        corpus.spelling.astype(np.int64), corpus.spelling_to_turn_end.astype(np.int64), first, last, True
    )
    for t, use in zip(turns.tolist(), usable.tolist(), strict=True):
        text = corpus.turn(t)
        whole = utterance_flags(text.replace("\n", " "))
        for bit in (END, START, I_WORDS, APOSTROPHES, COMMAS, TEXTING):
            assert bool(use & bit) == bool(whole & bit), (text, bit)


def _spans_respelt_both_ways(corpus: Corpus, first: np.ndarray, last: np.ndarray, seed: int) -> None:
    """respell_spans gives what respell_all gives, for any applicable variants and line breaks."""
    rng = np.random.default_rng(seed)
    usable = applicable(
        corpus.spelling.astype(np.int64), corpus.spelling_to_turn_end.astype(np.int64), first, last, True
    )
    chosen = usable & rng.integers(0, 256, len(first))
    breaks = rng.integers(0, 1 << 16, len(first))
    fast = respell_spans(corpus, first, last, chosen, breaks)
    texts = [corpus.lines(int(a), int(b) + 1) for a, b in zip(first, last, strict=True)]
    respell_all(texts, chosen, breaks.tolist())
    assert fast == texts


@pytest.mark.parametrize("locale", ["en_US", "es_ES", "ru_RU", "ja_JP"])
def test_respelling_spans_matches_respelling_texts(locale: str) -> None:
    """Every variant on every text, whatever its script (the English-only ones too: respell_spans does not
    rely on the corpus being English or ASCII)."""
    corpus = load_corpus(locale)
    rng = np.random.default_rng(11)
    turns = rng.choice(corpus.turns, min(60_000, corpus.turns), replace=False)
    count = corpus.turn_start[turns + 1] - corpus.turn_start[turns]
    last = corpus.turn_start[turns + 1] - 1
    # A paragraph from a random utterance of the turn to its end, or a single utterance.
    first = corpus.turn_start[turns] + (rng.random(len(turns)) * count).astype(np.int64)
    single = rng.random(len(turns)) < 0.5
    _spans_respelt_both_ways(corpus, first, np.where(single, first, last), seed=1)
    _spans_respelt_both_ways(corpus, corpus.turn_start[turns], last, seed=2)


@pytest.mark.parametrize("locale", ["en_US", "ja_JP"])
def test_respelling_spans_of_consecutive_turns(locale: str) -> None:
    """Spans that follow one another in the corpus (as a channel's messages mostly do) are read as runs:
    whole turns, single last utterances, and runs broken by a skipped or repeated turn."""
    corpus = load_corpus(locale)
    rng = np.random.default_rng(5)
    size = min(20_000, corpus.turns // 2)
    turns = np.arange(size) + int(rng.integers(0, corpus.turns - size - 1))
    turns[rng.random(len(turns)) < 0.1] += 1  # some turns repeated or skipped
    first, last = corpus.turn_start[turns], corpus.turn_start[turns + 1] - 1
    _spans_respelt_both_ways(corpus, first, last, seed=3)
    _spans_respelt_both_ways(corpus, last, last, seed=4)


def test_respelling_spans_at_the_edges() -> None:
    """Non-ASCII first letters, an "i" second letter (respell_all's text[1:] counts it as a word), short
    utterances, every end mark."""
    lines = [
        "Hi there i am here",
        "Hi there I am here.",
        "Hi",
        "I",
        "i?",
        "Ai! i think so",
        "Éi, i think so!",
        "Éric and i agree",
        "Hié i said",
        "Hi\u00e9 i said",
        "x",
        "...",
        "Wait... i know",
        "i and I and i",
        "'i' is a letter, you're right",
        "by the way i'm going to be honest",
        "Ça va, i guess?",
        "Because you,are 'you' and people's thanks'",
        "THANKS, you're right because you are",
        "I am going",
        "to be honest with you",
        "Kind",
        "Of thanks ok",
        "Okay bye",
        "so 'you' said ok, you,are 'sure' thanks",
        "you're right, thanks, people's choice",
    ]
    corpus = build_corpus("edges", [[lines, lines[::-1]], [lines[3:], lines[:3]]], load_word_filter())
    assert corpus.utterances == 3 * len(lines)
    hazards = corpus.swap_hazards.tolist()
    for line, hazard in [
        ("Ai! i think so", False),
        ("Because you,are 'you' and people's thanks'", True),  # ends with an apostrophe
        ("so 'you' said ok, you,are 'sure' thanks", True),  # dropping either makes or unmakes a word
        ("you're right, thanks, people's choice", False),  # dropping both changes no word
        ("I am going", True),  # at its line break: "going" / "to"
    ]:
        u = lines.index(line)  # in the first turn
        assert any(corpus.offsets[u] <= at < corpus.offsets[u + 1] for at in hazards) == hazard, line
    turns = np.arange(corpus.turns)
    last = corpus.turn_start[turns + 1] - 1
    for seed in range(40):
        everyone = np.arange(corpus.utterances)
        _spans_respelt_both_ways(corpus, everyone, everyone, seed)
        starts = np.concatenate([corpus.turn_start[turns] + k for k in range(3)])
        _spans_respelt_both_ways(corpus, starts, np.tile(last, 3), seed)


def test_i_word_offsets_are_the_i_words_of_each_utterance() -> None:
    corpus = load_corpus("en_US")
    expected = [
        start + m.start()
        for start, text in zip(corpus.offsets, corpus.iter_utterances(), strict=False)
        for m in re.finditer(r"\b[Ii]\b", text)
    ]
    assert corpus.i_words.tolist() == expected
    assert i_word_offsets("é i\nI".encode()).tolist() == [3, 5]


def test_word_swaps_are_where_the_regexes_swap() -> None:
    blob = b"Going to go, are you?\nthanks y'all, you're ok?\nKind\nof\n"
    bits = spelling.SWAP_WORD_BITS
    assert word_swaps(blob, SHORTHAND).tolist() == [0 << bits | 0, 22 << bits | 15]  # "Going to", "thanks"
    assert word_swaps(blob, TEXTING).tolist() == [13 << bits | 2, 17 << bits | 0]  # "are", "you"
    assert swap_hazards(blob).tolist() == [blob.index(b"\nof")]  # "Kind" / "of" on separate lines
    # Dropping apostrophes makes "you" a word; dropping commas unmakes "are"; "you're" stays no match.
    assert swap_hazards(b"say 'you' ok\nyou,are\nyou're here, ok\n").tolist() == [0, 13]
    assert word_swaps("é you\n".encode(), TEXTING).tolist() == [3 << bits]  # byte offsets

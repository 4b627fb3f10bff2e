"""Spelling variants: which apply, the replay bits going to applicable ones, distinct spellings per replay."""

from __future__ import annotations

import numpy as np

from backend.seeding import spelling
from backend.seeding.corpus import load_corpus
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
    respell,
    utterance_flags,
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

"""Message text from corpus turns: sentences and paragraphs, spelling by replay, quirks, decorations."""

from __future__ import annotations

import numpy as np
import pytest

from backend.seeding.chat_text import (
    DECORATIONS,
    Decorated,
    _typo,
    _typos,
    decoration_bands,
    message_texts,
)
from backend.seeding.corpus import build_corpus, load_word_filter
from backend.seeding.keyed import IntArray

CORPUS = build_corpus(
    "test",
    [
        [["Hello there.", "How are you doing?"], ["Fine, thanks.", "And you?", "Busy week."]],
        [["Did you see the game?"], ["Yes! What a finish."]],
    ],
    load_word_filter(),
)
TOPICS = ("release", "design")


PLAIN = 0xFFFF_FFFF_FFFF_FFFF  # every byte at its top: no quirk, no later start, no further run-on


def _no_variant(starts: np.ndarray) -> np.ndarray:
    return np.full(len(starts), PLAIN, dtype=np.uint64)  # every mask byte at its top: no spelling variant


def _draws(
    n: int,
    *,
    paragraph: bool,
    utterance: float,
    style: int = PLAIN,
    decoration: float = 0.99,
    replay: int = 0,
) -> Decorated:
    return Decorated(
        paragraph=np.full(n, 0.0 if paragraph else 1.0),
        utterance=np.full(n, utterance),
        style=np.full(n, style, dtype=np.uint64),
        decoration=np.full(n, decoration),
        pick=np.zeros(n, dtype=np.uint64),
        replay=np.full(n, replay, dtype=np.int64),
        text_mask=_no_variant,
    )


def _bo(which: IntArray) -> list[str]:
    """Every message answers Bo."""
    return ["Bo"] * len(which)


def _texts(turns: list[int], draws: Decorated, rich: bool = False) -> list[str]:
    return message_texts(
        CORPUS, np.array(turns), draws, _bo, TOPICS, english=True, rich=rich, paragraph_share=0.4
    )


def test_paragraph_is_the_whole_turn_and_sentence_one_utterance() -> None:
    assert _texts([1], _draws(1, paragraph=True, utterance=0.0)) == ["Fine, thanks.\nAnd you?\nBusy week."]
    assert _texts([1], _draws(1, paragraph=False, utterance=0.0)) == ["Busy week."]  # the turn's last
    assert _texts([1], _draws(1, paragraph=False, utterance=0.5)) == ["Fine, thanks."]  # any: the first
    assert _texts([2], _draws(1, paragraph=True, utterance=0.0)) == ["Did you see the game?"]  # one utterance


def _style(*bytes_below: int) -> int:
    """A style draw where the given bytes are 0 (the quirk applies) and the others 0xFF."""
    value = PLAIN
    for byte in bytes_below:
        value &= ~(0xFF << (8 * byte))
    return value


def test_quirks() -> None:
    def styled(turn: int, *styles: int) -> str:
        return _texts([turn], _draws(1, paragraph=False, utterance=0.0, style=_style(*styles)))[0]

    assert styled(1) == "Busy week."
    assert styled(3, 0) == "yes! what a finish."  # all lower case
    assert styled(1, 1) == "Busy week. lol"  # a laugh (pick 0)
    assert styled(3, 2) == "Yes! What a fniish."  # a typo: two letters of a word of five or more swapped
    assert styled(3, 3) == "Bo, yes! What a finish."  # the addressee's name in front


def test_replays_of_a_turn_are_spelt_differently() -> None:
    """Turn 3 ("Yes! What a finish.") has two variants that apply (end, start): four spellings."""
    texts = [_texts([3], _draws(1, paragraph=False, utterance=0.0, replay=r))[0] for r in range(4)]
    assert texts == ["Yes! What a finish.", "Yes! What a finish", "yes! What a finish.", "yes! What a finish"]


def test_a_paragraph_may_start_later_and_run_lines_together() -> None:
    later = _style(4)  # byte 4 below LATER_START, byte 5 = 0: skip one utterance
    assert _texts([1], _draws(1, paragraph=True, utterance=0.0, style=later)) == ["And you?\nBusy week."]
    # Applicable here: end, start, run-on, commas; replay bit n flips the n-th of them.
    respelt = [_texts([1], _draws(1, paragraph=True, utterance=0.0, replay=r))[0] for r in (4, 8)]
    assert respelt == ["Fine, thanks. And you?\nBusy week.", "Fine thanks.\nAnd you?\nBusy week."]


@pytest.mark.parametrize("rich", [False, True])
def test_every_decoration_is_reachable(rich: bool) -> None:
    bands = decoration_bands(rich)
    assert len(bands) == len(DECORATIONS) and bands[-1] < 1.0
    lows = np.r_[0.0, bands[:-1]]
    draws = Decorated(
        paragraph=np.ones(len(bands)),
        utterance=np.zeros(len(bands)),
        style=np.full(len(bands), PLAIN, dtype=np.uint64),
        decoration=(lows + bands) / 2,  # the middle of each band
        pick=np.zeros(len(bands), dtype=np.uint64),
        replay=np.zeros(len(bands), dtype=np.int64),
        text_mask=_no_variant,
    )
    texts = _texts([3] * len(bands), draws, rich=rich)
    assert texts[0] == "@Bo Yes! What a finish."
    assert texts[2].startswith("Yes! What a finish. https://")
    assert "`" in texts[3] and "```" in texts[4]
    assert texts[6] == "Yes! **What** a finish."  # a word in bold (pick 0: the first of four letters or more)


def test_paragraph_share_by_count_follows_the_option() -> None:
    """Only multi-utterance turns can be paragraphs: they are chosen more often, so the count share holds."""
    assert CORPUS.multi_utterance_share == 0.5  # 2 of the 4 turns
    rng = np.random.default_rng(3)
    n = 20_000
    turns = rng.integers(0, CORPUS.turns, n)
    draws = Decorated(
        paragraph=rng.random(n),
        utterance=rng.random(n),
        style=np.full(n, PLAIN, dtype=np.uint64),
        decoration=np.full(n, 0.99),
        pick=np.zeros(n, dtype=np.uint64),
        replay=np.zeros(n, dtype=np.int64),
        text_mask=_no_variant,
    )
    texts = message_texts(CORPUS, turns, draws, _bo, TOPICS, english=True, rich=False, paragraph_share=0.4)
    assert abs(sum("\n" in t for t in texts) / n - 0.4) < 0.02


def test_typos_in_one_pass_are_the_typo_of_each_text() -> None:
    texts = [
        "Yes! What a finish.",
        "no long word here",
        "abcde",  # a word of exactly five letters, the whole text
        "ÉCOLE café résumés naïve words",  # non-ASCII letters end a run of [a-z]
        "SHOUTING lowercase MIXEDcase",
        "",
        "trailing wordsss",
        "a\nnewline between paragraphs",
    ]
    rng = np.random.default_rng(7)
    spots = rng.integers(0, 1 << 24, len(texts))
    expected = [_typo(text, int(spot)) for text, spot in zip(texts, spots, strict=True)]
    assert expected[1] == texts[1] and expected[0] != texts[0], "a typo where a long word is, only there"
    got = list(texts)
    _typos(got, list(range(len(texts))), spots)
    assert got == expected
    got = ["x", *texts]
    _typos(got, [2, 4], spots[[1, 3]])  # only the texts named
    assert got == ["x", texts[0], expected[1], texts[2], expected[3], *texts[4:]]
    with_nul = ["a\x00bcdefgh ijklmn", "opqrstu"]  # a NUL cannot separate the texts: the slow way
    got = list(with_nul)
    _typos(got, [0, 1], spots[:2])
    assert got == [_typo(t, int(s)) for t, s in zip(with_nul, spots[:2], strict=True)]

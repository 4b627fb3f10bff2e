"""Message text from corpus turns: sentences and paragraphs, styles, decorations (bold included when rich)."""

from __future__ import annotations

import numpy as np
import pytest

from backend.seeding.chat_text import DECORATIONS, Decorated, decoration_bands, message_texts
from backend.seeding.corpus import build_corpus, load_word_filter

CORPUS = build_corpus(
    "test",
    [
        [["Hello there.", "How are you doing?"], ["Fine, thanks.", "And you?", "Busy week."]],
        [["Did you see the game?"], ["Yes! What a finish."]],
    ],
    load_word_filter(),
)
TOPICS = ("release", "design")


def _draws(
    n: int, *, paragraph: bool, utterance: float, style: int = 0xFFFF_FFFF, decoration: float = 0.99
) -> Decorated:
    return Decorated(
        paragraph=np.full(n, paragraph),
        utterance=np.full(n, utterance),
        style=np.full(n, style, dtype=np.uint64),
        decoration=np.full(n, decoration),
    )


def _texts(turns: list[int], draws: Decorated, rich: bool = False) -> list[str]:
    names = ["Bo"] * len(turns)
    return message_texts(CORPUS, np.array(turns), draws, names, TOPICS, english=True, rich=rich)


def test_paragraph_is_the_whole_turn_and_sentence_one_utterance() -> None:
    assert _texts([1], _draws(1, paragraph=True, utterance=0.0)) == ["Fine, thanks.\nAnd you?\nBusy week."]
    assert _texts([1], _draws(1, paragraph=False, utterance=0.0)) == ["Busy week."]  # the turn's last
    assert _texts([1], _draws(1, paragraph=False, utterance=0.5)) == ["Fine, thanks."]  # any: the first
    assert _texts([2], _draws(1, paragraph=True, utterance=0.0)) == ["Did you see the game?"]  # one utterance


def test_writing_style_lowers_the_start_and_drops_the_full_stop() -> None:
    styled = _texts([1], _draws(1, paragraph=False, utterance=0.0, style=0))
    assert styled == ["busy week"]


@pytest.mark.parametrize("rich", [False, True])
def test_every_decoration_is_reachable(rich: bool) -> None:
    bands = decoration_bands(rich)
    assert len(bands) == len(DECORATIONS) and bands[-1] < 1.0
    lows = np.r_[0.0, bands[:-1]]
    draws = Decorated(
        paragraph=np.zeros(len(bands), dtype=bool),
        utterance=np.zeros(len(bands)),
        style=np.full(len(bands), 0xFFFF_FFFF, dtype=np.uint64),
        decoration=(lows + bands) / 2,  # the middle of each band
    )
    texts = _texts([3] * len(bands), draws, rich=rich)
    assert texts[0] == "@Bo Yes! What a finish."
    assert texts[2].startswith("Yes! What a finish. https://")
    assert "`" in texts[3] and "```" in texts[4]
    assert texts[6].startswith("**") and "**: Yes! What a finish." in texts[6]

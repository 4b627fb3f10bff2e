"""Message text: a corpus turn (or one utterance of it), in a keyed writing style, with chat decorations.

A "paragraph" message carries its whole turn (the utterances on separate lines); a "sentence" message one
utterance of it (the turn's last, which the next turn usually answers, or another). The writing style varies
per message (a lower-case start, no final full stop), as people's does, so a turn replayed in several
channels rarely gives the same text twice. At most one decoration is added, chosen by bands of one keyed
draw: a mention of another participant, an opener (English), a link, inline code, a code block, an emoji,
or a bold topic; --rich-text doubles every band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from backend.seeding.corpus import Corpus
from backend.seeding.keyed import FloatArray, IntArray, UInt64Array
from backend.seeding.text import CHAT_OPENERS, CODE_BLOCKS, CODE_SNIPPETS, EMOJI, LINK_HOSTS

# Decorations, in band order: share of messages each gets (doubled with --rich-text; the total stays < 1).
DECORATIONS = (
    ("mention", 0.08),
    ("opener", 0.03),
    ("link", 0.03),
    ("code", 0.02),
    ("code_block", 0.005),
    ("emoji", 0.12),
    ("bold", 0.03),
)
RICH_FACTOR = 2.0
LAST_UTTERANCE = 0.5  # a sentence message is its turn's last utterance this often, else any of them
LOWER_START = 0.25
NO_FULL_STOP = 0.35


def decoration_bands(rich: bool) -> FloatArray:
    """Upper ends of the decoration bands in [0, 1): a draw below the first is a mention, and so on."""
    shares = np.array([share for _, share in DECORATIONS]) * (RICH_FACTOR if rich else 1.0)
    bands = np.cumsum(shares)
    if bands[-1] >= 1.0:
        raise ValueError("decoration shares must leave room for undecorated messages")
    return bands  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Decorated:
    """Keyed draws per message, made by the caller (which knows the row keys)."""

    paragraph: npt.NDArray[np.bool_]
    utterance: FloatArray  # which utterance a sentence message takes
    style: UInt64Array  # bits for the writing style and the decoration's pick
    decoration: FloatArray  # which band (if any)


def message_texts(
    corpus: Corpus,
    turns: IntArray,
    draws: Decorated,
    mention_names: Sequence[str],
    topics: Sequence[str],
    english: bool,
    rich: bool,
) -> list[str]:
    """The text of each message; mention_names[i] is whom message i would mention (never its author)."""
    first = corpus.turn_start[turns]
    count = corpus.turn_start[turns + 1] - first
    any_one = first + np.minimum((draws.utterance - LAST_UTTERANCE) / (1 - LAST_UTTERANCE) * count, count - 1)
    single = np.where(draws.utterance < LAST_UTTERANCE, first + count - 1, any_one.astype(np.int64))
    whole = draws.paragraph & (count > 1)
    lo = np.where(whole, first, single).tolist()
    hi = np.where(whole, first + count, single + 1).tolist()
    kind = np.searchsorted(decoration_bands(rich), draws.decoration, side="right").tolist()
    style = draws.style
    lower = ((style & np.uint64(0xFFFF)).astype(np.float64) / 65536.0 < LOWER_START).tolist()
    no_stop = (
        ((style >> np.uint64(16)) & np.uint64(0xFFFF)).astype(np.float64) / 65536.0 < NO_FULL_STOP
    ).tolist()
    pick = (style >> np.uint64(32)).astype(np.int64).tolist()
    blob, starts = corpus.blob, corpus.offsets
    out = []
    for i in range(len(lo)):
        a, b = lo[i], hi[i]
        if b - a == 1:
            text = blob[starts[a] : starts[b]].decode()
        else:
            text = "\n".join(blob[starts[u] : starts[u + 1]].decode() for u in range(a, b))
        if lower[i] and text[:1].isupper() and text[1:2].islower():
            text = text[0].lower() + text[1:]
        if no_stop[i] and text.endswith(".") and not text.endswith(".."):
            text = text[:-1]
        out.append(_decorate(text, kind[i], pick[i], mention_names[i], topics, english))
    return out


def _decorate(text: str, kind: int, p: int, mention: str, topics: Sequence[str], english: bool) -> str:
    if kind == 0:
        return f"@{mention} {text}"
    if kind == 1:
        return (
            f"{CHAT_OPENERS[p % len(CHAT_OPENERS)]} {text}" if english else f"{text} {EMOJI[p % len(EMOJI)]}"
        )
    if kind == 2:
        host, topic = LINK_HOSTS[p % len(LINK_HOSTS)], topics[p % len(topics)]
        return f"{text} {host}/{topic}/{p % 9973}"
    if kind == 3:
        return f"{text} `{CODE_SNIPPETS[p % len(CODE_SNIPPETS)]}`"
    if kind == 4:
        return f"{text}\n```\n{CODE_BLOCKS[p % len(CODE_BLOCKS)]}\n```"
    if kind == 5:
        return f"{text} {EMOJI[p % len(EMOJI)]}"
    if kind == 6:
        return f"**{topics[p % len(topics)]}**: {text}"
    return text

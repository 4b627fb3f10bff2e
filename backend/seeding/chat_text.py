"""Message text: a corpus turn (or one utterance of it), in a keyed writing style, with chat decorations.

A "paragraph" message carries its whole turn (the utterances on separate lines); a "sentence" message one
utterance of it (the turn's last, which the next turn usually answers, or another). Only turns of several
utterances can be paragraphs, so they become one with probability paragraph_share / (share of such turns):
the paragraph share by count stays the option's (where the corpus has enough such turns). The writing
style varies per message (a lower-case start, no final full stop, ...), as people's does, so a turn
replayed in several channels rarely gives the same text twice. At most one decoration is added, chosen by
bands of one keyed draw: a mention of another participant, an opener (English), a link, inline code, a
code block, an emoji, or a bold topic; --rich-text doubles every band.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from backend.seeding.corpus import Corpus
from backend.seeding.keyed import FloatArray, IntArray, UInt64Array
from backend.seeding.text import CODE_BLOCKS, CODE_SNIPPETS, EMOJI, LINK_HOSTS

# Decorations, in band order: share of messages each gets (doubled with --rich-text; the total stays < 1).
DECORATIONS = (
    ("mention", 0.08),
    ("opener", 0.04),
    ("link", 0.02),
    ("code", 0.01),
    ("code_block", 0.004),
    ("emoji", 0.12),
    ("bold", 0.02),
)
# Openers that fit in front of any chat line (English only).
OPENERS = ("btw", "haha", "lol", "ok so", "hmm,", "oh", "yeah,", "well,", "honestly", "wait,", "omg", "hey,")
RICH_FACTOR = 2.0
LAST_UTTERANCE = 0.5  # a sentence message is its turn's last utterance this often, else any of them
# Writing styles, each its own byte of the style draw: the share of messages written that way.
LOWER_START = 0.25  # "so what..." for "So what..."
NO_FULL_STOP = 0.35  # no final "."
ALL_LOWER = 0.1
NO_APOSTROPHES = 0.12  # "dont", "im"
DOUBLED_MARK = 0.15  # "??" or "!!" at the end
LAUGH = 0.05  # a trailing "lol", "haha", ...
LAUGHS = ("lol", "haha", "hahaha", "lmao", "hehe", ":D")
STYLE_SHARES = (LOWER_START, NO_FULL_STOP, ALL_LOWER, NO_APOSTROPHES, DOUBLED_MARK, LAUGH)  # byte i -> bit i
LOWER_START_BIT, NO_FULL_STOP_BIT, ALL_LOWER_BIT, NO_APOSTROPHES_BIT, DOUBLED_MARK_BIT, LAUGH_BIT = (
    1 << i for i in range(len(STYLE_SHARES))
)


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

    paragraph: FloatArray  # below the paragraph probability: the whole turn
    utterance: FloatArray  # which utterance a sentence message takes
    style: UInt64Array  # one byte per writing style
    decoration: FloatArray  # which band (if any)
    pick: UInt64Array  # which opener, link, snippet, emoji, topic


def message_texts(
    corpus: Corpus,
    turns: IntArray,
    draws: Decorated,
    mention_name: Callable[[int], str],
    topics: Sequence[str],
    english: bool,
    rich: bool,
    paragraph_share: float,
) -> list[str]:
    """The text of each message; mention_name(i) names whom message i would mention (never its author)."""
    first = corpus.turn_start[turns]
    count = corpus.turn_start[turns + 1] - first
    any_one = first + np.minimum((draws.utterance - LAST_UTTERANCE) / (1 - LAST_UTTERANCE) * count, count - 1)
    single = np.where(draws.utterance < LAST_UTTERANCE, first + count - 1, any_one.astype(np.int64))
    whole = (draws.paragraph < paragraph_share / max(corpus.multi_utterance_share, 1e-9)) & (count > 1)
    offsets = corpus.utterance_start
    begin = offsets[np.where(whole, first, single)].tolist()
    end = (offsets[np.where(whole, first + count, single + 1)] - 1).tolist()  # the last newline left out
    kind = np.searchsorted(decoration_bands(rich), draws.decoration, side="right").tolist()
    # One bit per writing style, so a message without any (a third of them) costs one test.
    styles = np.zeros(len(turns), dtype=np.int64)
    for byte, share in enumerate(STYLE_SHARES):
        styles |= (_style_share(draws.style, byte) < share).astype(np.int64) << byte
    pick = (draws.pick >> np.uint64(8)).astype(np.int64).tolist()
    blob, undecorated = corpus.blob, len(DECORATIONS)
    out = []
    for i, (a, b, style, decoration) in enumerate(zip(begin, end, styles.tolist(), kind, strict=True)):
        text = blob[a:b].decode()
        if style:
            text = _restyle(text, style, pick[i])
        if decoration == 0:
            text = f"@{mention_name(i)} {text}"
        elif decoration < undecorated:
            text = _decorate(text, decoration, pick[i], topics, english)
        out.append(text)
    return out


def _restyle(text: str, style: int, pick: int) -> str:
    if style & ALL_LOWER_BIT:
        text = text.lower()
    elif style & LOWER_START_BIT and text[:1].isupper() and text[1:2].islower():
        text = text[0].lower() + text[1:]
    if style & NO_APOSTROPHES_BIT:
        text = text.replace("'", "")
    if style & NO_FULL_STOP_BIT and text.endswith(".") and not text.endswith(".."):
        text = text[:-1]
    if style & DOUBLED_MARK_BIT and text[-1:] in ("?", "!"):
        text += text[-1]
    if style & LAUGH_BIT:
        text = f"{text} {LAUGHS[pick % len(LAUGHS)]}"
    return text


def _style_share(style: UInt64Array, byte: int) -> FloatArray:
    """Byte `byte` of each style draw as a share in [0, 1)."""
    return ((style >> np.uint64(8 * byte)) & np.uint64(0xFF)).astype(np.float64) / 256.0  # type: ignore[no-any-return]


def _decorate(text: str, kind: int, p: int, topics: Sequence[str], english: bool) -> str:
    if kind == 1:
        return f"{OPENERS[p % len(OPENERS)]} {text}" if english else f"{text} {EMOJI[p % len(EMOJI)]}"
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

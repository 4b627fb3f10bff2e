"""Message text: a corpus turn (or one utterance of it), written in a variant, with chat decorations.

A "paragraph" message carries its whole turn (the utterances on separate lines, some run together) or the
turn from a later utterance on; a "sentence" message one utterance of it (the turn's last, which the next turn
usually answers, or another). Only turns of several utterances can be paragraphs, so they become one with
probability paragraph_share / (share of such turns): the paragraph share by count stays the option's (where
the corpus has enough such turns). The spelling varies as people's does (no final full stop, a lower-case
start, "i", no apostrophes, chat shorthand, a typo, the addressee's name in front, ...). At the load
profile the run replays each corpus turn several times; the variants are chosen from the replay number, so
the replays of a text are spelt differently and a long text rarely occurs twice. At most one decoration is
added, chosen by bands of one keyed draw: a mention of another participant, an opener (English), a link,
inline code, a code block, an emoji, or a word in bold; --rich-text doubles every band.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from backend.seeding import spelling
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

# Per-message quirks, each its own byte of the style draw (bytes 4-7: where a paragraph starts, line breaks).
ALL_LOWER = 0.08
LAUGH = 0.05  # a trailing "lol", "haha", ...
TYPO = 0.05  # two neighbouring letters swapped in one longer word
VOCATIVE = 0.08  # the addressee's first name in front: "Sam, ..."
QUIRK_SHARES = (ALL_LOWER, LAUGH, TYPO, VOCATIVE)
ALL_LOWER_BIT, LAUGH_BIT, TYPO_BIT, VOCATIVE_BIT = (1 << i for i in range(len(QUIRK_SHARES)))
LAUGHS = ("lol", "haha", "hahaha", "lmao", "hehe", ":D")
LATER_START = 0.4  # a paragraph of three utterances or more starts at a later one
_LONG_WORD = re.compile(r"[a-z]{5,}")
_EMPHASIS = re.compile(r"[^\W\d_]{4,}")  # a word worth putting in bold


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
    style: UInt64Array  # one byte per quirk, then where a paragraph starts and which line breaks go
    decoration: FloatArray  # which band (if any)
    pick: UInt64Array  # which opener, link, snippet, emoji, topic; where a typo goes
    replay: IntArray  # how many times the run replayed the message's corpus turn before
    text_mask: Callable[[IntArray], UInt64Array]  # keyed bits per text (its first byte in the corpus blob)


def message_texts(
    corpus: Corpus,
    turns: IntArray,
    draws: Decorated,
    addressee_name: Callable[[int], str],
    topics: Sequence[str],
    english: bool,
    rich: bool,
    paragraph_share: float,
) -> list[str]:
    """The text of each message; addressee_name(i) names whom message i answers (never its author)."""
    first = corpus.turn_start[turns]
    count = corpus.turn_start[turns + 1] - first
    any_one = first + np.minimum((draws.utterance - LAST_UTTERANCE) / (1 - LAST_UTTERANCE) * count, count - 1)
    single = np.where(draws.utterance < LAST_UTTERANCE, first + count - 1, any_one.astype(np.int64))
    whole = (draws.paragraph < paragraph_share / max(corpus.multi_utterance_share, 1e-9)) & (count > 1)
    # A paragraph ends with the turn's last utterance (the one the next turn answers); some start later.
    later = whole & (count > 2) & (_share_of(draws.style, 4) < LATER_START)
    skip = np.where(later, 1 + _byte(draws.style, 5) % np.maximum(count - 2, 1), 0)
    offsets = corpus.utterance_start
    start_utterance = np.where(whole, first + skip, single)
    last_utterance = np.where(whole, first + count - 1, single)
    kind = np.searchsorted(decoration_bands(rich), draws.decoration, side="right")
    quirks = _gates(draws.style, QUIRK_SHARES)
    usable = spelling.applicable(
        corpus.spelling.astype(np.int64),
        corpus.spelling_to_turn_end.astype(np.int64),
        start_utterance,
        last_utterance,
        english,
    )
    mask = _gates(draws.text_mask(offsets[start_utterance]), spelling.VARIANT_SHARES)
    chosen = spelling.choose(usable, mask, draws.replay)
    breaks = (draws.style >> np.uint64(48)).astype(np.int64)
    pick = (draws.pick >> np.uint64(8)).astype(np.int64).tolist()
    spot = (draws.pick >> np.uint64(40)).astype(np.int64).tolist()
    undecorated = len(DECORATIONS)
    texts = spelling.respell_spans(
        corpus.blob, offsets, corpus.i_words, start_utterance, last_utterance, chosen, breaks
    )
    # Quirks, then decorations, each over only the messages that take one.
    for i, quirk in zip(np.flatnonzero(quirks).tolist(), quirks[quirks != 0].tolist(), strict=True):
        texts[i] = _quirk(texts[i], quirk, pick[i], spot[i], addressee_name, i)
    decorated = np.flatnonzero(kind < undecorated)
    for i, decoration in zip(decorated.tolist(), kind[decorated].tolist(), strict=True):
        if decoration == 0:
            texts[i] = f"@{addressee_name(i)} {texts[i]}"
        else:
            texts[i] = _decorate(texts[i], decoration, pick[i], topics, english)
    return texts


def _quirk(text: str, quirk: int, pick: int, spot: int, addressee_name: Callable[[int], str], i: int) -> str:
    if quirk & ALL_LOWER_BIT:
        text = text.lower()
    if quirk & TYPO_BIT:
        words = [m.start() for m in _LONG_WORD.finditer(text)]
        if words:
            at = words[spot % len(words)] + 1 + (spot >> 8) % 3  # within the word's first five letters
            text = f"{text[:at]}{text[at + 1]}{text[at]}{text[at + 2 :]}"
    if quirk & LAUGH_BIT:
        text = f"{text} {LAUGHS[pick % len(LAUGHS)]}"
    if quirk & VOCATIVE_BIT:
        keep = text[:2] in ("I ", "I'") or not text[1:2].islower()  # "I", "OK", "NASA" stay as they are
        text = f"{addressee_name(i)}, {text if keep else text[:1].lower() + text[1:]}"
    return text


def _gates(draw: UInt64Array, shares: Sequence[float]) -> IntArray:
    """Bit i set where byte i of the draw falls below shares[i]."""
    gates = np.zeros(len(draw), dtype=np.int64)
    for byte, share in enumerate(shares):
        gates |= (_share_of(draw, byte) < share).astype(np.int64) << byte
    return gates


def _byte(draw: UInt64Array, byte: int) -> IntArray:
    return ((draw >> np.uint64(8 * byte)) & np.uint64(0xFF)).astype(np.int64)  # type: ignore[no-any-return]


def _share_of(draw: UInt64Array, byte: int) -> FloatArray:
    """Byte `byte` of each draw as a share in [0, 1)."""
    return _byte(draw, byte) / 256.0  # type: ignore[no-any-return]


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
        words = list(_EMPHASIS.finditer(text))
        if not words:
            return f"**{text}**"
        word = words[p % len(words)]
        return f"{text[: word.start()]}**{word.group()}**{text[word.end() :]}"
    return text

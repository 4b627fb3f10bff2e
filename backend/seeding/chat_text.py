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
# Decoration kinds, by band.
MENTION, OPENER, LINK, CODE, CODE_BLOCK, EMOJI_KIND, BOLD = range(len(DECORATIONS))
# What each decoration or quirk adds, ready to concatenate.
_LAUGH_ENDINGS = tuple(f" {laugh}" for laugh in LAUGHS)
_OPENER_PREFIXES = tuple(f"{opener} " for opener in OPENERS)
_EMOJI_ENDINGS = tuple(f" {emoji}" for emoji in EMOJI)
_CODE_ENDINGS = tuple(f" `{snippet}`" for snippet in CODE_SNIPPETS)
_CODE_BLOCK_ENDINGS = tuple(f"\n```\n{block}\n```" for block in CODE_BLOCKS)
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
    addressee_names: Callable[[IntArray], list[str]],
    topics: Sequence[str],
    english: bool,
    rich: bool,
    paragraph_share: float,
) -> list[str]:
    """The text of each message; addressee_names(which) names whom messages `which` answer (never their
    authors)."""
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
        corpus.spelling, corpus.spelling_to_turn_end, start_utterance, last_utterance, english
    )
    mask = _gates(draws.text_mask(offsets[start_utterance]), spelling.VARIANT_SHARES)
    chosen = spelling.choose(usable, mask, draws.replay)
    breaks = (draws.style >> np.uint64(48)).astype(np.int64)
    pick = (draws.pick >> np.uint64(8)).astype(np.int64)
    texts = spelling.respell_spans(corpus, start_utterance, last_utterance, chosen, breaks)
    # Quirks, in this order within a message, then decorations (at most one per message). Each pass goes over
    # only the messages that take it: a Python call per message would cost more than the edit itself.
    for i in np.flatnonzero(quirks & ALL_LOWER_BIT).tolist():
        texts[i] = texts[i].lower()
    typos = np.flatnonzero(quirks & TYPO_BIT)
    _typos(texts, typos.tolist(), (draws.pick[typos] >> np.uint64(40)).astype(np.int64))
    _append(texts, np.flatnonzero(quirks & LAUGH_BIT), _LAUGH_ENDINGS, pick)
    vocatives = np.flatnonzero(quirks & VOCATIVE_BIT)
    for i, name in zip(vocatives.tolist(), addressee_names(vocatives), strict=True):
        texts[i] = _vocative(texts[i], name)
    mentions = np.flatnonzero(kind == MENTION)
    for i, name in zip(mentions.tolist(), addressee_names(mentions), strict=True):
        texts[i] = f"@{name} {texts[i]}"
    if english:
        _prepend(texts, np.flatnonzero(kind == OPENER), _OPENER_PREFIXES, pick)
    else:  # openers are English: an emoji instead
        _append(texts, np.flatnonzero(kind == OPENER), _EMOJI_ENDINGS, pick)
    links = np.flatnonzero(kind == LINK)
    for i, p in zip(links.tolist(), pick[links].tolist(), strict=True):
        host, topic = LINK_HOSTS[p % len(LINK_HOSTS)], topics[p % len(topics)]
        texts[i] = f"{texts[i]} {host}/{topic}/{p % 9973}"
    _append(texts, np.flatnonzero(kind == CODE), _CODE_ENDINGS, pick)
    _append(texts, np.flatnonzero(kind == CODE_BLOCK), _CODE_BLOCK_ENDINGS, pick)
    _append(texts, np.flatnonzero(kind == EMOJI_KIND), _EMOJI_ENDINGS, pick)
    bold = np.flatnonzero(kind == BOLD)
    for i, p in zip(bold.tolist(), pick[bold].tolist(), strict=True):
        texts[i] = _bold(texts[i], p)
    return texts


def _typo(text: str, spot: int) -> str:
    """Two neighbouring letters swapped in one of the text's longer words (spot picks which, and where)."""
    words = [m.start() for m in _LONG_WORD.finditer(text)]
    if not words:
        return text
    at = words[spot % len(words)] + 1 + (spot >> 8) % 3  # within the word's first five letters
    return f"{text[:at]}{text[at + 1]}{text[at]}{text[at + 2 :]}"


def _typos(texts: list[str], which: list[int], spots: IntArray) -> None:
    """texts[i] = _typo(texts[i], spot) for each i and spot, found in one pass over the texts' code points:
    a match of [a-z]{5,} is a maximal run of those letters five or more long."""
    if not which:
        return
    joined = "\x00".join(texts[i] for i in which)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).copy()
    separators = np.flatnonzero(codes == 0)
    if len(separators) != len(which) - 1:  # a text holds a NUL: the slow way
        for i, spot in zip(which, spots.tolist(), strict=True):
            texts[i] = _typo(texts[i], spot)
        return
    letter = np.concatenate(([False], (codes >= ord("a")) & (codes <= ord("z")), [False]))
    edges = np.flatnonzero(letter[1:] != letter[:-1])  # where runs start and end, alternately
    starts, ends = edges[0::2], edges[1::2]
    words = starts[ends - starts >= 5]
    owner = np.searchsorted(separators, words)  # the text each word is in
    count = np.bincount(owner, minlength=len(which))
    first = np.cumsum(count) - count
    has = count > 0
    at = words[first[has] + spots[has] % count[has]] + 1 + (spots[has] >> 8) % 3
    codes[at], codes[at + 1] = codes[at + 1], codes[at].copy()
    for i, text in zip(which, codes.tobytes().decode("utf-32-le").split("\x00"), strict=True):
        texts[i] = text


def _vocative(text: str, name: str) -> str:
    """The addressee's name in front, the text's first letter lower-cased after it unless that would read
    wrong: "I", "OK", "NASA" stay as they are."""
    keep = text[:2] in ("I ", "I'") or not text[1:2].islower()
    return f"{name}, {text if keep else text[:1].lower() + text[1:]}"


def _bold(text: str, pick: int) -> str:
    """One word worth it (pick decides which) in bold, else the whole text."""
    words = list(_EMPHASIS.finditer(text))
    if not words:
        return f"**{text}**"
    word = words[pick % len(words)]
    return f"{text[: word.start()]}**{word.group()}**{text[word.end() :]}"


def _append(texts: list[str], which: IntArray, endings: tuple[str, ...], pick: IntArray) -> None:
    """texts[i] += endings[pick[i] % len(endings)] for each i in which."""
    chosen = [endings[e] for e in (pick[which] % len(endings)).tolist()]
    for i, ending in zip(which.tolist(), chosen, strict=True):
        texts[i] += ending


def _prepend(texts: list[str], which: IntArray, prefixes: tuple[str, ...], pick: IntArray) -> None:
    """texts[i] = prefixes[pick[i] % len(prefixes)] + texts[i] for each i in which."""
    chosen = [prefixes[e] for e in (pick[which] % len(prefixes)).tolist()]
    for i, prefix in zip(which.tolist(), chosen, strict=True):
        texts[i] = prefix + texts[i]


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

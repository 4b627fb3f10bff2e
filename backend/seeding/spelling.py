"""Spelling variants of a chat text: which apply to a text, which a message takes, and the respelt text.

A variant applies only where it changes the text (no "." to drop, no apostrophe to leave out: it does not
apply). Which variants apply to a corpus utterance is worked out once, when the corpus is built
(`utterance_flags`, `suffix_flags`), so a message's are a few array look-ups (`applicable`). A message's
variants are its text's keyed mask XOR its replay number, bit n of the replay going to the text's n-th
applicable variant (`choose`): the first 2**n replays of a text with n applicable variants are all spelt
differently, and where a run replays the corpus once or less the mask alone decides, at each variant's share.

`respell` / `respell_all` define the respelt text (variant by variant, on strings). `respell_spans` gives
the same texts for spans of the corpus faster, from what was found once when the corpus was built: the
byte offsets of its "i" words (`i_word_offsets`) and of its shorthand and texting words (`word_swaps`).
The start, "i" and run-on variants set single ASCII bytes at known places, so they commute and are applied
with numpy to one buffer of all the spans (spans that follow one another in the corpus copied as one
slice); the words are then swapped in that buffer in one join, and the end variant's last character,
apostrophes and commas dropped or added on the strings. Where that could differ from respell_all (a
non-ASCII first letter; a dropped apostrophe or comma, or a run-on line break, that can make or unmake a
shorthand: `swap_hazards`), a text goes respell_all's way.
"""

from __future__ import annotations

import itertools
import re
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from backend.seeding.keyed import IntArray, ranges, repeat_ranges

Offsets = npt.NDArray[np.int32] | npt.NDArray[np.int64]  # int32 where the corpus is small enough

# (name, share of texts written that way where the mask alone decides), in the order replay bits go to them.
VARIANTS = (
    ("end", 0.35),  # a final ".", "?" or "!" dropped (not an ellipsis), or "." added after a letter or digit
    ("start", 0.3),  # the first letter's case swapped: "so what..." for "So what..."
    ("i", 0.25),  # "i think" for "I think", or the other way round (English)
    ("apostrophes", 0.12),  # "dont", "im" (English)
    ("run_on", 0.35),  # a paragraph's first line break a space
    ("commas", 0.1),  # commas left out
    ("shorthand", 0.3),  # "gonna", "tho", "rn", ... (English; none holds an apostrophe, see TEXTING_WORDS)
    ("texting", 0.08),  # "u", "ur", "r" (English)
)
VARIANT_SHARES = tuple(share for _, share in VARIANTS)
END, START, I_WORDS, APOSTROPHES, RUN_ON_FIRST, COMMAS, SHORTHAND, TEXTING = (1 << i for i in range(8))
I_ANYWHERE = 1 << 8  # an "i" word at any position (as a later utterance of a paragraph has it)
ENGLISH_ONLY = I_WORDS | APOSTROPHES | SHORTHAND | TEXTING
CONTAINED = APOSTROPHES | COMMAS | SHORTHAND | TEXTING | I_ANYWHERE  # true of a text if of any of its lines
RUN_ON = 0.35  # each further line break of a paragraph: the next utterance on the same line

SHORTHANDS = {
    "going to": "gonna",
    "want to": "wanna",
    "got to": "gotta",
    "kind of": "kinda",
    "sort of": "sorta",
    "though": "tho",
    "because": "bc",
    "probably": "prob",
    "people": "ppl",
    "okay": "ok",
    "to be honest": "tbh",
    "right now": "rn",
    "by the way": "btw",
    "oh my god": "omg",
    "please": "pls",
    "thanks": "thx",
}
# Words with an apostrophe are left alone: the apostrophes variant comes first and must not be undone.
TEXTING_WORDS = {"you": "u", "your": "ur", "are": "r"}


def _words(words: dict[str, str]) -> re.Pattern[str]:
    """Any of the words, whole, the longest first ("are" before "a...", were there one)."""
    alternatives = sorted(words, key=len, reverse=True)
    # The look-ahead at the first letters lets the regex engine skip ahead fast (a leading \b stops it).
    firsts = "".join(sorted({c for word in words for c in (word[0].lower(), word[0].upper())}))
    body = "|".join(map(re.escape, alternatives))
    return re.compile(rf"(?=[{firsts}])\b({body})\b(?!')", re.IGNORECASE)


_SHORTHAND = _words(SHORTHANDS)
_TEXTING = _words(TEXTING_WORDS)
_SWAPPED = {SHORTHAND: (_SHORTHAND, SHORTHANDS), TEXTING: (_TEXTING, TEXTING_WORDS)}  # the word-swap variants
_I_WORD = re.compile(r"(?=[Ii])\b[Ii]\b")
_UPPER_I_WORD = re.compile(r"(?=I)\bI\b")
_BREAK = re.compile(r"(?<!\w)(\w+)\n(?=(\w+))")  # a line break between words: the words on either side
# Two neighbouring words of a shorthand phrase ("going to", "to be", "be honest", ...), case as the pattern's.
_PHRASE_PAIR = re.compile(
    "|".join(re.escape(f"{a} {b}") for phrase in SHORTHANDS for a, b in itertools.pairwise(phrase.split())),
    re.IGNORECASE,
)
# What a word swap writes, by (number in SHORTHANDS, then in TEXTING_WORDS) * 2 + 1 if capitalised.
_SWAP_BYTES = tuple(
    (short[0].upper() + short[1:] if capital else short).encode()
    for short in (*SHORTHANDS.values(), *TEXTING_WORDS.values())
    for capital in (False, True)
)
_SWAP_LENGTHS = np.array([len(word) for word in (*SHORTHANDS, *TEXTING_WORDS)])  # what a swap replaces
SWAP_WORD_BITS = 5  # word_swaps: the low bits hold the word's number in its table
_SWAP_WORDS = 1 << SWAP_WORD_BITS
assert max(len(SHORTHANDS), len(TEXTING_WORDS)) <= _SWAP_WORDS
# Shorthand and texting matches never overlap (respell_spans swaps both in one pass): no texting word is a
# word of a shorthand phrase.
assert not set(TEXTING_WORDS) & {word for phrase in SHORTHANDS for word in phrase.split()}


def _byte_set(members: bytes) -> npt.NDArray[np.bool_]:
    """A 256-entry table: True at the given bytes (a look-up per byte, cheaper than np.isin)."""
    table = np.zeros(256, dtype=bool)
    table[np.frombuffer(members, dtype=np.uint8)] = True
    return table


# Bytes respell_spans looks at: the end variant's marks, the "i" letters, ASCII word characters (as \w).
_END_MARKS = _byte_set(b".?!")
_I_LETTERS = _byte_set(b"Ii")
_ASCII_WORD = _byte_set(b"0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
SPAN_CHUNK = 4096  # spans respelt at once: larger chunks save little CPU and cost worker memory
_SPAN_SEPARATOR = b"\x00"  # between the spans in respell_spans' buffer (the corpus holds no NUL)


def utterance_flags(text: str) -> int:
    """The variants that apply to one utterance on its own (and I_ANYWHERE)."""
    last, first = text[-1:], text[:1]
    flags = END if last.isalnum() or (last and last in ".?!" and not text.endswith("..")) else 0
    if first.isalpha() and first != first.swapcase():
        flags |= START
    if _I_WORD.search(text, 1):
        flags |= I_WORDS
    if flags & I_WORDS or _I_WORD.match(text):
        flags |= I_ANYWHERE
    if "'" in text:
        flags |= APOSTROPHES
    if "," in text:
        flags |= COMMAS
    if _SHORTHAND.search(text):
        flags |= SHORTHAND
    if _TEXTING.search(text):
        flags |= TEXTING
    return flags


def i_word_offsets(blob: bytes) -> Offsets:
    """Byte offsets of the "i" / "I" words in a corpus blob (utterances separated by newlines), ascending."""
    text = blob.decode()
    return _compact(_byte_offsets(blob, text, [m.start() for m in _I_WORD.finditer(text)]), len(blob))


def word_swaps(blob: bytes, variant: int) -> Offsets:
    """Where the SHORTHAND or TEXTING variant swaps a word in a corpus blob, ascending, each as its byte
    offset << SWAP_WORD_BITS | the number of the word in its table (SHORTHANDS, TEXTING_WORDS). Only ASCII
    matches are kept (the others are among swap_hazards), so a match is as long as its word."""
    pattern, table = _SWAPPED[variant]
    text = blob.decode()
    number = {word: n for n, word in enumerate(table)}
    found = [(m.start(), number[m[1].lower()]) for m in pattern.finditer(text) if m[0].isascii()]
    starts = _byte_offsets(blob, text, [start for start, _ in found])
    swaps = (starts << SWAP_WORD_BITS) | np.array([n for _, n in found], dtype=np.int64)
    return _compact(swaps, len(blob) << SWAP_WORD_BITS)


def _compact(values: IntArray, largest: int) -> Offsets:
    """values as int32 where they are all below 2**31 (largest bounds them): half the cache and page-ins."""
    return values.astype(np.int32) if largest < 2**31 else values


def swap_hazards(blob: bytes) -> IntArray:
    """Byte offsets, ascending, where word_swaps may not tell what respell_all's regexes find in a text:

    - a match that is not ASCII;
    - a line break between two words that would be part of a shorthand ("going" / "to"): a run-on join may
      make a match there;
    - the start of an utterance where dropping its apostrophes, its commas or both (as respell_all does
      before it swaps words) makes or unmakes a match ("'you'", "you,are"), or that starts or ends with
      one (a run-on join may then make a match across the line break).
    """
    text = blob.decode()
    hazards = [m.start() for p, _ in _SWAPPED.values() for m in p.finditer(text) if not m[0].isascii()]
    hazards += [m.end(1) for m in _BREAK.finditer(text) if _PHRASE_PAIR.fullmatch(f"{m[1]} {m[2]}")]
    start = 0
    for utterance in text.split("\n"):
        if ("'" in utterance or "," in utterance) and not _swaps_survive_dropping(utterance):
            hazards.append(start)
        start += len(utterance) + 1
    return np.unique(_byte_offsets(blob, text, hazards))


def _swaps_survive_dropping(utterance: str) -> bool:
    """Whether the shorthand and texting matches of an utterance stay the same words at the same places
    (shifted by what is dropped) when its apostrophes, commas or both are dropped, none being at an end."""
    if utterance[:1] in ("'", ",") or utterance[-1:] in ("'", ","):
        return False
    found = _swap_matches(utterance)
    for dropped in ("'", ",", "',"):
        if not any(mark in utterance for mark in dropped):
            continue
        left = utterance.translate({ord(mark): None for mark in dropped})
        moved = []
        for start, end, variant, word in found:
            before = sum(utterance.count(mark, 0, start) for mark in dropped)
            moved.append((start - before, end - before, variant, word))
        if _swap_matches(left) != moved:
            return False
    return True


def _swap_matches(text: str) -> list[tuple[int, int, int, str]]:
    """(start, end, variant, word lower-cased) of each shorthand and texting match in text."""
    return [
        (m.start(), m.end(), v, m[1].lower())
        for v, (pattern, _) in _SWAPPED.items()
        for m in pattern.finditer(text)
    ]


def _byte_offsets(blob: bytes, text: str, positions: list[int]) -> IntArray:
    """Byte offsets in blob of character positions in text = blob.decode() (or of its end)."""
    found = np.array(positions, dtype=np.int64)
    if len(text) == len(blob):  # ASCII: characters are bytes
        return found
    data = np.frombuffer(blob, dtype=np.uint8)
    starts = np.append(np.flatnonzero((data & 0xC0) != 0x80), len(blob))  # where each character starts
    return starts[found]  # type: ignore[no-any-return]


def suffix_flags(flags: IntArray, turn_start: IntArray) -> IntArray:
    """Per utterance: the CONTAINED flags of it and the rest of its turn, OR-ed."""
    out = np.asarray(flags, dtype=np.int64) & CONTAINED
    turn_of = np.repeat(np.arange(len(turn_start) - 1), np.diff(turn_start))
    for u in range(len(out) - 2, -1, -1):  # once, when the corpus is built
        if turn_of[u] == turn_of[u + 1]:
            out[u] |= out[u + 1]
    return out


def applicable(
    flags: npt.NDArray[np.integer[Any]],
    suffix: npt.NDArray[np.integer[Any]],
    first: IntArray,
    last: IntArray,
    english: bool,
) -> IntArray:
    """The variants that apply to the text of utterances first..last (of one turn; last >= first).

    flags and suffix are per utterance (the corpus' uint16 arrays will do: only the entries looked up are
    widened, not the whole corpus' per call)."""
    several = last > first
    head = flags[first].astype(np.int64)
    contained = np.where(several, suffix[first].astype(np.int64), head) & CONTAINED
    later_i = np.where(several, suffix[np.minimum(first + 1, last)].astype(np.int64) & I_ANYWHERE, 0)
    out = (
        (flags[last].astype(np.int64) & END)
        | (head & (START | I_WORDS))
        | np.where(later_i > 0, I_WORDS, 0)
        | (contained & (APOSTROPHES | COMMAS | SHORTHAND | TEXTING))
        | np.where(several, RUN_ON_FIRST, 0)
    )
    return out if english else out & ~ENGLISH_ONLY  # type: ignore[no-any-return]


def choose(usable: IntArray, mask: IntArray, replay: IntArray) -> IntArray:
    """Variant bits: mask XOR replay, replay bit n going to the n-th usable variant; unusable ones off."""
    chosen = np.zeros(len(usable), dtype=np.int64)
    ordinal = np.zeros(len(usable), dtype=np.int64)
    for j in range(len(VARIANTS)):
        here = (usable >> j) & 1
        chosen |= (((mask >> j) ^ (replay >> ordinal)) & here) << j
        ordinal += here
    return chosen


def respell(text: str, chosen: int, breaks: int) -> str:
    """The text with the chosen variants; `breaks` (3 bits each) decides a paragraph's further line breaks."""
    texts = [text]
    respell_all(texts, np.array([chosen], dtype=np.int64), [breaks])
    return texts[0]


def respell_all(texts: list[str], chosen: IntArray, breaks: list[int]) -> None:
    """respell for many texts at once, in place: variant by variant, each over the texts that take it."""

    def taking(variant: int) -> list[int]:
        return np.flatnonzero(chosen & variant).tolist()  # type: ignore[no-any-return]

    for i in taking(END):
        text = texts[i]
        texts[i] = text[:-1] if text[-1] in ".?!" else text + "."
    for i in taking(START):
        text = texts[i]
        texts[i] = text[0].swapcase() + text[1:]
    for i in taking(I_WORDS):
        text = texts[i]
        upper = _UPPER_I_WORD.search(text, 1) is not None
        texts[i] = text[:1] + _I_WORD.sub("i" if upper else "I", text[1:])
    for i in taking(APOSTROPHES):
        texts[i] = texts[i].replace("'", "")
    run_on_first = (chosen & RUN_ON_FIRST).tolist()
    for i, text in enumerate(texts):
        if "\n" in text:  # a paragraph (the test is cheaper than building a list of them)
            if text.count("\n") == 1:  # most paragraphs: no further breaks to decide
                texts[i] = text.replace("\n", " ") if run_on_first[i] else text
            else:
                texts[i] = _run_on(text, bool(run_on_first[i]), breaks[i])
    for i in taking(COMMAS):
        texts[i] = texts[i].replace(",", "")
    _substitute(texts, taking(SHORTHAND), _SHORTHAND, SHORTHANDS)
    _substitute(texts, taking(TEXTING), _TEXTING, TEXTING_WORDS)


class CorpusText(Protocol):
    """What respell_spans reads from a corpus (corpus.Corpus, whose cache holds the arrays)."""

    @property
    def blob(self) -> bytes: ...  # utterances, each followed by a newline
    @property
    def utterance_start(self) -> IntArray: ...
    @property
    def i_words(self) -> Offsets: ...  # i_word_offsets(blob)
    @property
    def shorthands(self) -> Offsets: ...  # word_swaps(blob, SHORTHAND)
    @property
    def texting_words(self) -> Offsets: ...  # word_swaps(blob, TEXTING)
    @property
    def swap_hazards(self) -> IntArray: ...  # swap_hazards(blob)


def respell_spans(
    corpus: CorpusText, first: IntArray, last: IntArray, chosen: IntArray, breaks: IntArray
) -> list[str]:
    """respell_all of the texts of utterances first..last (of one turn, one per line), each with variants
    chosen from those that apply to it (`applicable`): the same texts, built faster.

    The start, "i" and run-on variants set single ASCII bytes at places known up front, so they commute and
    are applied to one buffer of all the spans at once; the shorthand and texting words found when the
    corpus was built are then swapped in that buffer, and on the strings the end variant drops or adds the
    last character and apostrophes and commas are dropped. Where that could differ from respell_all (see
    below), a text goes respell_all's way.
    """
    texts: list[str] = []
    for lo in range(0, len(first), SPAN_CHUNK):  # a chunk at a time: the buffers and index arrays stay small
        part = slice(lo, lo + SPAN_CHUNK)
        texts += _respell_chunk(corpus, first[part], last[part], chosen[part], breaks[part])
    return texts


def _respell_chunk(
    corpus: CorpusText, first: IntArray, last: IntArray, chosen: IntArray, breaks: IntArray
) -> list[str]:
    n = len(first)
    blob, offsets = corpus.blob, corpus.utterance_start
    data = np.frombuffer(blob, dtype=np.uint8)
    begin = offsets[first]
    end = offsets[last + 1] - 1  # the last newline left out
    head = data[begin]
    # Swapping the case of a non-ASCII first letter, or telling whether a non-ASCII third character ends an
    # "i" at the second (see below), needs the string: such spans are respelt by respell (none in English).
    second_i = _I_LETTERS[data[begin + 1]] & _ASCII_WORD[head]
    third = data[np.minimum(begin + 2, len(data) - 1)]
    by_string = ((chosen & (START | I_WORDS)) != 0) & (head >= 0x80)
    by_string |= ((chosen & I_WORDS) != 0) & second_i & (third >= 0x80)
    fast = np.where(by_string, 0, chosen)

    # The spans, each followed by a NUL. A message's span mostly follows the one before it in the corpus
    # (a channel replays consecutive turns): such a run of spans is one slice, its newlines then NULs.
    length = end - begin
    at = np.zeros(n, dtype=np.int64)  # where each span starts in the buffer
    np.cumsum(length[:-1] + 1, out=at[1:])
    run = np.flatnonzero(np.r_[True, begin[1:] != end[:-1] + 1])
    run_end = end[np.r_[run[1:], n] - 1]
    buffer = bytearray(_SPAN_SEPARATOR).join(
        [blob[a:b] for a, b in zip(begin[run].tolist(), run_end.tolist(), strict=True)]
    )
    out = np.frombuffer(buffer, dtype=np.uint8)
    out[at[1:] - 1] = 0

    # start: the first letter's case swapped (ASCII here: bit 5).
    out[at[(fast & START) != 0]] ^= 0x20

    # i: respell_all substitutes in text[1:], so the first character stays, and the second, an "i" after a
    # letter, counts as a word there; the "i" words from the second character on all become "i" if one of
    # them is "I", else "I".
    taking_i = np.flatnonzero(fast & I_WORDS)
    if len(taking_i):
        owner, found = _within(corpus.i_words, begin[taking_i] + 1, end[taking_i])
        upper = np.bincount(owner, weights=data[found] == ord("I"), minlength=len(taking_i)) > 0
        target = np.where(upper, ord("i"), ord("I")).astype(np.uint8)
        out[found - begin[taking_i][owner] + at[taking_i][owner]] = target[owner]
        lone_second = second_i[taking_i] & ~_ASCII_WORD[third[taking_i]]
        out[at[taking_i][lone_second] + 1] = target[lone_second]

    # run-on: a paragraph's first line break a space if chosen, each further one by 3 bits of breaks.
    paragraphs = np.flatnonzero(last > first)
    if len(paragraphs):
        count = last[paragraphs] - first[paragraphs]
        owner = np.repeat(paragraphs, count)
        nth = repeat_ranges(count)
        later = ((breaks[owner] >> np.minimum(3 * nth, 62)) & 7) / 8 < RUN_ON  # as _run_on decides
        joined = np.where(nth == 0, (fast[owner] & RUN_ON_FIRST) != 0, later)
        newline = offsets[first[owner] + nth + 1] - 1
        out[(newline - begin[owner] + at[owner])[joined]] = ord(" ")

    # shorthand, texting: the words found in the corpus swapped, capitalised like the buffer's first letter
    # (after the start variant). Apostrophes and commas are dropped after, not before as respell_all does,
    # which gives the same text except where swap_hazards says otherwise (and respell_all's regex could see
    # a shorthand across a line break run on): such texts go respell_all's way (_substitute, below).
    hazards = corpus.swap_hazards
    swapping = (fast & (SHORTHAND | TEXTING)) != 0
    by_regex = by_string | (swapping & (np.searchsorted(hazards, end) > np.searchsorted(hazards, begin)))
    swaps = [
        _swaps_within(words, np.flatnonzero(((fast & variant) != 0) & ~by_regex), begin, end, at, base)
        for words, variant, base in (
            (corpus.shorthands, SHORTHAND, 0),
            (corpus.texting_words, TEXTING, len(SHORTHANDS)),
        )
    ]
    where = np.concatenate([w for w, _ in swaps])
    if len(where):
        order = np.argsort(where, kind="stable")
        where = where[order]
        word = np.concatenate([w for _, w in swaps])[order]
        capital = (out[where] >= ord("A")) & (out[where] <= ord("Z"))
        kept_from = np.append(0, where + _SWAP_LENGTHS[word]).tolist()
        kept_to = np.append(where, len(buffer)).tolist()
        parts: list[bytes | memoryview] = [b""] * (2 * len(where) + 1)
        view = memoryview(buffer)  # slices of a view are not copies: the join below copies once
        parts[0::2] = [view[x:y] for x, y in zip(kept_from, kept_to, strict=True)]
        parts[1::2] = [_SWAP_BYTES[code] for code in (word * 2 + capital).tolist()]
        buffer = bytearray().join(parts)

    texts = buffer.decode().split(_SPAN_SEPARATOR.decode())
    # end: a final ".", "?" or "!" dropped, else a "." added (the other variants leave the last character).
    takes_end = (fast & END) != 0
    drop = takes_end & _END_MARKS[data[end - 1]]
    for i in np.flatnonzero(drop).tolist():
        texts[i] = texts[i][:-1]
    for i in np.flatnonzero(takes_end & ~drop).tolist():
        texts[i] += "."
    for i in np.flatnonzero(fast & APOSTROPHES).tolist():
        texts[i] = texts[i].replace("'", "")
    for i in np.flatnonzero(fast & COMMAS).tolist():
        texts[i] = texts[i].replace(",", "")
    for i in np.flatnonzero(by_string).tolist():
        text = blob[begin[i] : end[i]].decode()
        texts[i] = respell(text, int(chosen[i]) & ~(SHORTHAND | TEXTING), int(breaks[i]))
    for variant, (pattern, table) in _SWAPPED.items():
        _substitute(texts, np.flatnonzero(((chosen & variant) != 0) & by_regex).tolist(), pattern, table)
    return texts


def _within(positions: Offsets, low: IntArray, high: IntArray) -> tuple[IntArray, Offsets]:
    """The sorted positions in [low[j], high[j]) for each j, concatenated, and the j each belongs to."""
    # Bounds in the positions' type: else numpy would widen (copy) all the positions on every call.
    first = np.searchsorted(positions, low.astype(positions.dtype))
    count = np.searchsorted(positions, high.astype(positions.dtype)) - first
    return np.repeat(np.arange(len(low)), count), positions[ranges(first, count)]


def _swaps_within(
    swaps: IntArray, which: IntArray, begin: IntArray, end: IntArray, at: IntArray, base: int
) -> tuple[IntArray, IntArray]:
    """For the word_swaps in the spans `which`: their offsets in the buffer, and word numbers + base."""
    first = np.searchsorted(swaps, (begin[which] << SWAP_WORD_BITS).astype(swaps.dtype))
    count = np.searchsorted(swaps, (end[which] << SWAP_WORD_BITS).astype(swaps.dtype)) - first
    owner = np.repeat(which, count)
    found = swaps[ranges(first, count)]
    return (found >> SWAP_WORD_BITS) - begin[owner] + at[owner], (found & (_SWAP_WORDS - 1)) + base


def _substitute(texts: list[str], which: list[int], pattern: re.Pattern[str], table: dict[str, str]) -> None:
    """pattern's words replaced from table in texts[which], in one pass over them joined by NULs."""
    if not which:
        return
    joined = pattern.sub(lambda m: _same_case(m.group(1), table), "\x00".join(texts[i] for i in which))
    for i, text in zip(which, joined.split("\x00"), strict=True):
        texts[i] = text


def _same_case(word: str, table: dict[str, str]) -> str:
    """The word's replacement, capitalised like the word (so the start variant is not undone)."""
    short = table[word.lower()]
    return short[0].upper() + short[1:] if word[0].isupper() else short


def _run_on(text: str, first: bool, bits: int) -> str:
    lines = text.split("\n")
    joined = [lines[0]]
    for n, line in enumerate(lines[1:]):
        if first if n == 0 else ((bits >> (3 * n)) & 7) / 8 < RUN_ON:
            joined[-1] = f"{joined[-1]} {line}"
        else:
            joined.append(line)
    return "\n".join(joined)

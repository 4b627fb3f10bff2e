"""Names and text pools per locale: distinct full names at scale, the locale's name order, native words."""

from __future__ import annotations

import re

import numpy as np
import pytest

from backend.seeding.text import build_pools, name_indexes, native_words_locale, person_names, side_by_side

LATIN_LOREM = re.compile(r"\b(lorem|ipsum|dolor|consectetur|adipiscing|voluptatem|quia|eius)\b", re.I)


def _full_names(locale: str, users: int, seed: int = 1) -> list[str]:
    pools = build_pools(seed, locale)
    first, last = name_indexes(
        seed, np.arange(users, dtype=np.int64), len(pools.first_names), len(pools.last_names)
    )
    return pools.full_names(first.tolist(), last.tolist())


def test_full_names_are_distinct_at_100k_users() -> None:
    names = _full_names("en_US", 100_000)
    assert len(set(names)) / len(names) >= 0.95
    assert len(set(names)) == len(names)  # the list allows it, so the permutation makes every one distinct


def test_name_indexes_are_keyed_and_partition_free() -> None:
    whole = name_indexes(4, np.arange(1000, dtype=np.int64), 690, 1000)
    part = name_indexes(4, np.arange(500, 1000, dtype=np.int64), 690, 1000)
    assert np.array_equal(whole[0][500:], part[0]) and np.array_equal(whole[1][500:], part[1])
    other_seed = name_indexes(5, np.arange(1000, dtype=np.int64), 690, 1000)
    assert not np.array_equal(whole[0], other_seed[0])


@pytest.mark.parametrize(("locale", "family_first", "separator"), [
    ("en_US", False, " "),
    ("ja_JP", True, " "),
    ("zh_CN", True, ""),
    ("ko_KR", True, ""),
    ("de_DE", False, " "),
])  # fmt: skip
def test_names_in_the_locales_order(locale: str, family_first: bool, separator: str) -> None:
    names = person_names(locale)
    assert (names.family_first, names.separator) == (family_first, separator)
    pools = build_pools(1, locale)
    full = pools.full_name(0, 1)
    expected = (names.last[1], names.first[0]) if family_first else (names.first[0], names.last[1])
    assert full == separator.join(expected)
    assert pools.full_names([0, 2], [1, 3])[1] == pools.full_name(2, 3)


def test_locales_use_their_whole_name_lists() -> None:
    names = person_names("en_US")
    assert len(names.first) > 600 and len(names.last) >= 1000


@pytest.mark.parametrize(
    ("locale", "script"), [("ar_SA", r"[\u0600-\u06FF]"), ("ja_JP", r"[\u3040-\u30FF\u4E00-\u9FFF]")]
)
def test_text_is_in_the_locales_own_words(locale: str, script: str) -> None:
    pools = build_pools(1, locale)
    for texts in (pools.sentences[:50], pools.bios[:50], pools.topics[:50]):
        assert all(re.search(script, text) for text in texts), texts[:3]
        assert not any(LATIN_LOREM.search(text) for text in texts)


def test_native_words_fall_back_to_none_without_a_lorem_list() -> None:
    assert native_words_locale("ar_SA") == "ar_AA"
    assert native_words_locale("en_US") == "en_US"
    assert native_words_locale("hu_HU") is None
    pools = build_pools(1, "hu_HU")  # English words, not Latin
    assert not any(LATIN_LOREM.search(text) for text in pools.sentences[:200])


def test_side_by_side_gives_each_row_its_own_characters_between_the_constants() -> None:
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8).reshape(4, 4)
    assert side_by_side(b"id:", digits[:, :2], b"-", digits[:, 2:]) == [
        "id:01-23",
        "id:45-67",
        "id:89-ab",
        "id:cd-ef",
    ]
    assert side_by_side(digits[:, :0]) == ["", "", "", ""]  # no characters at all: empty strings

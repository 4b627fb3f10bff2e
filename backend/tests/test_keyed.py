"""keyed.py: every draw is a pure function of (seed, table, column, row keys), whatever the call order."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from backend.seeding.keyed import (
    Keyed,
    affine_permutation,
    bijection,
    column_key,
    ranges,
    repeat_ranges,
    to_cdf,
    zipf_weights,
)
from backend.tests.helpers import REPO_ROOT

ROWS = np.arange(100, dtype=np.int64)


def test_same_inputs_give_same_outputs() -> None:
    a, b = Keyed(7), Keyed(7)
    assert column_key(7, "users", "name") == column_key(7, "users", "name")
    np.testing.assert_array_equal(a.bits("users", "name", ROWS), b.bits("users", "name", ROWS))
    np.testing.assert_array_equal(a.uniform("messages", "hour", ROWS), b.uniform("messages", "hour", ROWS))
    np.testing.assert_array_equal(
        a.integers("channels", "owner", 0, 50, ROWS), b.integers("channels", "owner", 0, 50, ROWS)
    )


def test_known_values_are_stable() -> None:
    """Pinned: a change here changes every seeded dataset (bump GENERATOR_VERSION if it is meant)."""
    assert column_key(1, "users", "x") == 1964447656081574724
    assert Keyed(1).bits("users", "x", np.arange(3)).tolist() == [
        14738370823422901207,
        16197484192623288693,
        14485702814181409567,
    ]


@pytest.mark.parametrize(
    ("other_seed", "other_table", "other_column"),
    [(8, "users", "name"), (7, "channels", "name"), (7, "users", "email")],
    ids=["seed", "table", "column"],
)
def test_a_different_seed_table_or_column_gives_different_values(
    other_seed: int, other_table: str, other_column: str
) -> None:
    base = Keyed(7).bits("users", "name", ROWS)
    other = Keyed(other_seed).bits(other_table, other_column, ROWS)
    assert column_key(7, "users", "name") != column_key(other_seed, other_table, other_column)
    # Independent streams: essentially no value in common, row by row.
    assert int(np.sum(base == other)) == 0
    assert not np.array_equal(
        Keyed(7).uniform("users", "name", ROWS), Keyed(other_seed).uniform(other_table, other_column, ROWS)
    )


def test_different_rows_give_different_values() -> None:
    values = Keyed(3).bits("messages", "content", np.arange(10_000))
    assert len(np.unique(values)) == 10_000


def test_values_do_not_depend_on_slicing_or_order() -> None:
    k = Keyed(11)
    whole = k.uniform("messages", "created_at", ROWS)
    halves = np.concatenate(
        [k.uniform("messages", "created_at", ROWS[:50]), k.uniform("messages", "created_at", ROWS[50:])]
    )
    one_by_one = np.array([k.uniform("messages", "created_at", [i])[0] for i in range(100)])
    reversed_rows = k.uniform("messages", "created_at", ROWS[::-1])[::-1]
    np.testing.assert_array_equal(whole, halves)
    np.testing.assert_array_equal(whole, one_by_one)
    np.testing.assert_array_equal(whole, reversed_rows)


def test_values_do_not_depend_on_call_order_or_other_draws() -> None:
    first = Keyed(5)
    a1 = first.integers("users", "a", 0, 1000, ROWS)
    b1 = first.integers("users", "b", 0, 1000, ROWS)
    second = Keyed(5)
    for column in ("b", "c", "d"):  # other draws in between change nothing: there is no shared state
        second.uniform("users", column, ROWS)
    b2 = second.integers("users", "b", 0, 1000, ROWS)
    a2 = second.integers("users", "a", 0, 1000, ROWS)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(b1, b2)


def test_several_keys_identify_a_row() -> None:
    k = Keyed(2)
    channels = np.repeat(np.arange(4), 25)
    local = np.tile(np.arange(25), 4)
    combined = k.bits("messages", "author", channels, local)
    assert len(np.unique(combined)) == 100
    # The same (channel, index) pair drawn alone gives the same value.
    assert k.bits("messages", "author", [2], [7])[0] == combined[2 * 25 + 7]
    # Key arrays given as lists, int64 or uint64 are the same keys.
    np.testing.assert_array_equal(
        k.bits("messages", "author", list(range(10))),
        k.bits("messages", "author", np.arange(10, dtype=np.uint64)),
    )


def test_values_are_the_same_in_another_process() -> None:
    """Nothing depends on Python's per-process hash randomisation."""
    code = (
        "import json, numpy as np\n"
        "from backend.seeding.keyed import Keyed, column_key\n"
        "k = Keyed(42)\n"
        "bits = k.bits('users', 'email', np.arange(5)).tolist()\n"
        "print(json.dumps([column_key(42, 'users', 'email'), bits]))\n"
    )
    outputs = []
    for hash_seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=REPO_ROOT,
            env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.append(json.loads(result.stdout))
    k = Keyed(42)
    here = [column_key(42, "users", "email"), k.bits("users", "email", np.arange(5)).tolist()]
    assert outputs[0] == outputs[1] == here


def test_draws_stay_in_their_ranges() -> None:
    k = Keyed(9)
    rows = np.arange(20_000)
    u = k.uniform("t", "u", rows)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert 0.48 < u.mean() < 0.52
    highs = 1 + rows % 7
    ints = k.integers("t", "i", 0, highs, rows)
    assert (ints >= 0).all() and (ints < highs).all()
    ints = k.integers("t", "j", 10, 13, rows)
    assert set(np.unique(ints).tolist()) == {10, 11, 12}
    share = k.chance("t", "c", 0.3, rows).mean()
    assert 0.28 < share < 0.32
    assert not k.chance("t", "c", 0.0, rows).any() and k.chance("t", "c", 1.0, rows).all()


def test_choice_follows_the_weights() -> None:
    cdf = to_cdf([1, 0, 3])
    picks = Keyed(4).choice("t", "w", cdf, np.arange(20_000))
    counts = np.bincount(picks, minlength=3) / 20_000
    assert counts[1] == 0
    assert abs(counts[0] - 0.25) < 0.02 and abs(counts[2] - 0.75) < 0.02


def test_zipf_weights_are_skewed_and_normalised() -> None:
    w = zipf_weights(100)
    assert abs(w.sum() - 1.0) < 1e-12
    assert (np.diff(w) < 0).all()
    assert w[:20].sum() > 0.6
    cdf = to_cdf(w)
    assert cdf[-1] == 1.0 and (np.diff(cdf) > 0).all()


@pytest.mark.parametrize("bits", [8, 16])
def test_bijection_is_a_permutation_of_the_whole_range(bits: int) -> None:
    values = np.arange(1 << bits)
    for key in (0, 1, 12345, column_key(1, "channels", "join_code")):
        out = bijection(values, bits, key)
        np.testing.assert_array_equal(np.sort(out), values)


def test_bijection_is_injective_on_a_range_of_ids() -> None:
    key = column_key(3, "users", "auth0_low")
    for bits, start in ((40, 1), (62, 1), (62, 10**12)):
        ids = np.arange(start, start + 200_000, dtype=np.int64)
        out = bijection(ids, bits, key)
        assert len(np.unique(out)) == len(ids)
        assert out.min() >= 0 and int(out.max()) < (1 << bits)
        # Deterministic, and slicing does not matter.
        np.testing.assert_array_equal(out[1000:2000], bijection(ids[1000:2000], bits, key))
    # Different keys: different permutations.
    ids = np.arange(1, 1001)
    assert not np.array_equal(bijection(ids, 40, 1), bijection(ids, 40, 2))


@pytest.mark.parametrize("n", [1, 7, 1000, 690_000, (1 << 31) + 11])
def test_affine_permutation_is_a_permutation(n: int) -> None:
    values = np.arange(min(n, 5000), dtype=np.int64)
    mapped = affine_permutation(values, n, column_key(2, "users", "name_pair"))
    assert len(set(mapped.tolist())) == len(values)
    assert ((mapped >= 0) & (mapped < n)).all()
    if n == 1000:
        whole = affine_permutation(np.arange(n, dtype=np.int64), n, 99)
        assert sorted(whole.tolist()) == list(range(n))
        assert not np.array_equal(whole, np.arange(n))


def test_ranges_concatenate_each_start_counted_up() -> None:
    starts = np.array([5, 0, 9], dtype=np.int64)
    counts = np.array([3, 0, 2], dtype=np.int64)
    assert ranges(starts, counts).tolist() == [5, 6, 7, 9, 10]
    assert repeat_ranges(counts).tolist() == [0, 1, 2, 0, 1]
    assert ranges(starts[:0], counts[:0]).tolist() == []

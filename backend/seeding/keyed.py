"""Keyed random draws: every value is a pure function of (seed, table, column, row keys).

A stable 64-bit key is derived once per (seed, table, column) with BLAKE2b; rows are then mixed in with the
SplitMix64 finaliser, vectorised over numpy arrays. No shared RNG state exists, so the order in which values
are drawn, the number of workers and the backend written to change nothing.

Also two array helpers for flattened per-group data (ranks within runs, concatenated ranges).
"""

from __future__ import annotations

import hashlib
import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt

U64 = np.uint64
UInt64Array = npt.NDArray[np.uint64]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_GOLDEN = U64(0x9E3779B97F4A7C15)
_M1 = U64(0xBF58476D1CE4E5B9)
_M2 = U64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / float(1 << 53)


@lru_cache(maxsize=4096)
def column_key(seed: int, table: str, column: str) -> int:
    """The 64-bit key of one column of one table under one seed."""
    digest = hashlib.blake2b(f"{seed}\x1f{table}\x1f{column}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


_SHIFTS = (U64(30), U64(27), U64(31))


def mix64(values: UInt64Array) -> UInt64Array:
    """SplitMix64's finaliser: a bijection on 64-bit integers with good avalanche. Arrays wrap round on
    overflow without a warning; the steps go in place, into two arrays."""
    z: UInt64Array = np.asarray(values, dtype=U64) + _GOLDEN
    shifted = z >> _SHIFTS[0]
    for multiplier, shift in ((_M1, _SHIFTS[1]), (_M2, _SHIFTS[2])):
        z ^= shifted
        z *= multiplier
        np.right_shift(z, shift, out=shifted)
    z ^= shifted
    return z


class Keyed:
    """Draws for one run: Keyed(seed).uniform(table, "hour", row_keys), keyed by table and column names."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def bits(self, table: str, column: str, *keys: npt.ArrayLike) -> UInt64Array:
        """64 random bits per row; several key arrays (e.g. channel, index) are combined in order."""
        state: UInt64Array = np.full(1, column_key(self.seed, table, column), dtype=U64)
        for key in keys:
            arr = np.asarray(key).astype(U64, copy=False)
            state = mix64(state ^ arr)
        return state

    def uniform(self, table: str, column: str, *keys: npt.ArrayLike) -> FloatArray:
        """Floats in [0, 1)."""
        return (self.bits(table, column, *keys) >> U64(11)).astype(np.float64) * _TO_UNIT

    def integers(
        self, table: str, column: str, low: int, high: npt.ArrayLike, *keys: npt.ArrayLike
    ) -> IntArray:
        """Integers in [low, high) (high may be an array, one bound per row)."""
        span = np.asarray(high, dtype=np.int64) - low
        return low + np.floor(self.uniform(table, column, *keys) * span).astype(np.int64)

    def chance(self, table: str, column: str, share: float, *keys: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """True for about `share` of rows."""
        return self.uniform(table, column, *keys) < share

    def choice(self, table: str, column: str, cdf: FloatArray, *keys: npt.ArrayLike) -> IntArray:
        """Indexes drawn from a discrete distribution given as its cumulative weights (last = 1)."""
        picks = np.searchsorted(cdf, self.uniform(table, column, *keys), side="right")
        return np.minimum(picks, len(cdf) - 1).astype(np.int64)


def zipf_weights(n: int, exponent: float = 1.1) -> FloatArray:
    """Weights 1/rank^s: a few items get most of the mass (skewed activity)."""
    ranks = np.arange(1, n + 1, dtype=np.float64)
    weights: FloatArray = 1.0 / ranks**exponent
    return weights / weights.sum()


def to_cdf(weights: npt.ArrayLike) -> FloatArray:
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    return cdf / cdf[-1]  # type: ignore[no-any-return]


def bijection(values: npt.ArrayLike, bits: int, key: int) -> IntArray:
    """A keyed permutation of [0, 2**bits): distinct inputs give distinct outputs (unique by construction)."""
    mask = (1 << bits) - 1
    odd = U64((key | 1) & mask)
    x = np.asarray(values).astype(U64) & U64(mask)
    with np.errstate(over="ignore"):
        for shift in (bits // 2 + 1, bits // 3 + 1):
            x = (x * odd) & U64(mask)  # odd multiplier: invertible modulo 2**bits
            x = x ^ (x >> U64(shift))  # xorshift: invertible
        x = x ^ U64((key >> 7) & mask)
    return x.astype(np.int64)


def affine_permutation(values: IntArray, n: int, key: int) -> IntArray:
    """A keyed permutation of [0, n) for any n (not only powers of two): (a * v + b) mod n with a coprime
    to n, so distinct values below n map to distinct results. Values are taken mod n first."""
    if n <= 0:
        return np.zeros(len(values), dtype=np.int64)
    multiplier = (key >> 24) % n or 1
    while math.gcd(multiplier, n) != 1:
        multiplier += 1
    shift = key % n
    if n < 1 << 31:  # both factors below 2**31: the product fits in 64 bits
        return (values % n * multiplier + shift) % n  # type: ignore[no-any-return]
    mapped = [(int(v) % n * multiplier + shift) % n for v in np.asarray(values).tolist()]
    return np.array(mapped, dtype=np.int64)


# Array helpers for flattened per-group data (channels' members, messages, ...).


def group_ranks(groups: IntArray) -> IntArray:
    """For an array of group labels in contiguous runs, each element's index within its run."""
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    lengths = np.diff(np.r_[starts, len(groups)])
    return np.arange(len(groups), dtype=np.int64) - np.repeat(starts, lengths)


def ranges(starts: IntArray, counts: IntArray) -> IntArray:
    """starts[i], starts[i] + 1, ... (counts[i] values) for each i, concatenated."""
    return np.repeat(starts, counts) + repeat_ranges(counts)  # type: ignore[no-any-return]


def repeat_ranges(counts: IntArray) -> IntArray:
    """0..n-1 for each n in counts, concatenated."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - counts, counts)

"""Seeded entities: one module per entity, each declaring one `ENTITY`, collected by registry.py.

An entity owns one or more tables (in foreign-key order) and is partitioned by items (users, channels,
...): it says how many items a run has, how many rows of each table every item gets, and how to generate
the rows of a range of items. `prepare` builds the run-wide arrays once per run, in foreign-key order, so
that later entities can read earlier ones' (a channel's owner needs the users' creation times).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from backend.seeding.keyed import IntArray
from backend.seeding.options import SeedOptions

if TYPE_CHECKING:
    from backend.seeding.dataset import Batch, Dataset
    from backend.seeding.verify import Invariant


def _no_state(_dataset: Dataset) -> None:
    return None


@dataclass(frozen=True)
class Entity:
    """How one entity's rows are made; everything else about its tables is derived from the models."""

    name: str
    tables: tuple[str, ...]  # the tables its batches go to, parents before children
    partition: str  # what one item is ("user", "channel"): the unit of work and of row keys
    items: Callable[[Dataset], int]  # how many items this run has
    rows_per_item: Callable[[Dataset], Mapping[str, IntArray]]  # per table: rows each item gets
    generate: Callable[[Dataset, int, int], list[Batch]]  # the batches of items lo..hi-1
    estimate: Callable[[SeedOptions], Mapping[str, int]]  # rough rows per table, without building a run
    prepare: Callable[[Dataset], Any] = _no_state  # run-wide arrays, kept as dataset.state[name]
    invariants: tuple[Invariant, ...] = ()  # extra checks for `seed_data.py verify`


def one_row_per_item(
    table: str,
    partition: str,
    count: Callable[[SeedOptions], int],
    generate: Callable[[Dataset, int, int], list[Batch]],
    prepare: Callable[[Dataset], Any] = _no_state,
) -> Entity:
    """An entity writing one table, one row per item, `count(options)` items (users, channels)."""
    return Entity(
        name=table,
        tables=(table,),
        partition=partition,
        items=lambda ds: count(ds.options),
        rows_per_item=lambda ds: {table: np.ones(count(ds.options), dtype=np.int64)},
        generate=generate,
        estimate=lambda options: {table: count(options)},
        prepare=prepare,
    )

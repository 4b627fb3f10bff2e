"""One run's data context: inputs, run-wide arrays per entity, the plan, and row batches.

A Dataset is a pure function of (options and their scenario, id starts, run id, reaction ids) and the
registered entities (backend/seeding/entities/). Building it lays out the scenario (scripted.py), runs each
entity's `prepare` in foreign-key order (run-wide arrays such as users' creation times, which later
entities read) and then sums each entity's rows per partition item into the plan: exact row counts per
table, and the partition ranges (chunks) work is cut into. Any chunk can then be generated in any order,
in any process, with the same result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from backend.models import Base
from backend.seeding.keyed import IntArray, Keyed
from backend.seeding.options import SeedOptions
from backend.seeding.text import TextPools, build_pools

if TYPE_CHECKING:
    from backend.seeding.entities import Entity

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
# A chunk of partition items holds about this many rows (all of the entity's tables together).
CHUNK_ROWS = 20_000
# The run's first chunks hold 1/8, 1/4 and 1/2 of that: the writer waits for the first one, and a small one
# is ready sooner, while the next ones, bigger, are generated behind it.
FIRST_CHUNK_SHARES = (8, 4, 2)


def format_timestamps(micros: IntArray) -> list[str]:
    """UTC timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff', the text both backends store and compare."""
    text = micros.astype("datetime64[us]").astype("U26")
    chars = text.view(np.uint32).reshape(-1, 26)
    chars[:, 10] = ord(" ")
    return text.tolist()  # type: ignore[no-any-return]


def timestamps(micros: IntArray) -> npt.NDArray[np.datetime64]:
    """A timestamp column kept as numbers (UTC microseconds): the binary COPY encoder writes them as they
    are; the text forms (SQLite, text COPY) get format_timestamps' text, so every backend stores the same."""
    return micros.astype("datetime64[us]")


def nullable(values: IntArray, null: npt.NDArray[np.bool_]) -> np.ma.MaskedArray[Any, Any]:
    """An integer column with NULL where `null` is set."""
    return np.ma.MaskedArray(values, mask=null)


# A column: Python values (None for NULL), or a numpy array of integers, a timestamps() array or a nullable()
# one, which the encoders turn into bytes without a Python object per value.
Column = list[Any] | npt.NDArray[Any]
Columns = list[Column]


def python_values(column: Column) -> list[Any]:
    """A column as Python values, as the executemany and text COPY paths take them."""
    if isinstance(column, list):
        return column
    if column.dtype.kind == "M":
        return format_timestamps(column.astype("datetime64[us]").view(np.int64))
    return column.tolist()  # type: ignore[no-any-return]  # a nullable() column's NULLs become None


def concat_columns(first: Column, second: Column) -> Column:
    """first's values, then second's (lists stay lists; an array meeting a list gives Python values)."""
    if isinstance(first, list) or isinstance(second, list):
        return python_values(first) + python_values(second)
    if isinstance(first, np.ma.MaskedArray) or isinstance(second, np.ma.MaskedArray):
        return np.ma.concatenate([first, second])  # type: ignore[no-any-return]
    return np.concatenate([first, second])


class BatchColumnsError(ValueError):
    """An entity's batch does not have exactly the columns of its table's model."""


@dataclass(frozen=True)
class Batch:
    """Rows of one table, column by column in the model's column order: cheap to build and to encode."""

    table: str
    columns: Columns

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def rows(self) -> list[tuple[Any, ...]]:
        return list(zip(*map(python_values, self.columns), strict=True))


def table_columns(table: str) -> tuple[str, ...]:
    """The columns a seeded table is written with: every column of its model, in the model's order."""
    return tuple(Base.metadata.tables[table].columns.keys())


def make_batch(table: str, columns: Mapping[str, Sequence[Any]]) -> Batch:
    """A batch from values per column name, ordered as the model; a missing or unknown column is an error."""
    wanted = table_columns(table)
    if set(columns) != set(wanted):
        missing = sorted(set(wanted) - set(columns))
        unknown = sorted(set(columns) - set(wanted))
        raise BatchColumnsError(
            f"{table}: the entity's batch must give every column of the model; "
            f"missing {missing or 'none'}, not in the model {unknown or 'none'}"
        )
    # Lists and arrays are taken as they are (no copy): batches are big, and entities build them fresh.
    return Batch(
        table, [v if isinstance(v := columns[name], list | np.ndarray) else list(v) for name in wanted]
    )


def batch_from_rows(table: str, names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> Batch:
    """A batch from row tuples whose values follow `names` (for entities that build rows one by one)."""
    columns = zip(*rows, strict=True) if rows else ([] for _ in names)
    return make_batch(table, dict(zip(names, columns, strict=True)))


def chunk_ranges(
    rows_per_item: IntArray, target: int, first_targets: Sequence[int] = ()
) -> tuple[tuple[int, int], ...]:
    """Consecutive item ranges, each closed as soon as its rows reach target (the last may hold fewer);
    the first chunks close at first_targets' rows instead, one each."""
    n = len(rows_per_item)
    cumulative = np.cumsum(rows_per_item)
    chunks: list[tuple[int, int]] = []
    lo, before = 0, 0
    while lo < n:
        goal = first_targets[len(chunks)] if len(chunks) < len(first_targets) else target
        # The first item at which the running total since lo reaches the goal ends the chunk.
        end = int(np.searchsorted(cumulative, before + goal, side="left"))
        hi = min(n, max(end + 1, lo + 1))
        chunks.append((lo, hi))
        before = int(cumulative[hi - 1])
        lo = hi
    return tuple(chunks)


@dataclass(frozen=True)
class Plan:
    """Exact row counts per table, and each entity's chunks of partition items."""

    counts: dict[str, int]
    chunks: dict[str, tuple[tuple[int, int], ...]]


class Dataset:
    """One run's data. Build it once (pools and run-wide arrays), then generate chunks of any entity."""

    def __init__(
        self,
        options: SeedOptions,
        id_starts: Mapping[str, int],
        run_id: int,
        reaction_ids: list[int],
        entities: Sequence[Entity] | None = None,
    ) -> None:
        if entities is None:
            from backend.seeding.registry import entities as registered

            entities = registered()
        self.entities = tuple(entities)
        self.options = options
        self.id_starts = dict(id_starts)
        self.run_id = run_id
        self.reaction_ids = np.array(reaction_ids, dtype=np.int64)
        self.k = Keyed(options.seed)
        self.pools: TextPools = build_pools(options.seed, options.locale)
        self.english = options.locale.startswith("en")
        as_of = datetime(options.as_of.year, options.as_of.month, options.as_of.day, tzinfo=UTC)
        self.end = int(as_of.timestamp()) * SECOND
        self.start = self.end - options.window_days * DAY
        self.window = self.end - self.start
        from backend.seeding import scripted

        # The scenario's users and channels come first in the run; entities generate around them.
        self.script = scripted.layout(scripted.options_scenario(options), self.start, self.end)
        self.state: dict[str, Any] = {}
        for entity in self.entities:
            self.state[entity.name] = entity.prepare(self)
        self.plan = self._make_plan()

    def at(self, share: float) -> int:
        """The moment `share` of the way through the run's time window."""
        return self.start + int(self.window * share)

    def _make_plan(self) -> Plan:
        counts: dict[str, int] = {}
        chunks = {}
        first_targets = [max(1, CHUNK_ROWS // share) for share in FIRST_CHUNK_SHARES]
        for entity in self.entities:
            per_item = entity.rows_per_item(self)
            if set(per_item) != set(entity.tables):
                raise ValueError(f"entity {entity.name}: rows_per_item must give {entity.tables}")
            total = np.zeros(entity.items(self), dtype=np.int64)
            for table in entity.tables:
                counts[table] = int(per_item[table].sum())
                total += per_item[table]
            chunks[entity.name] = chunk_ranges(total, CHUNK_ROWS, first_targets)
            if len(total):
                first_targets = []  # only the run's first chunks are small
        return Plan(counts=counts, chunks=chunks)

    def entity(self, name: str) -> Entity:
        return next(e for e in self.entities if e.name == name)

    def generate(self, name: str, lo: int, hi: int) -> list[Batch]:
        """The batches of entity `name` for partition items lo..hi-1, in foreign-key order."""
        return self.entity(name).generate(self, lo, hi)

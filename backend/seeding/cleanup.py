"""Remove exactly what seeding runs wrote, read from the ledger, in reverse foreign-key order.

A row is seeded by the selected runs when its table is seeded (backend/seeding/registry.py) and its id lies
in one of their seed_run_blocks (tables with an integer id) or its seed_run_id names one of them (tables
without). Everything else is "real", including rows of runs that were not selected.

What depends on seeded rows is read from the database itself (SQLAlchemy's inspector), not from our models:
every foreign key the database reports that points into a seeded table, so a table the app added without a
model here is seen too. A real row referencing a row to be removed is a dependent: cleanup refuses, naming
the table, the constraint, the count and a few keys, before any delete. With cascade, dependents go too, and
whatever references them, to a fixed point. Deletes run in reverse foreign-key order of the database's
tables, set-based in SQL over id ranges; a table that references itself (messages.parent_id) is deleted
leaves first on SQLite, which checks RESTRICT row by row. The caller owns the transaction.

Fast path (PostgreSQL): a seeded table that holds nothing but the selected runs' rows, and that only such
tables reference, is emptied with one TRUNCATE of all those tables together, inside the same transaction
(so a kill or an error still leaves everything). Before it, the tables are locked ACCESS EXCLUSIVE and
checked again under the lock: every row seeded by the selected runs, no user-defined trigger (TRUNCATE
fires no DELETE trigger); their rows are counted under that lock, once, for the report. Any doubt falls
back to the DELETE path; a table with one real row in it is never truncated. Sequences are left as they
are (CONTINUE IDENTITY): the ledger's id blocks come from them.

Fast path (SQLite, which has no TRUNCATE, and whose own truncate optimisation of a DELETE without WHERE is
off for any table in a foreign key while foreign keys are on): a seeded table that holds nothing but the
selected runs' rows (checked inside the transaction, which holds SQLite's write lock from its first
statement) loses its secondary indexes before the deletes and gets them back, from their own DDL, after
them, on the emptied table. The deletes themselves are the DELETE path's, with the same WHERE and the same
row-count checks; an index the table's self-reference needs (messages.parent_id) is kept.

"Nothing real" is asked with the complement of the id blocks (id < first, between blocks, id > last) so
both databases answer from the primary key at once instead of scanning the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    inspect,
    not_,
    or_,
    select,
    table,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy import column as sql_column
from sqlalchemy.sql.expression import ColumnClause, TableClause

from backend.models import Base
from backend.seeding import registry

SEED_RUNS = Base.metadata.tables[registry.SEED_RUNS]
SEED_RUN_BLOCKS = Base.metadata.tables[registry.SEED_RUN_BLOCKS]
SAMPLE_SIZE = 5

Range = tuple[int, int]
Ranges = tuple[Range, ...]
SampleId = int | tuple[Any, ...]
# Called after each delete statement with (the table deleted from, how many rows).
ProgressCallback = Callable[[str, int], None]


def delete_order() -> tuple[str, ...]:
    """The tables a cleanup counts and removes seeded rows from, children first, then the ledger's runs."""
    return (*reversed(registry.seeded_tables()), registry.SEED_RUNS)


class CleanupError(Exception):
    """Cleanup cannot go ahead; nothing was removed once the caller rolls back."""


class UnknownRunError(CleanupError):
    def __init__(self, run_ids: Sequence[int]) -> None:
        self.run_ids = tuple(run_ids)
        listed = ", ".join(str(i) for i in self.run_ids)
        super().__init__(f"no seed run with id {listed} in the ledger")


class LedgerChangedError(CleanupError):
    """The ledger or the seeded rows changed under us (another cleanup or seeding at the same time)."""


class DependentsError(CleanupError):
    """Rows outside the selected runs depend on seeded rows, and cascade was not requested."""

    def __init__(self, dependents: Dependents) -> None:
        self.dependents = dependents
        first = dependents.kinds[0]
        super().__init__(
            f"cannot remove the seeded rows: {first.table}.{', '.join(first.columns)} references them "
            f"({first.constraint}), and {dependents.total} row(s) outside the selected seed runs in all; "
            "cascade would remove those as well"
        )


@dataclass(frozen=True)
class Dependent:
    """Real rows that reference rows being removed, through one foreign key; keys may overlap."""

    table: str
    columns: tuple[str, ...]
    parent: str
    constraint: str  # the constraint's name as the database reports it
    count: int
    key_columns: tuple[str, ...]
    sample_ids: tuple[SampleId, ...]

    @property
    def kind(self) -> str:
        return self.constraint

    @property
    def description(self) -> str:
        noun = "row" if self.count == 1 else "rows"
        return f"{noun} whose {', '.join(self.columns)} references seeded {self.parent} ({self.constraint})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "table": self.table,
            "columns": list(self.columns),
            "references": self.parent,
            "constraint": self.constraint,
            "description": self.description,
            "count": self.count,
            "key": list(self.key_columns),
            "sample_ids": [list(i) if isinstance(i, tuple) else i for i in self.sample_ids],
        }


@dataclass(frozen=True)
class Dependents:
    """The dependents check: per foreign key (they may overlap) and distinct rows per table."""

    kinds: tuple[Dependent, ...] = ()
    rows: Mapping[str, int] = field(default_factory=dict)  # table -> distinct dependent rows

    def __bool__(self) -> bool:
        return bool(self.kinds)

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def to_dict(self) -> dict[str, Any]:
        return {"kinds": [d.to_dict() for d in self.kinds], "rows": dict(self.rows), "total": self.total}


@dataclass(frozen=True)
class CleanupPlan:
    """What a cleanup of these runs would remove, and what stands in its way."""

    run_ids: tuple[int, ...]
    counts: Mapping[str, int]  # table -> seeded rows, in delete_order()
    dependents: Dependents = field(default_factory=Dependents)
    counted: bool = True  # False: plan_cleanup(counts=False), counts left out

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def is_empty(self) -> bool:
        return not self.run_ids

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_ids": list(self.run_ids),
            "counts": dict(self.counts),
            "total": self.total,
            "dependents": self.dependents.to_dict(),
        }


@dataclass(frozen=True)
class CleanupResult:
    run_ids: tuple[int, ...]
    removed: Mapping[str, int]  # table -> seeded rows removed, in delete_order()
    dependents: Dependents = field(default_factory=Dependents)  # what cascade found (and removed)
    dependents_removed: Mapping[str, int] = field(default_factory=dict)  # table -> real rows removed

    @property
    def total(self) -> int:
        return sum(self.removed.values()) + sum(self.dependents_removed.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_ids": list(self.run_ids),
            "removed": dict(self.removed),
            "dependents": self.dependents.to_dict(),
            "dependents_removed": dict(self.dependents_removed),
            "total": self.total,
        }


# --- id ranges -------------------------------------------------------------------------------------------


def merge_ranges(ranges: Iterable[Range]) -> Ranges:
    """Sorted, non-empty, non-overlapping ranges; adjacent ones joined so predicates stay short."""
    merged: list[list[int]] = []
    for first, last in sorted(r for r in ranges if r[1] >= r[0]):
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return tuple((a, b) for a, b in merged)


def load_ranges(connection: Connection, run_ids: Sequence[int] | None = None) -> dict[str, Ranges]:
    """The merged id blocks per id-block table of the given runs (of every run when run_ids is None)."""
    query = select(SEED_RUN_BLOCKS.c.table_name, SEED_RUN_BLOCKS.c.first_id, SEED_RUN_BLOCKS.c.last_id)
    if run_ids is not None:
        query = query.where(SEED_RUN_BLOCKS.c.run_id.in_(list(run_ids)))
    collected: dict[str, list[Range]] = {name: [] for name in registry.id_block_tables()}
    for name, first, last in connection.execute(query):
        if name in collected:
            collected[name].append((int(first), int(last)))
    return {name: merge_ranges(pairs) for name, pairs in collected.items()}


def in_ranges(col: ColumnElement[Any], ranges: Ranges) -> ColumnElement[bool]:
    """col lies in one of the ranges. Literal bounds let PostgreSQL plan index range scans."""
    if not ranges:
        return false()
    return or_(*(col.between(first, last) for first, last in ranges))


def outside_ranges(col: ColumnElement[Any], ranges: Ranges) -> ColumnElement[bool]:
    """col lies in none of the (merged) ranges: NOT in_ranges spelled as index ranges (NULL: false)."""
    if not ranges:
        return true()
    parts = [col < ranges[0][0]]
    parts += [and_(col > last, col < first) for (_, last), (first, _) in pairwise(ranges)]
    parts.append(col > ranges[-1][1])
    return or_(*parts)


def _count(connection: Connection, query: Select[Any]) -> int:
    return int(connection.execute(select(func.count()).select_from(query.subquery())).scalar_one())


def _key_in(columns: Sequence[ColumnElement[Any]], query: Select[Any]) -> ColumnElement[bool]:
    return columns[0].in_(query) if len(columns) == 1 else tuple_(*columns).in_(query)


# --- the database's own tables and foreign keys ---------------------------------------------------------


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key as the database reports it."""

    table: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    constraint: str


@dataclass(frozen=True)
class DatabaseTables:
    """The tables of the database's default schema, their keys and foreign keys, in foreign-key order."""

    tables: Mapping[str, TableClause]
    keys: Mapping[str, tuple[str, ...]]  # primary key columns (all columns for a table without one)
    foreign_keys: tuple[ForeignKey, ...]
    order: tuple[str, ...]  # parents before children

    def col(self, name: str, column: str) -> ColumnClause[Any]:
        return self.tables[name].c[column]

    def key(self, name: str) -> list[ColumnClause[Any]]:
        return [self.tables[name].c[c] for c in self.keys[name]]


def reflect_tables(connection: Connection) -> DatabaseTables:
    """Read tables, primary keys and foreign keys from the database (not from our models)."""
    inspector = inspect(connection)
    tables: dict[str, TableClause] = {}
    keys: dict[str, tuple[str, ...]] = {}
    fks: list[ForeignKey] = []
    names = sorted(inspector.get_table_names())
    # One catalog query per kind for all tables (PostgreSQL), not three per table.
    all_columns = inspector.get_multi_columns(filter_names=names)
    all_keys = inspector.get_multi_pk_constraint(filter_names=names)
    all_fks = inspector.get_multi_foreign_keys(filter_names=names)
    for name in names:
        columns = [c["name"] for c in all_columns[(None, name)]]
        tables[name] = table(name, *(sql_column(c) for c in columns))
        keys[name] = tuple(all_keys[(None, name)].get("constrained_columns") or columns)
        for fk in all_fks[(None, name)]:
            if fk.get("referred_schema") not in (None, inspector.default_schema_name):
                continue
            cols, parent = tuple(fk["constrained_columns"]), fk["referred_table"]
            constraint = fk.get("name") or f"{name}({', '.join(cols)}) -> {parent}"
            fks.append(ForeignKey(name, cols, parent, tuple(fk["referred_columns"]), constraint))
    return DatabaseTables(tables, keys, tuple(fks), _fk_order(tables, fks))


def _fk_order(tables: Iterable[str], fks: Sequence[ForeignKey]) -> tuple[str, ...]:
    """Parents before children (self-references ignored); tables caught in a cycle last, by name."""
    remaining = set(tables)
    parents = {
        name: {fk.parent for fk in fks if fk.table == name and fk.parent != name} for name in remaining
    }
    order: list[str] = []
    while remaining:
        ready = sorted(n for n in remaining if not (parents[n] & remaining))
        if not ready:
            ready = sorted(remaining)
        order += ready
        remaining -= set(ready)
    return tuple(order)


# --- run selection ---------------------------------------------------------------------------------------


def select_runs(
    connection: Connection, run_ids: Iterable[int] | None = None, *, latest: bool = False
) -> tuple[int, ...]:
    """Every run (the default), the given ones (UnknownRunError names any missing), or the latest one."""
    if latest:
        row = connection.execute(
            select(SEED_RUNS.c.id).order_by(SEED_RUNS.c.finished_at.desc(), SEED_RUNS.c.id.desc()).limit(1)
        ).first()
        return () if row is None else (int(row[0]),)
    if run_ids is None:
        return tuple(
            int(i) for i in connection.execute(select(SEED_RUNS.c.id).order_by(SEED_RUNS.c.id)).scalars()
        )
    wanted = sorted(set(run_ids))
    # An id no 64-bit column can hold names no run; SQLite's driver would raise OverflowError on it.
    storable = [i for i in wanted if -(1 << 63) <= i < (1 << 63)]
    found = set(connection.execute(select(SEED_RUNS.c.id).where(SEED_RUNS.c.id.in_(storable))).scalars())
    missing = [i for i in wanted if i not in found]
    if missing:
        raise UnknownRunError(missing)
    return tuple(wanted)


# --- what is seeded, what depends on it --------------------------------------------------------------------


@dataclass(frozen=True)
class _Selection:
    """Predicates for 'seeded by the selected runs', over the database's tables."""

    run_ids: tuple[int, ...]
    ranges: Mapping[str, Ranges]
    db: DatabaseTables

    def seeded(self, name: str) -> ColumnElement[bool]:
        """Rows of table `name` that the selected runs wrote."""
        if name in self.ranges:
            return in_ranges(self.db.col(name, "id"), self.ranges[name])
        if name in registry.marked_tables() and self.run_ids:
            return self.db.col(name, registry.MARK_COLUMN).in_(list(self.run_ids))
        return false()

    def not_seeded(self, name: str) -> ColumnElement[bool]:
        """The other rows of `name` (real ones, other runs'); as index ranges, so a probe is instant."""
        if name in self.ranges:
            return outside_ranges(self.db.col(name, "id"), self.ranges[name])
        if name in registry.marked_tables() and self.run_ids:
            mark = self.db.col(name, registry.MARK_COLUMN)
            # NOT IN alone would drop the NULL-marked (real) rows.
            runs = merge_ranges((run_id, run_id) for run_id in self.run_ids)
            return or_(mark.is_(None), outside_ranges(mark, runs))
        return true()

    def only_seeded(self, name: str) -> ColumnElement[bool]:
        """True when `name` has rows and every one of them is the selected runs' (one statement)."""
        rows = select(1).select_from(self.db.tables[name])
        return and_(exists(rows), not_(exists(rows.where(self.not_seeded(name)))))

    def references(self, fk: ForeignKey, doomed: Mapping[str, TableClause]) -> ColumnElement[bool]:
        """Rows of fk.table whose fk points at a seeded row of fk.parent (or a doomed one, when given)."""
        cols = [self.db.col(fk.table, c) for c in fk.columns]
        parent_cols = [self.db.col(fk.parent, c) for c in fk.parent_columns]
        if fk.parent in self.ranges and fk.parent_columns == ("id",):
            hit = in_ranges(cols[0], self.ranges[fk.parent])
        else:
            hit = _key_in(cols, select(*parent_cols).where(self.seeded(fk.parent)))
        work = doomed.get(fk.parent)
        if work is not None:
            # The work table holds the parent's key columns; a foreign key names the same ones or a unique.
            if list(fk.parent_columns) == list(self.db.keys[fk.parent]):
                hit = or_(hit, _key_in(cols, select(*work.c)))
            else:
                inner = select(*parent_cols).where(_key_in(self.db.key(fk.parent), select(*work.c)))
                hit = or_(hit, _key_in(cols, inner))
        return hit

    def dependents_of(self, fk: ForeignKey) -> ColumnElement[bool]:
        return and_(self.references(fk, {}), self.not_seeded(fk.table))


def _selection(
    connection: Connection, run_ids: Sequence[int], db: DatabaseTables | None = None
) -> _Selection:
    run_ids = tuple(run_ids)
    ranges = load_ranges(connection, run_ids) if run_ids else dict.fromkeys(registry.id_block_tables(), ())
    return _Selection(run_ids, ranges, db or reflect_tables(connection))


def _into_seeded(sel: _Selection) -> list[ForeignKey]:
    seeded = set(registry.seeded_tables())
    return [fk for fk in sel.db.foreign_keys if fk.parent in seeded]


def _has_other_rows(connection: Connection, sel: _Selection, name: str) -> bool:
    """Whether `name` holds a row the selected runs did not write (an index probe)."""
    rows = select(1).select_from(sel.db.tables[name]).where(sel.not_seeded(name))
    return bool(connection.execute(select(exists(rows))).scalar())


def _seeded_count(connection: Connection, sel: _Selection, name: str) -> int:
    """The selected runs' rows in `name`, in one statement (one snapshot): when no other row is there (an
    index probe), the table's plain count, which databases answer faster than a count over ranges."""
    everything = select(func.count()).select_from(sel.db.tables[name]).scalar_subquery()
    seeded = select(func.count()).select_from(sel.db.tables[name]).where(sel.seeded(name)).scalar_subquery()
    others = exists(select(1).select_from(sel.db.tables[name]).where(sel.not_seeded(name)))
    query = select(case((others, seeded), else_=everything))
    return int(connection.execute(query).scalar_one())


def _seeded_counts(connection: Connection, sel: _Selection, skip: Iterable[str] = ()) -> dict[str, int]:
    counts = dict.fromkeys(delete_order(), 0)
    if not sel.run_ids:
        return counts
    skipped = set(skip)
    for name in registry.seeded_tables():
        if name not in skipped:
            counts[name] = _seeded_count(connection, sel, name)
    counts[registry.SEED_RUNS] = _count(
        connection, select(SEED_RUNS.c.id).where(SEED_RUNS.c.id.in_(sel.run_ids))
    )
    return counts


def _find_dependents(connection: Connection, sel: _Selection) -> Dependents:
    if not sel.run_ids:
        return Dependents()
    found = []
    fks = _into_seeded(sel)
    # A table with no row outside the selected runs has no dependents: one index probe instead of a count
    # that a database may answer by walking the foreign key's index over every seeded row.
    others = {name: _has_other_rows(connection, sel, name) for name in dict.fromkeys(fk.table for fk in fks)}
    for fk in sorted(fks, key=lambda f: (sel.db.order.index(f.table), f.constraint)):
        if not others[fk.table]:
            continue
        keys = sel.db.key(fk.table)
        query = select(*keys).where(sel.dependents_of(fk))
        count = _count(connection, query)
        if not count:
            continue
        rows = connection.execute(query.order_by(*keys).limit(SAMPLE_SIZE)).all()
        samples = tuple(r[0] if len(r) == 1 else tuple(r) for r in rows)
        found.append(
            Dependent(fk.table, fk.columns, fk.parent, fk.constraint, count, sel.db.keys[fk.table], samples)
        )
    # Foreign keys overlap (a real reply in a seeded channel to a seeded message): count each row once.
    distinct = {}
    for name in dict.fromkeys(d.table for d in found):
        either = or_(*(sel.dependents_of(fk) for fk in fks if fk.table == name))
        distinct[name] = _count(connection, select(*sel.db.key(name)).where(either))
    return Dependents(tuple(found), distinct)


def find_dependents(connection: Connection, run_ids: Sequence[int]) -> Dependents:
    """Real rows (outside these runs) that reference rows the cleanup would remove: count and sample keys."""
    return _find_dependents(connection, _selection(connection, run_ids))


def plan_cleanup(connection: Connection, run_ids: Sequence[int], *, counts: bool = True) -> CleanupPlan:
    """Per-table counts of the seeded rows these runs' cleanup would remove, and the dependents in the way.

    counts=False leaves the counts out (empty, counted=False): for a caller that goes straight on to
    execute_cleanup, which counts again anyway, and only needs the runs and the dependents.
    """
    sel = _selection(connection, run_ids)
    return CleanupPlan(
        run_ids=sel.run_ids,
        counts=_seeded_counts(connection, sel) if counts else {},
        dependents=_find_dependents(connection, sel),
        counted=counts,
    )


# --- execution -------------------------------------------------------------------------------------------


def _temp_keys(connection: Connection, sel: _Selection, name: str, number: int) -> TableClause:
    """A fresh session-private table for the keys of `name`'s doomed real rows (cascade's work list)."""
    work = f"cleanup_doomed_{number}"
    shape = select(*sel.db.key(name)).where(false())
    query = str(shape.compile(connection, compile_kwargs={"literal_binds": True}))
    if connection.dialect.name == "postgresql":
        schema, ddl = "pg_temp", f"CREATE TEMPORARY TABLE {work} ON COMMIT DROP AS {query}"
    else:
        schema, ddl = "temp", f"CREATE TEMPORARY TABLE {work} AS {query}"
    # Belt and braces: a leftover from an earlier cleanup on this pooled connection must not leak in.
    connection.execute(text(f"DROP TABLE IF EXISTS {schema}.{work}"))
    connection.execute(text(ddl))
    return table(work, *(sql_column(c) for c in sel.db.keys[name]), schema=schema)


def _cascade_sets(connection: Connection, sel: _Selection) -> dict[str, TableClause]:
    """Work tables of the real rows that must go for the seeded rows to go: to a fixed point."""
    doomed: dict[str, TableClause] = {}
    seeded = set(registry.seeded_tables())
    while True:
        added = 0
        for fk in sel.db.foreign_keys:
            if fk.parent not in seeded and fk.parent not in doomed:
                continue
            if fk.table not in doomed:
                if not connection.execute(
                    select(exists().where(sel.references(fk, doomed), sel.not_seeded(fk.table)))
                ).scalar():
                    continue
                doomed[fk.table] = _temp_keys(connection, sel, fk.table, len(doomed))
            work = doomed[fk.table]
            keys = sel.db.key(fk.table)
            rows = select(*keys).where(
                sel.references(fk, doomed),
                sel.not_seeded(fk.table),
                not_(_key_in(keys, select(*work.c))),
            )
            added += connection.execute(insert(work).from_select(list(sel.db.keys[fk.table]), rows)).rowcount
        if not added:
            return doomed


class _Deleter:
    """Runs the delete statements of one cleanup and reports each one."""

    def __init__(self, connection: Connection, sel: _Selection, progress: ProgressCallback | None) -> None:
        self.connection = connection
        self.sel = sel
        self.progress = progress

    def _run(self, name: str, where: ColumnElement[bool]) -> int:
        rows = int(self.connection.execute(delete(self.sel.db.tables[name]).where(where)).rowcount)
        if self.progress is not None:
            self.progress(name, rows)
        return rows

    def delete(self, name: str, doomed: ColumnElement[bool]) -> int:
        """Delete the doomed rows of one table.

        PostgreSQL checks RESTRICT at the end of each statement, so rows referencing each other (a thread)
        go in one statement. SQLite checks it row by row as it deletes: there, rows that others still
        reference wait for the next pass, leaves first, one level of the tree per statement.
        """
        self_fks = [fk for fk in self.sel.db.foreign_keys if fk.table == name and fk.parent == name]
        if not self_fks or self.connection.dialect.name != "sqlite":
            return self._run(name, doomed)
        db = self.sel.db
        child = db.tables[name].alias("child")
        referenced = or_(
            *(
                exists().where(
                    *(
                        child.c[c] == db.col(name, p)
                        for c, p in zip(fk.columns, fk.parent_columns, strict=True)
                    )
                )
                for fk in self_fks
            )
        )
        total = 0
        while rows := self._run(name, and_(doomed, not_(referenced))):
            total += rows
        return total + self._run(name, doomed)


def _referenced_only_by(sel: _Selection, candidates: set[str]) -> set[str]:
    """The largest subset of candidates that no table outside it references (TRUNCATE's own rule)."""
    kept = set(candidates)
    while True:
        blocked = {fk.parent for fk in sel.db.foreign_keys if fk.parent in kept and fk.table not in kept}
        if not blocked:
            return kept
        kept -= blocked


def _has_user_triggers(connection: Connection, name: str) -> bool:
    query = text(
        "SELECT EXISTS (SELECT 1 FROM pg_trigger"
        " WHERE tgrelid = CAST(:name AS regclass) AND NOT tgisinternal)"
    )
    return bool(connection.execute(query, {"name": name}).scalar())


def _whole_table_candidates(connection: Connection, sel: _Selection) -> set[str]:
    """Seeded tables that have rows and hold nothing but the selected runs' (index probes, no counts)."""
    return {
        name
        for name in registry.seeded_tables()
        if connection.execute(select(sel.only_seeded(name))).scalar()
    }


def _truncate_whole_tables(connection: Connection, sel: _Selection, deleter: _Deleter) -> dict[str, int]:
    """TRUNCATE the seeded tables that hold only the selected runs' rows (PostgreSQL): their rows, by name.

    Cheap unlocked probes pick the candidates; the decision is made again under ACCESS EXCLUSIVE locks, so
    no real row can arrive between the check and the TRUNCATE, and the rows are counted under that lock.
    """
    if connection.dialect.name != "postgresql":
        return {}
    chosen = _referenced_only_by(sel, _whole_table_candidates(connection, sel))
    chosen = {name for name in chosen if not _has_user_triggers(connection, name)}
    chosen = _referenced_only_by(sel, chosen)
    if not chosen:
        return {}
    ordered = [name for name in reversed(sel.db.order) if name in chosen]
    quoted = ", ".join(connection.dialect.identifier_preparer.quote(name) for name in ordered)
    connection.execute(text(f"LOCK TABLE {quoted} IN ACCESS EXCLUSIVE MODE"))
    counts = {}
    for name in ordered:
        if _has_other_rows(connection, sel, name):
            return {}  # a row arrived since the probe: these tables take the DELETE path
        counts[name] = _count(connection, select(*sel.db.key(name)))
    connection.execute(text(f"TRUNCATE TABLE {quoted} CONTINUE IDENTITY RESTRICT"))
    if deleter.progress is not None:
        for name in ordered:
            deleter.progress(name, counts[name])
    return counts


def _drop_sqlite_indexes(connection: Connection, sel: _Selection) -> list[str]:
    """Drop the secondary indexes of the seeded tables that hold only the selected runs' rows (SQLite).

    Returns their DDL, to run again once the deletes have emptied those tables. SQLite's transaction holds
    the write lock from its first statement (_lock_runs), so the tables cannot change in between. Kept:
    the indexes behind UNIQUE and PRIMARY KEY constraints (SQLite cannot drop them), and those whose first
    column is the table's own foreign key to itself (the leaves-first deletes and RESTRICT probe them).
    """
    if connection.dialect.name != "sqlite":
        return []
    recreate = []
    for name in sorted(_whole_table_candidates(connection, sel)):
        self_columns = {fk.columns[0] for fk in sel.db.foreign_keys if fk.table == name and fk.parent == name}
        rows = connection.execute(
            text(
                "SELECT name, sql FROM sqlite_master"
                " WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"
            ),
            {"t": name},
        ).all()
        for index, ddl in rows:
            first = connection.execute(
                text("SELECT name FROM pragma_index_info(:i) WHERE seqno = 0"), {"i": index}
            )
            if first.scalar() in self_columns:
                continue
            quoted = connection.dialect.identifier_preparer.quote(index)
            connection.execute(text(f"DROP INDEX {quoted}"))
            recreate.append(str(ddl))
    return recreate


def _lock_runs(connection: Connection, run_ids: Sequence[int]) -> set[int]:
    """Lock the runs' ledger rows before checking anything, so nothing changes between checks and deletes.

    PostgreSQL: row locks, so two cleanups of one run cannot interleave. SQLite: its driver would only begin
    the transaction at the first DELETE; a no-op write begins it here and takes the database's write lock.
    """
    if connection.dialect.name == "sqlite":
        connection.execute(
            update(SEED_RUNS).where(SEED_RUNS.c.id.in_(run_ids)).values(profile=SEED_RUNS.c.profile)
        )
    query = select(SEED_RUNS.c.id).where(SEED_RUNS.c.id.in_(run_ids)).with_for_update()
    return {int(i) for i in connection.execute(query).scalars()}


def execute_cleanup(
    connection: Connection,
    plan: CleanupPlan,
    cascade: bool = False,
    progress: ProgressCallback | None = None,
) -> CleanupResult:
    """Delete the plan's runs' seeded rows (and, with cascade, the real rows depending on them).

    Runs inside the caller's transaction and never commits: on any error the caller rolls back and nothing
    is removed. Counts and dependents are checked again here, as the database may have changed since the
    plan was made; DependentsError is raised (before any delete) when dependents exist without cascade.
    """
    if plan.is_empty:
        return CleanupResult(run_ids=(), removed=dict.fromkeys(delete_order(), 0))
    if missing := sorted(set(plan.run_ids) - _lock_runs(connection, plan.run_ids)):
        raise LedgerChangedError(
            f"seed run {', '.join(map(str, missing))} was removed meanwhile; nothing done"
        )
    sel = _selection(connection, plan.run_ids)
    dependents = _find_dependents(connection, sel)
    if dependents and not cascade:
        raise DependentsError(dependents)

    doomed = _cascade_sets(connection, sel) if dependents else {}
    extra = {name: _count(connection, select(*work.c)) for name, work in doomed.items()}
    deleter = _Deleter(connection, sel, progress)
    removed = dict.fromkeys(delete_order(), 0)
    removed_extra: dict[str, int] = {}
    seeded = set(registry.seeded_tables())
    truncated = {} if doomed else _truncate_whole_tables(connection, sel, deleter)
    # Counted after the run lock, and (for the truncated tables) under the tables' lock: the deletes below
    # must remove exactly these many rows, or something changed meanwhile.
    expected = _seeded_counts(connection, sel, skip=truncated)
    removed.update(truncated)
    recreate = [] if doomed else _drop_sqlite_indexes(connection, sel)
    for name in reversed(sel.db.order):
        if name in truncated or (name not in seeded and name not in doomed):
            continue
        where = sel.seeded(name)
        if name in doomed:
            where = or_(where, _key_in(sel.db.key(name), select(*doomed[name].c)))
        deleted = deleter.delete(name, where)
        wanted = expected.get(name, 0) + extra.get(name, 0)
        if deleted != wanted:
            raise LedgerChangedError(
                f"{name} changed while the cleanup ran ({deleted} rows instead of {wanted}); "
                "nothing done, try again"
            )
        if name in seeded:
            removed[name] = expected[name]
        if extra.get(name):
            removed_extra[name] = extra[name]
    for ddl in recreate:
        connection.execute(text(ddl))
    # Blocks go with their run (ON DELETE CASCADE).
    runs = sel.db.col(registry.SEED_RUNS, "id").in_(sel.run_ids)
    removed[registry.SEED_RUNS] = deleter.delete(registry.SEED_RUNS, runs)
    schema = "pg_temp" if connection.dialect.name == "postgresql" else "temp"
    for work in doomed.values():
        connection.execute(text(f"DROP TABLE IF EXISTS {schema}.{work.name}"))
    return CleanupResult(
        run_ids=sel.run_ids,
        removed=removed,
        dependents=dependents,
        dependents_removed=removed_extra,
    )

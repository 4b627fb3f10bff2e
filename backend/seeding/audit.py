"""Audit, top-up and refresh of seed runs: compare what a run generated with what the database holds.

A run's rows are a pure function of what its ledger entry records (options, as-of date, id blocks, run id)
and of the generator version, so they can be made again at any time. This module regenerates a run chunk by
chunk through the shared pipeline, loads the rows into one temporary table per seeded table (PostgreSQL: COPY;
SQLite: executemany), and compares in bulk with one anti-join (missing rows) and one join-with-difference
(drifted rows) per table, keyed on the table's primary key. Everything is derived from the registry and the
models, so a new entity is audited and topped up without a line here.

Top-up puts missing rows back with INSERT … SELECT from the temporary table, tables in foreign-key order, and
only rows whose parents exist (a seeded parent restored earlier in the same pass counts; a row whose real
parent is gone, or whose unique value a real row has taken, is skipped and counted). Refresh sets drifted
rows back to their generated values. Neither touches a row that is not the run's. The caller owns the
transaction: audit's temporary tables are dropped before returning, so an audit changes nothing.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, UniqueConstraint, func, not_, select

from backend.models import Base
from backend.seeding import registry
from backend.seeding.cleanup import SEED_RUN_BLOCKS, SEED_RUNS, in_ranges, load_ranges
from backend.seeding.dataset import Dataset
from backend.seeding.options import SeedOptions
from backend.seeding.pipeline import effective_workers, encoded_batches
from backend.seeding.reactions import reaction_ids
from backend.seeding.writers import COPY_BUFFER_BYTES, encode_copy_text, encode_rows

log = logging.getLogger(__name__)

SAMPLE_SIZE = 5
_EXPECTED_PREFIX = "seed_expected_"
# A self-referencing table (messages.parent_id) restores parents before children in this many passes at most.
_MAX_RESTORE_PASSES = 8


class AuditError(Exception):
    """A run cannot be regenerated (its ledger entry is unreadable or from another generator version)."""


@dataclass
class TableAudit:
    """One run's rows in one table."""

    table: str
    written: int  # rows the run wrote (its ledger entry)
    present: int  # rows of the run still in the database
    missing: int = 0  # generated rows not in the database
    drifted: int = 0  # rows present whose values differ from what the run generated
    restored: int = 0  # missing rows put back by a top-up
    skipped: int = 0  # missing rows a top-up could not put back (a real parent gone, a unique value taken)
    refreshed: int = 0  # drifted rows set back to their generated values
    samples: dict[str, list[Any]] = field(default_factory=dict)  # a few keys per kind, when asked for

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "written": self.written,
            "present": self.present,
            "missing": self.missing,
            "drifted": self.drifted,
        }
        if self.restored or self.skipped or self.refreshed:
            data.update(restored=self.restored, skipped=self.skipped, refreshed=self.refreshed)
        if self.samples:
            data["samples"] = self.samples
        return data


@dataclass
class RunAudit:
    """One seed run, per seeded table in foreign-key order."""

    run_id: int
    profile: str
    seed: int
    as_of: date
    generator_version: str
    tables: list[TableAudit]
    compared: bool = True  # False: only counted (another generator version, or the fast path)
    note: str = ""

    @property
    def complete(self) -> bool:
        return all(t.present == t.written for t in self.tables)

    def total(self, kind: str) -> int:
        return sum(int(getattr(t, kind)) for t in self.tables)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "profile": self.profile,
            "seed": self.seed,
            "as_of": self.as_of.isoformat(),
            "generator_version": self.generator_version,
            "compared": self.compared,
            "note": self.note,
            "tables": {t.table: t.to_dict() for t in self.tables},
        }


@dataclass
class AuditReport:
    """Every run, and the real rows (in no run's ledger entry) beside them per table."""

    runs: list[RunAudit]
    real: dict[str, int]
    real_samples: dict[str, list[Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"runs": [r.to_dict() for r in self.runs], "real": self.real}
        if self.real_samples:
            data["real_samples"] = self.real_samples
        return data


@dataclass(frozen=True)
class _Run:
    """What the ledger says about one run."""

    run_id: int
    options: SeedOptions
    generator_version: str
    written: dict[str, int]
    id_starts: dict[str, int]


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _key_columns(name: str) -> list[str]:
    return [c.name for c in _table(name).primary_key.columns]


def _load_run(connection: Connection, run_id: int) -> _Run:
    row = connection.execute(
        select(SEED_RUNS.c.options_json, SEED_RUNS.c.generator_version, SEED_RUNS.c.row_counts_json).where(
            SEED_RUNS.c.id == run_id
        )
    ).one()
    try:
        stored = json.loads(row.options_json)
        stored["as_of"] = date.fromisoformat(stored["as_of"])
        options = SeedOptions(**stored)
        counts = json.loads(row.row_counts_json)
        written = {name: int(counts.get(name, 0)) for name in registry.seeded_tables()}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise AuditError(f"run {run_id}: its ledger entry cannot be read ({exc})") from None
    blocks = connection.execute(
        select(SEED_RUN_BLOCKS.c.table_name, SEED_RUN_BLOCKS.c.first_id).where(
            SEED_RUN_BLOCKS.c.run_id == run_id
        )
    )
    return _Run(run_id, options, str(row.generator_version), written, {str(n): int(f) for n, f in blocks})


def _run_rows(name: str, run: _Run) -> Any:
    """A WHERE clause for the run's rows of a table: its id block, or its mark."""
    tbl = _table(name)
    if registry.is_id_block_table(name):
        first = run.id_starts.get(name, 0)
        return tbl.c.id.between(first, first + run.written[name] - 1)
    return tbl.c[registry.MARK_COLUMN] == run.run_id


def present_counts(connection: Connection, run: _Run) -> dict[str, int]:
    """Rows of the run still present, per seeded table: one indexed count each, no regeneration."""
    return {
        name: int(
            connection.execute(
                select(func.count()).select_from(_table(name)).where(_run_rows(name, run))
            ).scalar_one()
        )
        for name in registry.seeded_tables()
    }


def run_ids(connection: Connection) -> list[int]:
    return [int(i) for i in connection.execute(select(SEED_RUNS.c.id).order_by(SEED_RUNS.c.id)).scalars()]


def _expected(name: str) -> str:
    return f"{_EXPECTED_PREFIX}{name}"


def _create_expected_tables(connection: Connection) -> None:
    for name in registry.seeded_tables():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"CREATE TEMP TABLE {_expected(name)} (LIKE {name}) ON COMMIT DROP")
        else:
            connection.exec_driver_sql(
                f"CREATE TEMP TABLE {_expected(name)} AS SELECT * FROM main.{name} WHERE 0"
            )


def _drop_expected_tables(connection: Connection) -> None:
    for name in registry.seeded_tables():
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_expected(name)}")


def _fill_expected_tables(connection: Connection, dataset: Dataset) -> None:
    """Regenerate the run chunk by chunk (the shared pipeline) into the temporary tables, in bulk."""
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        # The generated timestamps are UTC text without an offset, as the writer loads them.
        connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
        # The comparisons are a few big statements; compiling them costs more than it saves.
        connection.exec_driver_sql("SET LOCAL jit = off")
    cursor: Any = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    encode = encode_copy_text if postgres else encode_rows
    workers = effective_workers(dataset.options, sum(dataset.plan.counts.values()))
    try:
        for name, payload, rows in encoded_batches(dataset, workers, encode):
            if not rows:
                continue
            columns = registry.columns(name)
            if postgres:
                cursor.copy_expert(
                    f"COPY {_expected(name)} ({', '.join(columns)}) FROM STDIN",
                    io.BytesIO(payload),
                    size=COPY_BUFFER_BYTES,
                )
            else:
                marks = ", ".join("?" * len(columns))
                cursor.executemany(
                    f"INSERT INTO {_expected(name)} ({', '.join(columns)}) VALUES ({marks})", payload
                )
    finally:
        cursor.close()
    if postgres:
        for name in registry.seeded_tables():
            connection.exec_driver_sql(f"ANALYZE {_expected(name)}")


def _same_key(name: str, left: str, right: str) -> str:
    return " AND ".join(f"{left}.{c} = {right}.{c}" for c in _key_columns(name))


def _differs(connection: Connection, name: str) -> str:
    operator = "IS DISTINCT FROM" if connection.dialect.name == "postgresql" else "IS NOT"
    others = [c for c in registry.columns(name) if c not in _key_columns(name)]
    return "(" + " OR ".join(f"r.{c} {operator} e.{c}" for c in others) + ")" if others else "(1 = 0)"


def _missing_sql(name: str, what: str) -> str:
    return (
        f"SELECT {what} FROM {_expected(name)} e "
        f"WHERE NOT EXISTS (SELECT 1 FROM {name} r WHERE {_same_key(name, 'r', 'e')})"
    )


def _drifted_sql(connection: Connection, name: str, what: str) -> str:
    join = f"JOIN {name} r ON {_same_key(name, 'r', 'e')}"
    return f"SELECT {what} FROM {_expected(name)} e {join} WHERE {_differs(connection, name)}"


def _keys(name: str, prefix: str) -> str:
    return ", ".join(f"{prefix}.{c}" for c in _key_columns(name))


def _sample(connection: Connection, sql: str, limit: int) -> list[Any]:
    rows = connection.exec_driver_sql(f"{sql} ORDER BY 1 LIMIT {int(limit)}").all()
    return [row[0] if len(row) == 1 else list(row) for row in rows]


def _restorable_sql(name: str) -> str:
    """Missing rows whose parents exist and whose unique values are free: what a top-up can put back.

    The missing rows are found first (one anti-join, materialised) and only they are checked against the
    parents and the unique values: estimated together, the filters make PostgreSQL's planner guess one row
    and pick a nested loop over the whole table.
    """
    table = _table(name)
    conditions = ["1 = 1"]
    for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
        child, parent = fk.parent, fk.column
        exists = f"EXISTS (SELECT 1 FROM {parent.table.name} p WHERE p.{parent.name} = m.{child.name})"
        conditions.append(f"(m.{child.name} IS NULL OR {exists})" if child.nullable else exists)
    unique_sets = [[c.name for c in u.columns] for u in table.constraints if isinstance(u, UniqueConstraint)]
    unique_sets += [[c.name] for c in table.columns if c.unique and [c.name] not in unique_sets]
    for cols in unique_sets:
        same = " AND ".join(f"u.{c} = m.{c}" for c in cols)
        conditions.append(f"NOT EXISTS (SELECT 1 FROM {name} u WHERE {same})")
    columns = ", ".join(registry.columns(name))
    return (
        # INSERT first: Python's sqlite3 reports the rows changed only for a statement that starts with it.
        f"INSERT INTO {name} ({columns}) WITH m AS MATERIALIZED ({_missing_sql(name, 'e.*')}) "
        f"SELECT {', '.join('m.' + c for c in registry.columns(name))} "
        f"FROM m WHERE {' AND '.join(conditions)}"
    )


def _restore(connection: Connection, name: str) -> int:
    restored = 0
    self_referencing = any(fk.column.table.name == name for fk in _table(name).foreign_keys)
    for _ in range(_MAX_RESTORE_PASSES if self_referencing else 1):
        inserted = connection.exec_driver_sql(_restorable_sql(name)).rowcount
        restored += max(int(inserted), 0)
        if inserted <= 0:
            break
    return restored


def _refresh(connection: Connection, name: str) -> int:
    others = [c for c in registry.columns(name) if c not in _key_columns(name)]
    if not others:
        return 0
    assignments = ", ".join(f"{c} = e.{c}" for c in others)
    sql = (
        f"UPDATE {name} AS r SET {assignments} FROM {_expected(name)} e "
        f"WHERE {_same_key(name, 'r', 'e')} AND {_differs(connection, name)}"
    )
    return max(int(connection.exec_driver_sql(sql).rowcount), 0)


def _count(connection: Connection, sql: str) -> int:
    return int(connection.exec_driver_sql(sql).scalar_one())


def _header(run: _Run, tables: list[TableAudit], compared: bool, note: str = "") -> RunAudit:
    o = run.options
    return RunAudit(run.run_id, o.profile, o.seed, o.as_of, run.generator_version, tables, compared, note)


def compare_run(
    connection: Connection,
    run_id: int,
    *,
    restore: bool = False,
    refresh: bool = False,
    samples: int = 0,
    regenerate_complete: bool = True,
) -> RunAudit:
    """Audit one run; with restore, put its missing rows back; with refresh, its drifted rows.

    regenerate_complete False (top-up without refresh): a run whose rows are all present is answered from
    indexed counts alone, without regenerating anything.
    """
    run = _load_run(connection, run_id)
    present = present_counts(connection, run)
    tables = [TableAudit(name, run.written[name], present[name]) for name in registry.seeded_tables()]
    for t in tables:
        t.missing = max(t.written - t.present, 0)
    if run.generator_version != registry.GENERATOR_VERSION:
        note = (
            f"written by generator version {run.generator_version}, this code is version "
            f"{registry.GENERATOR_VERSION}: missing rows are counted, not compared or restored"
        )
        return _header(run, tables, compared=False, note=note)
    if not regenerate_complete and all(t.present == t.written for t in tables):
        return _header(run, tables, compared=False, note="complete: nothing to do")
    dataset = Dataset(run.options, run.id_starts, run.run_id, reaction_ids(connection))
    _create_expected_tables(connection)
    try:
        _fill_expected_tables(connection, dataset)
        for t in tables:
            name = t.table
            t.missing = _count(connection, _missing_sql(name, "count(*)"))
            t.drifted = _count(connection, _drifted_sql(connection, name, "count(*)"))
            if samples:
                t.samples = {
                    "missing": _sample(connection, _missing_sql(name, _keys(name, "e")), samples),
                    "drifted": _sample(connection, _drifted_sql(connection, name, _keys(name, "e")), samples),
                }
            if restore and t.missing:
                t.restored = _restore(connection, name)
                t.skipped = t.missing - t.restored
            if refresh and t.drifted:
                t.refreshed = _refresh(connection, name)
    finally:
        _drop_expected_tables(connection)
    log.debug("run %s audited: %s", run_id, [t.to_dict() for t in tables])
    return _header(run, tables, compared=True)


def real_rows(connection: Connection, samples: int = 0) -> tuple[dict[str, int], dict[str, list[Any]]]:
    """Rows in no run's ledger entry, per seeded table (and a few of their keys when samples > 0)."""
    ranges = load_ranges(connection)
    counts: dict[str, int] = {}
    keys: dict[str, list[Any]] = {}
    for name in registry.seeded_tables():
        tbl = _table(name)
        if name in ranges:
            real = not_(in_ranges(tbl.c.id, ranges[name]))
        else:
            real = tbl.c[registry.MARK_COLUMN].is_(None)
        counts[name] = int(connection.execute(select(func.count()).select_from(tbl).where(real)).scalar_one())
        if samples:
            key = [tbl.c[c] for c in _key_columns(name)]
            rows = connection.execute(select(*key).where(real).order_by(*key).limit(samples)).all()
            keys[name] = [row[0] if len(row) == 1 else list(row) for row in rows]
    return counts, keys


def audit_database(
    connection: Connection, runs: Sequence[int] | None = None, samples: int = 0
) -> AuditReport:
    """Audit the given runs (every run when None) and count the real rows; changes nothing."""
    audited = [
        compare_run(connection, run_id, samples=samples)
        for run_id in (runs if runs is not None else run_ids(connection))
    ]
    real, real_samples = real_rows(connection, samples)
    return AuditReport(audited, real, real_samples)


def _grid(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in [header, *rows]
    ]


def format_report(report: AuditReport) -> str:
    """Per run and table: written, present, missing, drifted; then real rows per table; samples with -v."""
    lines: list[str] = []
    if not report.runs:
        lines.append("seed runs: none")
    for run in report.runs:
        lines.append(
            f"run {run.run_id} · profile {run.profile} · seed {run.seed} · as of {run.as_of} · "
            f"generator {run.generator_version}" + (f" · {run.note}" if run.note else "")
        )
        rows = [
            (t.table, str(t.written), str(t.present), str(t.missing), str(t.drifted) if run.compared else "?")
            for t in run.tables
        ]
        lines += ["  " + line for line in _grid(("table", "written", "present", "missing", "drifted"), rows)]
        for t in run.tables:
            for kind, keys in t.samples.items():
                if keys:
                    lines.append(f"    {t.table} {kind}: {', '.join(map(str, keys))}")
        lines.append("")
    lines += _grid(("table", "real rows"), [(name, str(n)) for name, n in report.real.items()])
    for name, keys in report.real_samples.items():
        if keys:
            lines.append(f"  {name} real: {', '.join(map(str, keys))}")
    return "\n".join(lines)

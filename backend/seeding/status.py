"""What the database holds: per seeded table (from the registry), how many rows are seeded (per the ledger)
and how many are real; and the ledger's runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from backend.models import Base
from backend.seeding import registry
from backend.seeding.cleanup import SEED_RUNS, in_ranges, load_ranges


@dataclass(frozen=True)
class TableStatus:
    table: str
    total: int
    seeded: int

    @property
    def real(self) -> int:
        return self.total - self.seeded


@dataclass(frozen=True)
class RunStatus:
    id: int
    finished_at: datetime
    seed: int
    profile: str
    as_of: date
    rows_written: int | None  # None when row_counts_json cannot be read


@dataclass(frozen=True)
class Status:
    tables: tuple[TableStatus, ...]
    runs: tuple[RunStatus, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form."""
        return {
            "tables": {t.table: {"total": t.total, "seeded": t.seeded, "real": t.real} for t in self.tables},
            "runs": [
                {
                    "id": r.id,
                    "finished_at": r.finished_at.isoformat(),
                    "seed": r.seed,
                    "profile": r.profile,
                    "as_of": r.as_of.isoformat(),
                    "rows_written": r.rows_written,
                }
                for r in self.runs
            ],
        }


def _rows_written(row_counts_json: str) -> int | None:
    try:
        counts = json.loads(row_counts_json)
    except ValueError:
        return None
    if not isinstance(counts, dict) or not all(isinstance(v, int) for v in counts.values()):
        return None
    return sum(counts.values())


def collect_status(connection: Connection) -> Status:
    """Total, seeded and real rows per table, counted in SQL over every run's id blocks; and the runs."""
    ranges = load_ranges(connection)
    tables = []
    for name in registry.seeded_tables():
        tbl = Base.metadata.tables[name]
        if name in ranges:
            total = connection.execute(select(func.count()).select_from(tbl)).scalar_one()
            seeded = connection.execute(
                select(func.count()).select_from(tbl).where(in_ranges(tbl.c.id, ranges[name]))
            ).scalar_one()
        else:
            mark = tbl.c[registry.MARK_COLUMN]
            # A mark names a run still in the ledger: runs are removed only together with their rows.
            total, seeded = connection.execute(select(func.count(), func.count(mark)).select_from(tbl)).one()
        tables.append(TableStatus(name, int(total), int(seeded)))
    runs = tuple(
        RunStatus(
            id=int(row.id),
            finished_at=row.finished_at,
            seed=int(row.seed),
            profile=row.profile,
            as_of=row.as_of,
            rows_written=_rows_written(row.row_counts_json),
        )
        for row in connection.execute(
            select(
                SEED_RUNS.c.id,
                SEED_RUNS.c.finished_at,
                SEED_RUNS.c.seed,
                SEED_RUNS.c.profile,
                SEED_RUNS.c.as_of,
                SEED_RUNS.c.row_counts_json,
            ).order_by(SEED_RUNS.c.id)
        )
    )
    return Status(tables=tuple(tables), runs=runs)


def _grid(header: tuple[str, ...], rows: list[tuple[str, ...]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in [header, *rows]
    ]


def format_status(status: Status) -> str:
    """A readable report: one line per table, then one per seed run."""
    lines = _grid(
        ("table", "total", "seeded", "real"),
        [(t.table, str(t.total), str(t.seeded), str(t.real)) for t in status.tables],
        right={1, 2, 3},
    )
    if not status.runs:
        lines += ["", "seed runs: none"]
        return "\n".join(lines)
    lines += ["", f"seed runs: {len(status.runs)}"]
    lines += _grid(
        ("id", "finished_at", "profile", "seed", "as_of", "rows"),
        [
            (
                str(r.id),
                r.finished_at.isoformat(sep=" ", timespec="seconds"),
                r.profile,
                str(r.seed),
                r.as_of.isoformat(),
                "?" if r.rows_written is None else str(r.rows_written),
            )
            for r in status.runs
        ],
        right={0, 3, 5},
    )
    return "\n".join(lines)

"""The seed ledger: runs and the id block each wrote per table, in the same transaction as the rows.

A run's identity is its seed and data options (the digest), the generator and Faker versions, and the set of
tables it seeded (its row counts' keys): a completed run with the same digest but other versions or tables
stands for other rows, and CompletedRun.changes says what changed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from backend.models import SeedRun, SeedRunBlock
from backend.seeding import registry
from backend.seeding.options import SeedOptions


@dataclass(frozen=True)
class CompletedRun:
    """The newest ledger run with the same seed and data options, and what made it."""

    run_id: int
    counts: dict[str, int]
    generator_version: str
    faker_version: str
    tables: tuple[str, ...]  # the tables it seeded (the keys of its row counts)

    def changes(self, generator_version: str, faker_version: str, tables: Sequence[str]) -> list[str]:
        """What differs between that run and a run made now: empty when it stands for the same rows."""
        changed = []
        if self.generator_version != generator_version:
            changed.append(f"generator version {self.generator_version} (now {generator_version})")
        if self.faker_version != faker_version:
            changed.append(f"Faker {self.faker_version} (now {faker_version})")
        added = [t for t in tables if t not in self.tables]
        dropped = [t for t in self.tables if t not in tables]
        if added:
            changed.append(f"tables seeded now but not then: {', '.join(added)}")
        if dropped:
            changed.append(f"tables no longer seeded: {', '.join(dropped)}")
        return changed


def find_completed_run(connection: Connection, options: SeedOptions) -> CompletedRun | None:
    """The newest run with the same seed and data options (ledger runs are complete), or None."""
    row = connection.execute(
        select(SeedRun.id, SeedRun.row_counts_json, SeedRun.generator_version, SeedRun.faker_version)
        .where(SeedRun.options_digest == options.digest())
        .order_by(SeedRun.id.desc())
    ).first()
    if row is None:
        return None
    try:
        recorded = json.loads(row.row_counts_json)
    except ValueError:
        recorded = {}
    recorded = recorded if isinstance(recorded, dict) else {}
    return CompletedRun(
        run_id=int(row.id),
        counts={table: int(recorded.get(table, 0)) for table in registry.seeded_tables()},
        generator_version=str(row.generator_version),
        faker_version=str(row.faker_version),
        tables=tuple(recorded),
    )


def lock_for_seeding(connection: Connection) -> None:
    """Keep other writers out while ids are reserved and rows written (readers are not blocked)."""
    if connection.dialect.name == "postgresql":
        locked = ", ".join(registry.locked_tables())
        connection.exec_driver_sql(f"LOCK TABLE {locked} IN SHARE ROW EXCLUSIVE MODE")


def reserve_id_starts(connection: Connection) -> dict[str, int]:
    """The first id of each table's block: past every existing id and every id a sequence handed out
    (on SQLite, every id its AUTOINCREMENT table ever held: sqlite_sequence)."""
    starts = {}
    sqlite_sequence = connection.dialect.name == "sqlite" and _has_sqlite_sequence(connection)
    for table in registry.id_block_tables():
        top = int(connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar_one())
        if connection.dialect.name == "postgresql":
            issued = connection.exec_driver_sql(
                f"SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
                f"FROM {_sequence(connection, table)}"
            ).scalar_one()
            top = max(top, int(issued))
        elif sqlite_sequence:
            used = connection.exec_driver_sql(
                "SELECT max(seq) FROM sqlite_sequence WHERE name = ?", (table,)
            ).scalar_one()
            top = max(top, int(used or 0))
        starts[table] = top + 1
    return starts


def _has_sqlite_sequence(connection: Connection) -> bool:
    """Whether SQLite keeps sqlite_sequence (made with the first AUTOINCREMENT table: migration 0003)."""
    found = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    ).first()
    return found is not None


def _sequence(connection: Connection, table: str) -> str:
    name = connection.exec_driver_sql(f"SELECT pg_get_serial_sequence('{table}', 'id')").scalar_one()
    return str(name)


def advance_sequences(
    connection: Connection, id_starts: Mapping[str, int], counts: Mapping[str, int]
) -> None:
    """Move PostgreSQL's id sequences past the block, so that the app's next inserts don't collide."""
    if connection.dialect.name != "postgresql":
        return  # SQLite's sqlite_sequence moves past the explicit ids by itself (AUTOINCREMENT)
    for table in registry.id_block_tables():
        if counts.get(table, 0):
            last = id_starts[table] + counts[table] - 1
            connection.exec_driver_sql(
                f"SELECT setval('{_sequence(connection, table)}', greatest({last}, "
                f"(SELECT last_value FROM {_sequence(connection, table)})))"
            )


def start_run(
    connection: Connection,
    options: SeedOptions,
    started_at: datetime,
    faker_version: str,
    generator_version: str,
) -> int:
    """Insert the run's ledger row (completed by finish_run in the same transaction); returns its id."""
    result = connection.execute(
        insert(SeedRun)
        .values(
            profile=options.profile,
            seed=options.seed,
            as_of=options.as_of,
            options_json=options.to_json(),
            options_digest=options.digest(),
            faker_version=faker_version,
            generator_version=generator_version,
            row_counts_json="{}",
            started_at=started_at,
            finished_at=started_at,
        )
        .returning(SeedRun.id)
    )
    return int(result.scalar_one())


def finish_run(
    connection: Connection,
    run_id: int,
    id_starts: Mapping[str, int],
    counts: Mapping[str, int],
    finished_at: datetime,
) -> None:
    connection.execute(
        update(SeedRun)
        .where(SeedRun.id == run_id)
        .values(row_counts_json=json.dumps(dict(counts), sort_keys=True), finished_at=finished_at)
    )
    blocks = [
        {
            "run_id": run_id,
            "table_name": table,
            "first_id": id_starts[table],
            "last_id": id_starts[table] + counts.get(table, 0) - 1,
            "row_count": counts.get(table, 0),
        }
        for table in registry.id_block_tables()
    ]
    connection.execute(insert(SeedRunBlock), blocks)

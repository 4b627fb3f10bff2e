"""Writers put row batches into the database by the fastest correct path for the backend.

PostgreSQL: COPY (text format) on the run's connection. SQLite: executemany. Both run inside the caller's
single transaction. When the seeded rows will dominate a table (it holds no more rows than we are about to
add), the writer drops that table's secondary indexes, unique constraints and foreign keys first and recreates
them at the end, which validates every row; PostgreSQL's DDL is transactional, so a failure or a kill rolls
back schema and data together. Dropping them takes an ACCESS EXCLUSIVE lock on the table until commit.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, ForeignKeyConstraint, Index, Table, UniqueConstraint
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from backend.models import Base
from backend.seeding import registry
from backend.seeding.dataset import Batch

log = logging.getLogger(__name__)

Payload = Any
# synchronous and temp_store cannot change inside a transaction; with one commit per run they matter little.
COPY_BUFFER_BYTES = 1 << 20
SQLITE_BULK_PRAGMAS = {"cache_size": "-16384"}  # 16 MB: enough for index builds, bounded memory


class Writer(Protocol):
    def begin(self, planned: Mapping[str, int]) -> None: ...

    def write(self, table: str, payload: Payload) -> None: ...

    def finish(self) -> None: ...


_COPY_NULL = "\\N"
_SEPARATOR = "\x00"  # PostgreSQL text cannot hold NUL, so it can never clash with a value


def _copy_text_column(values: list[Any]) -> list[str]:
    """One column in COPY's text format, converted a whole column at a time (C loops, not Python ones)."""
    sample = next((v for v in values if v is not None), None)
    has_null = None in values
    if isinstance(sample, bool):
        return [_COPY_NULL if v is None else ("t" if v else "f") for v in values]
    if isinstance(sample, str):
        present = [v for v in values if v is not None] if has_null else values
        joined = _SEPARATOR.join(present)
        if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
            joined = (
                joined.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
            )
        escaped = joined.split(_SEPARATOR) if present else []
        if not has_null:
            return escaped
        it = iter(escaped)
        return [_COPY_NULL if v is None else next(it) for v in values]
    if has_null:
        return [_COPY_NULL if v is None else str(v) for v in values]
    return list(map(str, values))


def encode_copy_text(batch: Batch) -> bytes:
    """A batch in COPY's text format (tab-separated, backslash escapes, \\N for NULL), UTF-8 encoded.

    Bytes rather than text: a worker process hands them to the writer without a decode and re-encode.
    """
    if not len(batch):
        return b""
    columns = [_copy_text_column(values) for values in batch.columns]
    return ("\n".join(map("\t".join, zip(*columns, strict=True))) + "\n").encode()


def encode_rows(batch: Batch) -> list[tuple[Any, ...]]:
    return batch.rows()


def _existing_rows_at_most(connection: Connection, table: str, limit: int) -> int:
    """Rows in table, counting no further than limit + 1 (cheap even on a huge table)."""
    sql = f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT {int(limit) + 1}) AS bounded"
    return int(connection.exec_driver_sql(sql).scalar_one())


def dominated_tables(connection: Connection, planned: Mapping[str, int]) -> list[str]:
    """Tables that will hold at least as many seeded rows as other rows after this run."""
    return [
        table
        for table, rows in planned.items()
        if rows > 0 and _existing_rows_at_most(connection, table, rows) <= rows
    ]


class _IndexRebuild:
    """Drops and recreates a table's secondary indexes (and, on PostgreSQL, uniques and foreign keys)."""

    def __init__(self, connection: Connection, with_constraints: bool) -> None:
        self.connection = connection
        self.with_constraints = with_constraints
        self.dropped: list[Index | UniqueConstraint | ForeignKeyConstraint] = []

    def _parts(self, table: Table) -> list[Index | UniqueConstraint | ForeignKeyConstraint]:
        parts: list[Index | UniqueConstraint | ForeignKeyConstraint] = sorted(
            table.indexes, key=lambda i: str(i.name)
        )
        if self.with_constraints:
            for constraint in sorted(table.constraints, key=lambda c: str(c.name)):
                if isinstance(constraint, UniqueConstraint | ForeignKeyConstraint):
                    parts.append(constraint)
        return parts

    def drop(self, tables: Sequence[str]) -> None:
        for name in tables:
            for part in self._parts(Base.metadata.tables[name]):
                ddl = DropIndex(part) if isinstance(part, Index) else DropConstraint(part)
                self.connection.execute(ddl)
                self.dropped.append(part)
        if self.dropped:
            log.debug("dropped %d indexes/constraints for the bulk load", len(self.dropped))

    def recreate(self) -> None:
        # Indexes and uniques before foreign keys: validating a foreign key uses the referenced key's index.
        ordered = [p for p in self.dropped if not isinstance(p, ForeignKeyConstraint)]
        ordered += [p for p in self.dropped if isinstance(p, ForeignKeyConstraint)]
        for part in ordered:
            ddl = CreateIndex(part) if isinstance(part, Index) else AddConstraint(part)
            started = time.perf_counter()
            self.connection.execute(ddl)
            log.debug("recreated %s in %.2f s", part.name, time.perf_counter() - started)
        self.dropped = []


class PostgresWriter:
    """COPY in text format on the run's connection."""

    encode = staticmethod(encode_copy_text)

    def __init__(self, connection: Connection, rebuild_indexes: bool = True) -> None:
        self.connection = connection
        self.rebuild_indexes = rebuild_indexes
        self._rebuild = _IndexRebuild(connection, with_constraints=True)
        self._cursor: Any = None
        self.fast_tables: list[str] = []
        self.seconds_writing = 0.0

    def begin(self, planned: Mapping[str, int]) -> None:
        # Our timestamps are UTC text without an offset; the session zone decides how they are read.
        self.connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
        # Index builds sort in memory, and validating a foreign key is one big hash join.
        self.connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '128MB'")
        self.connection.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        if self.rebuild_indexes:
            self.fast_tables = dominated_tables(self.connection, planned)
            self._rebuild.drop(self.fast_tables)
        self._cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    def write(self, table: str, payload: Payload) -> None:
        if not payload:
            return
        columns = ", ".join(registry.columns(table))
        started = time.perf_counter()
        self._cursor.copy_expert(
            f"COPY {table} ({columns}) FROM STDIN", io.BytesIO(payload), size=COPY_BUFFER_BYTES
        )
        self.seconds_writing += time.perf_counter() - started

    def finish(self) -> None:
        started = time.perf_counter()
        self._rebuild.recreate()
        rebuilt = time.perf_counter()
        for table in self.fast_tables:
            self.connection.exec_driver_sql(f"ANALYZE {table}")
        log.debug(
            "COPY %.2f s, index and constraint rebuild %.2f s, ANALYZE %.2f s",
            self.seconds_writing,
            rebuilt - started,
            time.perf_counter() - rebuilt,
        )
        if self._cursor is not None:
            self._cursor.close()


class SqliteWriter:
    """executemany on the run's connection, with pragmas for bulk loading restored afterwards."""

    encode = staticmethod(encode_rows)

    def __init__(self, connection: Connection, rebuild_indexes: bool = True) -> None:
        self.connection = connection
        self.rebuild_indexes = rebuild_indexes
        self._rebuild = _IndexRebuild(connection, with_constraints=False)
        self._saved: dict[str, Any] = {}
        self._cursor: Any = None
        self.fast_tables: list[str] = []

    def begin(self, planned: Mapping[str, int]) -> None:
        for pragma, value in SQLITE_BULK_PRAGMAS.items():
            self._saved[pragma] = self.connection.exec_driver_sql(f"PRAGMA {pragma}").scalar()
            self.connection.exec_driver_sql(f"PRAGMA {pragma}={value}")
        if self.rebuild_indexes:
            self.fast_tables = dominated_tables(self.connection, planned)
            self._rebuild.drop(self.fast_tables)
        self._cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    def write(self, table: str, payload: Payload) -> None:
        if not payload:
            return
        columns = registry.columns(table)
        marks = ", ".join("?" * len(columns))
        self._cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", payload)

    def finish(self) -> None:
        self._rebuild.recreate()
        if self._cursor is not None:
            self._cursor.close()
        for pragma, value in self._saved.items():
            self.connection.exec_driver_sql(f"PRAGMA {pragma}={value}")


def make_writer(connection: Connection, rebuild_indexes: bool = True) -> PostgresWriter | SqliteWriter:
    if connection.dialect.name == "postgresql":
        return PostgresWriter(connection, rebuild_indexes)
    return SqliteWriter(connection, rebuild_indexes)

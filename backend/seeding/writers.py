"""Writers put row batches into the database by the fastest correct path for the backend.

PostgreSQL: COPY on the run's connection, in the binary format for a table whose column types all have a
binary encoding here (read from the database's catalog when the run begins; it spares the server parsing
text), else in the text format; in a fast load (below), a few long COPY statements per table fed while the
rows are generated (copy_stream.py), else one per payload in the order given. SQLite: executemany, or, when
worker processes generate the rows, INSERT ... SELECT from the spool files they wrote (a few SQLite files,
attached to the run's connection one at a time: SQLite copies rows between its own files several times
faster than Python can bind them). Both run inside the caller's single transaction. When the seeded rows
will dominate a table (it holds no more rows than we are about to add), the writer drops that table's
secondary indexes, unique constraints and foreign keys first and recreates them at the end, which validates
every row; PostgreSQL's DDL is transactional, so a failure or a kill rolls back schema and data together.
Dropping them takes an ACCESS EXCLUSIVE lock on the table until commit. Spool files live in the temporary
directory (TMPDIR) while rows are generated, about the size of the rows, and are removed when generation
ends (after a kill, by the next spooling run).
"""

from __future__ import annotations

import io
import itertools
import logging
import operator
import shutil
import sqlite3
import struct
import tempfile
import time
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, ForeignKeyConstraint, Index, Table, UniqueConstraint, text
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from backend.models import Base
from backend.seeding import registry
from backend.seeding.copy_stream import copy_interleaved
from backend.seeding.dataset import Batch, Column, python_values
from backend.seeding.keyed import IntArray

log = logging.getLogger(__name__)

Payload = Any
# synchronous and temp_store cannot change inside a transaction; with one commit per run they matter little.
COPY_BUFFER_BYTES = 1 << 20
SQLITE_BULK_PRAGMAS = {"cache_size": "-16384"}  # 16 MB: enough for index builds, bounded memory


class Writer(Protocol):
    spool_groups: int  # > 0: hand the rows over in that many spool files (spool_batches), not as payloads

    def begin(self, planned: Mapping[str, int]) -> None: ...

    def write(self, table: str, payload: Payload) -> None: ...

    def write_all(self, items: Generator[tuple[str, Payload, int], None, None]) -> None: ...

    def finish(self) -> None: ...


_COPY_NULL = "\\N"
_SEPARATOR = "\x00"  # PostgreSQL text cannot hold NUL, so it can never clash with a value


def _copy_text_column(column: Column) -> list[str]:
    """One column in COPY's text format, converted a whole column at a time (C loops, not Python ones)."""
    values = python_values(column)
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


# COPY's binary format: a header, then per row a 16-bit field count and per field a 32-bit length (-1 for
# NULL) and the value in network byte order; a 16-bit -1 ends the data. Each write is one COPY statement.
COPY_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
COPY_BINARY_TRAILER = struct.pack(">h", -1)
_EPOCH_2000_US = 946_684_800 * 1_000_000
_EPOCH_2000_DAYS = 10_957
# Column type (as format_type names it) -> codec. Anything else is written in the text format.
BINARY_CODECS = {
    "bigint": "int8",
    "integer": "int4",
    "smallint": "int2",
    "boolean": "bool",
    "text": "text",
    "timestamp with time zone": "timestamp",
    "timestamp without time zone": "timestamp",
    "date": "date",
}
_FIXED_DTYPES = {"int8": ">i8", "int4": ">i4", "int2": ">i2", "timestamp": ">i8", "date": ">i4"}
_INT_BOUNDS = {"int4": (-(2**31), 2**31 - 1), "int2": (-(2**15), 2**15 - 1)}  # int8: numpy's own int64 check


def binary_codec(type_name: str) -> str | None:
    """The codec for a column type as format_type names it, or None (no binary encoding here)."""
    if type_name.startswith("character varying"):
        return "text"
    return BINARY_CODECS.get(type_name)


def _fixed_values(values: Column, codec: str) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_] | None]:
    """A fixed-width column as numbers in the binary format's units (timestamps and dates counted from
    2000-01-01), and where it is NULL (None: nowhere)."""
    n = len(values)
    nulls: npt.NDArray[np.bool_] | None
    if isinstance(values, np.ndarray):
        nulls = np.ma.getmaskarray(values) if isinstance(values, np.ma.MaskedArray) else None
        raw = np.ma.getdata(values)
        if raw.dtype.kind == "M":  # a timestamps() column: microseconds since 1970
            array = raw.astype("datetime64[us]").view(np.int64) - _EPOCH_2000_US
        else:
            array = raw.astype(bool if codec == "bool" else np.int64)
    else:
        nulls = np.fromiter((v is None for v in values), bool, n) if None in values else None
        if codec in ("timestamp", "date"):
            # Timestamps and dates as text (UTC 'YYYY-MM-DD HH:MM:SS.ffffff', 'YYYY-MM-DD'): numpy reads it.
            unit, epoch = ("us", _EPOCH_2000_US) if codec == "timestamp" else ("D", _EPOCH_2000_DAYS)
            filled = ["2000-01-01" if v is None else v for v in values] if nulls is not None else values
            array = np.array(filled, dtype=f"datetime64[{unit}]").astype(np.int64) - epoch
        else:
            zero = False if codec == "bool" else 0
            filled = [zero if v is None else v for v in values] if nulls is not None else values
            array = np.array(filled, bool if codec == "bool" else np.int64)
    if nulls is not None and not nulls.any():
        nulls = None
    if codec in _INT_BOUNDS and len(array):
        low, high = _INT_BOUNDS[codec]
        checked = array if nulls is None else array[~nulls]
        # As the text format would refuse it, rather than wrap it round.
        if len(checked) and (checked.min() < low or checked.max() > high):
            raise ValueError(f"a value does not fit the column's {codec}")
    return array, nulls


def _text_bytes(columns: Sequence[Column], n: int) -> tuple[IntArray, npt.NDArray[np.uint8]]:
    """The values' lengths, rows x columns (-1 for NULL), and the UTF-8 bytes of every present value in output
    order (row by row, the columns in order within a row), each but the last followed by a NUL.

    The NULs tell the values' UTF-8 lengths without looking at the values one by one (no value may hold a
    NUL: PostgreSQL cannot store one, so a NUL too many is refused here); the merge puts each on the first
    byte of the field after the value, which the fixed bytes then overwrite.
    """
    values = [python_values(column) for column in columns]
    ordered = (
        values[0] if len(values) == 1 else list(itertools.chain.from_iterable(zip(*values, strict=True)))
    )
    present: npt.NDArray[np.bool_] | None = None  # rows x columns; None: no NULL anywhere
    try:
        joined = "\x00".join(ordered)  # most batches: all strings, so no scan for NULLs first
    except TypeError:  # a NULL, or a value that is not a string (written as its text)
        nullable = [c for c, column in enumerate(values) if None in column]
        if nullable:
            present = np.ones((n, len(values)), dtype=bool)
            for c in nullable:
                present[:, c] = np.fromiter(map(operator.is_not, values[c], itertools.repeat(None)), bool, n)
            ordered = list(itertools.compress(ordered, present.reshape(-1)))
        try:
            joined = "\x00".join(ordered)
        except TypeError:  # a value that is not a string: written as its text
            ordered = [v if type(v) is str else str(v) for v in ordered]
            joined = "\x00".join(ordered)
    encoded = np.frombuffer(joined.encode(), dtype=np.uint8)
    separators = np.flatnonzero(encoded == 0)
    if len(separators) != max(len(ordered) - 1, 0):
        raise ValueError("a text value holds a NUL character, which PostgreSQL cannot store")
    sizes = np.diff(separators, prepend=-1, append=len(encoded)) - 1 if ordered else separators
    if present is None:
        by_cell = sizes.reshape(n, len(values))
    else:
        by_cell = np.full((n, len(values)), -1, dtype=np.int64)
        by_cell[present] = sizes  # row-major, as `ordered` is
    return by_cell, encoded


def encode_copy_binary(batch: Batch, codecs: Sequence[str]) -> bytearray:
    """A batch as one COPY in the binary format: header, rows, trailer."""
    if not len(batch):
        return bytearray()
    return encode_copy_binary_rows(batch, codecs, COPY_BINARY_HEADER, COPY_BINARY_TRAILER)


def encode_copy_binary_rows(
    batch: Batch, codecs: Sequence[str], head: bytes = b"", tail: bytes = b""
) -> bytearray:
    """A batch's rows in COPY's binary format, between head and tail (the header and trailer of a whole COPY,
    or nothing); built column by column (numpy) in the buffer it returns, with no copy after.

    Every byte of a row but the text values' has a fixed place: the field count, each field's length and
    the fixed-width values. Those fill one record per row (a numpy structured array, big-endian fields);
    the text values' bytes come as one stream. The output is the two streams merged by a byte mask (text or
    not), with no per-row or per-byte index. A NULL fixed value's bytes are left out of its record's.
    """
    n = len(batch)
    if not n:
        return bytearray(head + tail)
    text_columns = [c for c, codec in enumerate(codecs) if codec == "text"]
    text_lengths, text_stream = _text_bytes([batch.columns[c] for c in text_columns], n)
    text_length_of = {c: text_lengths[:, i] for i, c in enumerate(text_columns)}
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for c, codec in enumerate(codecs):
        fields.append((f"length{c}", ">i4"))
        if codec != "text":
            fields.append((f"value{c}", "u1" if codec == "bool" else _FIXED_DTYPES[codec]))
    records = np.empty(n, dtype=np.dtype(fields))
    records["count"] = len(codecs)
    width = records.dtype.itemsize
    keep: npt.NDArray[np.bool_] | None = None  # bytes of the records to write, when a fixed value is NULL
    # Per row, the segments in output order: a run of record bytes, a text value, a run, ..., a run.
    segments = [np.full(n, 2, dtype=np.int64)]
    for c, codec in enumerate(codecs):
        segments[-1] = segments[-1] + 4
        if codec == "text":
            records[f"length{c}"] = text_length_of[c]
            segments += [np.maximum(text_length_of[c], 0), np.zeros(n, dtype=np.int64)]
            continue
        values, nulls = _fixed_values(batch.columns[c], codec)
        size = records.dtype[f"value{c}"].itemsize
        records[f"value{c}"] = values
        if nulls is None:
            records[f"length{c}"] = size
            segments[-1] = segments[-1] + size
            continue
        records[f"length{c}"] = np.where(nulls, -1, size)
        segments[-1] = segments[-1] + np.where(nulls, 0, size)
        if keep is None:
            keep = np.ones((n, width), dtype=bool)
        at = records.dtype.fields[f"value{c}"][1]  # type: ignore[index]
        keep[nulls, at : at + size] = False
    matrix = records.view(np.uint8).reshape(n, width)
    fixed_stream = matrix.reshape(-1) if keep is None else matrix[keep]
    text_bytes = 0
    if text_columns:
        present = text_lengths.reshape(-1) >= 0  # row by row, the text columns in order
        text_bytes = len(text_stream) - max(int(present.sum()) - 1, 0)  # less the NULs between the values
    size = len(fixed_stream) + text_bytes
    buffer = bytearray(len(head) + size + len(tail))
    buffer[: len(head)] = head
    buffer[len(head) + size :] = tail
    out = np.frombuffer(buffer, dtype=np.uint8, count=size, offset=len(head))
    if not text_columns:
        out[:] = fixed_stream
        return buffer
    sizes = np.stack(segments, axis=1).reshape(-1)
    is_text = np.tile(np.arange(len(segments)) % 2 == 1, n)
    mask = np.repeat(is_text, sizes)
    # The NUL after a value (each present value but the last has one) lands where that value ends: the first
    # byte of the next field, in the mask for the text stream, out of it again for the fixed bytes.
    separators = np.cumsum(sizes)[is_text.nonzero()[0]][present][:-1]
    mask[separators] = True
    out[mask] = text_stream
    np.logical_not(mask, out=mask)
    mask[separators] = True
    out[mask] = fixed_stream
    return buffer


def copy_codecs(connection: Connection, tables: Iterable[str]) -> dict[str, tuple[str, ...] | None]:
    """Per table: the binary codec of each column we write, in write order, or None when one has none."""
    out: dict[str, tuple[str, ...] | None] = {}
    for table in tables:
        types = dict(
            connection.execute(
                text(
                    "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                    "WHERE attrelid = to_regclass(:table) AND attnum > 0 AND NOT attisdropped"
                ),
                {"table": table},
            ).all()
        )
        codecs = [binary_codec(types.get(column, "")) for column in registry.columns(table)]
        out[table] = None if None in codecs else tuple(c for c in codecs if c is not None)
    return out


def encode_rows(batch: Batch) -> list[tuple[Any, ...]]:
    return batch.rows()


def _insert_rows_sql(table: str) -> str:
    """The executemany statement for a table's rows (every column, in write order)."""
    columns = registry.columns(table)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


# SQLite attaches at most 10 databases unless built otherwise; a run attaches one spool file per group and
# cannot detach them before its transaction ends.
SPOOL_GROUPS = 8
SPOOL_ALIAS = "seed_spool_"
# What a row may take in a spool file, generously (the load profile's take about 130 bytes): runs spool
# only when the temporary directory has twice that free for every planned row.
SPOOL_BYTES_PER_ROW = 256


@dataclass(frozen=True)
class Spooled:
    """A payload: the table's rows are in the SQLite file at path (spool_batches wrote it)."""

    path: str


def spool_batches(path: str, batches: Iterable[Batch]) -> dict[str, int]:
    """The batches' rows into a new SQLite file at path, a table per seeded table (named like it, with its
    columns and no declared types, so values are kept as bound and typed when the writer inserts them).

    Returns the rows per table, tables in the order they first came (foreign-key order, as the batches).
    """
    try:
        return _spool_batches(path, batches)
    except sqlite3.Error as exc:  # the disk filled up, most likely
        raise OSError(
            f"could not write the spool file {path}: {exc}; free some space there, or set TMPDIR to a "
            "directory with room for about the size of the rows"
        ) from exc


def _spool_batches(path: str, batches: Iterable[Batch]) -> dict[str, int]:
    counts: dict[str, int] = {}
    spool = sqlite3.connect(path, isolation_level=None)
    try:
        # A scratch file: no journal, no sync; losing it to a crash loses nothing.
        spool.execute("PRAGMA journal_mode=OFF")
        spool.execute("PRAGMA synchronous=OFF")
        spool.execute("BEGIN")
        for batch in batches:
            if batch.table not in counts:
                spool.execute(f"CREATE TABLE {batch.table} ({', '.join(registry.columns(batch.table))})")
                counts[batch.table] = 0
            spool.executemany(_insert_rows_sql(batch.table), encode_rows(batch))
            counts[batch.table] += len(batch)
        spool.execute("COMMIT")
    finally:
        spool.close()
    return counts


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
    """COPY on the run's connection: binary where every column has a binary codec, else text."""

    def __init__(self, connection: Connection, rebuild_indexes: bool = True, binary: bool = True) -> None:
        self.connection = connection
        self.rebuild_indexes = rebuild_indexes
        self.binary = binary  # False: the text format for every table (the benchmark's text limit)
        self._rebuild = _IndexRebuild(connection, with_constraints=True)
        self._cursor: Any = None
        self._codecs: dict[str, tuple[str, ...] | None] = {}
        self.fast_tables: list[str] = []
        self.spool_groups = 0  # COPY streams: nothing to spool
        self.seconds_writing = 0.0
        self.statements = 0  # COPY statements run
        self._planned: dict[str, int] = {}

    def encode(self, batch: Batch) -> bytes | bytearray:
        """The batch's rows as COPY data for write() (binary ones without the header and trailer, which each
        statement gets once); runs in the worker processes (forked after begin)."""
        codecs = self._codecs.get(batch.table)
        return encode_copy_binary_rows(batch, codecs) if codecs else encode_copy_text(batch)

    def begin(self, planned: Mapping[str, int]) -> None:
        # Our timestamps are UTC text without an offset; the session zone decides how they are read.
        self.connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
        # Index builds sort in memory, and validating a foreign key is one big hash join.
        self.connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '128MB'")
        self.connection.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        self._codecs = copy_codecs(self.connection, planned) if self.binary else {}
        self._planned = dict(planned)
        if self.rebuild_indexes:
            self.fast_tables = dominated_tables(self.connection, planned)
            self._rebuild.drop(self.fast_tables)
        self._cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    def _statement(self, table: str) -> str:
        binary = " (FORMAT binary)" if self._codecs.get(table) else ""
        return f"COPY {table} ({', '.join(registry.columns(table))}) FROM STDIN{binary}"

    def _framing(self, table: str) -> tuple[bytes, bytes]:
        return (COPY_BINARY_HEADER, COPY_BINARY_TRAILER) if self._codecs.get(table) else (b"", b"")

    def write(self, table: str, payload: Payload) -> None:
        """One COPY statement of an encode() payload."""
        if not payload:
            return
        head, tail = self._framing(table)
        started = time.perf_counter()
        self._cursor.copy_expert(
            self._statement(table), io.BytesIO(head + payload + tail), size=COPY_BUFFER_BYTES
        )
        self.statements += 1
        self.seconds_writing += time.perf_counter() - started

    def write_all(self, items: Generator[tuple[str, Payload, int], None, None]) -> None:
        """Every (table, payload, rows) of the run. When no loaded table has foreign keys during the load
        (all were dropped for the fast load), in a few long COPY statements per table, fed while the rows
        are generated (copy_stream.py); else one COPY per payload in the order given, parents first."""
        loaded = [table for table, rows in self._planned.items() if rows > 0]
        if not self.rebuild_indexes or not set(loaded) <= set(self.fast_tables):
            for table, payload, _rows in items:
                self.write(table, payload)
            return
        started = time.perf_counter()
        copied = copy_interleaved(
            self._cursor, items, self._planned, self._statement, self._framing, buffer_bytes=COPY_BUFFER_BYTES
        )
        self.statements += copied.statements
        log.debug("COPY statements fed from a backlog of at most %.1f MB", copied.peak_bytes / 2**20)
        self.seconds_writing += time.perf_counter() - started

    def finish(self) -> None:
        started = time.perf_counter()
        self._rebuild.recreate()
        rebuilt = time.perf_counter()
        for table in self.fast_tables:
            self.connection.exec_driver_sql(f"ANALYZE {table}")
        log.debug(
            "COPY %.2f s in %d statements, index and constraint rebuild %.2f s, ANALYZE %.2f s",
            self.seconds_writing,
            self.statements,
            rebuilt - started,
            time.perf_counter() - rebuilt,
        )
        if self._cursor is not None:
            self._cursor.close()


class SqliteWriter:
    """executemany on the run's connection, with pragmas for bulk loading restored afterwards."""

    def __init__(self, connection: Connection, rebuild_indexes: bool = True) -> None:
        self.connection = connection
        self.rebuild_indexes = rebuild_indexes
        self._rebuild = _IndexRebuild(connection, with_constraints=False)
        self._saved: dict[str, Any] = {}
        self._cursor: Any = None
        self._attached: dict[str, str] = {}  # spool file -> the name it is attached as
        self.fast_tables: list[str] = []
        self.spool_groups = 0

    encode = staticmethod(encode_rows)

    def begin(self, planned: Mapping[str, int]) -> None:
        for pragma, value in SQLITE_BULK_PRAGMAS.items():
            self._saved[pragma] = self.connection.exec_driver_sql(f"PRAGMA {pragma}").scalar()
            self.connection.exec_driver_sql(f"PRAGMA {pragma}={value}")
        if self.rebuild_indexes:
            self.fast_tables = dominated_tables(self.connection, planned)
            self._rebuild.drop(self.fast_tables)
        self._cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        self.spool_groups = self._spool_groups(sum(planned.values()))

    def _spool_groups(self, rows: int) -> int:
        """How many spool files this run may attach: none when the temporary directory lacks the room."""
        attached = [name for _, name, _ in self._cursor.execute("PRAGMA database_list").fetchall()]
        # An earlier run on this connection left its spools attached (they can only go after its commit);
        # this transaction has not read them, so they can go now.
        for name in attached:
            if name.startswith(SPOOL_ALIAS):
                self._cursor.execute(f"DETACH DATABASE {name}")
        others = [n for n in attached if n not in ("main", "temp") and not n.startswith(SPOOL_ALIAS)]
        room = self._cursor.connection.getlimit(sqlite3.SQLITE_LIMIT_ATTACHED) - len(others)
        free = shutil.disk_usage(tempfile.gettempdir()).free
        if free < 2 * SPOOL_BYTES_PER_ROW * rows:
            log.debug("%d MB free in %s: rows go by executemany", free >> 20, tempfile.gettempdir())
            return 0
        return max(0, min(SPOOL_GROUPS, room))

    def write(self, table: str, payload: Payload) -> None:
        if not payload:
            return
        if isinstance(payload, Spooled):
            columns = ", ".join(registry.columns(table))
            alias = self._attached.get(payload.path)
            if alias is None:
                alias = f"{SPOOL_ALIAS}{len(self._attached)}"
                self._cursor.execute(f"ATTACH DATABASE ? AS {alias}", (payload.path,))
                self._attached[payload.path] = alias
            spooled = f"SELECT {columns} FROM {alias}.{table}"
            self._cursor.execute(f"INSERT INTO main.{table} ({columns}) {spooled}")
            return
        self._cursor.executemany(_insert_rows_sql(table), payload)

    def write_all(self, items: Generator[tuple[str, Payload, int], None, None]) -> None:
        """Every (table, payload, rows) of the run, in the order given (SQLite has one writer anyway)."""
        for table, payload, _rows in items:
            self.write(table, payload)

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

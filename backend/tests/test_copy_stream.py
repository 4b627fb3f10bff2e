"""copy_stream: interleaved payloads of several tables load in a few COPY statements, every row once, with
a bounded backlog; a failure on either side comes out as itself, the feeder gone and the pipeline closed."""

from __future__ import annotations

import signal
import threading
from collections.abc import Generator, Iterator
from typing import Any

import numpy as np
import psycopg2
import pytest
from sqlalchemy.engine import make_url

from backend.seeding import copy_stream
from backend.seeding.copy_stream import copy_interleaved
from backend.seeding.dataset import Batch
from backend.seeding.writers import COPY_BINARY_HEADER, COPY_BINARY_TRAILER, encode_copy_binary_rows

TABLES = ("t_parent", "t_child", "t_other")
CHUNKS = 40
ROWS_PER_CHUNK = {"t_parent": 50, "t_child": 400, "t_other": 5}


@pytest.fixture
def cursor(pg_url: str) -> Iterator[Any]:
    url = make_url(pg_url)
    connection = psycopg2.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, dbname=url.database
    )
    try:
        cur = connection.cursor()
        for table in TABLES:
            cur.execute(f"CREATE TEMP TABLE {table} (id bigint, chunk bigint, note text)")
        yield cur
    finally:
        connection.rollback()
        connection.close()


def _payload(table: str, chunk: int) -> bytes:
    n = ROWS_PER_CHUNK[table]
    first = chunk * n
    batch = Batch(
        table,
        [
            np.arange(first, first + n, dtype=np.int64),
            np.full(n, chunk, dtype=np.int64),
            [f"{table} row {first + i} — ok" for i in range(n)],
        ],
    )
    return bytes(encode_copy_binary_rows(batch, ("int8", "int8", "text")))


def _items(closed: list[bool], fail_at: int | None = None) -> Generator[tuple[str, Any, int], None, None]:
    """The pipeline's order: each chunk's tables in turn."""
    try:
        for chunk in range(CHUNKS):
            for table in TABLES:
                if fail_at is not None and chunk == fail_at:
                    raise ValueError("generation failed")
                yield table, _payload(table, chunk), ROWS_PER_CHUNK[table]
    finally:
        closed.append(True)


PLANNED = {table: CHUNKS * rows for table, rows in ROWS_PER_CHUNK.items()}


def _statement(table: str) -> str:
    return f"COPY {table} (id, chunk, note) FROM STDIN (FORMAT binary)"


def _framing(_table: str) -> tuple[bytes, bytes]:
    return COPY_BINARY_HEADER, COPY_BINARY_TRAILER


def _feeders() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "copy-feeder"]


def test_interleaved_tables_load_in_a_few_statements_each_row_once_in_its_order(cursor: Any) -> None:
    closed: list[bool] = []
    payload_bytes = len(_payload("t_child", 0))
    copied = copy_interleaved(
        cursor,
        _items(closed),
        PLANNED,
        _statement,
        _framing,
        backlog_bytes=8 * payload_bytes,
        switch_bytes=4 * payload_bytes,
    )
    for table in TABLES:
        cursor.execute(f"SELECT count(*), count(DISTINCT id), min(id), max(id) FROM {table}")
        assert cursor.fetchone() == (PLANNED[table], PLANNED[table], 0, PLANNED[table] - 1)
        # Physical order (no index, no update): each table's rows as the items gave them.
        cursor.execute(f"SELECT array_agg(id ORDER BY ctid) FROM {table}")
        assert cursor.fetchone()[0] == list(range(PLANNED[table]))
    assert len(TABLES) < copied.statements < CHUNKS, "switched tables, yet far fewer statements than 120"
    # Two backlogs and a switch's worth of the third, each a payload over its limit at most.
    assert copied.peak_bytes <= (2 * 8 + 4 + 3) * payload_bytes, "the backlog stays bounded"
    assert closed == [True]
    assert _feeders() == []


def test_one_statement_per_table_when_nothing_forces_a_switch(cursor: Any) -> None:
    copied = copy_interleaved(cursor, _items([]), PLANNED, _statement, _framing)
    assert copied.statements == len(TABLES)


def test_a_failure_while_generating_comes_out_as_itself(cursor: Any) -> None:
    closed: list[bool] = []
    with pytest.raises(ValueError, match="generation failed"):
        copy_interleaved(cursor, _items(closed, fail_at=CHUNKS // 2), PLANNED, _statement, _framing)
    assert closed == [True]
    assert _feeders() == []


def test_a_failed_copy_stops_the_feeder_and_closes_the_pipeline(cursor: Any) -> None:
    closed: list[bool] = []

    def bad_framing(table: str) -> tuple[bytes, bytes]:
        return (b"not a binary COPY header", b"") if table == "t_child" else _framing(table)

    with pytest.raises(psycopg2.DataError):
        copy_interleaved(cursor, _items(closed), PLANNED, _statement, bad_framing)
    assert closed == [True]
    assert _feeders() == []


@pytest.mark.parametrize("where", ["read", "take"])
def test_ctrl_c_during_a_copy_comes_out_as_keyboard_interrupt(
    cursor: Any, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Ctrl-C handled as the driver calls read() (before its body runs) or while it waits for rows: the
    driver turns it into a failed COPY; it must come out as the KeyboardInterrupt the CLIs report."""
    closed: list[bool] = []
    calls = iter(range(1_000_000))

    def interrupted(*_args: Any, **_kwargs: Any) -> bytes:
        if next(calls) == 3:
            raise KeyboardInterrupt
        return original(*_args, **_kwargs)

    target = copy_stream._TableReader if where == "read" else copy_stream._Backlog
    original = getattr(target, where)
    monkeypatch.setattr(target, where, interrupted)
    with pytest.raises(KeyboardInterrupt):
        copy_interleaved(cursor, _items(closed), PLANNED, _statement, _framing)
    assert closed == [True]
    assert _feeders() == []


def test_a_real_ctrl_c_as_the_driver_calls_read_comes_out_as_keyboard_interrupt(
    cursor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT itself, handled on the way into read(): Python's handler leaves only the exception's type, and
    the driver's failed COPY then names no exception ("error in .read() call"). Still Ctrl-C."""
    closed: list[bool] = []
    calls = iter(range(1_000_000))
    original = copy_stream._TableReader.read

    def interrupted(self: Any, size: int = -1) -> bytes:
        if next(calls) == 3:
            signal.raise_signal(signal.SIGINT)  # handled right here, before the reader's body runs
        return original(self, size)

    monkeypatch.setattr(copy_stream._TableReader, "read", interrupted)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            copy_interleaved(cursor, _items(closed), PLANNED, _statement, _framing)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert closed == [True]
    assert _feeders() == []


def test_a_switch_bigger_than_the_backlog_is_refused(cursor: Any) -> None:
    with pytest.raises(ValueError, match="switch_bytes"):
        copy_interleaved(cursor, _items([]), PLANNED, _statement, _framing, backlog_bytes=10, switch_bytes=20)


def test_no_items_no_statement(cursor: Any) -> None:
    def nothing() -> Generator[tuple[str, Any, int], None, None]:
        yield from ()

    assert copy_interleaved(cursor, nothing(), PLANNED, _statement, _framing).statements == 0

"""bench_seed.py's ingest limit: binary COPY loads exactly the rows the seeder's text COPY loads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text

from backend.benchmarks.bench_seed import column_codecs
from backend.database import make_engine
from backend.seeding import ledger, registry
from backend.seeding.dataset import Batch, Dataset
from backend.seeding.options import resolve_options
from backend.seeding.pipeline import encoded_batches
from backend.seeding.reactions import reaction_ids
from backend.seeding.registry import GENERATOR_VERSION
from backend.seeding.text import FAKER_VERSION
from backend.seeding.writers import encode_copy_binary, encode_copy_text


def _load(conn: Connection, batches: list[Batch], types: dict[str, tuple[str, ...]] | None) -> dict[str, Any]:
    """COPY the batches (binary when types are given, else text) and read the seeded tables back."""
    conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    for batch in batches:
        columns = ", ".join(registry.columns(batch.table))
        if types is None:
            payload, option = encode_copy_text(batch), ""
        else:
            payload = encode_copy_binary(batch, types[batch.table])
            option = " (FORMAT binary)"
        cursor.copy_expert(f"COPY {batch.table} ({columns}) FROM STDIN{option}", _Reader(payload))
    cursor.close()
    return {
        table: conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2")).all()
        for table in registry.seeded_tables()
    }


class _Reader:
    def __init__(self, payload: bytes | bytearray) -> None:
        self.payload = bytes(payload)  # psycopg2 takes bytes (or str) from read()

    def read(self, size: int = -1) -> bytes:
        out, self.payload = (self.payload, b"") if size < 0 else (self.payload[:size], self.payload[size:])
        return out


def test_binary_copy_loads_the_same_rows_as_the_seeders_text_copy(pg_url: str) -> None:
    options = resolve_options("test", None, {"as_of": datetime(2026, 6, 1, tzinfo=UTC).date()})
    engine = make_engine(pg_url)
    try:
        with engine.begin() as conn:
            run_id = ledger.start_run(conn, options, datetime.now(UTC), FAKER_VERSION, GENERATOR_VERSION)
            ids = reaction_ids(conn)
        dataset = Dataset(options, dict.fromkeys(registry.id_block_tables(), 1), run_id, ids)
        batches = [batch for _table, batch, rows in encoded_batches(dataset, 1, lambda b: b) if rows]
        types = column_codecs(pg_url)
        loaded = []
        for way in (types, None):
            with engine.connect() as conn, conn.begin() as transaction:
                loaded.append(_load(conn, batches, way))
                transaction.rollback()
        binary, textual = loaded
        assert all(binary[table] for table in registry.seeded_tables())
        assert binary == textual
    finally:
        engine.dispose()

"""bench_seed.py: the ingest limit's binary COPY loads exactly the rows the seeder's text COPY loads; the
memory sampler sees the pages a forked child copies although its resident set does not move."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text

from backend.benchmarks.bench_seed import PSS_MAX_AGE, TreeRssSampler, column_codecs
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


# A parent fills 64 MiB, forks, and the child writes to every page of it: the child's resident set stays the
# same (its pages become copies), only Pss shows the second 64 MiB. Then both wait to be sampled.
_COPYING_TREE = """
import os, sys, time
size = 64 << 20
block = bytearray(b"\\x01") * size
if os.fork() == 0:
    time.sleep(0.3)
    for at in range(0, size, 4096):
        block[at] = 2
    time.sleep(float(sys.argv[1]))
    os._exit(0)
time.sleep(0.6 + float(sys.argv[1]))
os.wait()
"""


def _peak_mib(hold: float) -> tuple[float, int]:
    process = subprocess.Popen([sys.executable, "-c", _COPYING_TREE, str(hold)])
    sampler = TreeRssSampler(process.pid)
    sampler.start()
    process.wait()
    sampler.done.set()
    sampler.join()
    return sampler.peak_tree_kb / 1024, sampler.max_processes


def test_sampler_counts_shared_pages_once_and_sees_copied_ones() -> None:
    hold = 1.0
    assert hold >= 4 * PSS_MAX_AGE  # the child holds its copy long enough for its Pss to be read again
    peak, processes = _peak_mib(hold)
    assert processes == 2
    # Both copies of the block (128 MiB) and two interpreters: a sampler that kept the child's Pss from
    # before the copy (its resident set did not move) would stay near 64 MiB.
    assert 128 <= peak < 128 + 40, peak

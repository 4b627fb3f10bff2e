"""Online seeding: rows go in while the app keeps reading and writing the same tables (PostgreSQL).

The default (fast) load drops the indexes and constraints of the tables the run will dominate and holds
SHARE ROW EXCLUSIVE on the others, so readers of the dropped tables and every other writer wait until the
commit. An online load drops nothing and takes no table lock beyond what COPY itself takes (ROW EXCLUSIVE,
which readers and the app's inserts and updates do not wait for). Two things the table lock did are then
done otherwise:

- seeders still take turns, by a transaction-level advisory lock (lock_seeders, taken in both modes so an
  online and a fast seeder also exclude each other);
- the run's id blocks are reserved in a short side transaction that locks only the id tables, reads where
  their ids end and moves the sequences past the blocks, and commits at once: the app's inserts meanwhile
  get ids after the blocks. If the run then fails, the blocks are merely a gap in the ids.

Within `reset`, whose cleanup has already written to the id tables in the same transaction, the blocks are
reserved under a table lock in that transaction instead: readers still carry on, other writers wait.
On SQLite a writer always has the database to itself: online only means no index is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection

from backend.seeding import ledger, registry

# pg_advisory_xact_lock key held by every seeding run: any fixed 64-bit number no other tool uses.
SEEDER_LOCK_KEY = 0x63686174_72756E73  # "chatruns"


def lock_seeders(connection: Connection) -> None:
    """Wait for any other seeding run to commit or roll back (held until this transaction ends)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SEEDER_LOCK_KEY})")


def reserve_id_blocks(connection: Connection, counts: Mapping[str, int]) -> dict[str, int]:
    """The first id of each table's block, reserved against concurrent inserts without a long table lock.

    PostgreSQL: a side transaction on the same engine (committed before this returns; sequence moves are
    never rolled back anyway) holds SHARE ROW EXCLUSIVE on the id tables for a few milliseconds, so no
    insert can take an id between reading the tops and moving the sequences.
    """
    if connection.dialect.name != "postgresql":
        return ledger.reserve_id_starts(connection)
    if _wrote_to_id_tables(connection):
        # This transaction already holds write locks there (reset's cleanup): a side transaction would
        # wait for it forever. Lock here instead: other writers then wait until the commit, readers do not.
        ledger.lock_for_seeding(connection)
        return ledger.reserve_id_starts(connection)
    with connection.engine.connect() as side, side.begin():
        tables = ", ".join(registry.id_block_tables())
        side.exec_driver_sql(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
        starts = ledger.reserve_id_starts(side)
        ledger.advance_sequences(side, starts, counts)
    return starts


def _wrote_to_id_tables(connection: Connection) -> bool:
    tables = ", ".join(f"'{table}'::regclass" for table in registry.id_block_tables())
    held = connection.exec_driver_sql(
        "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation' "
        f"AND mode <> 'AccessShareLock' AND relation IN ({tables})"
    ).scalar_one()
    return bool(held)

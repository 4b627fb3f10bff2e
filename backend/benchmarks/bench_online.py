"""What --online costs and what it buys: the load profile seeded the fast way and online, on PostgreSQL,
while an app reads and writes the same tables.

    python backend/benchmarks/bench_online.py [--database-url URL] [--port N] [--messages-per-channel N]

For each way, a fresh database migrated with backend.schema.upgrade (on the server of --database-url, or on
a throwaway server started here on 127.0.0.1:--port) gets `seed_data.py --profile load --json [--online]`
as a subprocess. While it runs, two threads play the app: one reads (`SELECT count(*) FROM users`, every
100 ms), one writes (a user with a sequence id, committed, every 100 ms). Printed per way: the seed's own
seconds and rows/s, the longest read and the longest write that had to wait, and how many of each ran.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url

from backend import schema
from backend.database import make_engine
from backend.models import User

SEED_CLI = ROOT / "backend" / "scripts" / "seed_data.py"
AS_OF = "2026-06-01"
APP_INTERVAL = 0.1


@dataclass
class Waits:
    """Latencies of one kind of app statement while the seed ran."""

    seconds: list[float] = field(default_factory=list)

    @property
    def longest(self) -> float:
        return max(self.seconds, default=0.0)


@dataclass
class Figures:
    way: str
    rows: int
    seed_seconds: float
    reads: Waits
    writes: Waits
    fast_tables: list[str]

    def row(self) -> str:
        return (
            f"| {self.way} | {self.rows:,} | {self.seed_seconds:.1f} | "
            f"{self.rows / self.seed_seconds:,.0f} | "
            f"{self.reads.longest:.2f} s ({len(self.reads.seconds)}) | "
            f"{self.writes.longest:.2f} s ({len(self.writes.seconds)}) |"
        )


def _reader(engine: Engine, stop: threading.Event, waits: Waits) -> None:
    """Read the users table like an app, timing each statement, until stop is set."""
    with engine.connect() as conn:
        while not stop.is_set():
            started = time.perf_counter()
            conn.execute(text("SELECT count(*) FROM users")).scalar_one()
            conn.commit()
            waits.seconds.append(time.perf_counter() - started)
            stop.wait(APP_INTERVAL)


def _writer(engine: Engine, stop: threading.Event, waits: Waits) -> None:
    """Add users like an app (ids from the sequence), timing each insert and commit, until stop is set."""
    with engine.connect() as conn:
        while not stop.is_set():
            n = len(waits.seconds)
            started = time.perf_counter()
            conn.execute(
                insert(User).values(
                    auth0_id=f"auth0|app-{n}",
                    email=f"app{n}@company.test",
                    is_active=True,
                    created_at=datetime.now(UTC),
                    name=f"App User {n}",
                )
            )
            conn.commit()
            waits.seconds.append(time.perf_counter() - started)
            stop.wait(APP_INTERVAL)


def measure(url: str, online: bool, extra: tuple[str, ...] = ()) -> Figures:
    """Seed url (migrated, empty) once, with the app running beside it."""
    engine = make_engine(url)
    reads, writes, stop = Waits(), Waits(), threading.Event()
    app = [
        threading.Thread(target=_reader, args=(engine, stop, reads), daemon=True),
        threading.Thread(target=_writer, args=(engine, stop, writes), daemon=True),
    ]
    args = [sys.executable, str(SEED_CLI), "--profile", "load", "--as-of", AS_OF, "--json", *extra]
    if online:
        args.append("--online")
    try:
        for thread in app:
            thread.start()
        time.sleep(0.5)  # the app is running before the seed starts
        result = subprocess.run(
            args, env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True, check=False
        )
    finally:
        stop.set()
        for thread in app:
            thread.join(timeout=60)
        engine.dispose()
    if result.returncode != 0:
        raise RuntimeError(f"seed failed: {result.stderr.strip()}")
    summary = json.loads(result.stdout)
    way = "online (`--online`)" if online else "fast (default)"
    return Figures(way, summary["total_rows"], summary["seconds"], reads, writes, summary["fast_tables"])


def _fresh_database(admin_url: str, name: str) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    schema.upgrade_database(url)
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an existing PostgreSQL server (we create our own databases)")
    parser.add_argument("--port", type=int, default=55150, help="port of the throwaway server")
    parser.add_argument("--messages-per-channel", type=int, help="override the load profile's 100")
    args = parser.parse_args(argv)
    extra = (
        ()
        if args.messages_per_channel is None
        else ("--messages-per-channel", str(args.messages_per_channel))
    )
    instance = None
    admin_url = args.database_url
    if admin_url is None:
        from backend.tests.pg_instance import PostgresInstance

        instance = PostgresInstance()
        instance.port = args.port
        instance.start()
        admin_url = instance.url()
    try:
        figures = [
            measure(_fresh_database(admin_url, f"bench_{way}"), online, extra)
            for way, online in (("fast", False), ("online", True))
        ]
    finally:
        if instance is not None:
            instance.stop()
    print("| Way | Rows | Seed s | Rows/s | Longest read (reads) | Longest write (writes) |")
    print("|:--|--:|--:|--:|--:|--:|")
    for figure in figures:
        print(figure.row())
    for figure in figures:
        print(f"{figure.way}: tables loaded the fast way: {', '.join(figure.fast_tables) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

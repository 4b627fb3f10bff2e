"""What a test pays for a seeded database from the pytest plugin, against seeding a fresh one.

    python backend/benchmarks/bench_fixture.py [--backend sqlite|postgresql|both] [--profile test]
        [--tests N] [--database-url URL]

For each backend (PostgreSQL: a throwaway server started here, or the server of --database-url; SQLite: files
in a temp directory) it times, with the plugin's own SeededDatabases:
  fresh seed  — what a test pays without the fixture: create a database, migrate it, seed the profile
                (the first template, which the fixture makes once per session);
  per test    — what each test pays with seeded_connection: a pooled connection to the template, a
                transaction, a query, the rollback (mean and maximum over --tests tests);
  own copy    — what each test pays with seeded_db_url: copy the template (CREATE DATABASE ... TEMPLATE;
                file copy) and drop the copy afterwards (mean over --tests tests).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select

from backend.database import mask_url
from backend.models import User
from backend.testing.seeded import SeededDatabases, SeedSpec


def measure(target: str, spec: SeedSpec, tests: int) -> tuple[float, list[float], list[float]]:
    """Seconds for the fresh seed, then per test: rolled-back transactions, own copies (copy + drop)."""
    databases = SeededDatabases(target)
    try:
        started = time.perf_counter()
        databases.template(spec)
        fresh = time.perf_counter() - started
        with databases.transaction(spec):
            pass  # the first connection to the template: once per session, not a per-test cost
        rolled_back = []
        for _ in range(tests):
            started = time.perf_counter()
            with databases.transaction(spec) as conn:
                conn.execute(select(func.count(User.id))).scalar_one()
            rolled_back.append(time.perf_counter() - started)
        own_copy = []
        for _ in range(tests):
            started = time.perf_counter()
            databases.drop(databases.copy(spec))
            own_copy.append(time.perf_counter() - started)
        return fresh, rolled_back, own_copy
    finally:
        databases.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--profile", default="test", help="seed profile of the template (default: test)")
    parser.add_argument("--scenario", type=Path, help="scenario file of the template")
    parser.add_argument("--tests", type=int, default=20, help="tests to time per way (default 20)")
    parser.add_argument("--database-url", help="PostgreSQL server to use instead of a throwaway one")
    args = parser.parse_args(argv)
    spec = SeedSpec(args.profile, args.scenario)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    rows = []
    for backend in backends:
        instance = None
        if backend == "sqlite":
            target = "sqlite"
        elif args.database_url:
            target = args.database_url
        else:
            from backend.tests.pg_instance import PostgresInstance

            instance = PostgresInstance().start()
            target = instance.url()
        try:
            print(f"{backend}: {mask_url(target) if backend != 'sqlite' else 'temp files'} ...", flush=True)
            fresh, rolled_back, own_copy = measure(target, spec, args.tests)
        finally:
            if instance is not None:
                instance.stop()
        rows.append((backend, fresh, rolled_back, own_copy))
    print(f"\nprofile {args.profile}" + (f", scenario {args.scenario}" if args.scenario else ""))
    print(
        f"{'backend':<12}{'fresh seed':>12}{'per test':>11}{'max':>9}{'speed-up':>10}"
        f"{'own copy':>11}{'speed-up':>10}"
    )
    for backend, fresh, rolled_back, own_copy in rows:
        mean, copy = statistics.mean(rolled_back), statistics.mean(own_copy)
        print(
            f"{backend:<12}{fresh * 1000:>10.0f}ms{mean * 1000:>9.2f}ms{max(rolled_back) * 1000:>7.2f}ms"
            f"{fresh / mean:>9,.0f}x{copy * 1000:>9.1f}ms{fresh / copy:>9,.0f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

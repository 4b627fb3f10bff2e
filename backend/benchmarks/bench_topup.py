"""Audit and top-up on the load profile, on PostgreSQL, against a fresh seed of the same profile.

python backend/benchmarks/bench_topup.py [--database-url URL] [--port N]

In one fresh database: (1) a fresh seed with the real CLI; (2) 10 % of the seeded messages deleted with plain
SQL (their replies and reactions with them); (3) `seed_data.py audit --json`; (4) the same seed command
again, which tops the run up; (5) the same command once more (nothing to do); (6) audit again, which must
find nothing missing. Each step runs as a subprocess, timed on its wall clock, with the peak memory of its
process tree sampled as bench_seed.py does (the database server's memory is not included). Reuses
bench_seed.py's throwaway server, database and sampling helpers.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy.engine import make_url

from backend.benchmarks.bench_seed import (
    AS_OF,
    PROFILE,
    SEED_CLI,
    Databases,
    Monitored,
    _raise_interrupt,
    loadavg,
    mib,
    run_monitored,
    say,
)
from backend.database import make_engine, mask_url
from backend.models import Message, MessageReaction
from backend.seeding import registry

DELETED_SHARE = 0.10
GOAL = 1.5  # audit and top-up each within this factor of a fresh seed


def delete_share_of_messages(url: str, share: float) -> dict[str, int]:
    """Delete every n-th seeded message of the run (replies and reactions go with them); rows deleted."""
    messages, reactions = Message.__tablename__, MessageReaction.__tablename__
    step = round(1 / share)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                f"CREATE TEMP TABLE doomed AS SELECT id FROM {messages} WHERE mod(id, {step}) = 0 "
                f"UNION SELECT id FROM {messages} WHERE mod(parent_id, {step}) = 0"
            )
            gone_reactions = conn.exec_driver_sql(
                f"DELETE FROM {reactions} WHERE message_id IN (SELECT id FROM doomed)"
            ).rowcount
            conn.exec_driver_sql(f"DELETE FROM {messages} WHERE parent_id IN (SELECT id FROM doomed)")
            conn.exec_driver_sql(f"DELETE FROM {messages} WHERE id IN (SELECT id FROM doomed)")
            gone_messages = conn.exec_driver_sql("SELECT count(*) FROM doomed").scalar_one()
    finally:
        engine.dispose()
    return {messages: int(gone_messages), reactions: int(gone_reactions)}


def _run(workdir: Path, label: str, args: list[str]) -> tuple[Monitored, dict[str, Any]]:
    cmd = [sys.executable, str(SEED_CLI), *args]
    run = run_monitored(cmd, workdir)
    if run.returncode != 0:
        tail = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SystemExit(f"{label}: exited {run.returncode}: {tail}")
    output = json.loads(run.stdout) if run.stdout.strip().startswith("{") else {}
    say(
        f"  {label}: {run.seconds:,.2f} s; peak memory {mib(run.peak_tree_kb)} (tree, Pss), "
        f"{mib(run.peak_main_kb)} (main, RSS)"
    )
    return run, output


def _missing(audit: dict[str, Any]) -> dict[str, int]:
    run = audit["runs"][0]
    return {table: counts["missing"] for table, counts in run["tables"].items() if counts["missing"]}


def measure(url: str, workdir: Path, mpc: int | None) -> list[tuple[str, Monitored]]:
    seed_args = ["--profile", PROFILE, "--as-of", AS_OF.isoformat(), "--database-url", url]
    if mpc is not None:
        seed_args += ["--messages-per-channel", str(mpc)]
    results = []
    fresh, summary = _run(workdir, "fresh seed", [*seed_args, "--quiet", "--json"])
    say("    " + ", ".join(f"{t} {n:,}" for t, n in summary["rows"].items()))
    results.append(("fresh seed", fresh))
    gone = delete_share_of_messages(url, DELETED_SHARE)
    say(f"  deleted with SQL: {', '.join(f'{t} {n:,}' for t, n in gone.items())}")
    audit, report = _run(
        workdir, "audit (10 % of messages deleted)", ["audit", "--json", "--database-url", url]
    )
    say(f"    audit found missing: {_missing(report)}")
    results.append(("audit", audit))
    topup, summary = _run(workdir, "top-up (same command)", [*seed_args, "--json"])
    restored = _restored(summary)
    say(f"    restored: {restored}")
    if restored != _missing(report):
        raise SystemExit(f"top-up restored {restored}, but audit found {_missing(report)} missing")
    results.append(("top-up", topup))
    satisfied, _ = _run(workdir, "satisfied re-run", [*seed_args, "--json"])
    results.append(("satisfied re-run", satisfied))
    _after, report = _run(workdir, "audit after top-up", ["audit", "--json", "--database-url", url])
    if _missing(report):
        raise SystemExit(f"after the top-up, audit still finds missing rows: {_missing(report)}")
    return results


def _restored(summary: dict[str, Any]) -> dict[str, int]:
    tables = summary["topup"]["tables"]
    return {name: counts["restored"] for name, counts in tables.items() if counts.get("restored")}


def report(results: list[tuple[str, Monitored]], small: bool) -> None:
    fresh = results[0][1]
    print()
    print(f"{'step':<20}{'seconds':>10}{'vs fresh':>10}{'peak tree':>12}{'peak main':>12}")
    for label, run in results:
        print(
            f"{label:<20}{run.seconds:>10.2f}{run.seconds / fresh.seconds:>9.2f}x"
            f"{mib(run.peak_tree_kb):>12}{mib(run.peak_main_kb):>12}"
        )
    for label, run in results[1:3]:
        verdict = "within" if run.seconds <= GOAL * fresh.seconds else "NOT within"
        print(f"{label}: {verdict} {GOAL}x of a fresh seed")
    print(f"load avg {loadavg()} (at the end)")
    if small:
        print("NOTE: --messages-per-channel was given, so these are NOT the load profile's numbers.")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_topup.py", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", metavar="URL", help="a PostgreSQL server URL to use instead")
    parser.add_argument("--port", type=int, default=0, help="port for the throwaway server (default: any)")
    parser.add_argument("--messages-per-channel", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.database_url and make_url(args.database_url).get_backend_name() != "postgresql":
        parser.error("--database-url must name a PostgreSQL server")
    signal.signal(signal.SIGTERM, _raise_interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="bench-topup-"))
    instance = None
    dbs = None
    try:
        admin_url = args.database_url
        if not admin_url:
            from backend.tests.pg_instance import PostgresInstance

            instance = PostgresInstance(durable=False)
            if args.port:
                instance.port = args.port
            instance.start()
            admin_url = instance.url()
        say(
            f"bench_topup: PostgreSQL at {mask_url(admin_url)}; "
            f"seeded tables {', '.join(registry.seeded_tables())}"
        )
        dbs = Databases(workdir, admin_url)
        db = dbs.create("postgresql", "topup")
        report(measure(db.url, workdir, args.messages_per_channel), args.messages_per_channel is not None)
    finally:
        if dbs is not None:
            dbs.drop_all()
        if instance is not None:
            instance.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`seed_data.py audit` (and `seed_data.py --audit`): what each seed run wrote, what is left, what changed.

Per run and seeded table: rows written, present, missing, drifted (values differ from what the run generated),
and the real rows beside them. Changes nothing; exit 0 whatever it finds, 1 only when the database cannot be
read. `-v` adds a few keys of each kind.
"""

from __future__ import annotations

import argparse
import json

from sqlalchemy import Connection

from backend.cli_support import (
    EXIT_OK,
    ArgumentParser,
    CommandError,
    UsageError,
    add_common_arguments,
    reading,
    resolve_database_url,
)
from backend.seeding import ledger
from backend.seeding.audit import SAMPLE_SIZE, AuditError, AuditReport, audit_database, format_report
from backend.seeding.options import SeedOptions


def build_parser(prog: str) -> ArgumentParser:
    parser = ArgumentParser(
        prog=prog,
        description="Compare every seed run with what the database holds: per run and table, rows written, "
        "present, missing and drifted (edited since seeding), and the real rows beside them. "
        "Changes nothing. Re-running the seed command puts missing rows back; its --refresh, drifted ones.",
    )
    parser.add_argument(
        "--run", type=int, action="append", metavar="ID", help="audit only this run (repeatable)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_common_arguments(parser)
    return parser


def _audit(
    url: str, run_ids: list[int] | None, samples: int, options: SeedOptions | None = None
) -> AuditReport:
    with reading(url, temporary_tables=True) as conn:
        if options is not None:
            run_ids = _matching_run(conn, options)
        _check_runs(conn, run_ids)
        try:
            return audit_database(conn, run_ids, samples)
        except AuditError as exc:
            raise CommandError(str(exc)) from None


def _matching_run(conn: Connection, options: SeedOptions) -> list[int]:
    existing = ledger.find_completed_run(conn, options)
    return [] if existing is None else [existing.run_id]


def _check_runs(conn: Connection, run_ids: list[int] | None) -> None:
    from backend.seeding.audit import run_ids as known_runs

    if not run_ids:
        return
    unknown = sorted(set(run_ids) - set(known_runs(conn)))
    if unknown:
        raise UsageError(f"--run {unknown[0]}: no such seed run; `seed_data.py status` lists the runs")


def _print(report: AuditReport, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    else:
        print(format_report(report))


def run(args: argparse.Namespace) -> int:
    url = resolve_database_url(args)
    report = _audit(url, args.run, SAMPLE_SIZE if args.verbose else 0)
    _print(report, args.json)
    return EXIT_OK


def audit_options(args: argparse.Namespace, options: SeedOptions, url: str) -> int:
    """The seed command's --audit: the run these options would top up (none yet: nothing seeded)."""
    if args.append or args.refresh or args.dry_run:
        raise UsageError("--audit changes nothing; drop --append, --refresh and --dry-run")
    report = _audit(url, None, SAMPLE_SIZE if args.verbose else 0, options)
    if not report.runs and not args.json:
        print("no seed run with these options yet: running the command would seed it afresh")
    _print(report, args.json)
    return EXIT_OK

"""seed_data.py status: how many rows each table holds, how many of them are seeded, and the seed runs."""

from __future__ import annotations

import argparse
import json

from backend.cli_support import (
    EXIT_OK,
    ArgumentParser,
    add_common_arguments,
    require_current_schema,
    resolve_database_url,
)
from backend.database import make_engine
from backend.seeding.status import collect_status, format_status


def build_parser(prog: str) -> ArgumentParser:
    parser = ArgumentParser(
        prog=prog,
        description="Show total, seeded and real rows per table (seeded per the seed ledger) "
        "and the seed runs.",
    )
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    add_common_arguments(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    url = resolve_database_url(args)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                # One snapshot for every count, so totals and runs agree with each other.
                conn.execution_options(isolation_level="REPEATABLE READ")
            require_current_schema(conn, url)
            status = collect_status(conn)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(status.to_dict(), indent=2))
    else:
        print(format_status(status))
    return EXIT_OK

"""seed_data.py status: how many rows each table holds, how many of them are seeded, and the seed runs."""

from __future__ import annotations

import argparse
import json

from backend.cli_support import (
    EXIT_OK,
    ArgumentParser,
    add_common_arguments,
    reading,
    resolve_database_url,
)
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
    with reading(resolve_database_url(args)) as conn:
        status = collect_status(conn)
    if args.json:
        print(json.dumps(status.to_dict(), indent=2))
    else:
        print(format_status(status))
    return EXIT_OK

"""verify: check the chat invariants (backend/seeding/verify.py) against a database and report."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from backend.cli_support import (
    EXIT_FAILURE,
    EXIT_OK,
    ArgumentParser,
    add_common_arguments,
    reading,
    resolve_database_url,
)
from backend.seeding.verify import InvariantResult, SampleId, check_invariants


def build_parser(prog: str) -> ArgumentParser:
    """The verify command's arguments."""
    parser = ArgumentParser(
        prog=prog,
        description="Check the chat data's invariants (DMs have two members, authors are members, replies "
        "follow their parents, nothing is in the future, ...) on any database, seeded or not. Read-only. "
        "Exits 0 when all hold, 1 when any fails.",
    )
    add_common_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    return parser


def run(args: argparse.Namespace) -> int:
    """Check every invariant and print one line each (or JSON); 1 if any fails."""
    with reading(resolve_database_url(args)) as conn:
        results = check_invariants(conn)
    failed = [r for r in results if not r.ok]
    if args.json:
        payload = {"ok": not failed, "invariants": [asdict(r) for r in results]}
        print(json.dumps(payload, indent=2))
    else:
        for result in results:
            print(_line(result))
        if failed:
            print(f"{len(failed)} of {len(results)} invariants failed")
        else:
            print(f"all {len(results)} invariants hold")
    return EXIT_FAILURE if failed else EXIT_OK


def _line(result: InvariantResult) -> str:
    if result.ok:
        return f"ok   {result.name}"
    ids = ", ".join(_format_id(i) for i in result.sample_ids)
    more = ", ..." if result.violations > len(result.sample_ids) else ""
    return (
        f"FAIL {result.name}: {result.violations} violation(s), e.g. ids {ids}{more} ({result.description})"
    )


def _format_id(sample_id: SampleId) -> str:
    if isinstance(sample_id, tuple):
        return "(" + ", ".join(map(str, sample_id)) + ")"
    return str(sample_id)

"""Upsert the reaction reference set: run it as often as you like."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from backend.cli_support import (
    ArgumentParser,
    add_common_arguments,
    exit_process,
    require_current_schema,
    resolve_database_url,
    run_cli,
)
from backend.database import make_engine
from backend.seeding.reactions import upsert_reference_reactions


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="seed_reactions.py",
        description="Insert the reference emoji reactions, update changed names, delete nothing. "
        "Idempotent: running it twice changes nothing the second time.",
    )
    add_common_arguments(parser)
    return parser


def main(args: argparse.Namespace) -> int:
    url = resolve_database_url(args)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            require_current_schema(conn, url)
            result = upsert_reference_reactions(conn)
    finally:
        engine.dispose()
    print(f"reactions: {result.inserted} inserted, {result.updated} updated, {result.unchanged} unchanged")
    return 0


if __name__ == "__main__":
    exit_process(run_cli(main, build_parser()))

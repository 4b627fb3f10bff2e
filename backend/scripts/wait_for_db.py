"""Wait until the database accepts connections; exit 1 with one line naming host:port if it never does.

A refused login (wrong password, no such role or database) exits 1 at once. Out-of-range numbers exit 2
before any attempt. Quiet on a first-attempt success; one line on stderr after a slow start or on failure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from backend.cli_support import (
    ArgumentParser,
    UsageError,
    add_common_arguments,
    exit_process,
    resolve_database_url,
    run_cli,
    verbose_requested,
)
from backend.waiting import (
    DEFAULT_ATTEMPTS,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_DELAY,
    MAX_ATTEMPTS,
    MAX_CONNECT_TIMEOUT,
    MAX_DELAY,
    check_bounds,
    describe_location,
    wait_for_database,
)


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="wait_for_db.py",
        description="Try to connect to the database until it answers, then exit 0. SQLite needs no wait. "
        "Gives up after --attempts tries with one line on stderr and exit 1.",
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--attempts",
        type=int,
        help=f"connection attempts before giving up, 1 to {MAX_ATTEMPTS} "
        f"(default: $DB_WAIT_ATTEMPTS, else {DEFAULT_ATTEMPTS})",
    )
    parser.add_argument(
        "--delay",
        type=float,
        help=f"seconds between attempts, 0 to {MAX_DELAY:g} "
        f"(default: $DB_WAIT_DELAY, else {DEFAULT_DELAY:g})",
    )
    parser.add_argument(
        "--connect-timeout",
        type=int,
        default=DEFAULT_CONNECT_TIMEOUT,
        help=f"seconds one attempt may take, 1 to {MAX_CONNECT_TIMEOUT} "
        f"(default {DEFAULT_CONNECT_TIMEOUT}; PostgreSQL's minimum is 2)",
    )
    return parser


def _env_number(name: str) -> str | None:
    raw = os.environ.get(name, "").strip()
    return raw or None


def _env_int(name: str, default: int) -> int:
    raw = _env_number(name)
    try:
        return default if raw is None else int(raw)
    except ValueError:
        raise UsageError(f"{name}: expected a whole number, got {raw!r}") from None


def _env_float(name: str, default: float) -> float:
    raw = _env_number(name)
    try:
        return default if raw is None else float(raw)
    except ValueError:
        raise UsageError(f"{name}: expected a number of seconds, got {raw!r}") from None


def main(args: argparse.Namespace) -> int:
    url = resolve_database_url(args)
    attempts: int = (
        args.attempts if args.attempts is not None else _env_int("DB_WAIT_ATTEMPTS", DEFAULT_ATTEMPTS)
    )
    delay: float = args.delay if args.delay is not None else _env_float("DB_WAIT_DELAY", DEFAULT_DELAY)
    try:
        check_bounds(
            attempts,
            delay,
            args.connect_timeout,
            labels=("--attempts/DB_WAIT_ATTEMPTS", "--delay/DB_WAIT_DELAY", "--connect-timeout"),
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None

    def on_retry(attempt: int, reason: str) -> None:
        # Per-attempt details only under -v: a failure ends in exactly one line, the error.
        if verbose_requested(args):
            print(f"  attempt {attempt}/{attempts}: {reason}", file=sys.stderr, flush=True)

    started = time.monotonic()
    used = wait_for_database(url, attempts, delay, args.connect_timeout, on_retry=on_retry)
    if used > 1:
        print(
            f"database at {describe_location(url)} answered after {used} attempts "
            f"({time.monotonic() - started:.1f}s)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    exit_process(run_cli(main, build_parser()))

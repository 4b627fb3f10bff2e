"""What every command-line tool here shares: database options, logging, and one-line errors.

Errors: a UsageError exits 2, any other failure exits 1; both print one line on stderr, with the
traceback only under -v. Database URLs are masked wherever they are printed, and every error line goes
through redact_credentials, which hides the password fields of URLs and DSNs and nothing else. The scripts
end through exit_process, which skips the interpreter's teardown.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from backend.config import SettingsError, load_settings
from backend.database import DatabaseUrlError, make_engine, mask_url, parse_url
from backend.redaction import redact_credentials

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

log = logging.getLogger("backend")


class UsageError(Exception):
    """Bad input from the user: exit 2."""


class CommandError(Exception):
    """A failure while running: exit 1."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing usage and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see --help)")


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="database to use (default: $DATABASE_URL, else the SQLite file backend/chat.db); "
        "e.g. postgresql+psycopg2://user:password@localhost:5432/chat",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="debug logs and tracebacks (also SEED_DEBUG=1)"
    )


def resolve_database_url(args: argparse.Namespace) -> str:
    try:
        url = args.database_url or load_settings().database_url
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    try:
        parse_url(url)
    except DatabaseUrlError as exc:
        raise UsageError(f"--database-url/DATABASE_URL: {exc}") from None
    return url


def _configured_url(args: argparse.Namespace) -> str | None:
    """The URL a run uses, for naming it in errors; None when the settings themselves are unusable."""
    if getattr(args, "database_url", None):
        return str(args.database_url)
    try:
        return load_settings().database_url
    except SettingsError:
        return None


def require_current_schema(connection: Connection, url: str) -> None:
    """Refuse (exit 1) a database whose schema is not at the newest migration, naming the migrate command."""
    from backend.schema import MIGRATE_COMMAND, SchemaState, schema_state

    if schema_state(connection) is not SchemaState.CURRENT:
        raise CommandError(f"{mask_url(url)} is not migrated to head; run: {MIGRATE_COMMAND}")


@contextmanager
def reading(url: str, *, temporary_tables: bool = False) -> Iterator[Connection]:
    """A connection for a command that only reads: the schema checked at head, one snapshot on PostgreSQL
    (every count agrees with every other; read-only unless the reader makes temporary tables), and rolled
    back at the end, so nothing it did stays."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            if conn.dialect.name == "postgresql":
                access = "" if temporary_tables else " READ ONLY"
                conn.execute(text(f"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ{access}"))
            require_current_schema(conn, url)
            try:
                yield conn
            finally:
                transaction.rollback()
    finally:
        engine.dispose()


def verbose_requested(args: argparse.Namespace | None) -> bool:
    return bool(getattr(args, "verbose", False)) or os.environ.get("SEED_DEBUG", "") not in (
        "",
        "0",
    )


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def describe_database_error(exc: SQLAlchemyError, url: str | None) -> str:
    """One line about a database error that never includes the password."""
    where = f" ({mask_url(url)})" if url else ""
    if isinstance(exc, OperationalError):
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else "operational error"
        return f"database error{where}: {detail}"
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        first = str(exc.orig).strip().splitlines()[0]
        return f"database error{where}: {first}"
    return f"database error{where}: {exc.__class__.__name__}"


def run_cli(
    main: Callable[[argparse.Namespace], int],
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None = None,
) -> int:
    """Parse argv, run main, and turn every failure into one line on stderr and an exit code."""
    args: argparse.Namespace | None = None
    url: str | None = None
    try:
        args = parser.parse_args(argv)
        configure_logging(verbose_requested(args))
        url = _configured_url(args)
        return main(args)
    except UsageError as exc:
        print(f"error: {redact_credentials(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted; the transaction was rolled back", file=sys.stderr)
        return 130
    except SQLAlchemyError as exc:
        if verbose_requested(args):
            log.exception("database error")
        print(f"error: {redact_credentials(describe_database_error(exc, url))}", file=sys.stderr)
        return EXIT_FAILURE
    except (CommandError, OSError, ValueError) as exc:
        if verbose_requested(args):
            log.exception("failure")
        print(f"error: {redact_credentials(str(exc))}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as exc:
        if verbose_requested(args):
            log.exception("unexpected failure")
        detail = redact_credentials(f"{exc.__class__.__name__}: {exc}".splitlines()[0])
        print(f"error: unexpected failure ({detail}); run with -v for details", file=sys.stderr)
        return EXIT_FAILURE


def exit_process(code: int) -> NoReturn:
    """End the process with code as sys.exit would, less Python's teardown of every module and object: for
    what these tools import (SQLAlchemy, numpy, Faker, the corpus) that takes 0.1-0.25 s and frees nothing
    the operating system would not. The exit handlers run and the standard streams are flushed first."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # its reader went away (a closed pipe): exit as the interpreter would then
            code = code or 120
    os._exit(code)

"""Wait until a database accepts connections, with a bounded number of attempts.

Used by the container entrypoint: the database container may still be starting when the backend runs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from backend.database import make_engine, parse_url

DEFAULT_ATTEMPTS = 30
DEFAULT_DELAY = 1.0
DEFAULT_CONNECT_TIMEOUT = 3
DEFAULT_POSTGRES_PORT = 5432


class DatabaseUnavailableError(ConnectionError):
    """The database did not accept a connection within the allowed attempts."""


def describe_location(url: str | URL) -> str:
    """host:port of a server URL, e.g. db:5432; never includes credentials."""
    parsed = parse_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or DEFAULT_POSTGRES_PORT}"


def _first_line(exc: DBAPIError, password: str | None) -> str:
    detail = str(exc.orig if exc.orig is not None else exc).strip()
    line = detail.splitlines()[0] if detail else exc.__class__.__name__
    # Drivers do not echo passwords today; redact anyway so a future driver message cannot leak one.
    return line.replace(password, "***") if password else line


def _try_connect(url: URL, connect_timeout: int) -> None:
    """One connection attempt; raises DBAPIError when the server is not ready."""
    # NullPool: nothing is kept open after the check, so the caller's real work starts clean.
    engine = make_engine(url, poolclass=NullPool, connect_args={"connect_timeout": connect_timeout})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()


def wait_for_database(
    url: str | URL,
    attempts: int = DEFAULT_ATTEMPTS,
    delay: float = DEFAULT_DELAY,
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT,
    *,
    on_retry: Callable[[int, str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once the database answers SELECT 1; raise DatabaseUnavailableError after `attempts` failures.

    SQLite needs no server, so it returns at once. on_retry(attempt, reason) is called after each failed
    attempt that will be retried. The error names host:port and the last driver message, never the password.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    if not 0 <= delay < math.inf:
        raise ValueError(f"delay must be a non-negative number of seconds, got {delay}")
    if connect_timeout < 1:
        raise ValueError(f"connect_timeout must be at least 1 second, got {connect_timeout}")
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return
    where = describe_location(parsed)
    started = time.monotonic()
    reason = ""
    for attempt in range(1, attempts + 1):
        try:
            _try_connect(parsed, connect_timeout)
            return
        except DBAPIError as exc:
            reason = _first_line(exc, parsed.password and str(parsed.password))
        if attempt < attempts:
            if on_retry is not None:
                on_retry(attempt, reason)
            sleep(delay)
    elapsed = time.monotonic() - started
    raise DatabaseUnavailableError(
        f"database at {where} not reachable after {attempts} attempt{'s' if attempts != 1 else ''} "
        f"({elapsed:.1f}s): {reason}"
    )

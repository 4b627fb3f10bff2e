"""Wait until a database accepts connections, with a bounded number of attempts.

Used by the container entrypoint: the database container may still be starting when the backend runs.
A server that answers but refuses the login (wrong password, no such role or database, no pg_hba.conf
entry) will refuse every later attempt too, so that fails at once instead of being retried.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from backend.config import DEFAULT_POSTGRES_PORT
from backend.database import make_engine, parse_url
from backend.redaction import redact_credentials

DEFAULT_ATTEMPTS = 30
DEFAULT_DELAY = 1.0
DEFAULT_CONNECT_TIMEOUT = 3
# Upper bounds, so a typo cannot turn into a wait of centuries or overflow the clock.
MAX_ATTEMPTS = 100_000
MAX_DELAY = 3600.0
MAX_CONNECT_TIMEOUT = 3600

# The server's FATAL messages (and libpq's) for a login that no retry can fix.
_REFUSED_LOGIN = re.compile(
    r"authentication failed"
    r"|role \"[^\"]*\" does not exist"
    r"|database \"[^\"]*\" does not exist"
    r"|no pg_hba\.conf entry"
    r"|no password supplied"
    r"|is not permitted to log in",
)
# Where the credentials come from under docker compose: the volume keeps the values it was initialised with.
VOLUME_HINT = (
    "if the database's data volume was initialised with other POSTGRES_* values, "
    "use those or remove the volume (and its data) with `docker compose down -v`"
)


class DatabaseUnavailableError(ConnectionError):
    """The database did not accept a connection within the allowed attempts."""


class DatabaseLoginRefusedError(ConnectionError):
    """The server answered but refused the login; retrying cannot help."""


def describe_location(url: str | URL) -> str:
    """host:port of a server URL, e.g. db:5432; never includes credentials."""
    parsed = parse_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or DEFAULT_POSTGRES_PORT}"


def _first_line(exc: DBAPIError) -> str:
    detail = str(exc.orig if exc.orig is not None else exc).strip()
    line = detail.splitlines()[0] if detail else exc.__class__.__name__
    # libpq's own text for a connection failure starts with where it connected: we say that ourselves.
    line = re.sub(r"^connection to server at .*? failed: ", "", line)
    line = re.sub(r"^FATAL:\s+", "", line)
    # Drivers do not echo passwords today; redact anyway so a future driver message cannot leak one.
    return redact_credentials(line)


def login_refused(reason: str) -> bool:
    """Whether a connection failure's message says the login itself was refused (permanent)."""
    return _REFUSED_LOGIN.search(reason) is not None


def _try_connect(url: URL, connect_timeout: int) -> None:
    """One connection attempt; raises DBAPIError when the server is not ready."""
    # NullPool: nothing is kept open after the check, so the caller's real work starts clean.
    engine = make_engine(url, poolclass=NullPool, connect_args={"connect_timeout": connect_timeout})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()


def check_bounds(
    attempts: int,
    delay: float,
    connect_timeout: int,
    labels: tuple[str, str, str] = ("attempts", "delay", "connect_timeout"),
) -> None:
    """Raise ValueError naming (by `labels`) the first setting outside its range."""
    attempts_label, delay_label, timeout_label = labels
    if not 1 <= attempts <= MAX_ATTEMPTS:
        raise ValueError(f"{attempts_label}: must be from 1 to {MAX_ATTEMPTS}, got {attempts}")
    if not 0 <= delay <= MAX_DELAY:
        raise ValueError(f"{delay_label}: must be from 0 to {MAX_DELAY:g} seconds, got {delay:g}")
    if not 1 <= connect_timeout <= MAX_CONNECT_TIMEOUT:
        raise ValueError(
            f"{timeout_label}: must be from 1 to {MAX_CONNECT_TIMEOUT} seconds, got {connect_timeout}"
        )


def wait_for_database(
    url: str | URL,
    attempts: int = DEFAULT_ATTEMPTS,
    delay: float = DEFAULT_DELAY,
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT,
    *,
    on_retry: Callable[[int, str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Return the number of attempts once the database answers SELECT 1.

    SQLite needs no server, so it returns 0 at once. on_retry(attempt, reason) is called after each failed
    attempt that will be retried. Raises DatabaseLoginRefusedError at the first refused login, and
    DatabaseUnavailableError after `attempts` failures; both name host:port and the driver's message, never
    the password.
    """
    check_bounds(attempts, delay, connect_timeout)
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return 0
    where = describe_location(parsed)
    started = time.monotonic()
    reason = ""
    for attempt in range(1, attempts + 1):
        try:
            _try_connect(parsed, connect_timeout)
            return attempt
        except DBAPIError as exc:
            reason = _first_line(exc)
        if login_refused(reason):
            raise DatabaseLoginRefusedError(
                f"database at {where} refused the login, not retried: {reason}; {VOLUME_HINT}"
            )
        if attempt < attempts:
            if on_retry is not None:
                on_retry(attempt, reason)
            sleep(delay)
    elapsed = time.monotonic() - started
    raise DatabaseUnavailableError(
        f"database at {where} not reachable after {attempts} attempt{'s' if attempts != 1 else ''} "
        f"({elapsed:.1f}s): {reason}"
    )

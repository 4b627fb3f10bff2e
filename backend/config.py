"""Settings read from the environment. Nothing here connects to anything.

The database is DATABASE_URL when that is set and not empty. Otherwise, when DATABASE_HOST is set, a
PostgreSQL URL is built from DATABASE_HOST, DATABASE_PORT, DATABASE_USER, DATABASE_PASSWORD and DATABASE_NAME
as separate values (SQLAlchemy's URL.create), so a password may hold any character, `@ : / %` included,
without percent-encoding. Otherwise the SQLite file backend/chat.db.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

BACKEND_DIR = Path(__file__).resolve().parent
DEFAULT_SQLITE_PATH = BACKEND_DIR / "chat.db"
DEFAULT_DATABASE_URL = f"sqlite:///{DEFAULT_SQLITE_PATH}"
DEFAULT_POSTGRES_PORT = 5432
DATABASE_PART_VARIABLES = (
    "DATABASE_HOST",
    "DATABASE_PORT",
    "DATABASE_USER",
    "DATABASE_PASSWORD",
    "DATABASE_NAME",
)


class SettingsError(ValueError):
    """An environment variable holds a value that cannot be used."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    app_env: str

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"


def database_url_from_parts(env: Mapping[str, str]) -> str:
    """The PostgreSQL URL that DATABASE_HOST and its sibling variables describe, as text for make_url."""
    raw_port = env.get("DATABASE_PORT", "").strip()
    try:
        port = int(raw_port) if raw_port else DEFAULT_POSTGRES_PORT
    except ValueError:
        raise SettingsError(f"DATABASE_PORT: expected a port number, got {raw_port!r}") from None
    if not 0 < port < 65536:
        raise SettingsError(f"DATABASE_PORT: expected a port number from 1 to 65535, got {port}")
    url = URL.create(
        "postgresql+psycopg2",
        username=env.get("DATABASE_USER") or None,
        password=env.get("DATABASE_PASSWORD") or None,
        host=env["DATABASE_HOST"],
        port=port,
        database=env.get("DATABASE_NAME") or None,
    )
    # Rendered with the password percent-encoded; make_url decodes it back to the exact characters.
    return url.render_as_string(hide_password=False)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment (see the module docstring); defaults suit a fresh clone."""
    env = os.environ if environ is None else environ
    if env.get("DATABASE_URL"):
        url = env["DATABASE_URL"]
    elif env.get("DATABASE_HOST"):
        url = database_url_from_parts(env)
    else:
        url = DEFAULT_DATABASE_URL
    app_env = (env.get("APP_ENV") or env.get("ENVIRONMENT") or "development").strip().lower()
    return Settings(database_url=url, app_env=app_env)

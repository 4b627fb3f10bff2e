"""Settings read from the environment. Nothing here connects to anything."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parent
DEFAULT_SQLITE_PATH = BACKEND_DIR / "chat.db"
DEFAULT_DATABASE_URL = f"sqlite:///{DEFAULT_SQLITE_PATH}"


@dataclass(frozen=True)
class Settings:
    database_url: str
    app_env: str

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from DATABASE_URL and APP_ENV (or ENVIRONMENT); defaults suit a fresh clone."""
    env = os.environ if environ is None else environ
    url = env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    app_env = (env.get("APP_ENV") or env.get("ENVIRONMENT") or "development").strip().lower()
    return Settings(database_url=url, app_env=app_env)

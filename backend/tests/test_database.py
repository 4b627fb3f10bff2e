"""Engines are made on request, SQLite enforces foreign keys, URLs never show their password."""

from __future__ import annotations

import subprocess
import sys

import pytest

from backend.config import DEFAULT_DATABASE_URL, load_settings
from backend.database import DatabaseUrlError, make_engine, mask_url, parse_url
from backend.tests.helpers import REPO_ROOT


def test_no_engine_is_created_at_import() -> None:
    code = (
        "import sqlalchemy, sqlalchemy.engine.create as c\n"
        "calls = []\n"
        "orig = c.create_engine\n"
        "sqlalchemy.create_engine = c.create_engine = lambda *a, **k: calls.append(a) or orig(*a, **k)\n"
        "import backend.config, backend.database, backend.models, backend.schema, backend.cli_support\n"
        "import backend.seeding.reactions\n"
        "import importlib, pkgutil, backend.seeding\n"
        "for m in pkgutil.iter_modules(backend.seeding.__path__):\n"
        "    importlib.import_module('backend.seeding.' + m.name)\n"
        "print(len(calls))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "0"


def test_sqlite_foreign_keys_are_on(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    engine.dispose()


def test_mask_url_hides_password() -> None:
    masked = mask_url("postgresql+psycopg2://alice:s3cret@db:5432/chat")
    assert "s3cret" not in masked
    assert "alice" in masked and "db:5432/chat" in masked


def test_bad_urls_are_rejected_without_echo() -> None:
    with pytest.raises(DatabaseUrlError) as info:
        parse_url("not a url with s3cret")
    assert "s3cret" not in str(info.value)
    with pytest.raises(DatabaseUrlError, match="unsupported"):
        parse_url("mysql://u:p@h/db")


def test_settings_defaults_and_environment() -> None:
    assert load_settings({}).database_url == DEFAULT_DATABASE_URL
    assert DEFAULT_DATABASE_URL.startswith("sqlite:///")
    settings = load_settings({"DATABASE_URL": "postgresql://h/db", "ENVIRONMENT": "Production"})
    assert settings.database_url == "postgresql://h/db" and settings.is_production
    assert load_settings({"APP_ENV": "production"}).is_production
    assert not load_settings({}).is_production

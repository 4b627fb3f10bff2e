"""Seeded test databases: seed a template once, then hand out copies that cost milliseconds.

A SeededDatabases keeps, for one target (a PostgreSQL server, or SQLite files in a directory), one template
database per seed specification (profile, options, scenario), made on first use by migrating a new database
and seeding it through the public seeding API (resolve_options + seed_database, in one transaction, as the
seed command does). Two ways to hand it to a test:

- copy(): a database of the test's own: `CREATE DATABASE ... TEMPLATE ...` on PostgreSQL (a few hundred ms),
  a file copy on SQLite (a few ms). For code that opens its own connections or commits.
- transaction(): a connection to the template itself, inside a transaction that is rolled back afterwards
  (a few milliseconds). If the code under test commits that transaction after all, the template is
  discarded and seeded afresh for the next test, so no test sees another's writes.

close() drops every copy still alive and the templates. Nothing connects at import time; the caller owns
the lifetime.

On PostgreSQL the target URL names any database on the server we may connect to with CREATEDB rights: it is
only used to create and drop the `chat_seed_*` databases beside it; the named database itself is not touched.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL

from backend import schema
from backend.database import make_engine, parse_url
from backend.seeding.options import SeedOptions, resolve_options
from backend.seeding.runner import RunSummary, seed_database
from backend.seeding.scenario import scenario_path

# A fixed as-of date by default: a test's data must not change with the day it runs.
DEFAULT_AS_OF = SeedOptions.as_of
_copy_counter = itertools.count(1)


@dataclass(frozen=True)
class SeedSpec:
    """What a seeded database holds: a profile, option overrides (any seed_data.py option), a scenario."""

    profile: str = "test"
    scenario: Path | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self) -> SeedOptions:
        overrides = {"as_of": DEFAULT_AS_OF, **self.options}
        if self.scenario is not None:
            overrides["scenario"] = str(self.scenario)
        today = max(date.today(), overrides["as_of"])
        return resolve_options(self.profile, None, overrides, today=today)

    def key(self) -> str:
        """Short stable name of the data: options digest, as-of date and schema revision."""
        stamp = None
        if self.scenario is not None:
            # The file's size and time stand in for its content between two tests of one session.
            info = scenario_path(str(self.scenario)).stat()
            stamp = (info.st_mtime_ns, info.st_size)
        return _spec_key(self.profile, self.scenario, tuple(sorted(self.options.items())), stamp)


@functools.lru_cache(maxsize=256)
def _spec_key(
    profile: str, scenario: Path | None, option_items: tuple[tuple[str, Any], ...], _stamp: object
) -> str:
    # Resolving options (and a scenario) takes milliseconds: once per distinct spec, not once per test.
    options = SeedSpec(profile, scenario, dict(option_items)).resolve()
    raw = json.dumps([options.digest(), options.as_of.isoformat(), schema.head_revision()])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SeededTemplate:
    url: str
    summary: RunSummary


class SeededDatabases:
    """Templates per SeedSpec on one target, and cheap copies of them."""

    def __init__(self, target: str, directory: Path | None = None) -> None:
        """target: a PostgreSQL URL (its server is used), or 'sqlite' / a sqlite URL (files in directory)."""
        self.is_sqlite = target == "sqlite" or parse_url(target).get_backend_name() == "sqlite"
        self.admin_url: URL | None = None if self.is_sqlite else parse_url(target)
        self._own_directory = directory is None and self.is_sqlite
        self.directory = directory or (
            Path(tempfile.mkdtemp(prefix="chat-seed-")) if self.is_sqlite else None
        )
        self.templates: dict[str, SeededTemplate] = {}
        self._copies: set[str] = set()
        self._engines: dict[str, Engine] = {}  # per spec key: connections to its template
        self._admin: Engine | None = None

    # ----- templates ---------------------------------------------------------------------------------

    def template(self, spec: SeedSpec) -> SeededTemplate:
        """The spec's template, seeded now if this is its first use."""
        key = spec.key()
        if key not in self.templates:
            name = f"chat_seed_tpl_{key}"
            url = self._create(name, template=None)
            self.templates[key] = SeededTemplate(url, _migrate_and_seed(url, spec.resolve()))
        return self.templates[key]

    def copy(self, spec: SeedSpec) -> str:
        """A new database holding exactly the spec's seeded data; drop it with drop(url) (or close())."""
        template = self.template(spec)
        # PostgreSQL copies a template only while nobody is connected to it.
        self._close_engine(spec.key())
        name = f"chat_seed_{os.getpid()}_{next(_copy_counter)}"
        if self.is_sqlite:
            assert self.directory is not None
            path = self.directory / f"{name}.db"
            shutil.copyfile(_sqlite_path(template.url), path)
            url = f"sqlite:///{path}"
        else:
            url = self._create(name, template=_database_name(template.url))
        self._copies.add(url)
        return url

    @contextmanager
    def transaction(self, spec: SeedSpec) -> Iterator[Connection]:
        """A connection to the spec's template in a transaction that is rolled back afterwards."""
        template = self.template(spec)
        key = spec.key()
        if key not in self._engines:
            self._engines[key] = make_engine(template.url)
        with self._engines[key].connect() as conn:
            outer = conn.begin()
            try:
                yield conn
            finally:
                committed = not outer.is_active
                if outer.is_active:
                    outer.rollback()
        if committed:
            # The code under test committed: the template no longer holds the spec's data.
            self._close_engine(key)
            self.drop(self.templates.pop(key).url)

    def _close_engine(self, key: str) -> None:
        engine = self._engines.pop(key, None)
        if engine is not None:
            engine.dispose()

    def drop(self, url: str) -> None:
        self._copies.discard(url)
        if self.is_sqlite:
            _sqlite_path(url).unlink(missing_ok=True)
        else:
            with self._admin_engine().connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{_database_name(url)}" WITH (FORCE)'))

    def close(self) -> None:
        for key in list(self._engines):
            self._close_engine(key)
        for url in [*self._copies, *(t.url for t in self.templates.values())]:
            self.drop(url)
        self.templates.clear()
        if self._admin is not None:
            self._admin.dispose()
        if self._own_directory and self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    # ----- databases ---------------------------------------------------------------------------------

    def _admin_engine(self) -> Engine:
        if self._admin is None:
            assert self.admin_url is not None
            self._admin = make_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        return self._admin

    def _create(self, name: str, template: str | None) -> str:
        if self.is_sqlite:
            assert self.directory is not None
            path = self.directory / f"{name}.db"
            path.unlink(missing_ok=True)
            return f"sqlite:///{path}"
        assert self.admin_url is not None
        clause = f' TEMPLATE "{template}"' if template else ""
        with self._admin_engine().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        return self.admin_url.set(database=name).render_as_string(hide_password=False)


def _migrate_and_seed(url: str, options: SeedOptions) -> RunSummary:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            schema.upgrade(conn)
            return seed_database(conn, options)
    finally:
        # No connection may stay open on a PostgreSQL template while it is copied.
        engine.dispose()


def _sqlite_path(url: str) -> Path:
    return Path(str(parse_url(url).database))


def _database_name(url: str) -> str:
    return str(parse_url(url).database)

"""Helpers for the seeder's tests: seeding in-process, fresh extra databases, canonical dumps, row fetches.

A canonical dump is every table's seeded rows with ids made relative to the run's block start (from
seed_run_blocks), reaction ids replaced by their stable code and timestamps normalised to UTC text, so
that two runs of the same inputs compare equal across databases and backends.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, insert, select

from backend.models import (
    Base,
    Channel,
    Message,
    MessageReaction,
    Reaction,
    SeedRun,
    SeedRunBlock,
    User,
    UserChannel,
)
from backend.seeding import registry
from backend.seeding.chat_text import LAUGHS, OPENERS
from backend.seeding.corpus import load_corpus
from backend.seeding.options import SeedOptions, resolve_options
from backend.seeding.runner import RunSummary, seed_database
from backend.seeding.spelling import SHORTHANDS, TEXTING_WORDS
from backend.tests.helpers import REPO_ROOT, SCRIPTS

AS_OF = "2026-06-01"
AS_OF_DATE = date.fromisoformat(AS_OF)
# The as-of date is midnight UTC at the start of that day: the end of the generated time window.
WINDOW_END = datetime(2026, 6, 1, tzinfo=UTC)
# From the registry, so that an added entity's tables are covered without editing the tests.
SEED_TABLES = registry.seeded_tables()
ID_TABLES = registry.id_block_tables()
LEDGER_TABLES = (registry.SEED_RUNS, registry.SEED_RUN_BLOCKS)
ALL_TABLES = (*SEED_TABLES, *LEDGER_TABLES)
T0 = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)

_counter = itertools.count(1)


# ----- options and in-process runs ------------------------------------------------------------------


def make_options(profile: str = "test", **overrides: Any) -> SeedOptions:
    """Validated options with a fixed as-of date (and a fixed 'today', so nothing reads the clock)."""
    overrides.setdefault("as_of", AS_OF_DATE)
    today = max(AS_OF_DATE, overrides["as_of"])
    return resolve_options(profile, None, overrides, today=today)


def seed(engine: Engine, profile: str = "test", *, append: bool = False, **overrides: Any) -> RunSummary:
    """One seeding run in its own transaction, as the CLI does it."""
    options = make_options(profile, **overrides)
    with engine.begin() as conn:
        return seed_database(conn, options, append=append)


# ----- databases ------------------------------------------------------------------------------------


def copy_sqlite_template(template: Path, directory: Path, name: str = "extra") -> str:
    path = directory / f"{name}-{next(_counter)}.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def another_database(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, empty: bool = False
) -> str:
    """Another fresh database on the same backend, migrated to head unless empty (no tables at all)."""
    if backend == "sqlite":
        if empty:
            return f"sqlite:///{tmp_path / f'empty-{next(_counter)}.db'}"
        return copy_sqlite_template(request.getfixturevalue("sqlite_template"), tmp_path)
    server = request.getfixturevalue("pg_server")
    template = None if empty else request.getfixturevalue("pg_template")
    dbname = f"seedx_{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    url = str(server.create(dbname, template=template))
    request.addfinalizer(lambda: server.drop(dbname))
    return url


def table_counts(conn: Connection, tables: Iterable[str] = ALL_TABLES) -> dict[str, int]:
    return {
        name: int(conn.execute(select(func.count()).select_from(Base.metadata.tables[name])).scalar_one())
        for name in tables
    }


def schema_objects(conn: Connection) -> set[tuple[str, str]]:
    """Every index and constraint of the chat tables, by name (what a bulk load may drop and recreate)."""
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(
            "SELECT 'index', indexname FROM pg_indexes WHERE schemaname = 'public' "
            "UNION ALL SELECT 'constraint', conname FROM pg_constraint c "
            "JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'"
        )
    else:
        rows = conn.exec_driver_sql(
            "SELECT type, coalesce(name, '') || ':' || coalesce(sql, '') FROM sqlite_master "
            "WHERE type IN ('index', 'table')"
        )
    return {(str(kind), str(name)) for kind, name in rows}


# ----- values ----------------------------------------------------------------------------------------


def as_utc(value: datetime) -> datetime:
    """SQLite gives back naive UTC wall times, PostgreSQL aware ones in the session zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_text(value: datetime) -> str:
    return as_utc(value).strftime("%Y-%m-%d %H:%M:%S.%f")


def fetch(conn: Connection, table: str, where: Any = None) -> list[dict[str, Any]]:
    """All rows of a table (optionally filtered) as dicts in primary-key order, timestamps aware UTC."""
    t = Base.metadata.tables[table]
    query = select(t).order_by(*t.primary_key.columns)
    if where is not None:
        query = query.where(where)
    rows = []
    for row in conn.execute(query).mappings():
        rows.append({k: as_utc(v) if isinstance(v, datetime) else v for k, v in row.items()})
    return rows


@dataclass
class Chat:
    """A whole database's chat rows, for shape checks in Python."""

    users: list[dict[str, Any]]
    channels: list[dict[str, Any]]
    memberships: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    reactions: list[dict[str, Any]]

    @property
    def user(self) -> dict[int, dict[str, Any]]:
        return {u["id"]: u for u in self.users}

    @property
    def channel(self) -> dict[int, dict[str, Any]]:
        return {c["id"]: c for c in self.channels}

    @property
    def message(self) -> dict[int, dict[str, Any]]:
        return {m["id"]: m for m in self.messages}

    @property
    def members(self) -> dict[int, dict[int, datetime]]:
        """channel id -> {user id: joined_at}"""
        out: dict[int, dict[int, datetime]] = {c["id"]: {} for c in self.channels}
        for m in self.memberships:
            out[m["channel_id"]][m["user_id"]] = m["joined_at"]
        return out


def fetch_chat(conn: Connection) -> Chat:
    return Chat(
        fetch(conn, "users"),
        fetch(conn, "channels"),
        fetch(conn, "user_channels"),
        fetch(conn, "messages"),
        fetch(conn, "message_reactions"),
    )


# ----- canonical dumps -------------------------------------------------------------------------------


def run_blocks(conn: Connection, run_id: int) -> dict[str, tuple[int, int, int]]:
    rows = conn.execute(
        select(SeedRunBlock.table_name, SeedRunBlock.first_id, SeedRunBlock.last_id, SeedRunBlock.row_count)
        .where(SeedRunBlock.run_id == run_id)
        .order_by(SeedRunBlock.table_name)
    )
    return {str(r.table_name): (int(r.first_id), int(r.last_id), int(r.row_count)) for r in rows}


def latest_run_id(conn: Connection) -> int:
    run_id = conn.execute(select(func.max(SeedRun.id))).scalar_one()
    assert run_id is not None, "no seed run in the ledger"
    return int(run_id)


def canonical_dump(conn: Connection, run_id: int | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """One run's rows, every column, relative ids, reaction codes, UTC text timestamps; plus its ledger."""
    run_id = latest_run_id(conn) if run_id is None else run_id
    blocks = run_blocks(conn, run_id)
    codes = dict(conn.execute(select(Reaction.id, Reaction.code)).all())

    def relative(table: str, value: Any) -> Any:
        return None if value is None else int(value) - blocks[table][0]

    def normalise(table: str, column: Any, value: Any) -> Any:
        if value is None:
            return None
        if column.name == "seed_run_id":
            return "run" if value == run_id else f"other run {value}"
        if column.primary_key and table in ID_TABLES and column.name == "id":
            return relative(table, value)
        for fk in column.foreign_keys:
            target = fk.column.table.name
            if target == "reactions":
                return codes[value]
            if target in ID_TABLES:
                return relative(target, value)
        if isinstance(value, datetime):
            return utc_text(value)
        if isinstance(value, date):
            return value.isoformat()
        return value

    dump: dict[str, list[tuple[Any, ...]]] = {}
    for name in SEED_TABLES:
        table = Base.metadata.tables[name]
        if name in ID_TABLES:
            first, last, _count = blocks[name]
            where = table.c.id.between(first, last)
        else:
            where = table.c.seed_run_id == run_id
        rows = conn.execute(select(table).where(where))
        dump[name] = sorted(
            tuple(normalise(name, col, row[col.name]) for col in table.columns) for row in rows.mappings()
        )
    run = conn.execute(select(SeedRun.__table__).where(SeedRun.id == run_id)).one()
    dump["seed_runs"] = [
        (
            run.profile,
            run.seed,
            run.as_of.isoformat(),
            # workers decide how, not what: the same data for any number of them.
            json.dumps(
                {k: v for k, v in json.loads(run.options_json).items() if k != "workers"}, sort_keys=True
            ),
            run.options_digest,
            run.faker_version,
            run.generator_version,
            json.dumps(json.loads(run.row_counts_json), sort_keys=True),
        )
    ]
    dump["seed_run_blocks"] = sorted(
        (t, last - first + 1, count) for t, (first, last, count) in blocks.items()
    )
    return dump


def assert_same_dump(left: dict[str, list[Any]], right: dict[str, list[Any]]) -> None:
    """Equal dumps, failing with the first differing row of the first differing table."""
    assert left.keys() == right.keys()
    for table in left:
        a, b = left[table], right[table]
        assert len(a) == len(b), f"{table}: {len(a)} rows vs {len(b)}"
        for row_a, row_b in zip(a, b, strict=True):
            assert row_a == row_b, f"{table} differs: {row_a!r} != {row_b!r}"


# ----- real rows, as the app would write them ----------------------------------------------------------


@dataclass
class RealRows:
    users: list[int]
    channels: list[int]
    messages: list[int]
    reactions: list[int]


def insert_real_rows(conn: Connection) -> RealRows:
    """A tiny real chat written without explicit ids: 3 users, 2 channels, 3 messages, 1 reaction."""
    users = [
        int(
            conn.execute(
                insert(User)
                .values(
                    auth0_id=f"auth0|real-{i}",
                    email=f"real{i}@company.test",
                    is_active=True,
                    created_at=T0 + timedelta(minutes=i),
                    name=f"Real Person {i}",
                    picture=None,
                    bio="a real user",
                )
                .returning(User.id)
            ).scalar_one()
        )
        for i in range(3)
    ]
    channels = []
    for i, private in enumerate((False, True)):
        channels.append(
            int(
                conn.execute(
                    insert(Channel)
                    .values(
                        name=f"real-{i}",
                        description="a real channel",
                        owner_id=users[i],
                        created_at=T0 + timedelta(hours=1, minutes=i),
                        is_private=private,
                        is_dm=False,
                        join_code="REALCODE" if private else None,
                    )
                    .returning(Channel.id)
                ).scalar_one()
            )
        )
    for channel in channels:
        for user in users:
            conn.execute(
                insert(UserChannel).values(
                    user_id=user, channel_id=channel, joined_at=T0 + timedelta(hours=2)
                )
            )
    messages: list[int] = []
    for i, parent in enumerate((None, None, 0)):
        at = T0 + timedelta(hours=3, minutes=i)
        messages.append(
            int(
                conn.execute(
                    insert(Message)
                    .values(
                        content=f"real message {i}",
                        created_at=at,
                        updated_at=at,
                        user_id=users[i],
                        channel_id=channels[0],
                        parent_id=None if parent is None else messages[parent],
                    )
                    .returning(Message.id)
                ).scalar_one()
            )
        )
    reaction = conn.execute(select(func.min(Reaction.id))).scalar_one()
    reactions = [
        int(
            conn.execute(
                insert(MessageReaction)
                .values(
                    message_id=messages[0],
                    reaction_id=reaction,
                    user_id=users[1],
                    created_at=T0 + timedelta(hours=4),
                )
                .returning(MessageReaction.id)
            ).scalar_one()
        )
    ]
    return RealRows(users, channels, messages, reactions)


def real_rows_dump(conn: Connection, real: RealRows) -> dict[str, list[dict[str, Any]]]:
    return {
        "users": fetch(conn, "users", User.id.in_(real.users)),
        "channels": fetch(conn, "channels", Channel.id.in_(real.channels)),
        "user_channels": fetch(conn, "user_channels", UserChannel.channel_id.in_(real.channels)),
        "messages": fetch(conn, "messages", Message.id.in_(real.messages)),
        "message_reactions": fetch(conn, "message_reactions", MessageReaction.id.in_(real.reactions)),
    }


# ----- the command line --------------------------------------------------------------------------------


def script_env(database_url: str | None, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment run_script gives a child: no inherited database, environment or debug settings."""
    child = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "APP_ENV", "ENVIRONMENT", "SEED_DEBUG")
    }
    if database_url is not None:
        child["DATABASE_URL"] = database_url
    child.update(env or {})
    return child


def start_script(
    name: str, *args: str, database_url: str, stdout: Path, stderr: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a script in its own process group (so the test can kill it and its workers)."""
    with stdout.open("wb") as out, stderr.open("wb") as err:
        return subprocess.Popen(
            [sys.executable, str(SCRIPTS / name), *args],
            cwd=REPO_ROOT,
            env={**script_env(database_url), **(env or {})},
            stdout=out,
            stderr=err,
            start_new_session=True,
        )


def error_line(stderr: str) -> str:
    """The single line a failing command prints (and nothing else: no traceback, no usage dump)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert "Traceback" not in stderr
    assert lines[0].startswith("error:"), lines[0]
    return lines[0]


SUMMARY_ROW = re.compile(rf"^({'|'.join(SEED_TABLES)})\s+([\d,]+)$")


def summary_rows(stdout: str) -> dict[str, int]:
    """The rows-per-table part of the seeder's summary table."""
    rows = {}
    for line in stdout.splitlines():
        match = SUMMARY_ROW.match(line.strip())
        if match:
            rows[match.group(1)] = int(match.group(2).replace(",", ""))
    return rows


# ----- text ------------------------------------------------------------------------------------------------


def normalised(text: str) -> str:
    """Lower case, letters and digits only, single spaces: how a writing style cannot change a text."""
    return " ".join(re.sub(r"[^\w\s]|_", "", text.lower()).split())


_PREFIX = re.compile(r"^(@\w+ |(?:" + "|".join(map(re.escape, OPENERS)) + r") )")
_VOCATIVE = re.compile(r"^[^,\n]{1,40}, ")
_SUFFIX = re.compile(
    r"( https?://\S+| `[^`]+`| (?:" + "|".join(map(re.escape, LAUGHS)) + r")| [^\w\s]{1,3})$"
)
_STRIPS = (_PREFIX, _VOCATIVE, _SUFFIX)


def _sorted_letters(text: str) -> str:
    return " ".join("".join(sorted(word)) for word in text.split())


# Short forms keyed by their long forms' sorted letters, so a long form with a typo is still recognised.
_SHORT_FORMS = {
    _sorted_letters(long): _sorted_letters(short) for long, short in {**SHORTHANDS, **TEXTING_WORDS}.items()
}
_SHORT_FORM = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, _SHORT_FORMS), key=len, reverse=True)) + r")\b"
)


def canonical(text: str) -> str:
    """What no spelling variant, quirk or typo changes: normalised, each word's letters sorted (a typo swaps
    two letters within a word), short forms for long ones."""
    return _SHORT_FORM.sub(lambda m: _SHORT_FORMS[m.group(1)], _sorted_letters(normalised(text)))


@lru_cache(maxsize=4)
def corpus_runs(locale: str = "en_US") -> dict[str, int]:
    """canonical(text) of every run of consecutive utterances of one turn (as a line may hold several) ->
    the fewest utterances such a run has."""
    corpus = load_corpus(locale)
    runs: dict[str, int] = {}
    starts = corpus.turn_start.tolist()
    for first, end in itertools.pairwise(starts):
        lines = [canonical(corpus.utterance(u)) for u in range(first, end)]
        for a in range(len(lines)):
            for b in range(a + 1, len(lines) + 1):
                key = " ".join(line for line in lines[a:b] if line)  # "." has no canonical words
                runs[key] = min(runs.get(key, b - a), b - a)
    return runs


def message_kind(content: str, runs: dict[str, int]) -> str:
    """'paragraph' (several utterances), 'sentence' (one), or '?' when a line is not a run of corpus
    utterances (see corpus_runs) once decorations, quirks and spelling variants are taken off."""
    body = content.split("\n```", 1)[0]
    utterances = 0
    for line in body.split("\n"):
        candidates = {line}
        for _ in range(3):  # a mention or opener before a name; a laugh and an emoji after the text
            candidates |= {strip.sub("", text) for text in candidates for strip in _STRIPS}
        found = [runs[key] for key in map(canonical, candidates) if key in runs]
        if not found:
            return "?"
        utterances += min(found)
    return "paragraph" if utterances > 1 else "sentence"


def table_counts_at(url: str, tables: Iterable[str] = ALL_TABLES) -> dict[str, int]:
    """table_counts on a database named by URL, through a short-lived engine."""
    from backend.database import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return table_counts(conn, tables)
    finally:
        engine.dispose()


@contextmanager
def seeders(url: str, *commands: Sequence[str]) -> Iterator[list[subprocess.Popen[str]]]:
    """seed_data.py processes started together, one per argument list; killed at the end if still running."""
    procs = [
        subprocess.Popen(
            [sys.executable, str(SCRIPTS / "seed_data.py"), *args],
            env=script_env(url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)


def finish(procs: Sequence[subprocess.Popen[str]], timeout: float = 300) -> list[tuple[str, str, int]]:
    """(stdout, stderr, exit code) of each process, once it has ended."""
    return [(*proc.communicate(timeout=timeout), proc.returncode) for proc in procs]

"""seed_data.py as a user runs it: databases, schema, errors, output, re-runs, determinism and kills."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import faker
import pytest
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.engine import make_url

from backend import schema
from backend.database import make_engine
from backend.models import Reaction, SeedRun, User
from backend.schema import MIGRATE_COMMAND, SchemaState, schema_state
from backend.scripts.seed_data import main as seed_data_main
from backend.seeding.verify import check_invariants
from backend.tests.helpers import REPO_ROOT, run_script
from backend.tests.seed_helpers import (
    ALL_TABLES,
    AS_OF,
    SEED_TABLES,
    another_database,
    assert_same_dump,
    canonical_dump,
    copy_sqlite_template,
    error_line,
    insert_real_rows,
    real_rows_dump,
    schema_objects,
    script_env,
    start_script,
    summary_rows,
    table_counts,
)

TEST = ("--profile", "test", "--as-of", AS_OF)
# Big enough to take a few seconds, so that a kill lands in the middle of the run.
BIG = (
    "--as-of", AS_OF, "--users", "20000", "--channels", "2000",
    "--messages-per-channel", "50", "--max-members", "30", "-q",
)  # fmt: skip


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh migrated SQLite database, for checks that one backend answers as well as two."""
    return copy_sqlite_template(sqlite_template, tmp_path, "solo")


def counts(url: str) -> dict[str, int]:
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            return table_counts(conn)
    finally:
        eng.dispose()


def dump(url: str) -> dict[str, list[tuple[object, ...]]]:
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            return canonical_dump(conn)
    finally:
        eng.dispose()


def seed_ok(url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = run_script("seed_data.py", *args, database_url=url, env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def run_relative(script: str, *args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a script by the relative path a user types in that directory."""
    return subprocess.run(
        [sys.executable, script, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


# ----- which database, and its schema ---------------------------------------------------------------


def test_runs_from_the_repo_root_and_from_backend(
    backend: str, db_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from_root = run_relative(
        "backend/scripts/seed_data.py", *TEST, "-q", cwd=REPO_ROOT, env=script_env(db_url)
    )
    assert from_root.returncode == 0, from_root.stderr
    assert counts(db_url)["users"] == 8

    # From inside backend/, with --database-url winning over DATABASE_URL (and migrations found from there).
    other = another_database(request, backend, tmp_path, empty=True)
    decoy = tmp_path / "decoy.db"
    from_backend = run_relative(
        "scripts/seed_data.py",
        *TEST,
        "-q",
        "--database-url",
        other,
        cwd=REPO_ROOT / "backend",
        env=script_env(f"sqlite:///{decoy}"),
    )
    assert from_backend.returncode == 0, from_backend.stderr
    assert counts(other)["users"] == 8
    assert not decoy.exists(), "DATABASE_URL is not used when --database-url is given"


def test_an_empty_database_gets_the_schema(empty_db_url: str) -> None:
    result = seed_ok(empty_db_url, *TEST)
    assert "created the schema" in result.stderr and "alembic upgrade head" in result.stderr
    eng = make_engine(empty_db_url)
    try:
        with eng.connect() as conn:
            assert schema_state(conn) is SchemaState.CURRENT
            assert conn.execute(select(Reaction.code)).first() is not None, "reference reactions too"
            assert table_counts(conn)["users"] == 8
            assert all(r.ok for r in check_invariants(conn))
    finally:
        eng.dispose()


def test_a_schema_behind_head_is_refused(empty_db_url: str) -> None:
    eng = make_engine(empty_db_url)
    try:
        with eng.begin() as conn:
            schema.upgrade(conn, "0001")
        result = run_script("seed_data.py", *TEST, database_url=empty_db_url)
        assert result.returncode == 1
        line = error_line(result.stderr)
        assert MIGRATE_COMMAND in line
        assert result.stdout == ""
        with eng.connect() as conn:
            assert schema_state(conn) is SchemaState.BEHIND, "the seeder does not migrate a behind schema"
            assert set(table_counts(conn).values()) == {0}
    finally:
        eng.dispose()


def test_missing_reaction_reference_data_is_refused(db_url: str, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(Reaction.__table__.delete())
    result = run_script("seed_data.py", *TEST, database_url=db_url)
    assert result.returncode == 1
    assert "seed_reactions.py" in error_line(result.stderr)
    assert result.stdout == ""
    with engine.connect() as conn:
        assert table_counts(conn) == dict.fromkeys(ALL_TABLES, 0), "nothing written, no seed_runs row"


# ----- usage errors -----------------------------------------------------------------------------------

# (flags, config file text or None, what the error names: the key, and the allowed range or form)
USAGE_ERRORS: list[tuple[tuple[str, ...], str | None, tuple[str, ...]]] = [
    ((), "users: 12\nuserz: 3\n", ("userz", "known options are")),
    (("--users", "-5"), None, ("users", "0..")),
    ((), "channels: -1\n", ("channels", "0..")),
    (("--dm-share", "1.5"), None, ("dm_share", "0..1")),
    ((), "reaction_share: -0.2\n", ("reaction_share", "0..1")),
    (("--users", "1", "--channels", "2"), None, ("users", "at least 2 users")),
    (("--locale", "xx_XX"), None, ("locale", "en_US")),
    (("--as-of", "2999-01-01"), None, ("as_of", "up to today")),
    (("--as-of", "01/06/2026"), None, ("--as-of", "YYYY-MM-DD")),
    ((), "users: [1, 2\nchannels: 3\n", ("--config", "YAML", "line")),
    ((), "users: many\n", ("users", "whole number")),
    (("--users", "abc"), None, ("--users", "int")),
    (("--dm-share", "lots"), None, ("--dm-share", "float")),
    (("--profile", "huge"), None, ("--profile", "test", "load")),
    (("--userz", "3"), None, ("--userz", "--help")),
]


def _usage_args(tmp_path: Path, flags: tuple[str, ...], config: str | None) -> list[str]:
    args = ["--profile", "test", *flags]
    if "--as-of" not in flags:
        args += ["--as-of", AS_OF]
    if config is not None:
        path = tmp_path / "seed.yaml"
        path.write_text(config, encoding="utf-8")
        args += ["--config", str(path)]
    return args


@pytest.mark.parametrize(
    ("flags", "config", "named"),
    USAGE_ERRORS,
    ids=[f"{i}-{case[2][0]}" for i, case in enumerate(USAGE_ERRORS)],
)
def test_bad_input_is_a_one_line_usage_error(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    flags: tuple[str, ...],
    config: str | None,
    named: tuple[str, ...],
) -> None:
    """The whole matrix in-process (the CLI's own entry point, fast); the next test runs some as a user."""
    for variable in ("APP_ENV", "ENVIRONMENT", "SEED_DEBUG"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    code = seed_data_main(_usage_args(tmp_path, flags, config))
    out, err = capsys.readouterr()
    assert code == 2, err
    line = error_line(err)
    for part in named:
        assert part in line, line
    assert out == ""
    assert counts(sqlite_url) == dict.fromkeys(ALL_TABLES, 0)


@pytest.mark.parametrize(
    ("flags", "config", "named"),
    [case for case in USAGE_ERRORS if case[2][0] in ("userz", "--users", "--config", "dm_share")],
    ids=["unknown-key", "share", "yaml", "non-numeric"],
)
def test_bad_input_exits_2_as_a_user_sees_it(
    sqlite_url: str, tmp_path: Path, flags: tuple[str, ...], config: str | None, named: tuple[str, ...]
) -> None:
    result = run_script("seed_data.py", *_usage_args(tmp_path, flags, config), database_url=sqlite_url)
    assert result.returncode == 2, result.stderr
    line = error_line(result.stderr)
    for part in named:
        assert part in line, line
    assert result.stdout == ""
    assert counts(sqlite_url) == dict.fromkeys(ALL_TABLES, 0)


def test_a_usage_error_leaves_an_empty_database_without_tables(empty_db_url: str) -> None:
    result = run_script("seed_data.py", "--profile", "test", "--dm-share", "2", database_url=empty_db_url)
    assert result.returncode == 2
    eng = make_engine(empty_db_url)
    try:
        with eng.connect() as conn:
            assert schema_state(conn) is SchemaState.EMPTY
    finally:
        eng.dispose()


def test_a_missing_config_file_is_a_usage_error(sqlite_url: str, tmp_path: Path) -> None:
    result = run_script(
        "seed_data.py", *TEST, "--config", str(tmp_path / "nope.yaml"), database_url=sqlite_url
    )
    assert result.returncode == 2
    assert "nope.yaml" in error_line(result.stderr)


# ----- profiles, configuration, help ----------------------------------------------------------------


def test_list_profiles() -> None:
    result = run_script("seed_data.py", "--list-profiles")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for name, users in (("test", "8"), ("dev", "20"), ("demo", "40"), ("load", "100,000")):
        assert f"{name}:" in out
        assert f"users {users}," in out
    assert "channels 10,000" in out and "messages per channel" in out


def test_help_documents_the_options_and_subcommands() -> None:
    result = run_script("seed_data.py", "--help")
    assert result.returncode == 0
    for option in (
        "--database-url",
        "--profile",
        "--seed",
        "--as-of",
        "--config",
        "--users",
        "--channels",
        "--locale",
        "--workers",
        "--append",
        "--dry-run",
        "--list-profiles",
        "--json",
        "--quiet",
        "--allow-production",
        "--verbose",
    ):
        assert option in result.stdout, option
    for sub in ("verify", "status", "reset", "show"):
        assert sub in result.stdout, sub
        sub_help = run_script("seed_data.py", sub, "--help")
        assert sub_help.returncode == 0 and "--database-url" in sub_help.stdout, sub


def test_config_file_overrides_the_profile_and_flags_override_the_file(
    sqlite_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "seed.yaml"
    config.write_text("users: 12\nchannels: 4\nmessages-per-channel: 3\nseed: 8\n", encoding="utf-8")
    seed_ok(sqlite_url, *TEST, "--config", str(config), "--channels", "6", "-q")
    eng = make_engine(sqlite_url)
    try:
        with eng.connect() as conn:
            options = json.loads(conn.execute(select(SeedRun.options_json)).scalar_one())
            totals = table_counts(conn)
    finally:
        eng.dispose()
    assert (options["users"], options["channels"], options["messages_per_channel"]) == (12, 6, 3)
    assert options["seed"] == 8 and options["profile"] == "test"
    assert (totals["users"], totals["channels"]) == (12, 6)


def test_japanese_locale(sqlite_url: str) -> None:
    seed_ok(sqlite_url, *TEST, "--locale", "ja_JP", "-q")
    eng = make_engine(sqlite_url)
    try:
        with eng.connect() as conn:
            names = list(conn.execute(select(User.name)).scalars())
    finally:
        eng.dispose()
    assert len(names) == 8
    assert all(any(ord(ch) > 127 for ch in name) for name in names), names


# ----- output -------------------------------------------------------------------------------------------


def test_summary_shows_rows_run_seed_and_as_of(sqlite_url: str) -> None:
    result = seed_ok(sqlite_url, *TEST, "--seed", "5")
    eng = make_engine(sqlite_url)
    try:
        with eng.connect() as conn:
            totals = table_counts(conn)
            run = conn.execute(select(SeedRun.id, SeedRun.seed, SeedRun.as_of)).one()
    finally:
        eng.dispose()
    assert summary_rows(result.stdout) == {table: totals[table] for table in SEED_TABLES}
    assert f"run {run.id}" in result.stdout and "seed 5" in result.stdout
    assert f"as of {AS_OF}" in result.stdout
    assert (run.seed, run.as_of) == (5, date.fromisoformat(AS_OF))


def test_no_progress_bars_when_stderr_is_not_a_terminal(sqlite_url: str) -> None:
    """Progress bars are for a terminal (as the README says); a log file or CI gets the summary only."""
    result = seed_ok(sqlite_url, *TEST)
    assert "%|" not in result.stderr and "rows/s]" not in result.stderr, result.stderr[:300]
    assert summary_rows(result.stdout)


def test_quiet_prints_nothing(sqlite_url: str) -> None:
    result = seed_ok(sqlite_url, *TEST, "--quiet")
    assert result.stdout == ""
    assert counts(sqlite_url)["users"] == 8


def test_json_summary(sqlite_url: str) -> None:
    result = seed_ok(sqlite_url, *TEST, "--seed", "6", "--json")
    data = json.loads(result.stdout)
    eng = make_engine(sqlite_url)
    try:
        with eng.connect() as conn:
            totals = table_counts(conn)
            run_id = conn.execute(select(SeedRun.id)).scalar_one()
    finally:
        eng.dispose()
    assert data["rows"] == {table: totals[table] for table in SEED_TABLES}
    assert (data["run_id"], data["seed"], data["as_of"]) == (run_id, 6, AS_OF)
    assert data["faker_version"] == faker.VERSION
    # Where the run's time went: three phases that together make up its seconds.
    assert set(data["phases"]) == {"preparing", "writing", "finishing"}
    assert all(seconds >= 0 for seconds in data["phases"].values())
    assert sum(data["phases"].values()) == pytest.approx(data["seconds"], abs=0.005)
    again = json.loads(seed_ok(sqlite_url, *TEST, "--seed", "6", "--json").stdout)
    assert again["skipped"] is True and again["rows"] == data["rows"]
    assert again["phases"] == {}  # nothing was written


def test_dry_run_plans_exactly_what_a_run_writes(db_url: str) -> None:
    args = (*TEST, "--users", "15", "--channels", "10", "--seed", "3")
    planned = summary_rows(seed_ok(db_url, *args, "--dry-run").stdout)
    planned_json = json.loads(seed_ok(db_url, *args, "--dry-run", "--json").stdout)["rows"]
    assert planned == planned_json and planned["messages"] > 0
    assert counts(db_url) == dict.fromkeys(ALL_TABLES, 0), "a dry run writes nothing"
    written = summary_rows(seed_ok(db_url, *args).stdout)
    assert written == planned
    totals = counts(db_url)
    assert {table: totals[table] for table in SEED_TABLES} == planned


def test_dry_run_on_an_empty_database_plans_without_creating_anything(empty_db_url: str) -> None:
    """A real run would create the schema and write; the dry run says what, and touches nothing."""
    dry = seed_ok(empty_db_url, *TEST, "--dry-run")
    planned = summary_rows(dry.stdout)
    assert planned and planned["users"] == 8
    eng = make_engine(empty_db_url)
    try:
        with eng.connect() as conn:
            assert schema_state(conn) is SchemaState.EMPTY, "a dry run creates no schema"
    finally:
        eng.dispose()
    written = summary_rows(seed_ok(empty_db_url, *TEST).stdout)
    assert written == planned


def test_dry_run_after_the_same_seed_says_nothing_would_be_written(sqlite_url: str) -> None:
    """A dry run predicts the real run: after an identical run, that run would write nothing."""
    seed_ok(sqlite_url, *TEST, "-q")
    dry = seed_ok(sqlite_url, *TEST, "--dry-run")
    assert "already seeded" in dry.stdout, dry.stdout


def test_verbose_and_seed_debug_give_debug_logs(sqlite_url: str) -> None:
    quiet = seed_ok(sqlite_url, *TEST, "-q")
    assert "DEBUG" not in quiet.stderr
    verbose = seed_ok(sqlite_url, *TEST, "-q", "--append", "-v")
    assert "DEBUG backend." in verbose.stderr
    env_debug = seed_ok(sqlite_url, *TEST, "-q", "--append", env={"SEED_DEBUG": "1"})
    assert "DEBUG backend." in env_debug.stderr


def test_a_malformed_url_is_a_one_line_usage_error() -> None:
    result = run_script(
        "seed_data.py", *TEST, "--database-url", "postgresql+psycopg2://u:s3cret@db:notaport/x"
    )
    assert result.returncode == 2, result.stderr
    assert "database URL" in error_line(result.stderr)
    assert "s3cret" not in result.stdout + result.stderr


def test_a_plain_postgresql_url_works(pg_url: str) -> None:
    """postgresql://user@host/db (no driver named), as most tools write it, means the installed psycopg2."""
    plain = pg_url.replace("postgresql+psycopg2://", "postgresql://", 1)
    assert plain != pg_url
    seed_ok(plain, *TEST, "-q")
    assert counts(pg_url)["users"] == 8


@pytest.mark.parametrize("verbose", [False, True])
def test_a_password_in_the_url_is_never_printed(verbose: bool) -> None:
    url = "postgresql+psycopg2://u:s3cret@127.0.0.1:1/x"
    args = [*TEST, "--database-url", url] + (["-v"] if verbose else [])
    result = run_script("seed_data.py", *args)
    assert result.returncode == 1
    assert "s3cret" not in result.stdout + result.stderr
    if not verbose:
        line = error_line(result.stderr)
        assert "u:***@127.0.0.1" in line


def test_a_password_is_not_printed_on_success(pg_url: str) -> None:
    with_password = make_url(pg_url).set(password="s3cret").render_as_string(hide_password=False)
    result = seed_ok(with_password, *TEST, "-v")  # trust authentication ignores the password
    assert "s3cret" not in result.stdout + result.stderr
    assert "seeded" in result.stdout


def test_production_is_refused_unless_allowed(sqlite_url: str) -> None:
    for env in ({"APP_ENV": "production"}, {"ENVIRONMENT": "production"}):
        refused = run_script("seed_data.py", *TEST, database_url=sqlite_url, env=env)
        assert refused.returncode == 2, env
        assert "--allow-production" in error_line(refused.stderr)
        assert counts(sqlite_url) == dict.fromkeys(ALL_TABLES, 0)
    seed_ok(sqlite_url, *TEST, "-q", "--allow-production", env={"APP_ENV": "production"})
    assert counts(sqlite_url)["users"] == 8


# ----- re-runs and appends ------------------------------------------------------------------------------


def test_running_the_same_command_again_writes_nothing(db_url: str) -> None:
    seed_ok(db_url, *TEST)
    before = counts(db_url)
    again = seed_ok(db_url, *TEST)
    assert "already seeded" in again.stdout
    assert counts(db_url) == before
    assert before["seed_runs"] == 1


def test_after_the_generator_changed_the_same_command_says_what_changed(db_url: str, engine: Engine) -> None:
    """The ledger's run was made by another generator version: its rows are not this seed's rows any more."""
    seed_ok(db_url, *TEST, "-q")
    with engine.begin() as conn:
        conn.execute(SeedRun.__table__.update().values(generator_version="1"))
    before = counts(db_url)
    for extra in ((), ("--dry-run",)):
        again = run_script("seed_data.py", *TEST, *extra, database_url=db_url)
        assert again.returncode == 1, again.stdout + again.stderr
        line = error_line(again.stderr)
        assert "run 1 has the same seed and options" in line and "generator version 1 (now " in line
        assert "--append" in line and "reset" in line
        assert counts(db_url) == before
    appended = seed_ok(db_url, *TEST, "-q", "--append")
    assert appended.returncode == 0 and counts(db_url)["seed_runs"] == 2


def test_append_adds_a_second_run(db_url: str, engine: Engine) -> None:
    seed_ok(db_url, *TEST, "-q")
    first = counts(db_url)
    seed_ok(db_url, *TEST, "-q", "--append")
    second = counts(db_url)
    assert second["seed_runs"] == 2
    for table in SEED_TABLES:
        assert second[table] == 2 * first[table], table
    with engine.connect() as conn:
        users = conn.execute(select(User.email, User.auth0_id)).all()
        assert all(r.ok for r in check_invariants(conn))
    assert len({u.email for u in users}) == len({u.auth0_id for u in users}) == len(users) == 16


def test_a_database_with_real_rows_keeps_them(db_url: str, engine: Engine) -> None:
    with engine.begin() as conn:
        real = insert_real_rows(conn)
    with engine.connect() as conn:
        before = real_rows_dump(conn, real)
    seed_ok(db_url, *TEST, "-q")
    with engine.connect() as conn:
        assert real_rows_dump(conn, real) == before
        first_user = conn.execute(text("SELECT min(id) FROM users WHERE email NOT LIKE 'real%'")).scalar_one()
    assert first_user > max(real.users)
    assert run_script("seed_data.py", "verify", database_url=db_url).returncode == 0


# ----- determinism ----------------------------------------------------------------------------------------


def test_workers_do_not_change_the_data(
    backend: str, db_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    args = (*TEST, "--channels", "10", "--users", "12", "-q")
    seed_ok(db_url, *args, "--workers", "1")
    other = another_database(request, backend, tmp_path)
    seed_ok(other, *args, "--workers", "2")
    assert_same_dump(dump(db_url), dump(other))


def test_the_recorded_as_of_reproduces_a_run(
    pg_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    seed_ok(pg_url, "--profile", "test", "--seed", "12", "--as-of", "2026-05-15", "-q")
    eng = make_engine(pg_url)
    try:
        with eng.connect() as conn:
            run = conn.execute(select(SeedRun.profile, SeedRun.seed, SeedRun.as_of)).one()
    finally:
        eng.dispose()
    assert run.as_of == date(2026, 5, 15)
    replay = another_database(request, "postgresql", tmp_path)
    seed_ok(replay, "--profile", run.profile, "--seed", str(run.seed), "--as-of", run.as_of.isoformat(), "-q")
    assert_same_dump(dump(pg_url), dump(replay))
    later = another_database(request, "postgresql", tmp_path)
    seed_ok(later, "--profile", "test", "--seed", "12", "--as-of", "2026-05-20", "-q")
    original, shifted = dump(pg_url), dump(later)
    assert original["messages"] != shifted["messages"], "another as-of date moves the time window"
    assert [m[1] for m in original["messages"]] == [m[1] for m in shifted["messages"]], "same text"


# ----- kills ------------------------------------------------------------------------------------------------


@pytest.fixture
def killer() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes the test started; whatever is left of them is killed at the end."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def _wait_for(
    condition: object, what: str, proc: subprocess.Popen[bytes], log: Path, limit: float = 120
) -> None:
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        assert proc.poll() is None, f"the run ended before {what}: {log.read_text(errors='replace')[-2000:]}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def pg_seeding_backends(watch: Connection, database: str, writing: bool = False) -> list[tuple[int, str]]:
    """(pid, xid) of backends with an open write transaction; with writing, only once they load rows.

    pg_stat_activity takes no lock, unlike a look at the tables: the bulk load holds exclusive locks.
    """
    rows = watch.execute(
        text(
            "SELECT pid, backend_xid::text FROM pg_stat_activity WHERE datname = :db "
            "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL "
            "AND (NOT :writing OR query ~* '^\\s*(COPY|INSERT INTO) "
            "(users|channels|user_channels|messages|message_reactions)\\M')"
        ),
        {"db": database, "writing": writing},
    )
    return [(int(pid), str(xid)) for pid, xid in rows]


def wait_until_gone(watch: Connection, pid: int) -> None:
    """A dead client's server backend rolls back and exits once it notices."""
    deadline = time.monotonic() + 120
    while watch.execute(
        text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
    ).scalar_one():
        assert time.monotonic() < deadline, f"backend {pid} did not go away"
        time.sleep(0.05)


def test_a_killed_run_on_postgresql_leaves_nothing(
    pg_url: str, tmp_path: Path, killer: list[subprocess.Popen[bytes]]
) -> None:
    eng = make_engine(pg_url)
    watch = eng.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        with eng.begin() as conn:
            real = insert_real_rows(conn)
        with eng.connect() as conn:
            before = (table_counts(conn), real_rows_dump(conn, real), schema_objects(conn))
        database = str(make_url(pg_url).database)

        def seeding_backend(writing: bool = False) -> list[tuple[int, str]]:
            return pg_seeding_backends(watch, database, writing)

        stderr = tmp_path / "stderr.txt"
        proc = start_script(
            "seed_data.py", *BIG, database_url=pg_url, stdout=tmp_path / "out.txt", stderr=stderr
        )
        killer.append(proc)
        _wait_for(lambda: seeding_backend(writing=True), "rows were being written", proc, stderr)
        os.killpg(proc.pid, signal.SIGSTOP)
        open_transaction = seeding_backend()
        time.sleep(0.3)
        assert open_transaction and seeding_backend() == open_transaction, "the run's transaction is open"
        assert proc.poll() is None
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

        wait_until_gone(watch, open_transaction[0][0])
        with eng.connect() as conn:
            after = (table_counts(conn), real_rows_dump(conn, real), schema_objects(conn))
        assert after[0] == before[0], "no seeded rows and no seed_runs row"
        assert after[1] == before[1], "real rows unchanged"
        assert after[2] == before[2], "indexes and constraints intact"
    finally:
        watch.close()
        eng.dispose()
    # Nothing is left locked or half-done: the next run works.
    seed_ok(pg_url, *TEST, "-q")
    assert run_script("seed_data.py", "verify", database_url=pg_url).returncode == 0


def test_a_killed_run_on_sqlite_is_rolled_back_on_next_open(
    sqlite_url: str, tmp_path: Path, killer: list[subprocess.Popen[bytes]]
) -> None:
    path = Path(str(make_url(sqlite_url).database))
    journal = path.with_name(path.name + "-journal")
    eng = make_engine(sqlite_url)
    with eng.begin() as conn:
        real = insert_real_rows(conn)
    with eng.connect() as conn:
        before = (table_counts(conn), real_rows_dump(conn, real), schema_objects(conn))
    eng.dispose()
    assert not journal.exists()
    size = path.stat().st_size

    def database_file_written() -> bool:
        """Pages went to the database file inside the transaction: only the journal can undo them."""
        return journal.exists() and path.stat().st_size > size

    stderr = tmp_path / "stderr.txt"
    temporary = tmp_path / "tmp"  # where the workers spool the rows
    temporary.mkdir()
    proc = start_script(
        "seed_data.py",
        *BIG,
        database_url=sqlite_url,
        stdout=tmp_path / "out.txt",
        stderr=stderr,
        env={"TMPDIR": str(temporary)},
    )
    killer.append(proc)
    _wait_for(database_file_written, "the database file was written", proc, stderr)
    os.killpg(proc.pid, signal.SIGSTOP)
    assert proc.poll() is None and journal.exists(), "killed inside the write transaction"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert journal.exists(), "a hot journal is left behind"

    eng = make_engine(sqlite_url)
    try:
        with eng.connect() as conn:
            after = (table_counts(conn), real_rows_dump(conn, real), schema_objects(conn))
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    finally:
        eng.dispose()
    assert after[0] == before[0], "no seeded rows and no seed_runs row"
    assert after[1] == before[1]
    assert after[2] == before[2], "indexes dropped for the bulk load are back"
    assert not journal.exists(), "the hot journal was rolled back"
    assert list(temporary.glob("seed-spool-*")), "the kill left the spool files"
    seed_ok(sqlite_url, *BIG, env={"TMPDIR": str(temporary)})
    assert not list(temporary.iterdir()), "the next spooling run took them away, and its own"


def test_ctrl_c_mid_run_is_one_line_and_rolls_back(
    pg_url: str, tmp_path: Path, killer: list[subprocess.Popen[bytes]]
) -> None:
    """Ctrl-C signals the whole foreground process group: the writer and its worker processes."""
    eng = make_engine(pg_url)
    watch = eng.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as conn:
            before = table_counts(conn)
        database = str(make_url(pg_url).database)
        stdout, stderr = tmp_path / "out.txt", tmp_path / "err.txt"
        proc = start_script(
            "seed_data.py", *BIG, "--workers", "2", database_url=pg_url, stdout=stdout, stderr=stderr
        )
        killer.append(proc)
        _wait_for(
            lambda: pg_seeding_backends(watch, database, writing=True),
            "rows were being written",
            proc,
            stderr,
        )
        backend_pid = pg_seeding_backends(watch, database)[0][0]
        os.killpg(proc.pid, signal.SIGINT)
        try:
            code = proc.wait(timeout=30)  # a rollback takes well under a second
        except subprocess.TimeoutExpired:
            pytest.fail("the seeder hung after Ctrl-C (its transaction stays open, holding its locks)")
        assert code == 130
        wait_until_gone(watch, backend_pid)
        with eng.connect() as conn:
            assert table_counts(conn) == before, "nothing written, no seed_runs row"
    finally:
        watch.close()
        eng.dispose()
    err = stderr.read_text(errors="replace")
    assert "interrupted" in error_line(err)
    assert stdout.read_text() == ""


@pytest.mark.parametrize("same_options", [True, False], ids=["same-options", "another-seed"])
def test_concurrent_runs_on_postgresql_take_turns(pg_url: str, same_options: bool) -> None:
    """Two seeders started together: the second waits for the first, then skips (same options) or adds
    its own run; neither fails. A held lock lines them up so both are waiting before either runs."""
    eng = make_engine(pg_url)
    watch = eng.connect().execution_options(isolation_level="AUTOCOMMIT")
    seeds = ("4", "4") if same_options else ("4", "5")
    procs: list[subprocess.Popen[str]] = []
    try:
        with eng.connect() as holder:
            holder.exec_driver_sql(
                "LOCK TABLE users, channels, user_channels, messages, message_reactions, seed_runs "
                "IN SHARE ROW EXCLUSIVE MODE"
            )
            for seed in seeds:
                procs.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            str(REPO_ROOT / "backend/scripts/seed_data.py"),
                            *TEST,
                            "--seed",
                            seed,
                            "--json",
                        ],
                        env=script_env(pg_url),
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                )
            deadline = time.monotonic() + 120
            while watch.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one() < 2:
                assert all(p.poll() is None for p in procs), "a seeder ended before reaching the lock"
                assert time.monotonic() < deadline, "the seeders did not wait for the lock"
                time.sleep(0.05)
            holder.rollback()
        results = [(*p.communicate(timeout=120), p.returncode) for p in procs]
        with eng.connect() as conn:
            runs = table_counts(conn)["seed_runs"]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=30)
        watch.close()
        eng.dispose()
    for _out, err, code in results:
        assert code == 0, err
    skipped = [json.loads(out)["skipped"] for out, _err, _code in results]
    if same_options:
        assert runs == 1 and sorted(skipped) == [False, True]
    else:
        assert runs == 2 and skipped == [False, False]

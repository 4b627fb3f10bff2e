"""Docker: compose wiring and Dockerfile as written; the entrypoint run for real on SQLite and PostgreSQL.

No Docker engine is needed: compose and Dockerfile are checked as files, and the entrypoint is run directly
with PYTHON pointing at this virtualenv's interpreter, or at a wrapper that records each call.

The tests at the end (test_e2e_*) run the real seed_data.py and cleanup_fake_data.py through the entrypoint.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from backend import schema, waiting
from backend.config import load_settings
from backend.database import make_engine
from backend.models import Channel, Message, MessageReaction, Reaction, SeedRun, User, UserChannel
from backend.tests.helpers import REPO_ROOT
from backend.tests.pg_instance import PostgresInstance

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "backend" / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
ENTRYPOINT = REPO_ROOT / "backend" / "docker-entrypoint.sh"
WAIT_FOR_DB = REPO_ROOT / "backend" / "scripts" / "wait_for_db.py"

# The calls the entrypoint makes, as argv after the interpreter.
WAIT_CALL = ["backend/scripts/wait_for_db.py"]
MIGRATE_CALL = ["-m", "alembic", "-c", "backend/alembic.ini", "upgrade", "head"]
SEED_SCRIPT = "backend/scripts/seed_data.py"
CLEANUP_SCRIPT = "backend/scripts/cleanup_fake_data.py"

CHAT_TABLES = {
    "users",
    "channels",
    "user_channels",
    "messages",
    "reactions",
    "message_reactions",
    "seed_runs",
}
SECRET = "pa55-w0rd-NOT-FOR-LOGS"
# Every character that breaks a hand-written URL.
SPECIAL_PASSWORD = "p@ss:w/rd%40x"
# Variables from the developer's shell that would change what the entrypoint does.
_SCRUBBED_ENV = (
    "DATABASE_URL",
    "APP_ENV",
    "ENVIRONMENT",
    "SEED_DEBUG",
    "AUTO_SEED",
    "DB_WAIT_ATTEMPTS",
    "DB_WAIT_DELAY",
    "PYTHON",
)


# --- helpers ---------------------------------------------------------------------------------------------


def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>\w+)(?::-(?P<default>[^}]*))?\}")


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ${VAR} / ${VAR:-default} / $$ substitution, the subset this compose file may use."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group("name"), match.group("default")
        got = env.get(name, "")
        return got if got or default is None else default

    return _VARIABLE.sub(replace, value)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        keyword, _, rest = full.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    assert not pending, "Dockerfile ends with a continuation line"
    return instructions


def free_port() -> int:
    """A port nothing listens on: bound to learn a free number, then closed again."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(
    env: Mapping[str, str | None] | None = None, python: Path | str | None = None
) -> dict[str, str]:
    """The environment for a child: scrubbed, PYTHON set, then `env` applied (None values removed)."""
    result = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
    result["PYTHON"] = str(python or sys.executable)
    for key, value in (env or {}).items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def run_entrypoint(
    *args: str,
    env: Mapping[str, str | None] | None = None,
    python: Path | str | None = None,
    cwd: Path = REPO_ROOT,
    program: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run backend/docker-entrypoint.sh as the container would, and capture its output."""
    return subprocess.run(
        [program or str(ENTRYPOINT), *args],
        cwd=cwd,
        env=child_env(env, python),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class RecordingPython:
    """A stand-in interpreter: logs each call's argv, then execs the real interpreter.

    With stub_seeders, calls of seed_data.py / cleanup_fake_data.py are logged but not run: they exit with
    $STUB_EXIT (default 0). That keeps the dispatch tests independent of those scripts; waiting and
    migrating still run for real.
    """

    def __init__(self, directory: Path, stub_seeders: bool) -> None:
        self.path = directory / ("python-stub" if stub_seeders else "python-recording")
        self.log = directory / f"{self.path.name}.log"
        stub = (
            '  */seed_data.py | */cleanup_fake_data.py) exit "${STUB_EXIT:-0}" ;;\n' if stub_seeders else ""
        )
        # One line per call, each argument followed by \037 (unit separator), so spaces survive.
        record = "for arg in \"$@\"; do printf '%s\\037' \"$arg\"; done; printf '\\n'"
        self.path.write_text(
            "#!/bin/sh\n"
            f"{{ {record}; }} >> {shlex.quote(str(self.log))}\n"
            'case "${1:-}" in\n'
            f"{stub}"
            "esac\n"
            f'exec {shlex.quote(sys.executable)} "$@"\n',
            encoding="utf-8",
        )
        self.path.chmod(0o755)

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [line.split("\x1f")[:-1] for line in lines]


@pytest.fixture
def recording_python(tmp_path: Path) -> RecordingPython:
    return RecordingPython(tmp_path, stub_seeders=False)


@pytest.fixture
def stub_python(tmp_path: Path) -> RecordingPython:
    return RecordingPython(tmp_path, stub_seeders=True)


def closed_port_url() -> tuple[str, int]:
    port = free_port()
    return f"postgresql+psycopg2://chat:{SECRET}@127.0.0.1:{port}/chat", port


def table_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                model.__tablename__: conn.execute(select(func.count()).select_from(model)).scalar_one()
                for model in (User, Channel, UserChannel, Message, Reaction, MessageReaction, SeedRun)
            }
    finally:
        engine.dispose()


def assert_migrated(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) >= CHAT_TABLES | {"alembic_version"}
            revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
            assert revision == schema.head_revision()
            assert schema.schema_state(conn) is schema.SchemaState.CURRENT
    finally:
        engine.dispose()


# --- docker-compose.yml ------------------------------------------------------------------------------------


def test_compose_file_is_compose_specification() -> None:
    compose = load_compose()
    assert set(compose["services"]) == {"db", "backend"}
    # `version:` is obsolete in the Compose Specification and Compose v2 warns about it.
    assert "version" not in compose


def test_db_is_the_official_postgres_16_image_unless_overridden() -> None:
    image = load_compose()["services"]["db"]["image"]
    default = interpolate(image, {})
    assert re.fullmatch(r"postgres:16(\.\d+)*(-[a-z0-9.]+)?", default), image
    # A machine without a registry points it at a local image, without retagging the official name.
    assert interpolate(image, {"POSTGRES_IMAGE": "stand-in/postgres:15"}) == "stand-in/postgres:15"


def test_db_credentials_come_from_env_with_dev_defaults() -> None:
    env = load_compose()["services"]["db"]["environment"]
    for name in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"):
        assert re.fullmatch(rf"\$\{{{name}:-[^}}]+\}}", env[name]), (name, env[name])
        assert interpolate(env[name], {}), f"{name} has an empty default"
        assert interpolate(env[name], {name: "override"}) == "override"


def test_db_healthcheck_runs_pg_isready_inside_the_container() -> None:
    check = load_compose()["services"]["db"]["healthcheck"]
    test = check["test"]
    assert test[0] in ("CMD", "CMD-SHELL")
    command = " ".join(test[1:])
    assert command.split()[0] == "pg_isready"
    # $$ leaves the variables to the container's shell: the host running compose may not have them set.
    assert not re.search(r"(?<!\$)\$\{POSTGRES_", command), "healthcheck variables must be escaped as $${...}"
    assert "${POSTGRES_USER}" in interpolate(command, {})
    assert check["retries"] >= 5
    for key in ("interval", "timeout"):
        assert re.fullmatch(r"\d+(ms|s|m)", str(check[key])), (key, check[key])


def test_db_data_lives_in_a_declared_named_volume() -> None:
    compose = load_compose()
    mounts = compose["services"]["db"]["volumes"]
    named = [m.split(":")[0] for m in mounts if m.split(":")[1] == "/var/lib/postgresql/data"]
    assert len(named) == 1, mounts
    volume = named[0]
    assert not volume.startswith((".", "/", "~")), "a bind mount, not a named volume"
    assert volume in compose["volumes"]


def test_backend_is_built_from_the_repo_root_with_backend_dockerfile() -> None:
    build = load_compose()["services"]["backend"]["build"]
    assert build["context"] == "."
    assert build["dockerfile"] == "backend/Dockerfile"
    assert (COMPOSE_FILE.parent / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"POSTGRES_USER": "alice", "POSTGRES_PASSWORD": "s3cret", "POSTGRES_DB": "chatdb"},
        {"POSTGRES_PASSWORD": SPECIAL_PASSWORD},
    ],
    ids=["defaults", "overrides", "special-password"],
)
def test_backend_database_url_matches_the_db_service(env: dict[str, str]) -> None:
    services = load_compose()["services"]
    db_env = {k: interpolate(v, env) for k, v in services["db"]["environment"].items()}
    backend_env = {k: interpolate(str(v), env) for k, v in services["backend"]["environment"].items()}
    # The image's SQLite default must be overridden by an empty value, or it would win over the parts.
    assert backend_env["DATABASE_URL"] == ""
    url = make_url(load_settings(backend_env).database_url)
    assert url.drivername == "postgresql+psycopg2"
    assert (url.host, url.port) == ("db", 5432)
    assert url.username == db_env["POSTGRES_USER"]
    assert url.password == db_env["POSTGRES_PASSWORD"]
    assert url.database == db_env["POSTGRES_DB"]


def test_backend_starts_after_db_is_healthy() -> None:
    backend = load_compose()["services"]["backend"]
    assert backend["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_backend_settings_have_defaults() -> None:
    env = load_compose()["services"]["backend"]["environment"]
    assert interpolate(env["AUTO_SEED"], {}) == "false"
    assert int(interpolate(env["DB_WAIT_ATTEMPTS"], {})) >= 1
    assert float(interpolate(env["DB_WAIT_DELAY"], {})) > 0
    assert interpolate(env["AUTO_SEED"], {"AUTO_SEED": "true"}) == "true"


# --- backend/Dockerfile and .dockerignore -----------------------------------------------------------------


def test_dockerfile_base_image_is_pinned_python_311_slim_and_a_parameter() -> None:
    instructions = dockerfile_instructions()
    froms = [args for keyword, args in instructions if keyword == "FROM"]
    assert froms == ["${PYTHON_IMAGE}"]
    args = dict(a.split("=", 1) for keyword, a in instructions if keyword == "ARG" and "=" in a)
    default = args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", default), default
    # The ARG must come before FROM to be usable in it.
    assert instructions.index(("ARG", f"PYTHON_IMAGE={default}")) < instructions.index(("FROM", froms[0]))
    # Compose passes the same default, or `docker compose build` and `docker build` would differ.
    build_arg = load_compose()["services"]["backend"]["build"]["args"]["PYTHON_IMAGE"]
    assert interpolate(build_arg, {}) == default
    assert interpolate(build_arg, {"PYTHON_IMAGE": "stand-in/python:3.11"}) == "stand-in/python:3.11"


def test_dockerfile_user_is_not_a_system_account_out_of_range() -> None:
    # useradd --system with a uid above SYS_UID_MAX (999) warns during the build.
    runs = " ".join(args for keyword, args in dockerfile_instructions() if keyword == "RUN")
    for command, id_flag in (("useradd", "--uid"), ("groupadd", "--gid")):
        match = re.search(rf"{command} ([^&;]*)", runs)
        assert match, f"no {command} in the Dockerfile"
        options = match.group(1).split()
        assert int(options[options.index(id_flag) + 1]) >= 1000, options
        assert "--system" not in options and "-r" not in options, options


def test_dockerfile_installs_the_pinned_requirements_before_copying_code() -> None:
    instructions = dockerfile_instructions()
    copies = [args for keyword, args in instructions if keyword == "COPY"]
    runs = [args for keyword, args in instructions if keyword == "RUN"]
    assert any(args.split()[0] == "requirements.txt" for args in copies)
    assert any(re.search(r"pip install .*-r \S*requirements\.txt", args) for args in runs)
    req_copy = next(i for i, (k, a) in enumerate(instructions) if k == "COPY" and "requirements.txt" in a)
    code_copy = next(i for i, (k, a) in enumerate(instructions) if k == "COPY" and a.startswith("backend"))
    assert req_copy < code_copy, "dependencies would be reinstalled on every code change"
    requirements = [
        line.strip()
        for line in (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert requirements and all(re.fullmatch(r"[\w.-]+==[\w.]+", r) for r in requirements), requirements


def test_dockerfile_copies_backend_to_app_and_works_in_app() -> None:
    instructions = dockerfile_instructions()
    assert ("COPY", "backend/ /app/backend/") in instructions
    assert [args for keyword, args in instructions if keyword == "WORKDIR"][-1] == "/app"


def test_dockerfile_runs_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    users = [(i, args) for i, (keyword, args) in enumerate(instructions) if keyword == "USER"]
    assert users, "no USER instruction: the container would run as root"
    index, user = users[-1]
    assert user.split(":")[0] not in ("root", "0")
    assert all(keyword not in ("RUN", "COPY", "ADD") for keyword, _ in instructions[index + 1 :]), (
        "instructions after USER run as that user and may fail or leave root-owned files"
    )


def test_dockerfile_entrypoint_is_the_entrypoint_script() -> None:
    entrypoints = [args for keyword, args in dockerfile_instructions() if keyword == "ENTRYPOINT"]
    assert len(entrypoints) == 1
    # Exec form, so signals reach the script (and what it execs) instead of a wrapping /bin/sh -c.
    assert json.loads(entrypoints[0]) == ["/app/backend/docker-entrypoint.sh"]


def test_entrypoint_script_is_executable_with_a_shebang() -> None:
    assert ENTRYPOINT.stat().st_mode & stat.S_IXUSR
    assert ENTRYPOINT.read_text(encoding="utf-8").startswith(("#!/bin/sh\n", "#!/usr/bin/env bash\n"))


def test_entrypoint_is_posix_sh() -> None:
    # The slim image has dash as /bin/sh: bash-only syntax would only fail inside the container.
    result = subprocess.run(["sh", "-n", str(ENTRYPOINT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    dash = Path("/usr/bin/dash")
    if dash.exists():
        result = subprocess.run([str(dash), "-n", str(ENTRYPOINT)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".git", "backend/chat.db", "**/__pycache__", ".pytest_cache", ".ruff_cache"} <= patterns
    # Neither the tests, the benchmarks nor the Dockerfile belong in the image.
    assert {"backend/tests", "backend/benchmarks", "backend/Dockerfile"} <= patterns
    # What the Dockerfile copies must stay in the context.
    assert not patterns & {"backend", "backend/", "requirements.txt", "*", "backend/docker-entrypoint.sh"}


# --- backend/waiting.py (in-process) ----------------------------------------------------------------------


def _operational_error(message: str) -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception(message))


def test_wait_retries_until_the_database_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes = [_operational_error("the database system is starting up")] * 2
    attempts: list[int] = []

    def fake_connect(url: Any, timeout: int) -> None:
        attempts.append(timeout)
        if outcomes:
            raise outcomes.pop()

    monkeypatch.setattr(waiting, "_try_connect", fake_connect)
    sleeps: list[float] = []
    retries: list[tuple[int, str]] = []
    waiting.wait_for_database(
        "postgresql+psycopg2://u:hunter2@db:5432/x",
        attempts=5,
        delay=0.5,
        connect_timeout=2,
        on_retry=lambda n, why: retries.append((n, why)),
        sleep=sleeps.append,
    )
    assert attempts == [2, 2, 2]
    assert sleeps == [0.5, 0.5]
    assert retries == [(1, "the database system is starting up"), (2, "the database system is starting up")]


def test_wait_gives_up_with_host_port_and_no_password(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(url: Any, timeout: int) -> None:
        raise _operational_error(
            f"could not connect to postgresql://chat:{SECRET}@db.internal/chat\nsecond line"
        )

    monkeypatch.setattr(waiting, "_try_connect", refuse)
    sleeps: list[float] = []
    with pytest.raises(waiting.DatabaseUnavailableError) as info:
        waiting.wait_for_database(
            f"postgresql+psycopg2://chat:{SECRET}@db.internal/chat",
            attempts=3,
            delay=0.1,
            sleep=sleeps.append,
        )
    message = str(info.value)
    assert "db.internal:5432" in message and "after 3 attempts" in message
    assert SECRET not in message and "***" in message
    assert "\n" not in message
    assert sleeps == [0.1, 0.1], "no pause after the last attempt"


def test_wait_needs_no_server_for_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_connect(url: Any, timeout: int) -> None:
        pytest.fail("SQLite needs no connection check")

    monkeypatch.setattr(waiting, "_try_connect", must_not_connect)
    waiting.wait_for_database(f"sqlite:///{tmp_path / 'chat.db'}", attempts=1, delay=0)
    assert not (tmp_path / "chat.db").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"attempts": 0}, "attempts"),
        ({"delay": -1.0}, "delay"),
        ({"delay": float("nan")}, "delay"),
        ({"delay": 1e308}, "delay"),
        ({"attempts": 10**30}, "attempts"),
        ({"connect_timeout": 0}, "connect_timeout"),
        ({"connect_timeout": 10**12}, "connect_timeout"),
    ],
)
def test_wait_rejects_bad_bounds(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        waiting.wait_for_database("postgresql+psycopg2://u@h/d", **kwargs)


def test_describe_location() -> None:
    assert waiting.describe_location(f"postgresql+psycopg2://u:{SECRET}@db/x") == "db:5432"
    assert waiting.describe_location("postgresql+psycopg2://u@10.0.0.5:6543/x") == "10.0.0.5:6543"


# --- backend/scripts/wait_for_db.py -----------------------------------------------------------------------


def run_wait(*args: str, env: Mapping[str, str | None]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(WAIT_FOR_DB), *args],
        cwd=REPO_ROOT,
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_wait_script_returns_once_postgresql_answers(empty_db_url: str) -> None:
    result = run_wait(env={"DATABASE_URL": empty_db_url, "DB_WAIT_ATTEMPTS": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == result.stderr == ""


def test_wait_script_flags_override_env() -> None:
    url, port = closed_port_url()
    started = time.monotonic()
    result = run_wait("--attempts", "2", "--delay", "0", env={"DATABASE_URL": url, "DB_WAIT_ATTEMPTS": "500"})
    assert time.monotonic() - started < 10
    assert result.returncode == 1
    assert f"127.0.0.1:{port} not reachable after 2 attempts" in result.stderr


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DB_WAIT_ATTEMPTS": "three"}, "DB_WAIT_ATTEMPTS"),
        ({"DB_WAIT_ATTEMPTS": "0"}, "DB_WAIT_ATTEMPTS"),
        ({"DB_WAIT_DELAY": "soon"}, "DB_WAIT_DELAY"),
        ({"DB_WAIT_DELAY": "-1"}, "DB_WAIT_DELAY"),
        ({"DB_WAIT_DELAY": "1e308"}, "DB_WAIT_DELAY"),
        ({"DB_WAIT_ATTEMPTS": "1" + "0" * 30}, "DB_WAIT_ATTEMPTS"),
        ({"DATABASE_URL": "", "DATABASE_HOST": "db", "DATABASE_PORT": "99999"}, "DATABASE_PORT"),
    ],
)
def test_wait_script_rejects_bad_settings(env: dict[str, str], named: str) -> None:
    url, _ = closed_port_url()
    started = time.monotonic()
    result = run_wait(env={"DATABASE_URL": url, **env})
    assert time.monotonic() - started < 10, "rejected up front, before any attempt"
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and named in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert SECRET not in result.stderr


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--delay", "1e308"),
        ("--delay", "inf"),
        ("--attempts", "1" + "0" * 30),
        ("--connect-timeout", "99999"),
    ],
)
def test_wait_script_rejects_out_of_range_numbers_up_front(flag: str, value: str) -> None:
    url, _ = closed_port_url()
    started = time.monotonic()
    result = run_wait(flag, value, env={"DATABASE_URL": url})
    assert time.monotonic() - started < 10
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {flag}") and "must be from" in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_wait_script_failure_is_one_line() -> None:
    url, port = closed_port_url()
    result = run_wait("--attempts", "3", "--delay", "0", env={"DATABASE_URL": url})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [result.stderr.strip()], "one line: no waiting notice"
    assert result.stderr.startswith(f"error: database at 127.0.0.1:{port} not reachable after 3 attempts")


# --- the entrypoint, run for real -------------------------------------------------------------------------


def test_migrate_creates_the_schema_on_an_empty_database(
    empty_db_url: str, recording_python: RecordingPython
) -> None:
    for _ in range(2):  # the second run finds the schema current and changes nothing
        result = run_entrypoint("migrate", env={"DATABASE_URL": empty_db_url}, python=recording_python.path)
        assert result.returncode == 0, result.stderr
        assert_migrated(empty_db_url)
    assert recording_python.calls() == [WAIT_CALL, MIGRATE_CALL] * 2
    assert SECRET not in result.stdout + result.stderr


def test_migrate_takes_no_options(stub_python: RecordingPython) -> None:
    result = run_entrypoint("migrate", "--sql", python=stub_python.path)
    assert result.returncode == 2
    assert "migrate takes no options" in result.stderr
    assert stub_python.calls() == []


@pytest.mark.parametrize(
    "command",
    [["migrate"], ["seed"], ["seed", "--profile", "demo"], ["status"], ["verify"], ["cleanup", "--yes"]],
    ids=" ".join,
)
def test_unreachable_database_fails_fast_and_runs_nothing_else(
    command: list[str], stub_python: RecordingPython
) -> None:
    url, port = closed_port_url()
    started = time.monotonic()
    result = run_entrypoint(
        *command,
        env={"DATABASE_URL": url, "DB_WAIT_ATTEMPTS": "3", "DB_WAIT_DELAY": "0.2"},
        python=stub_python.path,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert elapsed < 10
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert f"127.0.0.1:{port}" in errors[0] and "after 3 attempts" in errors[0]
    assert SECRET not in result.stdout + result.stderr
    assert stub_python.calls() == [WAIT_CALL], "nothing may run after a failed wait"


def test_failed_migration_stops_before_the_command(tmp_path: Path, stub_python: RecordingPython) -> None:
    not_a_database = tmp_path / "chat.db"
    not_a_database.write_bytes(b"this is not an SQLite file" * 100)
    result = run_entrypoint(
        "seed", env={"DATABASE_URL": f"sqlite:///{not_a_database}"}, python=stub_python.path
    )
    assert result.returncode != 0
    assert stub_python.calls() == [WAIT_CALL, MIGRATE_CALL], "the seeder must not run on a failed migration"


def _dispatch(command: list[str], expected: list[str], env: dict[str, str] | None = None) -> Any:
    label = " ".join([*(f"{k}={v}" for k, v in (env or {}).items()), *command]) or "no command"
    return pytest.param(command, env or {}, expected, id=label)


@pytest.mark.parametrize(
    ("command", "env", "expected"),
    [
        _dispatch(["seed"], [SEED_SCRIPT]),
        _dispatch(
            ["seed", "--profile", "demo", "--seed", "7"], [SEED_SCRIPT, "--profile", "demo", "--seed", "7"]
        ),
        _dispatch(["seed", "--config", "my seed.yaml"], [SEED_SCRIPT, "--config", "my seed.yaml"]),
        _dispatch(["seed", "reset", "--yes"], [SEED_SCRIPT, "reset", "--yes"]),
        _dispatch(["cleanup", "--yes"], [CLEANUP_SCRIPT, "--yes"]),
        _dispatch(["cleanup"], [CLEANUP_SCRIPT]),
        _dispatch(["status"], [SEED_SCRIPT, "status"]),
        _dispatch(["status", "--json"], [SEED_SCRIPT, "status", "--json"]),
        _dispatch(["verify"], [SEED_SCRIPT, "verify"]),
        _dispatch([], [SEED_SCRIPT], env={"AUTO_SEED": "true"}),
        _dispatch([], [SEED_SCRIPT], env={"AUTO_SEED": "TRUE"}),
        _dispatch([], [SEED_SCRIPT], env={"AUTO_SEED": "1"}),
    ],
)
def test_named_commands_wait_migrate_then_run_their_script(
    command: list[str],
    env: dict[str, str],
    expected: list[str],
    empty_db_url: str,
    stub_python: RecordingPython,
) -> None:
    result = run_entrypoint(*command, env={"DATABASE_URL": empty_db_url, **env}, python=stub_python.path)
    assert result.returncode == 0, result.stderr
    assert stub_python.calls() == [WAIT_CALL, MIGRATE_CALL, expected]
    assert_migrated(empty_db_url)


def test_the_command_exit_code_is_the_entrypoints(tmp_path: Path, stub_python: RecordingPython) -> None:
    result = run_entrypoint(
        "seed",
        env={"DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}", "STUB_EXIT": "3"},
        python=stub_python.path,
    )
    assert result.returncode == 3


@pytest.mark.parametrize("auto_seed", [None, "", "false", "0", "no", "False"])
def test_no_command_without_auto_seed_prints_usage_and_touches_nothing(
    auto_seed: str | None, stub_python: RecordingPython
) -> None:
    url, _ = closed_port_url()  # a wait would fail: proves no wait is attempted
    result = run_entrypoint(env={"DATABASE_URL": url, "AUTO_SEED": auto_seed}, python=stub_python.path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: ")
    for command in ("seed", "cleanup", "status", "verify", "migrate", "AUTO_SEED"):
        assert command in result.stdout
    assert stub_python.calls() == []


def test_a_mistyped_auto_seed_is_an_error(stub_python: RecordingPython) -> None:
    result = run_entrypoint(env={"AUTO_SEED": "ture"}, python=stub_python.path)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: AUTO_SEED must be true or false, got 'ture'"
    assert stub_python.calls() == []


@pytest.mark.parametrize("flag", ["help", "-h", "--help"])
def test_help(flag: str, stub_python: RecordingPython) -> None:
    result = run_entrypoint(flag, python=stub_python.path)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: ")
    assert stub_python.calls() == []


def test_other_commands_pass_through_without_touching_the_database(stub_python: RecordingPython) -> None:
    url, _ = closed_port_url()
    result = run_entrypoint("echo", "hello", "two words", env={"DATABASE_URL": url}, python=stub_python.path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello two words\n"
    assert result.stderr == ""
    assert stub_python.calls() == []


def test_pass_through_keeps_the_exit_code() -> None:
    result = run_entrypoint("sh", "-c", "exit 7")
    assert result.returncode == 7


@pytest.mark.parametrize(
    ("cwd", "program"),
    [
        ("tmp", str(ENTRYPOINT)),
        ("root", "backend/docker-entrypoint.sh"),
        ("backend", "./docker-entrypoint.sh"),
    ],
)
def test_runs_from_the_app_root_whatever_the_working_directory(
    cwd: str, program: str, tmp_path: Path
) -> None:
    directory = {"tmp": tmp_path, "root": REPO_ROOT, "backend": REPO_ROOT / "backend"}[cwd]
    result = run_entrypoint("pwd", "-P", cwd=directory, program=program)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == REPO_ROOT.resolve()


def test_migrate_works_from_another_directory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    result = run_entrypoint("migrate", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_migrated(url)


# --- End to end with the real seeding scripts --------------------------------------------------------------
# These run backend/scripts/seed_data.py and cleanup_fake_data.py through the entrypoint, on SQLite and on
# PostgreSQL. They need both scripts (written separately); select them with `-k e2e`.


def seed_counts(url: str) -> dict[str, int]:
    counts = table_counts(url)
    counts.pop("reactions")  # reference data from the migration, not seeded
    return counts


def test_e2e_seed_then_seed_again_writes_nothing(empty_db_url: str) -> None:
    env = {"DATABASE_URL": empty_db_url}
    first = run_entrypoint("seed", "--profile", "test", env=env)
    assert first.returncode == 0, first.stderr
    after_first = seed_counts(empty_db_url)
    assert after_first["users"] > 0 and after_first["messages"] > 0, after_first
    second = run_entrypoint("seed", "--profile", "test", env=env)
    assert second.returncode == 0, second.stderr
    assert seed_counts(empty_db_url) == after_first
    assert SECRET not in first.stdout + first.stderr + second.stdout + second.stderr


def test_e2e_seed_demo_profile(empty_db_url: str) -> None:
    result = run_entrypoint("seed", "--profile", "demo", env={"DATABASE_URL": empty_db_url})
    assert result.returncode == 0, result.stderr
    assert seed_counts(empty_db_url)["users"] >= 40


def test_e2e_status_and_verify_after_seeding(empty_db_url: str) -> None:
    env = {"DATABASE_URL": empty_db_url}
    assert run_entrypoint("seed", "--profile", "test", env=env).returncode == 0
    status = run_entrypoint("status", env=env)
    assert status.returncode == 0, status.stderr
    assert status.stdout.strip(), "status printed nothing"
    verify = run_entrypoint("verify", env=env)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_e2e_status_on_a_fresh_database(empty_db_url: str) -> None:
    result = run_entrypoint("status", env={"DATABASE_URL": empty_db_url})
    assert result.returncode == 0, result.stderr
    assert_migrated(empty_db_url)


def test_e2e_cleanup_removes_what_was_seeded(empty_db_url: str) -> None:
    env = {"DATABASE_URL": empty_db_url}
    assert run_entrypoint("migrate", env=env).returncode == 0
    before = table_counts(empty_db_url)
    assert run_entrypoint("seed", "--profile", "test", env=env).returncode == 0
    assert seed_counts(empty_db_url)["users"] > 0
    result = run_entrypoint("cleanup", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    after = table_counts(empty_db_url)
    for table in ("users", "channels", "user_channels", "messages", "message_reactions"):
        assert after[table] == before[table] == 0, (table, after)
    assert after["reactions"] == before["reactions"], "the reaction reference set is not seeded data"


def test_e2e_auto_seed_seeds_once(empty_db_url: str) -> None:
    env = {"DATABASE_URL": empty_db_url, "AUTO_SEED": "true"}
    first = run_entrypoint(env=env)
    assert first.returncode == 0, first.stderr
    seeded = seed_counts(empty_db_url)
    assert seeded["users"] > 0
    second = run_entrypoint(env=env)
    assert second.returncode == 0, second.stderr
    assert seed_counts(empty_db_url) == seeded


# --- a server that checks passwords: any password works, a refused login fails at once -------------------


@dataclass(frozen=True)
class PasswordServer:
    port: int
    admin_url: str


@pytest.fixture(scope="module")
def password_server() -> Iterator[PasswordServer]:
    """A private PostgreSQL that needs passwords (scram), with roles chat_pw (SPECIAL_PASSWORD) and chat."""
    instance = PostgresInstance(password=SECRET).start()
    admin = create_engine(instance.url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            # The driver's own cursor with no parameters: `%` and `:` in the literal stay as they are.
            # Literals, not parameters: utility statements take none; both values are our own constants.
            cursor = conn.connection.cursor()
            special = SPECIAL_PASSWORD.replace("'", "''")
            for statement in (
                f"CREATE ROLE chat_pw LOGIN PASSWORD '{special}'",
                "CREATE DATABASE chat_pw OWNER chat_pw",
                "CREATE ROLE chat LOGIN PASSWORD 'chat'",
                "CREATE DATABASE chat OWNER chat",
            ):
                cursor.execute(statement)
            cursor.close()
        yield PasswordServer(port=instance.port, admin_url=instance.url())
    finally:
        admin.dispose()
        instance.stop()


def parts_env(server: PasswordServer, **overrides: str) -> dict[str, str | None]:
    """What compose gives the backend: no URL, the parts as typed."""
    env: dict[str, str | None] = {
        "DATABASE_URL": "",
        "DATABASE_HOST": "127.0.0.1",
        "DATABASE_PORT": str(server.port),
        "DATABASE_USER": "chat_pw",
        "DATABASE_PASSWORD": SPECIAL_PASSWORD,
        "DATABASE_NAME": "chat_pw",
        "DB_WAIT_ATTEMPTS": "30",
        "DB_WAIT_DELAY": "1",
    }
    env.update(overrides)
    return env


def test_a_password_with_url_special_characters_works(password_server: PasswordServer) -> None:
    env = parts_env(password_server)
    seeded = run_entrypoint("seed", "--profile", "test", env=env)
    assert seeded.returncode == 0, seeded.stderr
    assert (
        f"seeded postgresql+psycopg2://chat_pw:***@127.0.0.1:{password_server.port}/chat_pw" in seeded.stdout
    )
    verified = run_entrypoint("verify", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    for result in (seeded, verified):
        assert SPECIAL_PASSWORD not in result.stdout + result.stderr
    url = make_url(password_server.admin_url).set(database="chat_pw")
    assert seed_counts(url.render_as_string(hide_password=False))["users"] > 0


def test_the_same_password_written_into_a_url_by_hand_does_not_work(password_server: PasswordServer) -> None:
    # Why compose passes the parts: raw, `@` ends the password; percent-encoded, the server gets it literally.
    for password in (SPECIAL_PASSWORD, SPECIAL_PASSWORD.replace("@", "%40")):
        url = f"postgresql+psycopg2://chat_pw:{password}@127.0.0.1:{password_server.port}/chat_pw"
        result = run_wait("--attempts", "1", env={"DATABASE_URL": url})
        assert result.returncode != 0, password


@pytest.mark.parametrize(
    ("overrides", "server_says"),
    [
        ({"DATABASE_PASSWORD": "wrong"}, 'password authentication failed for user "chat_pw"'),
        ({"DATABASE_USER": "nobody"}, 'password authentication failed for user "nobody"'),
        ({"DATABASE_NAME": "missing"}, 'database "missing" does not exist'),
    ],
    ids=["wrong-password", "missing-role", "missing-database"],
)
def test_a_refused_login_fails_at_once_in_one_line(
    overrides: dict[str, str], server_says: str, password_server: PasswordServer, stub_python: RecordingPython
) -> None:
    started = time.monotonic()
    result = run_entrypoint("status", env=parts_env(password_server, **overrides), python=stub_python.path)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert elapsed < 10, f"retried for {elapsed:.1f}s: a refused login cannot succeed later"
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f"error: database at 127.0.0.1:{password_server.port} refused the login, not retried: "
    )
    assert server_says in line
    assert "docker compose down -v" in line
    assert SPECIAL_PASSWORD not in result.stdout + result.stderr
    assert stub_python.calls() == [WAIT_CALL], "nothing may run after a refused login"


def test_redaction_leaves_a_name_that_contains_the_password_alone(password_server: PasswordServer) -> None:
    # Password `chat`, database `chatx`: only the URL's password field is hidden.
    url = f"postgresql+psycopg2://chat:chat@127.0.0.1:{password_server.port}/chatx"
    waited = run_wait("--attempts", "1", env={"DATABASE_URL": url})
    assert waited.returncode == 1
    assert 'database "chatx" does not exist' in waited.stderr
    status = subprocess.run(
        [sys.executable, str(REPO_ROOT / SEED_SCRIPT), "status", "--database-url", url],
        cwd=REPO_ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 1
    [line] = status.stderr.splitlines()
    assert f"chat:***@127.0.0.1:{password_server.port}/chatx" in line, line
    assert 'database "chatx" does not exist' in line, line
    assert "***x" not in line.replace("***@", "")


def test_redaction_with_a_one_letter_password_garbles_no_word() -> None:
    port = free_port()
    url = f"postgresql+psycopg2://u:t@127.0.0.1:{port}/x"
    result = run_wait("--attempts", "2", "--delay", "0", env={"DATABASE_URL": url})
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: database at 127.0.0.1:{port} not reachable after 2 attempts")
    assert "Connection refused" in result.stderr

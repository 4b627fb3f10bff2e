"""Small helpers shared by tests: run a script as a subprocess, insert rows directly."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = REPO_ROOT / "backend" / "scripts"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def run_script(
    name: str,
    *args: str,
    database_url: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path = REPO_ROOT,
    stdin: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run backend/scripts/<name> in a child process, as a user would, and capture its output."""
    child_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "APP_ENV", "ENVIRONMENT")}
    child_env.pop("SEED_DEBUG", None)
    if database_url is not None:
        child_env["DATABASE_URL"] = database_url
    child_env.update(env or {})
    return subprocess.run(
        [sys.executable, str(SCRIPTS / name), *args],
        cwd=cwd,
        env=child_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def spawn_cleanup(db_url: str) -> subprocess.Popen[str]:
    """cleanup_fake_data.py --yes --quiet started in the background, as a user would run it."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "APP_ENV", "ENVIRONMENT")}
    env["DATABASE_URL"] = db_url
    return subprocess.Popen(
        [sys.executable, str(SCRIPTS / "cleanup_fake_data.py"), "--yes", "--quiet"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(predicate: Callable[[], bool], proc: subprocess.Popen[str], what: str) -> None:
    """Poll predicate until it holds; fail if proc ends first or a minute passes."""
    deadline = time.monotonic() + 60
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"cleanup ended before {what}: {proc.communicate()}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def assert_no_id_handed_out_twice(conn: Connection) -> None:
    """Every table the ledger keeps id blocks of is AUTOINCREMENT on SQLite: its model says so
    (SQLITE_IDS_NEVER_REUSED) and, on a SQLite connection, its table is, or a real row could take an id inside
    a block after the newest seeded rows were deleted (and cleanup would remove it)."""
    from backend.models import Base
    from backend.seeding import registry

    for table in registry.id_block_tables():
        assert Base.metadata.tables[table].dialect_options["sqlite"]["autoincrement"], (
            f"{table}: add SQLITE_IDS_NEVER_REUSED to its model's __table_args__"
        )
        if conn.dialect.name == "sqlite":
            sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).scalar_one()
            assert "AUTOINCREMENT" in sql.upper(), f"{table}: create it with sqlite_autoincrement=True"

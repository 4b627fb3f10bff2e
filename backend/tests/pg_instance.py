"""A throwaway PostgreSQL server for tests and benchmarks: initdb into a temp dir, start, stop, delete.

PostgreSQL refuses to run as root, so when we are root the server runs as an unprivileged system user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy.engine import URL

SERVER_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries were found."""


def find_bindir() -> Path:
    """Locate initdb/pg_ctl: PG_BINDIR, then Debian's versioned dirs, then PATH."""
    candidates: list[str] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(os.environ["PG_BINDIR"])
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    candidates.extend(sorted(versioned, key=lambda p: int(p.split("/")[-2]), reverse=True))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found; install them (apt-get install postgresql) "
        "or set PG_BINDIR, or set TEST_POSTGRES_URL to an existing server"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ensure_server_user() -> str:
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVER_USER,
            ],
            check=True,
        )
    return SERVER_USER


class PostgresInstance:
    """One private server on 127.0.0.1 with trust auth; settings favour speed over durability.

    With a superuser password, TCP logins need the password (scram-sha-256), as on a real server.
    """

    def __init__(self, durable: bool = False, password: str | None = None) -> None:
        self.bindir = find_bindir()
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="chat-pg-"))
        self.datadir = self.root / "data"
        self.logfile = self.root / "server.log"
        self.durable = durable
        self.password = password
        self._prefix: list[str] = []
        if os.geteuid() == 0:
            user = _ensure_server_user()
            shutil.chown(self.root, user)
            self._prefix = ["runuser", "-u", user, "--"]

    def _run(self, *args: str) -> None:
        result = subprocess.run(self._prefix + list(args), capture_output=True, text=True)
        if result.returncode != 0:
            log = self.logfile.read_text() if self.logfile.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {result.stderr.strip()} {log[-2000:]}")

    def start(self) -> PostgresInstance:
        auth = ["--auth=trust"]
        if self.password is not None:
            pwfile = self.root / "pwfile"
            pwfile.write_text(self.password + "\n", encoding="utf-8")
            pwfile.chmod(0o644)
            auth = ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
        self._run(
            str(self.bindir / "initdb"),
            "-D", str(self.datadir),
            "-U", "postgres",
            *auth,
            "-E", "UTF8",
            "--locale=C",
            "--no-sync",
        )  # fmt: skip
        options = [
            f"-p {self.port}",
            f"-k {self.root}",
            "-c listen_addresses=127.0.0.1",
            "-c max_connections=50",
            "-c shared_buffers=256MB",
            "-c maintenance_work_mem=256MB",
            "-c max_wal_size=4GB",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D", str(self.datadir),
            "-l", str(self.logfile),
            "-o", " ".join(options),
            "-w",
            "start",
        )  # fmt: skip
        return self

    def url(self, dbname: str = "postgres") -> str:
        if self.password is not None:
            return URL.create(
                "postgresql+psycopg2",
                username="postgres",
                password=self.password,
                host="127.0.0.1",
                port=self.port,
                database=dbname,
            ).render_as_string(hide_password=False)
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{dbname}"

    def stop(self) -> None:
        if self.datadir.exists():
            subprocess.run(
                [
                    *self._prefix,
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.datadir),
                    "-m",
                    "immediate",
                    "stop",
                ],
                capture_output=True,
            )
        shutil.rmtree(self.root, ignore_errors=True)

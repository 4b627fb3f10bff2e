"""How fast the seeder is, against the usual way and against the ingest limit, on the same server, in one run.

    python backend/benchmarks/bench_seed.py [--database-url URL] [--backend postgresql|sqlite|both]
        [--skip-5m] [--sample-messages N] [--rounds N] [--messages-per-channel N]

For each backend (PostgreSQL: a throwaway server started here, or the server of --database-url; SQLite: files
in a temp directory), every measurement gets a fresh database migrated with backend.schema.upgrade:

(a) ours: the real CLI, `seed_data.py --profile load --as-of 2026-06-01 --quiet --json --database-url ...`,
    run as a subprocess exactly as a user runs it (ledger, index rebuild, everything). Rows/s from the wall
    clock of the subprocess; peak memory from sampling, every 50 ms, the proportional set size (Pss) of
    the process and all its descendants in /proc (peaks of the sum and of the main process). A process's
    Pss is read again only when its resident set moved or its last reading is 250 ms old: reading it walks
    page tables, and reading it every time took CPU from the seeder's workers (TreeRssSampler).
(b) the usual way: Faker per field, ORM objects from backend.models, session.add and a commit every 1000
    rows, on a sample (--sample-messages, default 20,000 messages, plus the users, channels, memberships and
    reactions they need in the load profile's proportions).
(c) the ingest limit: the load profile's rows, generated once with Dataset (same options, id starts 1, the
    run id of a ledger row inserted in the target database, its reaction ids) and encoded with the writers'
    encode into temp files per table, and for PostgreSQL also in COPY's binary format (types as the
    database reports them); then only the writer's begin (its session settings, drop of indexes, uniques and
    foreign keys) -> COPY binary (SQLite: executemany) -> recreate and the commit are timed, in a fresh
    database. (c') for reference: PostgreSQL the same with COPY's text format; SQLite the rows in one SQLite
    file (written by writers.spool_batches, as a worker spools them), attached and copied in with INSERT ...
    SELECT by the writer.
(d) cleanup: after each round's (a), `cleanup_fake_data.py --yes --quiet --json --database-url ...` on the
    database (a) just seeded (nothing real in it), run as a subprocess as a user runs it and timed on its
    wall clock (interpreter start and imports included).
(a), (c) and (c') are repeated --rounds times (default 3), alternating which goes first, each into a fresh
database; the report shows min and median and the seeder's share of each limit by both, and (d)'s min and
median, and per backend whether the figures meet the goals (GOAL_*: share of (c), peak memory, cleanup).
then (a) again with five times the messages per channel (500 by default: about 5M top-level messages),
unless --skip-5m, to see whether peak memory stays flat.

--messages-per-channel N overrides the load profile's 100 for (a) and (c) (the 5x run uses 5N): a small N
makes a quick check of the script itself. Temp files, databases and the server are removed on exit, Ctrl-C
and SIGTERM included.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import pickle
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from backend import schema
from backend.database import make_engine, make_session_factory, mask_url
from backend.seeding import registry
from backend.seeding.dataset import Batch, Dataset
from backend.seeding.options import SeedOptions, estimated_rows, profile_options, resolve_options
from backend.seeding.pipeline import effective_workers, encoded_batches
from backend.seeding.writers import (
    COPY_BINARY_HEADER,
    COPY_BINARY_TRAILER,
    COPY_BUFFER_BYTES,
    PostgresWriter,
    Spooled,
    SqliteWriter,
    copy_codecs,
    encode_copy_binary_rows,
    encode_copy_text,
    spool_batches,
)

SEED_CLI = ROOT / "backend" / "scripts" / "seed_data.py"
CLEANUP_CLI = ROOT / "backend" / "scripts" / "cleanup_fake_data.py"
AS_OF = date(2026, 6, 1)
PROFILE = "load"
BIG_FACTOR = 5  # the "5M" run: five times the messages per channel
SAMPLE_INTERVAL = 0.05
PSS_REREAD_KB = 2048  # see TreeRssSampler
PSS_MAX_AGE = 0.25
TREE_RESCAN = 0.25
COMMIT_EVERY = 1000  # the usual way's commit interval
COPY_READ_BYTES = 8 << 20  # (c) feeds the writer whole rows, about this much per COPY
FLAT_TOLERANCE = 1.25  # peak memory "stayed flat" when the bigger run's peak is at most this much higher
# The goals the seeder is held to (issue 13): its share of the limit (c) by min and by median times, on each
# backend; the process tree's peak memory, in MB (10**6 bytes), at 1x and 5x; cleanup's time on PostgreSQL.
GOAL_SHARE = 0.85
GOAL_PEAK_MB = 250
GOAL_CLEANUP_SECONDS = {"postgresql": 3.0}
PG_SETTINGS = (
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_level",
    "shared_buffers",
    "work_mem",
    "maintenance_work_mem",
    "max_wal_size",
    "checkpoint_timeout",
    "max_parallel_maintenance_workers",
)
BACKEND_LABEL = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
# The phases (a) and (c) report (runner.RunSummary.phases, limit_load), and for (a) its process's wall clock
# outside them.
PHASES = ("outside the run", "preparing", "writing", "finishing")

_started = time.monotonic()


def compile_project() -> bool:
    """Byte-compile the project's modules, as Python leaves them after any run that may write bytecode, so
    that (a) imports them as an installed app does. Where PYTHONDONTWRITEBYTECODE is set (some shells and
    images) and nothing did, every run of (a) would compile them again: about a sixth of its import work."""
    return bool(compileall.compile_dir(ROOT / "backend", quiet=1))


def loadavg() -> str:
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def say(message: str) -> None:
    elapsed = int(time.monotonic() - _started)
    print(f"[{elapsed // 60:02d}:{elapsed % 60:02d}] {message}", flush=True)


def mib(kb: int | None) -> str:
    return "-" if kb is None else f"{kb / 1024:,.0f} MiB"


# ----- peak memory of a process tree, from /proc -----------------------------------------------------

_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _parents() -> dict[int, int]:
    """pid -> parent pid for every process (thread group) in /proc."""
    parents = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue  # exited meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
        parents[int(entry.name)] = int(stat[stat.rindex(b")") + 2 :].split()[1])
    return parents


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def _pss_kb(pid: int) -> int | None:
    """The process's proportional set size from smaps_rollup, or None where the kernel lacks it."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _rss_kb(pid: int) -> int | None:
    """The process's resident set (statm's resident field: the same counter as VmRSS in status)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * _PAGE_KB
    except (OSError, IndexError, ValueError):
        return None


class TreeRssSampler(threading.Thread):
    """Every SAMPLE_INTERVAL: the sum of Pss (VmRSS where Pss is missing) over the tree; keeps peaks.

    The sampler must not slow down what it measures: on two cores the seeder's workers and the server use
    both, and reading smaps_rollup walks a process's page tables (milliseconds for a big one), which at every
    sample of every process took about a seventh of a core. So each sample reads the cheap resident set
    (statm) of every process in the tree, and a process's Pss is read again only when its resident set
    moved by PSS_REREAD_KB since its last Pss, or that reading is PSS_MAX_AGE old (Pss also changes while
    the resident set does not: a worker writing to a page it shares with its parent gets a copy of it).
    The tree is found again by a scan of /proc every TREE_RESCAN.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.done = threading.Event()
        self.peak_tree_kb = 0
        self.peak_main_kb = 0
        self.max_processes = 0
        self.samples = 0
        self.pss_reads = 0
        self._tree: list[int] = []
        self._scanned = float("-inf")
        self._pss: dict[int, tuple[int, int, float]] = {}  # pid -> (Pss, resident set then, when)

    def _process_kb(self, pid: int, rss: int, now: float) -> int:
        known = self._pss.get(pid)
        if known is not None and abs(rss - known[1]) < PSS_REREAD_KB and now - known[2] < PSS_MAX_AGE:
            return known[0]
        pss = _pss_kb(pid)
        self.pss_reads += 1
        if pss is None:
            return rss
        self._pss[pid] = (pss, rss, now)
        return pss

    def sample(self) -> None:
        now = time.monotonic()
        if now - self._scanned >= TREE_RESCAN:
            self._tree, self._scanned = _tree(self.pid), now
            self._pss = {pid: known for pid, known in self._pss.items() if pid in self._tree}
        total = main = processes = 0
        for pid in self._tree:
            kb = _rss_kb(pid)
            if kb is None or kb == 0:
                self._scanned = float("-inf")  # gone, or a zombie: the tree changed
                continue
            # Proportional set size: pages shared with forked workers are split between them, not repeated.
            total += self._process_kb(pid, kb, now)
            processes += 1
            if pid == self.pid:
                main = kb
        self.samples += 1
        self.peak_tree_kb = max(self.peak_tree_kb, total)
        self.peak_main_kb = max(self.peak_main_kb, main)
        self.max_processes = max(self.max_processes, processes)

    def run(self) -> None:
        while not self.done.is_set():
            self.sample()
            self.done.wait(SAMPLE_INTERVAL)


@dataclass
class Monitored:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_tree_kb: int
    peak_main_kb: int
    max_processes: int
    samples: int


def run_monitored(cmd: list[str], workdir: Path) -> Monitored:
    """Run cmd in its own session (Ctrl-C reaches us, not it); on any interruption, kill its whole group."""
    out_path, err_path = workdir / "child.stdout", workdir / "child.stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT, start_new_session=True)
        sampler = TreeRssSampler(process.pid)
        sampler.start()
        try:
            returncode = process.wait()
            seconds = time.perf_counter() - started
        except BaseException:
            _kill_group(process)
            raise
        finally:
            sampler.done.set()
            sampler.join()
    result = Monitored(
        returncode,
        out_path.read_text(errors="replace"),
        err_path.read_text(errors="replace"),
        seconds,
        sampler.peak_tree_kb,
        sampler.peak_main_kb,
        sampler.max_processes,
        sampler.samples,
    )
    out_path.unlink()
    err_path.unlink()
    return result


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# ----- databases ---------------------------------------------------------------------------------------


@dataclass
class Db:
    backend: str
    name: str
    url: str


class Databases:
    """Fresh databases on the PostgreSQL server (CREATE DATABASE) and as SQLite files in a temp directory."""

    def __init__(self, workdir: Path, pg_admin_url: str | None) -> None:
        self.workdir = workdir
        self.pg_admin_url = pg_admin_url
        self.admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT") if pg_admin_url else None
        self.live: list[Db] = []
        self._counter = 0

    def create(self, backend: str, label: str, migrate: bool = True) -> Db:
        self._counter += 1
        name = f"bench_seed_{os.getpid()}_{self._counter}_{label}"
        if backend == "postgresql":
            assert self.admin is not None and self.pg_admin_url is not None
            url = make_url(self.pg_admin_url).set(database=name).render_as_string(hide_password=False)
            db = Db(backend, name, url)
            self.live.append(db)
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        else:
            path = self.workdir / f"{name}.db"
            db = Db(backend, name, f"sqlite:///{path}")
            self.live.append(db)
        if migrate:
            engine = make_engine(db.url)
            try:
                with engine.begin() as conn:
                    schema.upgrade(conn)
            finally:
                engine.dispose()
        return db

    def drop(self, db: Db) -> None:
        if db.backend == "postgresql":
            assert self.admin is not None
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)'))
        else:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    (self.workdir / f"{db.name}.db{suffix}").unlink()
        if db in self.live:
            self.live.remove(db)

    def drop_all(self) -> None:
        for db in list(self.live):
            try:
                self.drop(db)
            except Exception as exc:
                print(f"warning: could not drop {db.name}: {exc}", file=sys.stderr)
        if self.admin is not None:
            self.admin.dispose()

    def pg_facts(self) -> dict[str, str]:
        assert self.admin is not None
        with self.admin.connect() as conn:
            facts = {"version": str(conn.execute(text("SHOW server_version")).scalar_one())}
            for setting in PG_SETTINGS:
                facts[setting] = str(conn.execute(text(f"SHOW {setting}")).scalar_one())
        return facts


# ----- results -----------------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    key: str  # "a", "b", "c", "a5"
    way: str
    rows: int = 0
    seconds: float = 0.0
    peak_tree_kb: int | None = None
    peak_main_kb: int | None = None
    error: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 and not self.error else 0.0


def _child_failure(kind: str, run: Monitored) -> str:
    tail = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
    return f"{kind} exited {run.returncode}: {tail}"


def _last_json(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        raise ValueError("no JSON summary on stdout")
    return json.loads(lines[-1])  # type: ignore[no-any-return]


# ----- (a) ours: the real CLI ----------------------------------------------------------------------------


def measure_cli(
    dbs: Databases,
    workdir: Path,
    backend: str,
    mpc: int | None,
    key: str,
    way: str,
    cleanups: list[Result] | None = None,
) -> Result:
    """(a): seed a fresh database with the CLI; with cleanups, then (d): clean it up with the CLI."""
    result = Result(backend, key, way)
    db = dbs.create(backend, key)
    try:
        cmd = [sys.executable, str(SEED_CLI), "--profile", PROFILE, "--as-of", AS_OF.isoformat()]
        if mpc is not None:
            cmd += ["--messages-per-channel", str(mpc)]
        cmd += ["--quiet", "--json", "--database-url", db.url]
        shown = " ".join(cmd[1:-1]).replace(str(ROOT) + "/", "") + " " + mask_url(db.url)
        say(f"  {BACKEND_LABEL[backend]} {key}: running {shown}")
        run = run_monitored(cmd, workdir)
        result.seconds = run.seconds
        result.peak_tree_kb, result.peak_main_kb = run.peak_tree_kb, run.peak_main_kb
        result.notes.update(processes=run.max_processes, samples=run.samples)
        if run.returncode != 0:
            result.error = _child_failure("seed_data.py", run)
            return result
        summary = _last_json(run.stdout)
        result.rows = int(summary["total_rows"])
        result.notes.update(
            counts=summary["rows"],
            internal_seconds=summary["seconds"],
            # What the run's own phases leave out: interpreter start, imports, connecting, commit, exit.
            phases={"outside the run": run.seconds - summary["seconds"], **summary["phases"]},
        )
        if cleanups is not None:
            cleanups.append(measure_cleanup(db, workdir, result.rows))
        return result
    finally:
        dbs.drop(db)


def measure_cleanup(db: Db, workdir: Path, seeded_rows: int) -> Result:
    """(d): the cleanup CLI on a database (a) has just seeded, as a subprocess, on its wall clock."""
    result = Result(db.backend, "d", WAYS["d"])
    cmd = [sys.executable, str(CLEANUP_CLI), "--yes", "--quiet", "--json", "--database-url", db.url]
    shown = " ".join(cmd[1:-1]).replace(str(ROOT) + "/", "") + " " + mask_url(db.url)
    say(f"  {BACKEND_LABEL[db.backend]} d: running {shown}")
    run = run_monitored(cmd, workdir)
    result.seconds = run.seconds
    result.peak_tree_kb, result.peak_main_kb = run.peak_tree_kb, run.peak_main_kb
    if run.returncode != 0:
        result.error = _child_failure("cleanup_fake_data.py", run)
        return result
    summary = json.loads(run.stdout)
    result.rows = int(summary["total"])
    result.notes.update(counts=summary["removed"])
    if result.rows != seeded_rows + 1:  # the seeded rows and the run's ledger row
        result.error = f"cleanup removed {result.rows} rows, (a) seeded {seeded_rows} and one ledger row"
    return result


# ----- (b) the usual way: Faker per field and the ORM ------------------------------------------------------


def measure_orm(dbs: Databases, workdir: Path, backend: str, sample: int) -> Result:
    result = Result(backend, "b", f"{WAYS['b']} ({sample:,} messages)")
    db = dbs.create(backend, "b")
    try:
        say(
            f"  {BACKEND_LABEL[backend]} b: Faker per field + ORM session.add, commit every "
            f"{COMMIT_EVERY} rows: {sample:,} messages and the users, channels, memberships and "
            "reactions they need"
        )
        run = run_monitored([sys.executable, __file__, "_child", "orm", db.url, str(sample)], workdir)
        result.peak_tree_kb, result.peak_main_kb = run.peak_tree_kb, run.peak_main_kb
        if run.returncode != 0:
            result.error = _child_failure("ORM seed", run)
            return result
        summary = _last_json(run.stdout)
        result.rows, result.seconds = int(summary["rows"]), float(summary["seconds"])
        result.notes.update(counts=summary["counts"], wall_seconds=run.seconds)
        return result
    finally:
        dbs.drop(db)


def orm_seed(url: str, sample_messages: int) -> dict[str, Any]:
    """The classic hand-written seed script, in the load profile's proportions; runs in a child process."""
    import random

    from faker import Faker
    from sqlalchemy import select

    from backend.models import Channel, Message, MessageReaction, Reaction, User, UserChannel

    o = SeedOptions(**profile_options(PROFILE))
    est = estimated_rows(o)
    messages = est[Message.__tablename__]
    scale = sample_messages / messages
    cap = o.max_members or 50
    n_users = max(cap + 1, round(o.users * scale))
    n_channels = max(2, round(o.channels * scale))
    reply_chance = 1 - o.channels * o.messages_per_channel / messages  # share of messages that reply
    end = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC)
    start = end - timedelta(days=o.window_days)
    window = end - start

    fake = Faker(o.locale)
    Faker.seed(1)
    rng = random.Random(1)
    engine = make_engine(url)
    session_factory = make_session_factory(engine)
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    with session_factory() as session:
        pending = 0
        just_added: list[tuple[int, Message]] = []  # messages not yet committed: no id yet
        need_reactions: deque[tuple[int, Message]] = deque()
        posted: list[list[Message]] = []  # committed messages per channel, to reply to

        def commit() -> None:
            nonlocal pending
            session.commit()
            pending = 0
            for channel_index, message in just_added:
                posted[channel_index].append(message)
                need_reactions.append((channel_index, message))
            just_added.clear()

        def add(obj: Any) -> None:
            nonlocal pending
            session.add(obj)
            counts[obj.__tablename__] += 1
            pending += 1
            if pending >= COMMIT_EVERY:
                commit()

        reactions = list(session.scalars(select(Reaction.id)))
        users = []
        for _ in range(n_users):
            user = User(
                auth0_id=f"auth0|{fake.uuid4()}",
                email=fake.unique.email(),
                is_active=rng.random() < o.active_share,
                created_at=fake.date_time_between(start, start + window * 0.6, tzinfo=UTC),
                name=fake.name(),
                picture=fake.image_url(),
                bio=fake.text(max_nb_chars=160) if rng.random() < 0.85 else None,
            )
            add(user)
            users.append(user)
        commit()  # the channels need the users' ids

        channels, owners = [], []
        for i in range(n_channels):
            is_dm = rng.random() < o.dm_share
            is_private = is_dm or rng.random() < o.private_share
            owner = rng.choice(users)
            channel = Channel(
                name=f"{owner.name} DM" if is_dm else f"{fake.word()}-{i + 1}",
                description=None if is_dm else fake.sentence(),
                owner_id=owner.id,
                created_at=fake.date_time_between(owner.created_at, start + window * 0.75, tzinfo=UTC),
                is_private=is_private,
                is_dm=is_dm,
                join_code=fake.unique.bothify("????????", letters="ABCDEFGHJKMNPQRSTVWXYZ0123456789")
                if is_private and not is_dm
                else None,
            )
            add(channel)
            channels.append(channel)
            owners.append(owner)
        commit()  # the memberships need the channels' ids

        members: list[list[tuple[User, datetime]]] = []
        for channel, owner in zip(channels, owners, strict=True):
            size = 2 if channel.is_dm else 2 + rng.randrange(cap - 1)
            chosen = rng.sample(users, size)
            others = [u for u in chosen if u is not owner][: size - 1]
            joined_list = []
            for user in [owner, *others]:
                earliest = max(channel.created_at, user.created_at)
                joined = fake.date_time_between(earliest, max(earliest, start + window * 0.9), tzinfo=UTC)
                add(UserChannel(user_id=user.id, channel_id=channel.id, joined_at=joined))
                joined_list.append((user, joined))
            members.append(joined_list)
            posted.append([])
        commit()

        def react(channel_index: int, message: Message) -> None:
            if not reactions or rng.random() >= o.reaction_share:
                return
            who = members[channel_index]
            for user, _joined in rng.sample(who, min(len(who), 1 + rng.randrange(o.max_reactions))):
                at = min(end, message.created_at + timedelta(seconds=rng.randint(10, 3 * 3600)))
                reaction = MessageReaction(
                    message_id=message.id, reaction_id=rng.choice(reactions), user_id=user.id, created_at=at
                )
                add(reaction)

        for _ in range(sample_messages):
            channel_index = rng.randrange(len(channels))
            channel = channels[channel_index]
            author, joined = rng.choice(members[channel_index])
            parents = posted[channel_index]
            parent = rng.choice(parents) if parents and rng.random() < reply_chance else None
            if parent is not None:
                created = min(end, parent.created_at + timedelta(minutes=rng.randint(2, 480)))
            else:
                created = fake.date_time_between(joined, end - timedelta(days=2), tzinfo=UTC)
            if rng.random() < o.paragraph_share:
                content = fake.paragraph(nb_sentences=rng.randint(2, 5))
            else:
                content = fake.sentence(nb_words=rng.randint(4, 14))
            edited = rng.random() < 0.08
            message = Message(
                content=content,
                created_at=created,
                updated_at=min(end, created + timedelta(minutes=rng.randint(1, 120))) if edited else created,
                user_id=author.id,
                channel_id=channel.id,
                parent_id=parent.id if parent is not None else None,
            )
            just_added.append((channel_index, message))
            add(message)
            while need_reactions:
                react(*need_reactions.popleft())
        commit()
        while need_reactions:
            react(*need_reactions.popleft())
        commit()
    seconds = time.perf_counter() - started
    engine.dispose()
    return {"rows": sum(counts.values()), "seconds": seconds, "counts": dict(counts)}


# ----- (c) the ingest limit: pre-generated rows, only the writer timed -----------------------------------


@dataclass
class LimitTarget:
    backend: str
    db: Db
    run_id: int
    reaction_ids: list[int]


def load_options(mpc: int | None) -> SeedOptions:
    """The options the CLI resolves for `--profile load --as-of 2026-06-01 [--messages-per-channel N]`."""
    overrides: dict[str, Any] = {"as_of": AS_OF, "messages_per_channel": mpc}
    return resolve_options(PROFILE, None, overrides)


def prepare_limit_target(dbs: Databases, backend: str, options: SeedOptions) -> LimitTarget:
    """A fresh, migrated database with one ledger row: the run id and reaction ids the rows are made for."""
    from backend.seeding import ledger
    from backend.seeding.reactions import reaction_ids
    from backend.seeding.text import FAKER_VERSION

    db = dbs.create(backend, "c")
    engine = make_engine(db.url)
    try:
        with engine.begin() as conn:
            run_id = ledger.start_run(
                conn, options, datetime.now(UTC), FAKER_VERSION, registry.GENERATOR_VERSION
            )
            ids = reaction_ids(conn)
    finally:
        engine.dispose()
    return LimitTarget(backend, db, run_id, ids)


# The file formats (c) loads per backend: the first is the limit the ratios use, the others are for reference.
FORMATS = {"postgresql": ("binary", "copy"), "sqlite": ("rows", "spool")}
FORMAT_LABEL = {
    "binary": "binary COPY",
    "copy": "text COPY",
    "rows": "executemany",
    "spool": "INSERT ... SELECT from an attached SQLite file",
}
LIMIT_KEYS = {"binary": "c", "copy": "ct", "rows": "c", "spool": "ct"}
SPOOL_FILE = "limit-rows.spool.sqlite"  # one file, a table per seeded table, as a worker's spool file


def column_codecs(url: str) -> dict[str, tuple[str, ...]]:
    """Each seeded table's binary COPY codecs, read from the database as the seeder's writer reads them."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            codecs = copy_codecs(conn, registry.seeded_tables())
    finally:
        engine.dispose()
    missing = [table for table, found in codecs.items() if found is None]
    if missing:
        raise RuntimeError(f"no binary COPY encoding for a column of {', '.join(missing)}")
    return {table: found for table, found in codecs.items() if found is not None}


def _encoder(
    formats: tuple[str, ...], types: dict[str, tuple[str, ...]] | None
) -> Callable[[Batch], dict[str, bytes | bytearray]]:
    """Encode a batch the way each writer would, pickling the SQLite writer's rows to store them (the limit
    unpickles them untimed and times only the writer's executemany)."""

    def encode(batch: Batch) -> dict[str, bytes | bytearray]:
        encoded: dict[str, bytes | bytearray] = {}
        if "binary" in formats:
            assert types is not None
            encoded["binary"] = encode_copy_binary_rows(batch, types[batch.table])
        if "copy" in formats:
            encoded["copy"] = encode_copy_text(batch)
        if "rows" in formats:
            encoded["rows"] = pickle.dumps(SqliteWriter.encode(batch), protocol=pickle.HIGHEST_PROTOCOL)
        return encoded

    return encode


def generate_files(
    workdir: Path,
    options: SeedOptions,
    target: LimitTarget,
    formats: tuple[str, ...],
    types: dict[str, tuple[str, ...]] | None = None,
) -> Path:
    """Encode the run's rows into one file per table and format, streaming; returns the manifest's path."""
    dataset = Dataset(
        options, dict.fromkeys(registry.id_block_tables(), 1), target.run_id, target.reaction_ids
    )
    planned = dataset.plan.counts
    total = sum(planned.values())
    files = {
        fmt: {table: workdir / f"limit-{table}.{fmt}" for table in registry.seeded_tables()}
        for fmt in formats
        if fmt != "spool"  # written after, in a pass of its own
    }
    written: Counter[str] = Counter()
    next_report = 0.2
    with contextlib.ExitStack() as stack:
        handles = {
            (fmt, table): stack.enter_context(open(path, "wb"))
            for fmt, tables in files.items()
            for table, path in tables.items()
        }
        for (fmt, _table), handle in handles.items():
            if fmt == "binary":
                handle.write(COPY_BINARY_HEADER)
        workers = effective_workers(options, total)
        for table, encoded, rows in encoded_batches(dataset, workers, _encoder(formats, types)):
            written[table] += rows
            if rows:
                for fmt, payload in encoded.items():
                    handles[fmt, table].write(payload)
            done = sum(written.values()) / max(total, 1)
            if done >= next_report:
                say(f"    generated {done:.0%} ({sum(written.values()):,} of {total:,} rows)")
                next_report = (int(done * 5) + 1) / 5
        for (fmt, _table), handle in handles.items():
            if fmt == "binary":
                handle.write(COPY_BINARY_TRAILER)
    if any(written[table] != planned[table] for table in registry.seeded_tables()):
        raise RuntimeError(f"generated {dict(written)} rows but the plan has {planned}")
    if "spool" in formats:
        # A second pass over the same rows, untimed: the file a worker would have spooled them to.
        spool = workdir / SPOOL_FILE
        batches = (batch for _, batch, _ in encoded_batches(dataset, workers, _same_batch))
        spooled = spool_batches(str(spool), batches)
        if {t: n for t, n in spooled.items() if n} != {t: n for t, n in planned.items() if n}:
            raise RuntimeError("the spool file does not hold the planned rows")
        files["spool"] = dict.fromkeys(registry.seeded_tables(), spool)
    sizes = {fmt: sum(path.stat().st_size for path in set(tables.values())) for fmt, tables in files.items()}
    manifest = workdir / "limit-manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "counts": planned,
                "files": {fmt: {t: str(p) for t, p in tables.items()} for fmt, tables in files.items()},
                "bytes": sizes,
            }
        )
    )
    return manifest


def _same_batch(batch: Batch) -> Batch:
    return batch


def _copy_chunks(path: Path) -> Iterator[bytes]:
    """Whole rows of a COPY text file, about COPY_READ_BYTES at a time (a raw newline always ends a row)."""
    with open(path, "rb") as handle:
        rest = b""
        while True:
            block = handle.read(COPY_READ_BYTES)
            if not block:
                if rest:
                    yield rest
                return
            block = rest + block
            cut = block.rfind(b"\n") + 1
            rest = block[cut:]
            if cut:
                yield block[:cut]


def _pickled_batches(path: Path) -> Iterator[list[tuple[Any, ...]]]:
    with open(path, "rb") as handle:
        while True:
            try:
                # One load per frame: an Unpickler's memo must not carry over from one pickle to the next.
                yield pickle.load(handle)
            except EOFError:
                return


def _load_table(writer: PostgresWriter | SqliteWriter, fmt: str, table: str, path: Path) -> tuple[float, int]:
    """Load one table's file with the writer's connection; returns (seconds timed, statements)."""
    if fmt == "binary":
        assert isinstance(writer, PostgresWriter)
        columns = ", ".join(registry.columns(table))
        cursor = writer.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with open(path, "rb") as handle:
            # One COPY per table, streamed from the file: reading it from the page cache is timed too.
            started = time.perf_counter()
            cursor.copy_expert(
                f"COPY {table} ({columns}) FROM STDIN (FORMAT binary)", handle, COPY_BUFFER_BYTES
            )
            seconds = time.perf_counter() - started
        cursor.close()
        return seconds, 1
    if fmt == "spool":
        started = time.perf_counter()
        writer.write(table, Spooled(str(path)))  # attached once, then one INSERT ... SELECT per table
        return time.perf_counter() - started, 1
    chunks: Iterator[Any] = _copy_chunks(path) if fmt == "copy" else _pickled_batches(path)
    seconds, statements = 0.0, 0
    for payload in chunks:
        started = time.perf_counter()
        writer.write(table, payload)
        seconds += time.perf_counter() - started
        statements += 1
    return seconds, statements


def limit_load(url: str, manifest_path: str, fmt: str) -> dict[str, Any]:
    """In the child: the writer's begin (session settings, drops) -> load per table -> finish (recreates),
    then commit.

    Only the writer's calls, the loads and the commit are timed; reading text and pickled files is not.
    """
    manifest = json.loads(Path(manifest_path).read_text())
    counts: dict[str, int] = manifest["counts"]
    files = {table: Path(path) for table, path in manifest["files"][fmt].items()}
    engine = make_engine(url)
    wall = time.perf_counter()
    with engine.connect() as conn:
        transaction = conn.begin()
        started = time.perf_counter()
        # Text, pickled and spool files go through the writer's write(); binary ones through their own COPY.
        writer: PostgresWriter | SqliteWriter = (
            SqliteWriter(conn) if fmt in ("rows", "spool") else PostgresWriter(conn, binary=False)
        )
        writer.begin(counts)
        phases = {"preparing": time.perf_counter() - started, "writing": 0.0}
        statements = 0
        for table in registry.seeded_tables():
            seconds, done = _load_table(writer, fmt, table, files[table])
            phases["writing"] += seconds
            statements += done
        started = time.perf_counter()
        writer.finish()
        transaction.commit()
        phases["finishing"] = time.perf_counter() - started
        timed = sum(phases.values())
        wall = time.perf_counter() - wall
        found = {
            t: int(conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one())
            for t in registry.seeded_tables()
        }
    engine.dispose()
    if found != {t: counts[t] for t in registry.seeded_tables()}:
        raise RuntimeError(f"loaded {found} rows, expected {counts}")
    return {
        "rows": sum(found.values()),
        "seconds": timed,
        "wall_seconds": wall,
        "statements": statements,
        "rebuilt_tables": writer.fast_tables,
        "phases": phases,
    }


def measure_limit(dbs: Databases, workdir: Path, target: LimitTarget, manifest: Path, fmt: str) -> Result:
    what = FORMAT_LABEL[fmt]
    result = Result(target.backend, LIMIT_KEYS[fmt], f"{WAYS[LIMIT_KEYS[fmt]]}: {what} of pre-generated rows")
    try:
        say(
            f"  {BACKEND_LABEL[target.backend]} {result.key}: "
            f"drop indexes/constraints -> {what} -> recreate, timed"
        )
        cmd = [sys.executable, __file__, "_child", "load", target.db.url, str(manifest), fmt]
        run = run_monitored(cmd, workdir)
        result.peak_tree_kb, result.peak_main_kb = run.peak_tree_kb, run.peak_main_kb
        if run.returncode != 0:
            result.error = _child_failure("limit load", run)
            return result
        summary = _last_json(run.stdout)
        result.rows, result.seconds = int(summary["rows"]), float(summary["seconds"])
        result.notes.update(
            wall_seconds=summary["wall_seconds"],
            statements=summary["statements"],
            rebuilt_tables=summary["rebuilt_tables"],
            phases=summary["phases"],
        )
        return result
    finally:
        dbs.drop(target.db)


# ----- the machine and the report ------------------------------------------------------------------------


def machine_facts() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError), open("/proc/meminfo") as handle:
        memory = f"{int(handle.readline().split()[1]) / 1024 / 1024:.1f} GiB"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    import faker
    import numpy
    import psycopg2
    import sqlalchemy

    return {
        "cores": str(os.cpu_count()),
        "usable": f"{usable} cores (sched_getaffinity)",
        "cpu": model,
        "memory": memory,
        "kernel": platform.release(),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "sqlite": sqlite3.sqlite_version,
        "libraries": (
            f"SQLAlchemy {sqlalchemy.__version__}, psycopg2 {psycopg2.__version__.split()[0]}, "
            f"numpy {numpy.__version__}, Faker {faker.VERSION}"
        ),
    }


def _ratio(value: float, base: float) -> str:
    return f"{value / base:,.1f}x" if value > 0 and base > 0 else "-"


def _share(value: float, limit: float) -> str:
    return f"{value / limit:.0%}" if value > 0 and limit > 0 else "-"


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


@dataclass
class Rounds:
    """One way's results over the rounds: rows, min and median seconds, the highest peak memory."""

    backend: str
    key: str
    way: str
    rows: int
    seconds: list[float]
    peak_tree_kb: int | None
    peak_main_kb: int | None
    failed: bool

    @property
    def min_seconds(self) -> float:
        return min(self.seconds) if self.seconds else 0.0

    @property
    def median_seconds(self) -> float:
        return _median(self.seconds) if self.seconds else 0.0

    def rate(self, seconds: float) -> float:
        return self.rows / seconds if seconds > 0 and not self.failed else 0.0


def group_rounds(results: list[Result]) -> list[Rounds]:
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        groups.setdefault((r.backend, r.key), []).append(r)
    out = []
    for (backend, key), mine in groups.items():
        ok = [r for r in mine if not r.error]
        trees = [r.peak_tree_kb for r in ok if r.peak_tree_kb]
        mains = [r.peak_main_kb for r in ok if r.peak_main_kb]
        out.append(
            Rounds(
                backend,
                key,
                mine[0].way,
                ok[0].rows if ok else 0,
                [r.seconds for r in ok],
                max(trees) if trees else None,
                max(mains) if mains else None,
                failed=len(ok) != len(mine),
            )
        )
    return out


def table_rows(results: list[Result]) -> list[list[str]]:
    rows = []
    grouped = group_rounds(results)
    for backend in ("postgresql", "sqlite"):
        mine = {g.key: g for g in grouped if g.backend == backend}
        if not mine:
            continue
        base = mine["b"].rate(mine["b"].median_seconds) if "b" in mine else 0.0
        limit = mine["c"].rate(mine["c"].median_seconds) if "c" in mine else 0.0
        for key in ("b", "c", "ct", "a", "a5", "d"):
            g = mine.get(key)
            if g is None:
                continue
            if g.failed:
                rows.append([BACKEND_LABEL[backend], g.way, "FAILED", "-", "-", "-", "-", "-", "-", "-"])
                continue
            rate = g.rate(g.median_seconds)
            # (d) removes rows: its speed is not comparable with the ways of seeding.
            versus = ("-", "-") if key == "d" else (_ratio(rate, base), _share(rate, limit))
            rows.append(
                [
                    BACKEND_LABEL[backend],
                    g.way,
                    f"{g.rows:,}",
                    str(len(g.seconds)),
                    f"{g.min_seconds:,.1f}",
                    f"{g.median_seconds:,.1f}",
                    f"{rate:,.0f}",
                    *versus,
                    f"{mib(g.peak_tree_kb)} / {mib(g.peak_main_kb)}",
                ]
            )
    return rows


def _limit_shares(ours: Rounds, limit: Rounds) -> tuple[float, float]:
    """(a)'s rows/s as a share of a limit's, from the min times and from the median times of the rounds (0 for
    a limit without rows)."""
    by_min, by_median = limit.rate(limit.min_seconds), limit.rate(limit.median_seconds)
    return (
        ours.rate(ours.min_seconds) / by_min if by_min else 0.0,
        ours.rate(ours.median_seconds) / by_median if by_median else 0.0,
    )


def ratio_lines(results: list[Result]) -> list[str]:
    """The seeder's share of each limit, from the min times and from the median times of the rounds."""
    lines = []
    grouped = group_rounds(results)
    for backend in ("postgresql", "sqlite"):
        mine = {g.key: g for g in grouped if g.backend == backend and not g.failed and g.seconds}
        if "a" not in mine:
            continue
        ours = mine["a"]
        for key in ("c", "ct"):
            if key not in mine:
                continue
            limit = mine[key]
            by_min, by_median = _limit_shares(ours, limit)
            lines.append(
                f"{BACKEND_LABEL[backend]}: (a) reaches {by_min:.0%} of {limit.way.split(': ')[-1]} by min "
                f"times ({ours.min_seconds:.1f} s vs {limit.min_seconds:.1f} s), {by_median:.0%} by median "
                f"times ({ours.median_seconds:.1f} s vs {limit.median_seconds:.1f} s)"
            )
    return lines


def paired_lines(results: list[Result]) -> list[str]:
    """The seeder's share of the limit (c) round by round, each (a) against the (c) of its own round (run
    back to back), and the median of those shares. A slow spell of the host slows both of a round, so these
    move less than the shares of min and median times, which may pair an (a) and a (c) of different rounds."""
    lines = []
    for backend in ("postgresql", "sqlite"):
        ours = [r for r in results if r.backend == backend and r.key == "a"]
        limits = [r for r in results if r.backend == backend and r.key == "c"]
        # One (a) and one (c) per round, in round order; a failed one leaves its round out.
        shares = [a.rate / c.rate for a, c in zip(ours, limits, strict=False) if a.rate > 0 and c.rate > 0]
        if not shares:
            continue
        way = limits[0].way.split(": ")[-1]
        lines.append(
            f"{BACKEND_LABEL[backend]}: (a)'s share of {way}, round by round: "
            f"{', '.join(f'{share:.0%}' for share in shares)}; median {_median(shares):.0%}"
        )
    return lines


def phase_lines(results: list[Result]) -> list[str]:
    """Where (a)'s time goes beside (c)'s: the median of each phase over the rounds."""
    lines = []
    for backend in ("postgresql", "sqlite"):
        timed = {
            key: [r.notes["phases"] for r in results if r.backend == backend and r.key == key and not r.error]
            for key in ("a", "c")
        }
        if not timed["a"] or not timed["c"]:
            continue
        parts = []
        for phase in PHASES:
            ours, limit = (_median([p.get(phase, 0.0) for p in timed[key]]) for key in ("a", "c"))
            parts.append(f"{phase} {ours:.2f} s vs {limit:.2f} s")
        lines.append(
            f"{BACKEND_LABEL[backend]}: where the time goes, (a) vs (c), medians over the rounds: "
            + "; ".join(parts)
        )
    return lines


def cleanup_lines(results: list[Result]) -> list[str]:
    """(d): the cleanup CLI's min and median wall clock over the rounds."""
    lines = []
    for g in group_rounds(results):
        if g.key != "d" or g.failed or not g.seconds:
            continue
        lines.append(
            f"{BACKEND_LABEL[g.backend]}: (d) cleanup_fake_data.py --yes removed {g.rows:,} rows in "
            f"{g.min_seconds:.2f} s min, {g.median_seconds:.2f} s median over {len(g.seconds)} round(s)"
        )
    return lines


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def goal_lines(results: list[Result]) -> list[str]:
    """Each backend's figures against the goals: (a)'s share of (c) by min and by median times (with how far
    apart (c)'s rounds were: the host's noise), the highest peak memory of (a)'s tree at 1x and 5x, and (d)'s
    slowest round where cleanup has a goal. A goal whose figures are missing (a way skipped or failed) is left
    out of the line."""
    lines = []
    grouped = group_rounds(results)
    for backend in ("postgresql", "sqlite"):
        mine = {g.key: g for g in grouped if g.backend == backend and not g.failed and g.seconds}
        parts = []
        if "a" in mine and "c" in mine:
            by_min, by_median = _limit_shares(mine["a"], mine["c"])
            shares = f"{by_min:.0%} by min, {by_median:.0%} by median"
            met = _verdict(min(by_min, by_median) >= GOAL_SHARE)
            # How quiet the host was: the same load's rounds apart by more than a few % means it was not.
            fastest, slowest = min(mine["c"].seconds), max(mine["c"].seconds)
            host = f"(c)'s rounds {fastest:.1f}-{slowest:.1f} s, {slowest / fastest - 1:.0%} apart"
            parts.append(f"share of (c) {shares} (goal {GOAL_SHARE:.0%} by both; {host}): {met}")
        peak_mb: dict[str, float] = {}  # per (a) and 5x run
        for key in ("a", "a5"):
            peak = mine[key].peak_tree_kb if key in mine else None
            if peak:
                peak_mb[key] = peak * 1024 / 10**6
        if peak_mb:
            shown = ", ".join(
                f"{value:.1f} MB at {'5x' if key == 'a5' else '1x'}" for key, value in peak_mb.items()
            )
            parts.append(
                f"peak memory of (a)'s tree {shown} (goal {GOAL_PEAK_MB} MB): "
                + _verdict(max(peak_mb.values()) <= GOAL_PEAK_MB)
            )
        goal = GOAL_CLEANUP_SECONDS.get(backend)
        if goal is not None and "d" in mine:
            slowest = max(mine["d"].seconds)
            met = _verdict(slowest <= goal)
            parts.append(f"cleanup {slowest:.2f} s in its slowest round (goal {goal:.0f} s): {met}")
        if parts:
            lines.append(f"{BACKEND_LABEL[backend]} goals: " + "; ".join(parts))
    return lines


HEADERS = [
    "backend",
    "way",
    "rows",
    "rounds",
    "min s",
    "median s",
    "rows/s (median)",
    "vs (b)",
    "of limit (c)",
    "peak PSS tree / RSS main",
]


def print_table(rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADERS)]
    right = {2, 3, 4, 5, 6, 7, 8, 9}

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    print(line(HEADERS))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def print_markdown(
    rows: list[list[str]],
    machine: dict[str, str],
    pg: dict[str, str] | None,
    legend: list[str],
    verdicts: list[str],
) -> None:
    headers = [h[0].upper() + h[1:] for h in HEADERS]
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join([":--", ":--"] + ["--:"] * (len(HEADERS) - 2)) + "|")
    for row in rows:
        print("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    print()
    facts = (
        f"{machine['cores']} cores ({machine['cpu']}), {machine['memory']} RAM, Python {machine['python']}"
    )
    if pg:
        settings = ", ".join(f"{k}={pg[k]}" for k in ("fsync", "synchronous_commit", "full_page_writes"))
        facts += f", PostgreSQL {pg['version']} ({settings}, shared_buffers={pg['shared_buffers']})"
    if any(row[0] == BACKEND_LABEL["sqlite"] for row in rows):
        facts += f", SQLite {machine['sqlite']}"
    print(f"Measured with `python backend/benchmarks/bench_seed.py` on {facts}.")
    for line in verdicts:
        print()
        print(line)
    print()
    print(" ".join(legend))


# ----- main ------------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench_seed.py",
        description="Benchmark the seeder against the usual Faker+ORM way and the COPY/executemany limit.",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="a PostgreSQL server to use instead of a throwaway one: a database URL on it from which we may "
        "CREATE and DROP databases (benchmark databases are created and dropped there)",
    )
    parser.add_argument("--backend", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--skip-5m", action="store_true", help="skip the 5x (about 5M messages) run of (a)")
    parser.add_argument(
        "--sample-messages",
        type=int,
        default=20_000,
        metavar="N",
        help="messages in the usual way's sample (b) (default 20,000)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        metavar="N",
        help="rounds of (a) and (c) alternated, each into a fresh database (default 3); min and median shown",
    )
    parser.add_argument("--messages-per-channel", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.database_url and make_url(args.database_url).get_backend_name() != "postgresql":
        parser.error("--database-url must name a PostgreSQL server; SQLite always uses fresh temp files")
    if (
        args.sample_messages < 1
        or args.rounds < 1
        or (args.messages_per_channel is not None and args.messages_per_channel < 1)
    ):
        parser.error("--sample-messages, --rounds and --messages-per-channel must be at least 1")
    return args


def _raise_interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


WAYS = {
    "a": "(a) ours: seed_data.py, load profile",
    "a5": "(a) ours: 5x messages",
    "b": "(b) usual way: Faker + ORM",
    "c": "(c) ingest limit",
    "ct": "(c') for reference",
    "d": "(d) cleanup_fake_data.py --yes",
}


def report_result(result: Result) -> None:
    label = BACKEND_LABEL[result.backend]
    if result.error:
        say(f"  {label} {result.key}: FAILED: {result.error}")
        return
    say(
        f"  {label} {result.key}: {result.rows:,} rows in {result.seconds:,.1f} s "
        f"= {result.rate:,.0f} rows/s; "
        f"peak memory {mib(result.peak_tree_kb)} (tree, Pss), {mib(result.peak_main_kb)} (main, RSS)"
    )
    if "counts" in result.notes:
        say("    " + ", ".join(f"{t} {n:,}" for t, n in result.notes["counts"].items()))
    if "processes" in result.notes:
        say(
            f"    up to {result.notes['processes']} processes in the tree, "
            f"{result.notes['samples']} samples; "
            f"the seeder's own timer said {result.notes['internal_seconds']:.1f} s"
        )
    if "phases" in result.notes:
        say(
            "    "
            + ", ".join(
                f"{phase} {result.notes['phases'][phase]:.2f} s"
                for phase in PHASES
                if phase in result.notes["phases"]
            )
        )
    if result.key in ("c", "ct"):
        rebuilt = ", ".join(result.notes["rebuilt_tables"]) or "none"
        say(
            f"    {result.notes['statements']} write calls; indexes dropped and rebuilt on: {rebuilt}; "
            f"{result.notes['wall_seconds']:.1f} s with file reading"
        )


def legend_lines(small_knob: bool) -> list[str]:
    """Paragraphs explaining the table (wrapped on the console, one paragraph in the markdown)."""
    lines = [
        "(a) the real CLI as a subprocess, timed on its wall clock: interpreter start, imports (the "
        "project's modules byte-compiled before the first round, as after any earlier run), ledger, index "
        "rebuild and commit included.",
        f"(b) Faker per field, ORM session.add, a commit every {COMMIT_EVERY} rows, on a sample in the load "
        "profile's proportions.",
        "(c) the same rows as (a), pre-generated to files and loaded with the seeder's writer (its session "
        "settings, its drop of indexes, uniques and foreign keys and their rebuild in the same transaction): "
        "PostgreSQL in COPY's binary format, one COPY per table streamed from its file (reading included); "
        "SQLite by executemany. Only the writer's calls, the loads and the commit are timed. (c') for "
        "reference: PostgreSQL the same in COPY's text format; SQLite the way (a) loads rows when worker "
        "processes generate them: INSERT ... SELECT from a SQLite file (spooled untimed, attached and copied "
        "timed).",
        "Rounds: (a), (c) and (c') run once per round, in alternating order, each into a fresh database and "
        "after a sync (what ran before written back to disk, untimed), the first round after one untimed "
        "load by (a) and one by (c) (the server's first load runs cold); min and median over the rounds are "
        "shown, rows/s and shares use the median. (b) and the 5x run run once. Round by round: each (a)'s "
        "share of the (c) of its own round, and their median.",
        "vs (b): times faster than (b) per row; of limit (c): share of (c)'s rows/s. The 5x run is compared "
        "with (b) and (c) at the load profile's size.",
        'Where the time goes: (a)\'s phases as the seeder reports them (--json, "phases"): preparing '
        "(locks, checks, ledger, dataset, the writer's begin, until the first rows arrive), writing (first "
        "rows to last), finishing (index rebuild, ANALYZE, ledger), and outside the run (its wall clock "
        "minus those: interpreter start, imports, connecting, commit, exit); (c)'s: preparing (the writer's "
        "begin), writing (the loads), finishing (the writer's finish and the commit).",
        "(d) the cleanup CLI (`cleanup_fake_data.py --yes --quiet --json`) as a subprocess on the database "
        "each round's (a) seeded, timed on its wall clock: interpreter start, imports, checks, the removal "
        "and the commit included; rows/s counts the rows it removed.",
        "Peak memory: the peak of 50 ms samples of the summed proportional set size (Pss) of the process and "
        "all its descendants "
        "(shared pages split between the processes; a process's Pss re-read when its resident set moved by "
        "2 MiB or at least every 250 ms) / the RSS of the main process alone; the database "
        "server's memory is not included.",
    ]
    if small_knob:
        lines.append("NOTE: --messages-per-channel was given, so these are NOT the load profile's numbers.")
    return lines


def memory_verdicts(results: list[Result], backends: tuple[str, ...]) -> list[str]:
    lines = []
    for backend in backends:
        small = next((r for r in results if r.backend == backend and r.key == "a" and not r.error), None)
        big = next((r for r in results if r.backend == backend and r.key == "a5" and not r.error), None)
        if not (small and big and small.peak_tree_kb and big.peak_tree_kb and small.peak_main_kb):
            continue
        growth = big.peak_tree_kb / small.peak_tree_kb
        main_growth = (big.peak_main_kb or 0) / small.peak_main_kb
        verdict = "stayed flat" if max(growth, main_growth) <= FLAT_TOLERANCE else "did NOT stay flat"
        lines.append(
            f"{BACKEND_LABEL[backend]}: peak memory {verdict} from {small.rows:,} to {big.rows:,} rows "
            f"({big.rows / small.rows:.1f}x): tree {mib(small.peak_tree_kb)} -> {mib(big.peak_tree_kb)} "
            f"({growth:.2f}x), main process {mib(small.peak_main_kb)} -> {mib(big.peak_main_kb)} "
            f"({main_growth:.2f}x)."
        )
    return lines


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    backends = ("postgresql", "sqlite") if args.backend == "both" else (args.backend,)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="bench-seed-"))
    instance = None
    dbs: Databases | None = None
    results: list[Result] = []
    try:
        say(f"bench_seed: backends {', '.join(BACKEND_LABEL[b] for b in backends)}; temp files in {workdir}")
        if not compile_project():
            print(
                "error: byte-compiling backend/ failed; compileall's lines above say where", file=sys.stderr
            )
            return 1
        machine = machine_facts()
        pg: dict[str, str] | None = None
        admin_url = None
        if "postgresql" in backends:
            if args.database_url:
                admin_url = args.database_url
                say(f"using the PostgreSQL server of {mask_url(admin_url)}")
            else:
                from backend.tests.pg_instance import PostgresInstance

                instance = PostgresInstance(durable=False)
                say(
                    "starting a throwaway PostgreSQL server "
                    f"(PostgresInstance(durable=False), {instance.bindir})"
                )
                instance.start()
                admin_url = instance.url()
        dbs = Databases(workdir, admin_url)
        if admin_url:
            pg = dbs.pg_facts()

        print()
        print("Machine")
        for key, value in machine.items():
            print(f"  {key:<10} {value}")
        print(f"  load avg   {loadavg()} (at start)")
        if pg:
            origin = (
                "given server" if args.database_url else "throwaway server, PostgresInstance(durable=False)"
            )
            print(f"  postgres   {pg['version']} ({origin})")
            print("  settings   " + ", ".join(f"{k}={pg[k]}" for k in PG_SETTINGS))
            print(
                "             (the seeder's and (c)'s transactions SET LOCAL work_mem=64MB, "
                "maintenance_work_mem=128MB)"
            )
        print()

        mpc = args.messages_per_channel
        options = load_options(mpc)
        big_mpc = BIG_FACTOR * options.messages_per_channel
        est = estimated_rows(options)
        say(
            f"load profile: {options.users:,} users, {options.channels:,} channels, "
            f"{options.messages_per_channel} messages per channel (about {sum(est.values()):,} rows); "
            f"seed {options.seed}, as of {AS_OF}"
        )

        # (c)'s rows are generated first, once for all backends when their run ids and reaction ids agree.
        say("(c) preparing: a fresh database per backend with one ledger row, then the rows to temp files")
        targets = {b: prepare_limit_target(dbs, b, options) for b in backends}
        manifests: dict[str, Path] = {}
        groups: dict[tuple[int, tuple[int, ...]], list[str]] = {}
        for backend, target in targets.items():
            groups.setdefault((target.run_id, tuple(target.reaction_ids)), []).append(backend)
        for members in groups.values():
            formats = tuple(fmt for b in members for fmt in FORMATS[b])
            types = column_codecs(targets["postgresql"].db.url) if "postgresql" in members else None
            say(f"  generating with Dataset, encoded for {' and '.join(BACKEND_LABEL[b] for b in members)}")
            started = time.perf_counter()
            subdir = workdir / "-".join(members)
            subdir.mkdir()
            manifest = generate_files(subdir, options, targets[members[0]], formats, types)
            sizes = json.loads(manifest.read_text())["bytes"]
            shown = ", ".join(f"{fmt} {size / 1e6:,.0f} MB" for fmt, size in sizes.items())
            say(f"  generated in {time.perf_counter() - started:.1f} s ({shown} on disk)")
            for backend in members:
                manifests[backend] = manifest

        def limit_target(backend: str) -> LimitTarget:
            """The first round loads into the database the files were made for; later ones into fresh ones."""
            made_for = targets[backend]
            if made_for.db in dbs.live:
                return made_for
            fresh = prepare_limit_target(dbs, backend, options)
            if (fresh.run_id, fresh.reaction_ids) != (made_for.run_id, made_for.reaction_ids):
                dbs.drop(fresh.db)
                raise RuntimeError(
                    "a fresh database got another run id or reaction ids than the files were made for"
                )
            return fresh

        for backend in backends:
            label = BACKEND_LABEL[backend]
            # The first load after the server starts (or after the files were written) runs cold, whichever
            # way it is: one untimed load each way, so that no round pays for it.
            say(f"{label}, warm-up (untimed): one load by (a) and one by (c)")
            for warm_up in (
                lambda b=backend: measure_cli(dbs, workdir, b, mpc, "a", WAYS["a"]),
                lambda b=backend: measure_limit(dbs, workdir, limit_target(b), manifests[b], FORMATS[b][0]),
            ):
                os.sync()
                if (result := warm_up()).error:  # the rounds would fail the same way: say why now
                    results.append(result)
                    report_result(result)
            for number in range(args.rounds):
                say(f"{label}, round {number + 1} of {args.rounds}:")
                cleanups: list[Result] = []
                ours: list[tuple[str, Callable[[], Result]]] = [
                    (
                        "a",
                        lambda b=backend, c=cleanups: measure_cli(
                            dbs, workdir, b, mpc, "a", WAYS["a"], cleanups=c
                        ),
                    )
                ]
                limits: list[tuple[str, Callable[[], Result]]] = [
                    (
                        LIMIT_KEYS[fmt],
                        lambda b=backend, f=fmt: measure_limit(
                            dbs, workdir, limit_target(b), manifests[b], f
                        ),
                    )
                    for fmt in FORMATS[backend]
                ]
                # Alternate which goes first, so a busy spell on the machine does not favour one side.
                steps = ours + limits if number % 2 == 0 else limits + ours
                if number == 0:
                    steps.append(("b", lambda b=backend: measure_orm(dbs, workdir, b, args.sample_messages)))
                    if not args.skip_5m:
                        way = f"{WAYS['a5']} (--messages-per-channel {big_mpc})"
                        steps.append(
                            ("a5", lambda b=backend, w=way: measure_cli(dbs, workdir, b, big_mpc, "a5", w))
                        )
                for _key, step in steps:
                    # The dirty pages of what ran before (the files, the last load's tables) are written back
                    # now, untimed, instead of during whichever measurement comes next.
                    os.sync()
                    result = step()
                    results.append(result)
                    report_result(result)
                    while cleanups:
                        cleanup = cleanups.pop(0)
                        results.append(cleanup)
                        report_result(cleanup)
        for manifest in set(manifests.values()):
            shutil.rmtree(manifest.parent, ignore_errors=True)

        print()
        print("Ratios (min of the rounds, and median)")
        for line in ratio_lines(results) + paired_lines(results) + phase_lines(results):
            print(f"  {line}")
        print()
        print("Cleanup of the load profile (min of the rounds, and median)")
        for line in cleanup_lines(results):
            print(f"  {line}")
        print()
        print("Goals")
        for line in goal_lines(results):
            print(f"  {line}")
        print()
        print(f"Results (load avg at end: {loadavg()})")
        print()
        rows = table_rows(results)
        print_table(rows)
        print()
        legend = legend_lines(mpc is not None)
        for line in legend:
            print(textwrap.fill(line, width=110, subsequent_indent="    "))
        print()
        verdicts = memory_verdicts(results, backends)
        for line in verdicts:
            print(line)
        if verdicts:
            print()
        print("Markdown, for the README's Performance section:")
        print()
        print_markdown(
            rows,
            machine,
            pg,
            legend,
            verdicts
            + ratio_lines(results)
            + phase_lines(results)
            + cleanup_lines(results)
            + goal_lines(results),
        )
        return 1 if any(r.error for r in results) else 0
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr, flush=True)
        return 130
    finally:
        # A second Ctrl-C must not leave the server or the files behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if dbs is not None:
            dbs.drop_all()
        if instance is not None:
            instance.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def child_main(argv: list[str]) -> int:
    """The measured child processes of (b) and (c): one JSON line on stdout."""
    kind = argv[0]
    if kind == "orm":
        summary = orm_seed(argv[1], int(argv[2]))
    elif kind == "load":
        summary = limit_load(argv[1], argv[2], argv[3])
    else:
        raise SystemExit(f"unknown child {kind!r}")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["_child"]:
        sys.exit(child_main(sys.argv[2:]))
    sys.exit(main(sys.argv[1:]))

"""One seeding run: options -> dataset streams -> writer -> ledger, inside the caller's transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from backend.models import Channel, User
from backend.reference_data import REACTIONS
from backend.seeding import ledger, registry
from backend.seeding.audit import RunAudit, compare_run
from backend.seeding.dataset import Dataset
from backend.seeding.online import lock_seeders, reserve_id_blocks
from backend.seeding.options import SeedOptions
from backend.seeding.pipeline import effective_workers, encoded_batches
from backend.seeding.reactions import missing_reference_reactions, reaction_ids
from backend.seeding.scenario import ScenarioError
from backend.seeding.scripted import options_scenario
from backend.seeding.text import FAKER_VERSION
from backend.seeding.writers import make_writer

log = logging.getLogger(__name__)


class SeedError(Exception):
    """Seeding cannot go ahead; nothing was written."""


@dataclass
class RunSummary:
    run_id: int | None
    options: SeedOptions
    counts: dict[str, int]
    seconds: float = 0.0
    skipped_for_run: int | None = None  # an identical completed run that made this one unnecessary
    dry_run: bool = False
    fast_tables: list[str] = field(default_factory=list)
    estimated: bool = False  # counts are expected values (sizing.py), not the exact plan
    online: bool = False  # loaded without dropping indexes or locking tables (online.py)
    topup: RunAudit | None = None  # the re-run of a completed run: what it found missing and put back
    # Seconds of a run that wrote: "preparing" (locks, checks, ledger, the dataset, the writer's begin, until
    # the first rows arrive), "writing" (from the first rows to the last), "finishing" (the writer's finish,
    # e.g. the index rebuild, and the ledger). Where the time goes, for the benchmark.
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def restored(self) -> dict[str, int]:
        """Rows put back per table by a top-up (only the tables that got some)."""
        if self.topup is None:
            return {}
        return {t.table: t.restored for t in self.topup.tables if t.restored}

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "profile": self.options.profile,
            "seed": self.options.seed,
            "as_of": self.options.as_of.isoformat(),
            "faker_version": FAKER_VERSION,
            "rows": self.counts,
            "total_rows": self.total_rows,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.total_rows / self.seconds) if self.seconds > 0 else None,
            "skipped": self.skipped_for_run is not None,
            "existing_run_id": self.skipped_for_run,
            "dry_run": self.dry_run,
            "estimated": self.estimated,
            "fast_tables": self.fast_tables,
            "online": self.online,
            "topup": None if self.topup is None else self.topup.to_dict(),
            "phases": {phase: round(seconds, 3) for phase, seconds in self.phases.items()},
        }


ProgressFactory = Callable[[str, int], Any]


def _no_progress(_table: str, _total: int) -> None:
    return None


def check_preconditions(connection: Connection, options: SeedOptions) -> list[int]:
    """Refuse before writing anything: reference reactions must be there, a scenario's emails and join
    codes must be free."""
    missing = missing_reference_reactions(connection)
    if missing:
        raise SeedError(
            f"the reaction reference data is missing ({', '.join(missing[:5])}); "
            "run: python backend/scripts/seed_reactions.py"
        )
    try:
        scenario = options_scenario(options)
    except ScenarioError as exc:
        raise SeedError(str(exc)) from None
    if scenario is not None:
        emails = [u.email for u in scenario.users if u.email is not None]
        codes = [c.join_code for c in scenario.channels if c.join_code is not None]
        taken = connection.execute(select(User.email).where(User.email.in_(emails))).scalars().first()
        if taken is None:
            taken = (
                connection.execute(select(Channel.join_code).where(Channel.join_code.in_(codes)))
                .scalars()
                .first()
            )
        if taken is not None:
            raise SeedError(
                f"{scenario.path}: {taken!r} already exists in the database; remove the earlier run of this "
                "scenario with cleanup_fake_data.py, or change the scenario"
            )
    return reaction_ids(connection)


def _same_run(connection: Connection, options: SeedOptions) -> ledger.CompletedRun | None:
    """An earlier run holding these options' rows; SeedError if one has the options but other rows."""
    existing = ledger.find_completed_run(connection, options)
    if existing is None:
        return None
    changed = existing.changes(registry.GENERATOR_VERSION, FAKER_VERSION, registry.seeded_tables())
    if changed:
        raise SeedError(
            f"run {existing.run_id} has the same seed and options, but what a seed produces changed: "
            f"{'; '.join(changed)}; nothing written. Remove that run first (seed_data.py reset, or "
            f"cleanup_fake_data.py --run {existing.run_id}), or add another run with --append"
        )
    return existing


def plan_only(connection: Connection | None, options: SeedOptions, append: bool = False) -> RunSummary:
    """Exact row counts for these options, without writing anything (nothing, if already seeded).

    connection None: a database without tables, which seeding would first migrate (reference set included).
    """
    if connection is None:
        ids = list(range(1, len(REACTIONS) + 1))
        dataset = Dataset(options, dict.fromkeys(registry.id_block_tables(), 1), run_id=0, reaction_ids=ids)
        return RunSummary(run_id=None, options=options, counts=dataset.plan.counts, dry_run=True)
    if not append and (existing := _same_run(connection, options)) is not None:
        run_id = existing.run_id
        return RunSummary(run_id, options, existing.counts, skipped_for_run=run_id, dry_run=True)
    ids = check_preconditions(connection, options)
    dataset = Dataset(options, dict.fromkeys(registry.id_block_tables(), 1), run_id=0, reaction_ids=ids)
    return RunSummary(run_id=None, options=options, counts=dataset.plan.counts, dry_run=True)


def seed_database(
    connection: Connection,
    options: SeedOptions,
    *,
    append: bool = False,
    progress: ProgressFactory = _no_progress,
    online: bool = False,
    refresh: bool = False,
) -> RunSummary:
    """Write one run's rows and its ledger entry on connection; the caller commits or rolls back.

    A completed run with the same options is topped up instead: its missing rows are put back (audit.py),
    and with refresh its drifted rows are set back to their generated values.
    online: drop no index and lock no table against the app's readers and writers (see online.py).
    """
    started = time.perf_counter()
    # Lock first: a second seeder then waits here and sees the first one's committed run.
    lock_seeders(connection)
    if not online:
        ledger.lock_for_seeding(connection)
    if not append and (existing := _same_run(connection, options)) is not None:
        topup = compare_run(
            connection, existing.run_id, restore=True, refresh=refresh, regenerate_complete=refresh
        )
        seconds = time.perf_counter() - started
        return RunSummary(
            existing.run_id, options, existing.counts, seconds, skipped_for_run=existing.run_id, topup=topup
        )
    ids = check_preconditions(connection, options)
    run_id = ledger.start_run(
        connection, options, datetime.now(UTC), FAKER_VERSION, registry.GENERATOR_VERSION
    )
    if online:
        # The counts do not depend on the id starts: plan first, then reserve blocks of that size.
        dataset = Dataset(options, {}, run_id, ids)
        id_starts = reserve_id_blocks(connection, dataset.plan.counts)
        dataset.id_starts.update(id_starts)
    else:
        id_starts = ledger.reserve_id_starts(connection)
        dataset = Dataset(options, id_starts, run_id, ids)
    counts = dataset.plan.counts
    log.debug("run %s: id starts %s, planned rows %s", run_id, id_starts, counts)
    writer = make_writer(connection, rebuild_indexes=not online)
    writer.begin(counts)
    bars: dict[str, Any] = {}
    written = dict.fromkeys(counts, 0)
    workers = effective_workers(options, sum(counts.values()))
    log.debug("generating with %s worker process(es)", workers or "no")
    first_rows: float | None = None

    def counted() -> Generator[tuple[str, Any, int], None, None]:
        # Runs where the writer takes the rows, which may be a thread of its own (copy_stream.py).
        nonlocal first_rows
        for table, payload, rows in encoded_batches(dataset, workers, writer.encode, writer.spool_groups):
            if first_rows is None:
                first_rows = time.perf_counter()
            written[table] += rows
            if table not in bars:
                bars[table] = progress(table, counts[table])
            if bars[table] is not None:
                bars[table].update(rows)
            yield table, payload, rows

    writer.write_all(counted())
    for bar in bars.values():
        if bar is not None:
            bar.close()
    written_all = time.perf_counter()
    writer.finish()
    if written != counts:
        raise SeedError(f"internal error: planned {counts} rows but generated {written}")
    ledger.advance_sequences(connection, id_starts, counts)
    ledger.finish_run(connection, run_id, id_starts, counts, datetime.now(UTC))
    finished = time.perf_counter()
    first_rows = written_all if first_rows is None else first_rows
    return RunSummary(
        run_id,
        options,
        counts,
        seconds=finished - started,
        fast_tables=writer.fast_tables,
        online=online,
        phases={
            "preparing": first_rows - started,
            "writing": written_all - first_rows,
            "finishing": finished - written_all,
        },
    )

"""Tasks in foreign-key order -> workers -> encoded batches, for the runner and the benchmark alike.

A task is (entity name, first item, end item): one chunk of the plan. Tasks are generated here
(workers=0) or by forked worker processes that inherit the built Dataset and run a bounded number of tasks
ahead of the consumer, so memory stays flat however big the run. Results come back in task order, which
is foreign-key order: every batch's parents were yielded before it.

Payloads come back through memory shared with the workers instead of a pipe: one slot per task in flight,
written by the worker and read once by the consumer. Bytes (COPY data) go in as they are, anything else
(SQLite's rows) pickled; a task's payloads too big for its slot go through the pipe.

Spooling (a writer's spool_groups > 0, with workers): the tasks are cut into that many runs of consecutive
tasks, and a worker writes a run's rows into a SQLite file (writers.spool_batches) in a temporary
directory, removed when the generation ends. Per group, in group order, come (table, Spooled(file), rows)
per table: still foreign-key order, and each table's rows in the order the batches give them.
"""

from __future__ import annotations

import gc
import mmap
import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from backend.seeding.dataset import Batch, Dataset
from backend.seeding.options import SeedOptions
from backend.seeding.writers import Spooled, spool_batches

Task = tuple[str, int, int]  # (entity name, first item, end item)
Encoded = tuple[str, Any, int]  # (table, payload, rows)

# Generation in workers pays off once a run is big enough to hide a process start behind it.
PARALLEL_MIN_ROWS = 200_000
# A task's encoded payloads (about CHUNK_ROWS rows) take a few MB; larger ones go through the pipe.
SLOT_BYTES = 16 << 20

_worker_dataset: Dataset | None = None
_worker_encode: Callable[[Batch], Any] | None = None
_shared: mmap.mmap | None = None  # slots of SLOT_BYTES, mapped before the fork: shared with the workers


class InSlot(tuple[int, int, bool]):
    """(offset, length, pickled) of a payload the worker left in the shared slots."""


def tasks(dataset: Dataset) -> Iterator[Task]:
    """Every chunk of every entity, entities in foreign-key order."""
    for entity in dataset.entities:
        for lo, hi in dataset.plan.chunks[entity.name]:
            yield (entity.name, lo, hi)


def _run_task(task: Task, slot: int | None = None) -> list[Encoded]:
    assert _worker_dataset is not None and _worker_encode is not None
    name, lo, hi = task
    results = [
        (batch.table, _worker_encode(batch), len(batch)) for batch in _worker_dataset.generate(name, lo, hi)
    ]
    if slot is None or _shared is None:
        return results
    at, end = slot * SLOT_BYTES, (slot + 1) * SLOT_BYTES
    placed: list[Encoded] = []
    for table, payload, rows in results:
        pickled = not isinstance(payload, bytes | bytearray)
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL) if pickled else payload
        if at + len(data) <= end:
            _shared[at : at + len(data)] = data
            placed.append((table, InSlot((at, len(data), pickled)), rows))
            at += len(data)
        else:
            placed.append((table, payload, rows))
    return placed


def _spool_group(group: list[Task], path: str) -> list[Encoded]:
    assert _worker_dataset is not None
    dataset = _worker_dataset
    batches = (batch for name, lo, hi in group for batch in dataset.generate(name, lo, hi))
    return [(table, Spooled(path), rows) for table, rows in spool_batches(path, batches).items()]


# Each spool group is this much bigger than the one before: the writer, the bottleneck on SQLite, waits for
# a group's last task, so small groups first get it going early, and bigger ones later keep ahead of it.
SPOOL_GROWTH = 1.2


def spool_groups(all_tasks: list[Task], groups: int) -> list[list[Task]]:
    """The tasks cut into at most `groups` runs of consecutive tasks, each SPOOL_GROWTH times the one before
    (at least one task each)."""
    groups = max(1, min(groups, len(all_tasks)))
    weights = [SPOOL_GROWTH**g for g in range(groups)]
    ends = [round(len(all_tasks) * sum(weights[: g + 1]) / sum(weights)) for g in range(groups)]
    bounds = [0]
    for g, end in enumerate(ends):
        # At least one task per group, and room for one in each group after it.
        bounds.append(min(max(end, bounds[-1] + 1), len(all_tasks) - (groups - 1 - g)))
    return [all_tasks[bounds[g] : bounds[g + 1]] for g in range(groups)]


def _taken(results: list[Encoded]) -> Iterator[Encoded]:
    """The results with their payloads copied out of the shared slot (which the next task reuses)."""
    assert _shared is not None
    for table, payload, rows in results:
        if isinstance(payload, InSlot):
            at, size, pickled = payload
            payload = pickle.loads(_shared[at : at + size]) if pickled else _shared[at : at + size]
        yield table, payload, rows


def effective_workers(options: SeedOptions, planned_rows: int) -> int:
    """Worker processes to use: the option when given, else one per core for big runs, none for small ones."""
    if options.workers > 0:
        return options.workers
    if planned_rows < PARALLEL_MIN_ROWS:
        return 0
    return max(1, min(4, os.cpu_count() or 1))


def _worker_init() -> None:
    # The parent handles Ctrl-C (and a benchmark's SIGTERM): it rolls back and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def encoded_batches(
    dataset: Dataset, workers: int, encode: Callable[[Batch], Any], spool: int = 0
) -> Iterator[Encoded]:
    """(table, encode(batch), rows) for every batch of the run, in foreign-key order; with workers and
    spool > 0, (table, Spooled(file), rows) for each table of each of `spool` groups of tasks."""
    global _worker_dataset, _worker_encode, _shared
    _worker_dataset, _worker_encode = dataset, encode
    try:
        if workers == 0:
            for task in tasks(dataset):
                yield from _run_task(task)
            return
        # fork: workers inherit the dataset (pools, run-wide arrays) instead of rebuilding it. Freezing the
        # collector's view of what exists now keeps the workers' collections from touching (and so copying)
        # the parent's pages.
        gc.freeze()
        if spool > 0:
            yield from _spooled(dataset, workers, spool)
            return
        # Task i uses slot i % slots: with 2 * workers tasks ahead, the slot a new task gets was the one of
        # the task consumed before the current one. Anonymous and shared, it goes away with the processes.
        slots = 2 * workers + 1
        _shared = mmap.mmap(-1, slots * SLOT_BYTES)
        context = multiprocessing.get_context("fork")
        with context.Pool(workers, initializer=_worker_init) as pool:
            pending: deque[Any] = deque()
            queue = enumerate(tasks(dataset))
            for number, task in queue:
                pending.append(pool.apply_async(_run_task, (task, number % slots)))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                results = pending.popleft().get()
                upcoming = next(queue, None)
                if upcoming is not None:
                    number, task = upcoming
                    pending.append(pool.apply_async(_run_task, (task, number % slots)))
                yield from _taken(results)
    finally:
        _worker_dataset, _worker_encode = None, None
        if _shared is not None:
            _shared.close()
            _shared = None
        gc.unfreeze()


SPOOL_PREFIX = "seed-spool-"  # then the run's process id: seed-spool-<pid>-<random>


def sweep_spools(parent: str) -> list[str]:
    """Remove the spool directories under parent whose run's process is gone (it was killed); the removed."""
    removed = []
    for entry in os.scandir(parent):
        pid = entry.name[len(SPOOL_PREFIX) :].split("-", 1)[0]
        if not entry.name.startswith(SPOOL_PREFIX) or not pid.isdigit() or not entry.is_dir():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
        except PermissionError:  # another user's live process
            pass
    return removed


def _spooled(dataset: Dataset, workers: int, groups: int) -> Iterator[Encoded]:
    # A kill (SIGKILL) skips the cleanup below: a later run takes away what it left.
    sweep_spools(tempfile.gettempdir())
    directory = tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-")
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(workers, initializer=_worker_init) as pool:
            # All at once: the pool hands the groups out in order, each to the next free worker.
            pending = [
                pool.apply_async(_spool_group, (group, os.path.join(directory, f"group-{number}.sqlite")))
                for number, group in enumerate(spool_groups(list(tasks(dataset)), groups))
            ]
            for result in pending:
                yield from result.get()
    finally:
        # The writer has attached the files it read: on POSIX they stay readable until it lets go of them.
        shutil.rmtree(directory, ignore_errors=True)

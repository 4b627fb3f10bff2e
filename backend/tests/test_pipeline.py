"""pipeline.py: workers give the batches generating in-process gives, in the same order, whichever way
their payloads come back (shared slots for bytes as they are and for anything else pickled, the pipe for
payloads too big for a slot)."""

from __future__ import annotations

import os
import pickle
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from backend.reference_data import REACTIONS
from backend.seeding import dataset as dataset_module
from backend.seeding import pipeline, registry
from backend.seeding.dataset import Batch, Dataset
from backend.seeding.writers import Spooled, encode_copy_text, encode_rows
from backend.tests.seed_helpers import make_options

STARTS = dict.fromkeys(registry.id_block_tables(), 1)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    # Small chunks: more tasks than slots, so every slot is reused.
    options = make_options("test", users=300, channels=40, messages_per_channel=60, seed=9)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dataset_module, "CHUNK_ROWS", 500)
        ds = Dataset(options, STARTS, 1, list(range(1, len(REACTIONS) + 1)))
    assert sum(len(chunks) for chunks in ds.plan.chunks.values()) > 2 * (2 * 2 + 1)
    return ds


def _collect(ds: Dataset, workers: int, encode: Any) -> list[tuple[str, Any, int]]:
    return list(pipeline.encoded_batches(ds, workers, encode))


def test_bytes_through_the_shared_slots_equal_in_process_generation(dataset: Dataset) -> None:
    expected = _collect(dataset, 0, encode_copy_text)
    got = _collect(dataset, 2, encode_copy_text)
    assert [(t, r) for t, _, r in got] == [(t, r) for t, _, r in expected]
    assert all(isinstance(payload, bytes) for _, payload, _ in got)
    assert got == expected


def test_bytes_bigger_than_a_slot_come_through_the_pipe(
    dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _collect(dataset, 0, encode_copy_text)
    sizes = sorted(len(payload) for _, payload, _ in expected)
    monkeypatch.setattr(pipeline, "SLOT_BYTES", sizes[len(sizes) // 2])  # about half of them fit
    assert _collect(dataset, 2, encode_copy_text) == expected


def test_other_payloads_come_through_the_slots_pickled(dataset: Dataset) -> None:
    def rows(batch: Batch) -> bytes | list[tuple[Any, ...]]:
        return batch.rows()

    expected = _collect(dataset, 0, rows)
    assert _collect(dataset, 2, rows) == expected
    assert pickle.loads(pickle.dumps(pipeline.InSlot((3, 4, True)))) == (3, 4, True)


# ----- spooling -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "groups", "sizes"),
    [
        (116, 8, [7, 8, 11, 12, 14, 18, 21, 25]),  # the load profile: each about 1.2 times the one before
        (550, 8, [33, 40, 48, 58, 69, 83, 100, 119]),
        (10, 3, [3, 3, 4]),
        (10, 1, [10]),
        (9, 8, [1, 1, 1, 1, 1, 1, 1, 2]),  # at least one task each
        (2, 8, [1, 1]),
        (1, 8, [1]),
    ],
)
def test_spool_groups_grow_in_order(count: int, groups: int, sizes: list[int]) -> None:
    all_tasks = [("t", i, i + 1) for i in range(count)]
    cut = pipeline.spool_groups(all_tasks, groups)
    assert [task for group in cut for task in group] == all_tasks
    assert [len(group) for group in cut] == sizes


def _per_table(entries: list[tuple[str, list[tuple[Any, ...]]]]) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for table, rows in entries:
        tables.setdefault(table, []).extend(rows)
    return tables


def test_spooled_groups_hold_the_rows_of_in_process_generation_in_order(dataset: Dataset) -> None:
    expected = _collect(dataset, 0, encode_rows)
    got: list[tuple[str, list[tuple[Any, ...]]]] = []
    tables_by_file: dict[str, list[str]] = {}
    for table, payload, rows in pipeline.encoded_batches(dataset, 2, encode_rows, spool=3):
        assert isinstance(payload, Spooled)
        with closing(sqlite3.connect(payload.path)) as spool:
            found = spool.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
        assert len(found) == rows
        got.append((table, found))
        tables_by_file.setdefault(payload.path, []).append(table)
    assert _per_table(got) == _per_table([(t, p) for t, p, _ in expected])
    assert len(tables_by_file) == 3
    seeded = registry.seeded_tables()
    for tables in tables_by_file.values():
        assert sorted(tables, key=seeded.index) == tables, "foreign-key order within a group"
    directory = os.path.dirname(next(iter(tables_by_file)))
    assert not os.path.exists(directory), "the spool directory is removed when generation ends"


def test_a_killed_runs_spool_directory_is_swept(tmp_path: Path) -> None:
    # A process id that cannot be alive: beyond the kernel's maximum.
    gone = tmp_path / f"{pipeline.SPOOL_PREFIX}{2**22 + 1}-abc"
    (gone / "group-0.sqlite").parent.mkdir()
    (gone / "group-0.sqlite").write_bytes(b"x")
    alive = tmp_path / f"{pipeline.SPOOL_PREFIX}{os.getpid()}-abc"
    alive.mkdir()
    other = tmp_path / "seed-spool-notes"
    other.mkdir()
    assert pipeline.sweep_spools(str(tmp_path)) == [str(gone)]
    assert not gone.exists() and alive.exists() and other.exists()

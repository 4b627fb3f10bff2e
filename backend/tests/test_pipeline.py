"""pipeline.py: workers give the batches generating in-process gives, in the same order, whichever way
their payloads come back (shared slots for bytes as they are and for anything else pickled, the pipe for
payloads too big for a slot)."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from backend.reference_data import REACTIONS
from backend.seeding import dataset as dataset_module
from backend.seeding import pipeline, registry
from backend.seeding.dataset import Batch, Dataset
from backend.seeding.writers import encode_copy_text
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

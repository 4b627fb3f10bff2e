"""dataset.py: rows are a pure function of the inputs, whatever the chunking or the order of generation."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

from backend.reference_data import REACTIONS
from backend.seeding import registry
from backend.seeding.dataset import Dataset, chunk_ranges
from backend.seeding.entities import channel_contents
from backend.seeding.options import SeedOptions
from backend.tests.seed_helpers import corpus_runs, make_options, message_kind

REACTION_IDS = list(range(1, len(REACTIONS) + 1))
ID_TABLES = registry.id_block_tables()
TABLE_ORDER = registry.seeded_tables()
STARTS = dict.fromkeys(ID_TABLES, 1)


def dataset(options: SeedOptions, starts: dict[str, int] | None = None, run_id: int = 1) -> Dataset:
    return Dataset(options, starts or STARTS, run_id, REACTION_IDS)


def all_rows(ds: Dataset, chunks: list[tuple[int, int]] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row per table; `chunks` replaces the channel contents' chunking (the other entities' stays)."""
    out: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLE_ORDER}
    for entity in ds.entities:
        ranges = ds.plan.chunks[entity.name]
        if chunks is not None and entity is channel_contents.ENTITY:
            ranges = tuple(chunks)
        for lo, hi in ranges:
            for batch in ds.generate(entity.name, lo, hi):
                assert batch.table in entity.tables
                out[batch.table] += batch.rows()
    return out


def sorted_rows(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    return {table: sorted(r, key=lambda row: tuple(str(v) for v in row)) for table, r in rows.items()}


@pytest.fixture(scope="module")
def small() -> SeedOptions:
    return make_options("test", users=30, channels=12, messages_per_channel=15, seed=4)


def test_plan_counts_are_the_rows_generated(small: SeedOptions) -> None:
    ds = dataset(small)
    rows = all_rows(ds)
    assert {table: len(r) for table, r in rows.items()} == ds.plan.counts
    for table, r in rows.items():
        assert all(len(row) == len(registry.columns(table)) for row in r)


def test_same_inputs_same_rows(small: SeedOptions) -> None:
    assert all_rows(dataset(small)) == all_rows(dataset(small))


def test_rows_do_not_depend_on_chunking_or_generation_order(small: SeedOptions) -> None:
    ds = dataset(small)
    planned = all_rows(ds)
    n = small.channels
    one_by_one = all_rows(ds, [(c, c + 1) for c in range(n)])
    backwards = all_rows(ds, [(c, c + 1) for c in reversed(range(n))])
    uneven = all_rows(ds, [(0, 5), (5, 6), (6, n)])
    assert one_by_one == planned
    assert sorted_rows(backwards) == sorted_rows(planned)
    assert uneven == planned
    # A fresh dataset generating only the last channels gives the same rows for them.
    tail = all_rows(dataset(small), [(6, n)])
    assert tail["messages"] == [m for m in planned["messages"] if m[5] > 6]


def test_ids_are_explicit_and_contiguous_from_the_block_starts(small: SeedOptions) -> None:
    starts = {"users": 101, "channels": 51, "messages": 1001, "message_reactions": 5001}
    ds = dataset(small, starts, run_id=7)
    rows = all_rows(ds)
    for table in ID_TABLES:
        ids = sorted(row[0] for row in rows[table])
        assert ids == list(range(starts[table], starts[table] + len(ids))), table
    assert {row[3] for row in rows["user_channels"]} == {7}


def test_only_id_derived_values_change_with_the_block_starts(small: SeedOptions) -> None:
    at_one = all_rows(dataset(small))
    starts = {"users": 1001, "channels": 2001, "messages": 3001, "message_reactions": 4001}
    shifted = all_rows(dataset(small, starts))
    shift = {"users": 1000, "channels": 2000, "messages": 3000, "message_reactions": 4000}

    def names(rows: dict[str, list[tuple[Any, ...]]]) -> list[Any]:
        return [u[5] for u in rows["users"]]

    assert names(at_one) == names(shifted)
    # Messages: same text and times, ids and references moved by the block starts.
    for a, b in zip(at_one["messages"], shifted["messages"], strict=True):
        assert a[1:4] == b[1:4]
        assert b[0] - a[0] == shift["messages"]
        assert b[4] - a[4] == shift["users"] and b[5] - a[5] == shift["channels"]
        assert (a[6] is None and b[6] is None) or b[6] - a[6] == shift["messages"]
    for a, b in zip(at_one["message_reactions"], shifted["message_reactions"], strict=True):
        assert (a[2], a[4]) == (b[2], b[4])


@pytest.mark.parametrize(
    ("channels", "dm_share", "private_share", "dms", "private_groups"),
    [
        (10, 0.3, 0.4, 3, 3),  # 7 others: 40% is 2.8, rounded to the nearest
        (20, 0.3, 0.4, 6, 6),  # 14 others: 5.6 -> 6
        (100, 0.3, 0.4, 30, 28),
        (10, 0.0, 0.5, 0, 5),
        (10, 1.0, 0.4, 10, 0),
        (7, 0.3, 1.0, 2, 5),
        (5, 0.3, 0.25, 2, 1),  # 1.5 DMs -> 2 (halves round up); 3 others: 0.75 -> 1
    ],
)
def test_dm_and_private_shares_are_exact(
    channels: int, dm_share: float, private_share: float, dms: int, private_groups: int
) -> None:
    options = make_options(
        "test",
        users=12,
        channels=channels,
        messages_per_channel=0,
        dm_share=dm_share,
        private_share=private_share,
    )
    rows = all_rows(dataset(options))["channels"]
    assert sum(1 for c in rows if c[6]) == dms == options.dm_channels
    assert sum(1 for c in rows if c[5] and not c[6]) == private_groups
    codes = [c[7] for c in rows if c[7] is not None]
    assert len(codes) == private_groups == len(set(codes))


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_paragraph_share_extremes(share: float) -> None:
    """No paragraphs at 0; at 1 every turn of several utterances is one (single ones stay sentences)."""
    # Enough messages for the corpus stretch they replay to hold its usual share of several-utterance turns.
    options = make_options("test", users=10, channels=10, messages_per_channel=80, paragraph_share=share)
    ds = dataset(options)
    contents = [m[1] for m in all_rows(ds)["messages"]]
    utterances = corpus_runs(options.locale)
    kinds = Counter(message_kind(content, utterances) for content in contents)
    assert kinds["?"] == 0
    if share == 0.0:
        assert set(kinds) == {"sentence"}
    else:
        assert kinds["paragraph"] / len(contents) > 0.35


def test_an_empty_run_has_no_rows() -> None:
    options = make_options("test", users=0, channels=0)
    ds = dataset(options)
    assert ds.plan.counts == dict.fromkeys(TABLE_ORDER, 0)
    assert all_rows(ds) == {table: [] for table in TABLE_ORDER}


def test_users_without_channels() -> None:
    options = make_options("test", users=5, channels=0)
    rows = all_rows(dataset(options))
    assert len(rows["users"]) == 5 and not rows["channels"] and not rows["messages"]


@pytest.mark.parametrize(
    ("rows", "target", "expected"),
    [
        ([1] * 5, 2, ((0, 2), (2, 4), (4, 5))),
        ([5, 0, 1, 7, 1], 6, ((0, 3), (3, 4), (4, 5))),
        ([0, 0, 0], 1, ((0, 3),)),
        ([], 3, ()),
    ],
)
def test_chunks_close_when_their_rows_reach_the_target(
    rows: list[int], target: int, expected: tuple[tuple[int, int], ...]
) -> None:
    import numpy as np

    assert chunk_ranges(np.array(rows, dtype=np.int64), target) == expected


def test_the_first_chunks_close_at_their_own_targets() -> None:
    rows = np.ones(20, dtype=np.int64)
    assert chunk_ranges(rows, 8, (2, 4)) == ((0, 2), (2, 6), (6, 14), (14, 20))
    assert chunk_ranges(rows[:3], 8, (2, 4, 8)) == ((0, 2), (2, 3))


def test_only_the_runs_first_chunks_are_small(monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.seeding import dataset as dataset_module

    monkeypatch.setattr(dataset_module, "CHUNK_ROWS", 16)
    ds = dataset(make_options("test", users=40, channels=12, messages_per_channel=15, seed=4))
    first, *others = ds.entities
    assert [hi - lo for lo, hi in ds.plan.chunks[first.name][:4]] == [2, 4, 8, 16]  # a user is one row
    for entity in others:
        assert ds.plan.chunks[entity.name] == chunk_ranges(
            np.asarray(sum(entity.rows_per_item(ds).values())), 16
        )

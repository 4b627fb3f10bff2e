"""Channels: one row per channel (DMs, public and private groups, the demo's named channels).

Run-wide: kind, owner and creation time of every channel, which the channel contents read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backend.models import Channel
from backend.seeding.dataset import Batch, Dataset, batch_from_rows, format_timestamps
from backend.seeding.demo import DEMO_CHANNELS
from backend.seeding.entities import one_row_per_item, users
from backend.seeding.keyed import IntArray, bijection, column_key

CHANNELS = Channel.__tablename__
_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's: no I, L, O, U to misread when typed


@dataclass(frozen=True)
class ChannelArrays:
    """Per channel index."""

    is_dm: np.ndarray
    is_private: np.ndarray
    group_index: IntArray  # index among the non-DM channels, -1 for DMs
    owner: IntArray  # user index
    demo_channel: IntArray  # index into DEMO_CHANNELS, -1 for generated channels
    created: IntArray


def prepare(ds: Dataset) -> ChannelArrays:
    o, k = ds.options, ds.k
    n, n_users = o.channels, o.users
    user_arrays = users.arrays(ds)
    idx = np.arange(n, dtype=np.int64)
    # Exact shares spread evenly over the indexes: channel c is a DM when floor(c*share) steps up.
    is_dm = np.floor((idx + 1) * o.dm_share + 1e-9) - np.floor(idx * o.dm_share + 1e-9) >= 1
    group = idx - np.floor(idx * o.dm_share + 1e-9).astype(np.int64)
    private_group = (
        np.floor((group + 1) * o.private_share + 1e-9) - np.floor(group * o.private_share + 1e-9) >= 1
    )
    group_index = np.where(is_dm, -1, group)
    owner = k.integers(CHANNELS, "owner", 0, max(n_users, 1), idx)
    n_demo_channels = len(DEMO_CHANNELS) if o.demo_accounts else 0
    demo = (~is_dm) & (group_index < n_demo_channels)
    demo_channel = np.where(demo, group_index, -1)
    owner = np.where(demo, group_index % max(user_arrays.n_demo, 1), owner)
    owner_created = user_arrays.created[owner] if n_users else np.zeros(n, dtype=np.int64)
    latest = ds.at(0.75)
    created = owner_created + (k.uniform(CHANNELS, "created_at", idx) * (latest - owner_created)).astype(
        np.int64
    )
    return ChannelArrays(is_dm, is_dm | private_group, group_index, owner, demo_channel, created)


def arrays(ds: Dataset) -> ChannelArrays:
    """The run's channel arrays (built by prepare)."""
    state: ChannelArrays = ds.state[ENTITY.name]
    return state


def first_id(ds: Dataset) -> int:
    """The id of channel index 0 in this run's block."""
    return ds.id_starts[CHANNELS]


def generate(ds: Dataset, lo: int, hi: int) -> list[Batch]:
    k, pools, channels = ds.k, ds.pools, arrays(ds)
    idx = np.arange(lo, hi, dtype=np.int64)
    ids = first_id(ds) + idx
    user_ids = users.first_id(ds) + channels.owner[lo:hi]
    codes = bijection(ids, 40, column_key(ds.options.seed, CHANNELS, "join_code")).tolist()
    topic = k.integers(CHANNELS, "topic", 0, len(pools.topics), idx).tolist()
    described = k.integers(CHANNELS, "description", 0, len(pools.sentences), idx).tolist()
    created = format_timestamps(channels.created[lo:hi])
    rows = []
    for i, c in enumerate(range(lo, hi)):
        is_dm, is_private = bool(channels.is_dm[c]), bool(channels.is_private[c])
        demo = int(channels.demo_channel[c])
        if is_dm:
            name, description = f"{users.display_name(ds, int(channels.owner[c]))} DM", None
        elif demo >= 0:
            name, description = DEMO_CHANNELS[demo]
        else:
            name = f"{pools.topics[topic[i]]}-{int(channels.group_index[c]) + 1}"
            description = pools.sentences[described[i]]
        join_code = _base32(codes[i]) if is_private and not is_dm else None
        rows.append(
            (int(ids[i]), name, description, int(user_ids[i]), created[i], is_private, is_dm, join_code)
        )
    names = ("id", "name", "description", "owner_id", "created_at", "is_private", "is_dm", "join_code")
    return [batch_from_rows(CHANNELS, names, rows)]


def _base32(value: int, length: int = 8) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, len(_BASE32))
        chars.append(_BASE32[digit])
    return "".join(chars)


ENTITY = one_row_per_item(CHANNELS, "channel", lambda options: options.channels, generate, prepare)

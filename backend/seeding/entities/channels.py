"""Channels: one row per channel, the scenario's first (scripted.py), then generated DMs and groups.

Run-wide: kind, owner and creation time of every channel, which the channel contents read. Generated
channels' shares (DMs, private groups) are counted over the generated channels alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backend.models import Channel
from backend.seeding.dataset import Batch, Dataset, batch_from_rows, format_timestamps
from backend.seeding.entities import one_row_per_item, users
from backend.seeding.keyed import IntArray, bijection, column_key
from backend.seeding.scenario import Generated

CHANNELS = Channel.__tablename__
_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's: no I, L, O, U to misread when typed


@dataclass(frozen=True)
class ChannelArrays:
    """Per channel index."""

    is_dm: np.ndarray
    is_private: np.ndarray
    group_index: IntArray  # index among the generated non-DM channels, -1 for DMs and scripted channels
    owner: IntArray  # user index
    created: IntArray
    n_scripted: int  # the first n_scripted channels are the scenario's


def count(ds: Dataset) -> int:
    """Channels in the run: the scenario's, then the profile's."""
    return ds.script.n_channels + ds.options.channels


def prepare(ds: Dataset) -> ChannelArrays:
    o, k, script = ds.options, ds.k, ds.script
    n, n_users, n_scripted = count(ds), users.count(ds), script.n_channels
    user_arrays = users.arrays(ds)
    idx = np.arange(n, dtype=np.int64)
    # Exact shares spread evenly over the generated indexes: channel g is a DM when floor(g*share) steps up.
    g = idx - n_scripted
    is_dm = np.floor((g + 1) * o.dm_share + 1e-9) - np.floor(g * o.dm_share + 1e-9) >= 1
    group = g - np.floor(g * o.dm_share + 1e-9).astype(np.int64)
    private_group = (
        np.floor((group + 1) * o.private_share + 1e-9) - np.floor(group * o.private_share + 1e-9) >= 1
    )
    is_private = is_dm | private_group
    group_index = np.where(is_dm, -1, group)
    owner = k.integers(CHANNELS, "owner", 0, max(n_users, 1), idx)
    for c, channel in enumerate(script.channels):
        is_dm[c], is_private[c], group_index[c] = channel.is_dm, channel.is_private, -1
    owner[:n_scripted] = script.owner
    owner_created = user_arrays.created[owner] if n_users else np.zeros(n, dtype=np.int64)
    latest = ds.at(0.75)
    created = owner_created + (k.uniform(CHANNELS, "created_at", idx) * (latest - owner_created)).astype(
        np.int64
    )
    created[:n_scripted] = script.channel_created
    return ChannelArrays(is_dm, is_private, group_index, owner, created, n_scripted)


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
        join_code = _base32(codes[i]) if is_private and not is_dm else None
        if is_dm:
            name, description = f"{users.display_name(ds, int(channels.owner[c]))} DM", None
        else:
            name = f"{pools.topics[topic[i]]}-{int(channels.group_index[c]) + 1}"
            description = pools.sentences[described[i]]
        if c < channels.n_scripted:
            scripted = ds.script.channels[c]
            if scripted.name is not None:
                name = scripted.name
            elif not is_dm:
                name = scripted.handle
            if scripted.description is not Generated.VALUE:
                description = scripted.description
            join_code = scripted.join_code or join_code
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


ENTITY = one_row_per_item(CHANNELS, "channel", count, lambda options: options.channels, generate, prepare)

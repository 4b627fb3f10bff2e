"""Channels: one row per channel, the scenario's first (scripted.py), then generated DMs and groups.

Run-wide: kind, owner, creation time, size, membership run and top-level message count of every channel,
which the channel contents read. Generated channels' shares (DMs, private groups) are counted over the
generated channels alone. A scripted channel's kind, owner, creation time and members are the scenario's
(with "everyone", the generated users follow the listed ones). Generated group sizes are skewed (a few big
channels, a long tail), then scaled up where needed so that their runs of the user permutation cover every
user but the lurker share; a generated group's owner is the first user of its run. With the "skewed" message
spread, bigger channels are also busier (with keyed noise), the total staying about channels x messages per
channel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from backend.models import Channel
from backend.seeding.dataset import Batch, Dataset, batch_from_rows, format_timestamps
from backend.seeding.entities import one_row_per_item, users
from backend.seeding.keyed import IntArray, affine_permutation, bijection, column_key
from backend.seeding.scenario import Generated
from backend.seeding.scripted import with_scripted_sizes

CHANNELS = Channel.__tablename__
_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's: no I, L, O, U to misread when typed
# Strides for the DM partner permutation: primes, so one that does not divide n is coprime with n.
_STRIDE_PRIMES = np.array(
    [1_000_003, 999_983, 1_299_709, 15_485_863, 32_452_843, 49_979_687, 67_867_967, 86_028_121],
    dtype=np.int64,
)
SIZE_SKEW = 3.0  # size = 2 + (cap - 1) * u**SIZE_SKEW: the median channel is an eighth of the biggest
ACTIVITY_EXPONENT = 0.7  # with the skewed spread, top-level messages grow as size**this
ACTIVITY_NOISE = 0.5  # ... times a log-normal factor with this sigma


@dataclass(frozen=True)
class ChannelArrays:
    """Per channel index."""

    is_dm: np.ndarray
    is_private: np.ndarray
    group_index: IntArray  # index among the generated non-DM channels, -1 for DMs and scripted channels
    owner: IntArray  # user index
    created: IntArray
    n_scripted: int  # the first n_scripted channels are the scenario's
    members: IntArray  # how many members
    run_start: IntArray  # a generated group channel's first position in the user permutation
    run_modulus: int  # runs wrap around at this position: users beyond it are lurkers
    top_messages: IntArray
    script_members: IntArray  # the scripted channels' listed members (user indexes), concatenated
    script_member_offset: IntArray  # per scripted channel: where its listed members start in that array


def count(ds: Dataset) -> int:
    """Channels in the run: the scenario's, then the profile's."""
    return ds.script.n_channels + ds.options.channels


def _evenly(idx: IntArray, share: float) -> np.ndarray:
    """True for round(n * share) of n indexes spread evenly: index i when round(i * share) steps up."""
    return np.floor((idx + 1) * share + 0.5) - np.floor(idx * share + 0.5) >= 1  # type: ignore[no-any-return]


def user_permutation(ds: Dataset, positions: IntArray) -> IntArray:
    """The user index at each position of the run's keyed permutation of users (an affine map mod n)."""
    key = column_key(ds.options.seed, CHANNELS, "member_permutation")
    return affine_permutation(positions, users.count(ds), key)


def prepare(ds: Dataset) -> ChannelArrays:
    o, k, script = ds.options, ds.k, ds.script
    n, n_users, n_scripted = count(ds), users.count(ds), script.n_channels
    user_arrays = users.arrays(ds)
    idx = np.arange(n, dtype=np.int64)
    # Shares spread evenly over the generated indexes g (the scripted channels come before g = 0).
    g = idx - n_scripted
    is_dm = _evenly(g, o.dm_share)
    group = g - np.floor(g * o.dm_share + 0.5).astype(np.int64)
    is_private = is_dm | _evenly(group, o.private_share)
    group_index = np.where(is_dm, -1, group)
    for c, channel in enumerate(script.channels):
        is_dm[c], is_private[c], group_index[c] = channel.is_dm, channel.is_private, -1
    scripted = idx < n_scripted
    generated = ~is_dm & ~scripted

    cap = n_users if o.max_members == 0 else min(n_users, o.max_members)
    u = k.uniform(CHANNELS, "members", idx)
    members = 2 + np.floor((max(cap, 2) - 1) * u**SIZE_SKEW).astype(np.int64)
    members = np.minimum(members, max(cap, 2))
    # Enough room in the generated channels for every user who is not a lurker.
    covered = math.ceil(n_users * (1 - o.lurker_share))
    have = int(members[generated].sum())
    if 0 < have < covered:
        extra = (members - 2).astype(np.float64)
        room = float(extra[generated].sum())
        factor = (covered - 2 * int(generated.sum())) / room if room else 0.0
        grown = 2 + np.ceil(extra * max(factor, 1.0)).astype(np.int64)
        members = np.where(generated, np.minimum(grown, max(cap, 2)), members)
    members = np.where(is_dm, 2, members).astype(np.int64)
    script_counts = script.counts()["members"]
    everyone = np.array([content.everyone for content in script.contents], dtype=bool)
    members[:n_scripted] = script_counts + np.where(everyone, o.users, 0)
    run_modulus = max(covered, int(members[generated].max()) if generated.any() else 1, 1)
    run_start = np.cumsum(np.where(generated, members, 0)) - np.where(generated, members, 0)

    owner = k.integers(CHANNELS, "owner", 0, max(n_users, 1), idx)  # DMs
    if n_users:
        owner = np.where(generated, user_permutation(ds, run_start % run_modulus), owner)
    owner[:n_scripted] = script.owner
    owner_created = user_arrays.created[owner] if n_users else np.zeros(n, dtype=np.int64)
    latest = ds.at(0.75)
    created = owner_created + (k.uniform(CHANNELS, "created_at", idx) * (latest - owner_created)).astype(
        np.int64
    )
    created[:n_scripted] = script.channel_created
    listed = [content.members for content in script.contents]
    return ChannelArrays(
        is_dm=is_dm,
        is_private=is_private,
        group_index=group_index,
        owner=owner,
        created=created,
        n_scripted=n_scripted,
        members=members,
        run_start=run_start,
        run_modulus=run_modulus,
        top_messages=_top_messages(ds, members, is_dm, idx),
        script_members=np.concatenate(listed) if listed else np.zeros(0, dtype=np.int64),
        script_member_offset=np.cumsum(script_counts) - script_counts,
    )


def _top_messages(ds: Dataset, members: IntArray, is_dm: np.ndarray, idx: IntArray) -> IntArray:
    o, k = ds.options, ds.k
    m = o.messages_per_channel
    if o.message_spread == "uniform":
        return k.integers(CHANNELS, "messages", m // 2, np.full(len(idx), m + m // 2 + 1), idx)
    if o.message_spread == "skewed" and len(idx) and m:
        noise = np.exp(ACTIVITY_NOISE * _normal(k.uniform(CHANNELS, "activity", idx)))
        # A DM talks like a mid-sized channel, not like the smallest one.
        groups = members[~is_dm] if (~is_dm).any() else members
        size = np.where(is_dm, max(float(np.median(groups)), 2.0), members.astype(np.float64))
        weight = size**ACTIVITY_EXPONENT * noise
        return np.maximum(1, np.round(m * len(idx) * weight / weight.sum())).astype(np.int64)
    return np.full(len(idx), m, dtype=np.int64)


def _normal(u: np.ndarray) -> np.ndarray:
    """Standard normal quantiles of uniforms (a logistic approximation, good enough for noise)."""
    clipped = np.clip(u, 1e-9, 1 - 1e-9)
    return np.log(clipped / (1 - clipped)) / 1.702  # type: ignore[no-any-return]


def member_users(ds: Dataset, channel: IntArray, position: IntArray) -> IntArray:
    """The user index of each (channel, position) membership; position 0 is the owner."""
    a = arrays(ds)
    n_users = users.count(ds)
    owner = a.owner[channel]
    # DMs: the owner and one other user, an affine permutation of the others keyed by the channel.
    others = max(n_users - 1, 1)
    usable = _STRIDE_PRIMES[others % _STRIDE_PRIMES != 0]
    stride = usable[ds.k.integers("user_channels", "stride", 0, len(usable), channel)]
    start = ds.k.integers("user_channels", "start", 0, others, channel)
    partner = (start + (position - 1) * stride) % others
    partner = partner + (partner >= owner)
    run = user_permutation(ds, (a.run_start[channel] + position) % a.run_modulus) if n_users else position
    member = np.where(a.is_dm[channel], np.where(position == 0, owner, partner), run)
    if a.n_scripted == 0:
        return member  # type: ignore[no-any-return]
    # A scripted channel: its listed members (owner first), then with "everyone" the generated users.
    scripted = channel < a.n_scripted
    script_channel = np.where(scripted, channel, 0)
    n_listed = np.diff(np.r_[a.script_member_offset, len(a.script_members)])[script_channel]
    listed = a.script_members[
        np.minimum(a.script_member_offset[script_channel] + position, max(len(a.script_members) - 1, 0))
    ]
    script_member = np.where(position < n_listed, listed, ds.script.n_users + position - n_listed)
    return np.where(scripted, script_member, member)  # type: ignore[no-any-return]


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


ENTITY = one_row_per_item(
    CHANNELS, "channel", count, lambda options: with_scripted_sizes(options).channels, generate, prepare
)

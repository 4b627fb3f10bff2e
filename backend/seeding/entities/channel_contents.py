"""Channel contents: per channel, its memberships, messages (threaded replies included) and reactions.

Partitioned by channel: a channel's rows depend only on its index and on the run-wide arrays (users,
channels, and the per-channel counts prepared here), so chunks of channels can be generated anywhere.
Ids are fixed by the plan: each channel's messages and reactions start at a known offset in the block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from backend.models import Message, MessageReaction, UserChannel
from backend.seeding.dataset import (
    CHUNK_ROWS,
    DAY,
    HOUR,
    MINUTE,
    SECOND,
    Batch,
    Dataset,
    format_timestamps,
    group_ranks,
    make_batch,
    repeat_ranges,
)
from backend.seeding.entities import Entity, channels, users
from backend.seeding.keyed import FloatArray, IntArray, to_cdf
from backend.seeding.options import SeedOptions
from backend.seeding.text import CHAT_OPENERS, CODE_BLOCKS, CODE_SNIPPETS, EMOJI, LINK_HOSTS

MEMBERSHIPS = UserChannel.__tablename__
MESSAGES = Message.__tablename__
REACTIONS = MessageReaction.__tablename__
# Draws that decide a channel's size are keyed under the channels table (as before the split into
# entities): keeping the key keeps every seed's data the same.
CHANNELS_KEY = channels.CHANNELS

# Share of chat activity by hour of day (UTC): quiet nights, busy working hours.
DIURNAL = to_cdf([1, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 11, 9, 11, 12, 12, 11, 9, 7, 6, 5, 4, 3, 2])
REPLIES_PER_THREAD_CDF = to_cdf([70, 20, 10])  # a thread has 1, 2 or 3 replies
REACTION_POPULARITY = (30, 3, 14, 12, 8, 7, 6, 5, 4, 4, 3, 6, 4, 3, 5, 2)
# Strides for the member permutations: primes, so one that does not divide n is coprime with n.
_STRIDE_PRIMES = np.array(
    [1_000_003, 999_983, 1_299_709, 15_485_863, 32_452_843, 49_979_687, 67_867_967, 86_028_121],
    dtype=np.int64,
)


@dataclass(frozen=True)
class ContentArrays:
    """Per channel index: sizes and where its rows start inside the run's id blocks."""

    members: IntArray
    top_messages: IntArray
    member_start: IntArray
    member_stride: IntArray
    messages: IntArray  # top-level and replies
    reactions: IntArray
    message_offset: IntArray  # first message of each channel, relative to the run's block
    reaction_offset: IntArray
    reaction_cdf: FloatArray


@dataclass(frozen=True)
class _Shape:
    """Per-message structure of a chunk of channels, from the keyed draws that fix the counts."""

    channel: IntArray  # for each top-level message: the channel index
    top_local: IntArray  # its index among the channel's top-level messages (the draw key)
    replies: IntArray  # replies it gets
    msg_channel: IntArray  # for each message (top-level first, then replies, per channel)
    msg_local: IntArray  # its index among the channel's messages
    reactions: IntArray  # reactions it gets


def prepare(ds: Dataset) -> ContentArrays:
    o, k = ds.options, ds.k
    n, n_users = o.channels, o.users
    idx = np.arange(n, dtype=np.int64)
    cap = n_users if o.max_members == 0 else min(n_users, o.max_members)
    members = 2 + k.integers(CHANNELS_KEY, "members", 0, max(cap - 1, 1), idx)
    members = np.where(channels.arrays(ds).is_dm, 2, members)
    # #general in the demo holds everyone.
    members = np.where(channels.arrays(ds).demo_channel == 0, n_users, members).astype(np.int64)
    low, high = o.messages_per_channel // 2, o.messages_per_channel + o.messages_per_channel // 2 + 1
    top_messages = k.integers(CHANNELS_KEY, "messages", low, np.full(n, high), idx)
    member_start = k.integers(MEMBERSHIPS, "start", 0, max(n_users - 1, 1), idx)
    others = max(n_users - 1, 1)
    usable = _STRIDE_PRIMES[others % _STRIDE_PRIMES != 0]
    member_stride = usable[k.integers(MEMBERSHIPS, "stride", 0, len(usable), idx)]
    n_kinds = len(ds.reaction_ids)
    reaction_cdf = to_cdf([REACTION_POPULARITY[i % len(REACTION_POPULARITY)] for i in range(n_kinds)])
    messages = np.zeros(n, dtype=np.int64)
    reactions = np.zeros(n, dtype=np.int64)
    step = max(1, CHUNK_ROWS * 4 // max(1, o.messages_per_channel))
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        shape = _shape(ds, members, top_messages, lo, hi)
        messages[lo:hi] = np.bincount(shape.msg_channel - lo, minlength=hi - lo)
        reactions[lo:hi] = np.bincount(shape.msg_channel - lo, weights=shape.reactions, minlength=hi - lo)
    return ContentArrays(
        members,
        top_messages,
        member_start,
        member_stride,
        messages,
        reactions,
        np.cumsum(messages) - messages,
        np.cumsum(reactions) - reactions,
        reaction_cdf,
    )


def arrays(ds: Dataset) -> ContentArrays:
    state: ContentArrays = ds.state[ENTITY.name]
    return state


def rows_per_item(ds: Dataset) -> dict[str, IntArray]:
    a = arrays(ds)
    return {MEMBERSHIPS: a.members, MESSAGES: a.messages, REACTIONS: a.reactions}


def estimate(options: SeedOptions) -> dict[str, int]:
    members = options.users if options.max_members == 0 else min(options.users, options.max_members)
    groups = options.channels - options.dm_channels
    top = options.channels * options.messages_per_channel
    messages = round(top * (1 + options.reply_share * 1.4))  # threads have 1.4 replies on average
    return {
        MEMBERSHIPS: options.dm_channels * 2 + round(groups * (2 + members) / 2),
        MESSAGES: messages,
        REACTIONS: round(messages * options.reaction_share * (1 + options.max_reactions) / 2),
    }


def _shape(ds: Dataset, members: IntArray, top_messages: IntArray, lo: int, hi: int) -> _Shape:
    o, k = ds.options, ds.k
    chans = np.arange(lo, hi, dtype=np.int64)
    tops = top_messages[lo:hi]
    channel = np.repeat(chans, tops)
    top_local = repeat_ranges(tops)
    threaded = k.chance(MESSAGES, "threaded", o.reply_share, channel, top_local)
    replies = np.where(
        threaded, 1 + k.choice(MESSAGES, "replies", REPLIES_PER_THREAD_CDF, channel, top_local), 0
    )
    per_channel = tops + np.bincount(channel - lo, weights=replies, minlength=hi - lo).astype(np.int64)
    msg_channel = np.repeat(chans, per_channel)
    msg_local = repeat_ranges(per_channel)
    if o.max_reactions == 0 or len(ds.reaction_ids) == 0:
        reactions = np.zeros(len(msg_channel), dtype=np.int64)
    else:
        reacted = k.chance(REACTIONS, "reacted", o.reaction_share, msg_channel, msg_local)
        wanted = 1 + k.integers(REACTIONS, "count", 0, o.max_reactions, msg_channel, msg_local)
        reactions = np.where(reacted, np.minimum(wanted, members[msg_channel]), 0)
    return _Shape(channel, top_local, replies, msg_channel, msg_local, reactions)


def generate(ds: Dataset, lo: int, hi: int) -> list[Batch]:
    """The memberships, messages and reactions of channels lo..hi-1."""
    a = arrays(ds)
    members, joined, member_offset = _memberships(ds, a, lo, hi)
    membership_batch = _membership_batch(ds, a, lo, hi, members, joined)
    shape = _shape(ds, a.members, a.top_messages, lo, hi)
    message_batch, msg_times, msg_ids = _messages(ds, a, lo, hi, shape, members, joined, member_offset)
    reaction_batch = _reactions(ds, a, lo, shape, members, joined, member_offset, msg_times, msg_ids)
    return [membership_batch, message_batch, reaction_batch]


def _memberships(ds: Dataset, a: ContentArrays, lo: int, hi: int) -> tuple[IntArray, IntArray, IntArray]:
    """Member user indexes (owner first) and join times of channels lo..hi-1, flattened."""
    n_users = ds.options.users
    chans = channels.arrays(ds)
    counts = a.members[lo:hi]
    channel = np.repeat(np.arange(lo, hi, dtype=np.int64), counts)
    position = repeat_ranges(counts)
    owner = chans.owner[channel]
    # Others: an affine permutation of the users other than the owner (distinct by construction).
    step = (position - 1) * a.member_stride[channel]
    other = (a.member_start[channel] + step) % max(n_users - 1, 1)
    other = other + (other >= owner)
    member = np.where(position == 0, owner, other)
    created = chans.created[channel]
    earliest = np.maximum(created, users.arrays(ds).created[member])
    latest = ds.at(0.9)
    wait = ds.k.uniform(MEMBERSHIPS, "joined_at", channel, position)
    joined = np.where(position == 0, created, earliest + (wait * (latest - earliest)).astype(np.int64))
    offset = np.r_[0, np.cumsum(counts)][:-1]
    return member, joined, offset


def _membership_batch(
    ds: Dataset, a: ContentArrays, lo: int, hi: int, members: IntArray, joined: IntArray
) -> Batch:
    channel_ids = np.repeat(channels.first_id(ds) + np.arange(lo, hi), a.members[lo:hi])
    user_ids = users.first_id(ds) + members
    return make_batch(
        MEMBERSHIPS,
        {
            "user_id": user_ids.tolist(),
            "channel_id": channel_ids.tolist(),
            "joined_at": format_timestamps(joined),
            "seed_run_id": [ds.run_id] * len(members),
        },
    )


def _pick_members(
    ds: Dataset,
    a: ContentArrays,
    lo: int,
    channel: IntArray,
    uniforms: npt.NDArray[np.float64],
    members: IntArray,
    offset: IntArray,
) -> IntArray:
    """Member positions chosen with weight = the member's activity (flattened over channels lo..hi-1)."""
    weights = users.arrays(ds).activity[members]
    counts = a.members[lo : lo + len(offset)]
    seg = np.repeat(np.arange(len(offset)), counts)
    cum = np.cumsum(weights)
    before = np.r_[0.0, cum][offset]
    totals = np.add.reduceat(weights, offset) if len(weights) else weights
    # Each channel's normalised cumulative weights, shifted by its ordinal: one sorted array for all.
    scaled = seg + (cum - before[seg]) / totals[seg]
    target = (channel - lo) + uniforms
    flat = np.searchsorted(scaled, target, side="right")
    first = offset[channel - lo]
    last = first + counts[channel - lo] - 1
    return np.clip(flat, first, last) - first


def _messages(
    ds: Dataset,
    a: ContentArrays,
    lo: int,
    hi: int,
    shape: _Shape,
    members: IntArray,
    joined: IntArray,
    offset: IntArray,
) -> tuple[Batch, IntArray, IntArray]:
    k = ds.k
    channel, top_local = shape.channel, shape.top_local
    pos = _pick_members(
        ds, a, lo, channel, k.uniform(MESSAGES, "author", channel, top_local), members, offset
    )
    author_flat = offset[channel - lo] + pos
    author_joined = joined[author_flat]
    latest = ds.end - min(2 * DAY, ds.window // 20)
    t = author_joined + (
        k.uniform(MESSAGES, "created_at", channel, top_local) * (latest - author_joined)
    ).astype(np.int64)
    # Day/night rhythm: keep the day, redraw the time of day from the diurnal curve.
    hour = k.choice(MESSAGES, "hour", DIURNAL, channel, top_local)
    within = (k.uniform(MESSAGES, "second", channel, top_local) * HOUR).astype(np.int64)
    t2 = (t // DAY) * DAY + hour * HOUR + within
    t2 = np.where(t2 < author_joined, t2 + DAY, t2)
    top_time = np.clip(t2, author_joined, latest)
    # Top-level messages take ids in time order within their channel.
    order = np.lexsort((top_local, top_time, channel))
    top_rank = np.empty_like(order)
    top_rank[order] = group_ranks(channel[order])
    first_message = ds.id_starts[MESSAGES]
    top_ids = first_message + a.message_offset[channel] + top_rank

    # Replies: n per threaded message, after the parent, keyed by (channel, parent key, reply number).
    rep_parent = np.repeat(np.arange(len(channel)), shape.replies)
    rep_no = repeat_ranges(shape.replies)
    rep_channel = channel[rep_parent]
    rep_key = top_local[rep_parent] * 8 + rep_no
    gap = np.exp(
        np.log(2 * MINUTE) + k.uniform(MESSAGES, "reply_gap", rep_channel, rep_key) * math.log(240)
    ).astype(np.int64)
    rep_time = np.minimum(top_time[rep_parent] + gap * (1 + rep_no), ds.end)
    rep_pos = _pick_members(
        ds, a, lo, rep_channel, k.uniform(MESSAGES, "reply_author", rep_channel, rep_key), members, offset
    )
    rep_flat = offset[rep_channel - lo] + rep_pos
    # Someone who joined after the reply was written cannot have written it: the owner answers instead.
    rep_flat = np.where(joined[rep_flat] > rep_time, offset[rep_channel - lo], rep_flat)
    rep_order = np.lexsort((rep_no, top_rank[rep_parent], rep_channel))
    rep_rank = np.empty_like(rep_order)
    rep_rank[rep_order] = group_ranks(rep_channel[rep_order])
    rep_ids = first_message + a.message_offset[rep_channel] + a.top_messages[rep_channel] + rep_rank

    # All messages of the chunk, in id order, keyed by their position within the channel (= id - base).
    ids = np.concatenate([top_ids, rep_ids])
    times = np.concatenate([top_time, rep_time])
    authors = np.concatenate([author_flat, rep_flat])
    parents = np.concatenate([np.full(len(top_ids), -1), top_ids[rep_parent]])
    chan = np.concatenate([channel, rep_channel])
    order = np.argsort(ids, kind="stable")
    ids, times, authors, parents, chan = ids[order], times[order], authors[order], parents[order], chan[order]
    local = ids - (first_message + a.message_offset[chan])

    edited = k.chance(MESSAGES, "edited", 0.08, chan, local)
    edit_gap = (MINUTE + k.uniform(MESSAGES, "edit_gap", chan, local) * 2 * HOUR).astype(np.int64)
    updated = np.where(edited, np.minimum(times + edit_gap, ds.end), times)
    batch = make_batch(
        MESSAGES,
        {
            "id": ids.tolist(),
            "content": _contents(ds, a, chan, local, members, offset, lo),
            "created_at": format_timestamps(times),
            "updated_at": format_timestamps(updated),
            "user_id": (users.first_id(ds) + members[authors]).tolist(),
            "channel_id": (channels.first_id(ds) + chan).tolist(),
            "parent_id": [None if p < 0 else p for p in parents.tolist()],
        },
    )
    return batch, times, ids


def _contents(
    ds: Dataset,
    a: ContentArrays,
    chan: IntArray,
    local: IntArray,
    members: IntArray,
    offset: IntArray,
    lo: int,
) -> list[str]:
    o, k, pools = ds.options, ds.k, ds.pools
    rich = 2.0 if o.rich_text else 1.0
    paragraph = k.chance(MESSAGES, "paragraph", o.paragraph_share, chan, local).tolist()
    sentence = k.integers(MESSAGES, "sentence", 0, len(pools.sentences), chan, local).tolist()
    para = k.integers(MESSAGES, "paragraph_pick", 0, len(pools.paragraphs), chan, local).tolist()
    deco = k.uniform(MESSAGES, "decoration", chan, local)
    pick = k.bits(MESSAGES, "decoration_pick", chan, local)
    mention_pos = (pick % a.members[chan].astype(np.uint64)).astype(np.int64)
    mention_user = members[offset[chan - lo] + mention_pos].tolist()
    pick_list = (pick >> np.uint64(20)).astype(np.int64).tolist()
    # One decoration per message at most, chosen by bands of a single draw.
    bands = np.cumsum(np.array([0.10, 0.12, 0.05, 0.04, 0.01, 0.18, 0.04]) * rich)
    kind = np.searchsorted(bands, deco, side="right").tolist()
    out = []
    for i in range(len(kind)):
        text = pools.paragraphs[para[i]] if paragraph[i] else pools.sentences[sentence[i]]
        d, p = kind[i], pick_list[i]
        if d == 0:
            text = f"@{users.first_name(ds, mention_user[i])} {text}"
        elif d == 1:
            if ds.english:
                text = f"{CHAT_OPENERS[p % len(CHAT_OPENERS)]} {text}"
            else:
                text = f"{text} {EMOJI[p % len(EMOJI)]}"
        elif d == 2:
            host, topic = LINK_HOSTS[p % len(LINK_HOSTS)], pools.topics[p % len(pools.topics)]
            text = f"{text} {host}/{topic}/{p % 9973}"
        elif d == 3:
            text = f"{text} `{CODE_SNIPPETS[p % len(CODE_SNIPPETS)]}`"
        elif d == 4:
            text = f"{text}\n```\n{CODE_BLOCKS[p % len(CODE_BLOCKS)]}\n```"
        elif d == 5:
            text = f"{text} {EMOJI[p % len(EMOJI)]}"
        elif d == 6:
            text = f"**{pools.topics[p % len(pools.topics)]}**: {text}"
        out.append(text)
    return out


def _reactions(
    ds: Dataset,
    a: ContentArrays,
    lo: int,
    shape: _Shape,
    members: IntArray,
    joined: IntArray,
    offset: IntArray,
    msg_times: IntArray,
    msg_ids: IntArray,
) -> Batch:
    k = ds.k
    counts = shape.reactions
    # shape's messages and msg_ids are both ordered by (channel, position in channel).
    which = np.repeat(np.arange(len(counts)), counts)
    nth = repeat_ranges(counts)
    chan = shape.msg_channel[which]
    key = shape.msg_local[which] * 16 + nth
    size = a.members[chan]
    start = k.integers(REACTIONS, "first_reactor", 0, size, shape.msg_channel[which], shape.msg_local[which])
    # Consecutive members from a keyed start: distinct users per message, so triples never repeat.
    flat = offset[chan - lo] + (start + nth) % size
    gap = (10 * SECOND + k.uniform(REACTIONS, "gap", chan, key) * 3 * HOUR).astype(np.int64)
    created = np.minimum(np.maximum(msg_times[which], joined[flat]) + gap, ds.end)
    reaction = ds.reaction_ids[k.choice(REACTIONS, "reaction", a.reaction_cdf, chan, key)]
    first = ds.id_starts[REACTIONS] + a.reaction_offset[lo]
    ids = first + np.arange(len(which), dtype=np.int64)
    return make_batch(
        REACTIONS,
        {
            "id": ids.tolist(),
            "message_id": msg_ids[which].tolist(),
            "reaction_id": reaction.tolist(),
            "user_id": (users.first_id(ds) + members[flat]).tolist(),
            "created_at": format_timestamps(created),
        },
    )


ENTITY = Entity(
    name="channel_contents",
    tables=(MEMBERSHIPS, MESSAGES, REACTIONS),
    partition="channel",
    items=lambda ds: ds.options.channels,
    rows_per_item=rows_per_item,
    generate=generate,
    estimate=estimate,
    prepare=prepare,
)

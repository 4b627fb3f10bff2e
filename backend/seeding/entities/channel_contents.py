"""Channel contents: per channel, its memberships, messages (threaded replies included) and reactions.

Partitioned by channel: a channel's rows depend only on its index and on the run-wide arrays (users,
channels, and the per-channel counts prepared here), so chunks of channels can be generated anywhere.
Ids are fixed by the plan: each channel's messages and reactions start at a known offset in the block.

Members (channels.member_users): a DM's two users; a scripted channel's, the scenario's; any other group
channel's users are a run of a keyed permutation of the users, the runs of successive channels following
each other, so together they cover every user (but the lurker share). Generated messages replay
dialogue-corpus conversations in sessions (conversation.py plans who says which turn when; chat_text.py
writes the text). Reactions come from members present at the message, never its author, minutes to hours
after it.

A scripted channel (scripted.py): its share of the blocks starts with the scenario's messages and reactions,
exactly as written; its generated sessions come after the script's last instant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backend.models import Message, MessageReaction, UserChannel
from backend.seeding.chat_text import Decorated, message_texts
from backend.seeding.conversation import (
    REPLY_SLOTS,
    History,
    Members,
    Reactions,
    Threads,
    plan_messages,
    plan_reactions,
)
from backend.seeding.corpus import Corpus, load_corpus
from backend.seeding.dataset import (
    CHUNK_ROWS,
    DAY,
    HOUR,
    MINUTE,
    SECOND,
    Batch,
    Dataset,
    concat_columns,
    format_timestamps,
    make_batch,
    nullable,
    table_columns,
    timestamps,
)
from backend.seeding.entities import Entity, channels, users
from backend.seeding.keyed import FloatArray, IntArray, group_ranks, repeat_ranges, to_cdf
from backend.seeding.options import SeedOptions
from backend.seeding.scripted import with_scripted_sizes

MEMBERSHIPS = UserChannel.__tablename__
MESSAGES = Message.__tablename__
REACTIONS = MessageReaction.__tablename__
CHANNELS_KEY = channels.CHANNELS

REPLIES_PER_THREAD_CDF = to_cdf([70, 20, 10])  # a thread has 1, 2 or 3 replies
REACTION_POPULARITY = (30, 3, 14, 12, 8, 7, 6, 5, 4, 4, 3, 6, 4, 3, 5, 2)
EDITED_SHARE = 0.08


@dataclass(frozen=True)
class ContentArrays:
    """Per channel index: sizes and where its rows start inside the run's id blocks."""

    top_messages: IntArray
    messages: IntArray  # top-level and replies
    reactions: IntArray
    message_offset: IntArray  # first message of each channel, relative to the run's block
    reaction_offset: IntArray
    reaction_cdf: FloatArray
    corpus: Corpus
    script_messages: IntArray  # per channel: scripted messages, before the generated ones
    script_reactions: IntArray
    script_end: IntArray  # per channel: generated messages come after this instant (0: no script)


def prepare(ds: Dataset) -> ContentArrays:
    o, script = ds.options, ds.script
    n, n_scripted = channels.count(ds), script.n_channels
    corpus = load_corpus(o.locale)
    # Touched before workers fork, so they share these pages instead of building their own.
    _ = corpus.blob
    top_messages = channels.arrays(ds).top_messages
    script_messages = np.zeros(n, dtype=np.int64)
    script_reactions = np.zeros(n, dtype=np.int64)
    script_end = np.zeros(n, dtype=np.int64)
    if n_scripted:
        counts = script.counts()
        script_messages[:n_scripted] = counts["messages"]
        script_reactions[:n_scripted] = counts["reactions"]
        script_end[:n_scripted] = [content.script_end for content in script.contents]
        # No room left after the script (it ends within the last days of the window): nothing generated.
        top_messages = np.where(script_end > _latest_script_end(ds), 0, top_messages)
    n_kinds = len(ds.reaction_ids)
    reaction_cdf = to_cdf([REACTION_POPULARITY[i % len(REACTION_POPULARITY)] for i in range(n_kinds)])
    messages = script_messages.copy()
    reactions = script_reactions.copy()
    step = max(1, CHUNK_ROWS * 4 // max(1, o.messages_per_channel))
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        shape = _shape(ds, top_messages, lo, hi)
        messages[lo:hi] += np.bincount(shape.channel - lo, minlength=hi - lo)
        reactions[lo:hi] += np.bincount(
            shape.channel - lo, weights=shape.reactions, minlength=hi - lo
        ).astype(np.int64)
    return ContentArrays(
        top_messages,
        messages,
        reactions,
        np.cumsum(messages) - messages,
        np.cumsum(reactions) - reactions,
        reaction_cdf,
        corpus,
        script_messages,
        script_reactions,
        script_end,
    )


def _latest_script_end(ds: Dataset) -> int:
    """A scripted channel gets generated sessions only when its script ends before this instant."""
    return ds.end - min(2 * DAY, ds.window // 20)


def arrays(ds: Dataset) -> ContentArrays:
    state: ContentArrays = ds.state[ENTITY.name]
    return state


def rows_per_item(ds: Dataset) -> dict[str, IntArray]:
    a = arrays(ds)
    return {MEMBERSHIPS: channels.arrays(ds).members, MESSAGES: a.messages, REACTIONS: a.reactions}


def estimate(options: SeedOptions) -> dict[str, int]:
    options = with_scripted_sizes(options)
    members = options.users if options.max_members == 0 else min(options.users, options.max_members)
    groups = options.channels - options.dm_channels
    top = options.channels * options.messages_per_channel
    messages = round(top * (1 + options.reply_share * 1.4))  # threads have 1.4 replies on average
    # Every user but the lurkers joins some channel, when there are channels to join.
    joined = round(options.users * (1 - options.lurker_share)) if options.channels else 0
    return {
        MEMBERSHIPS: options.dm_channels * 2 + max(round(groups * (2 + (members - 1) / 4)), joined),
        MESSAGES: messages,
        # Fewer than the draws ask for: a session's reactors are the members present (measured: ~0.85).
        REACTIONS: round(messages * options.reaction_share * (1 + options.max_reactions) / 2 * 0.85),
    }


def reaction_cap(ds: Dataset, members: IntArray) -> IntArray:
    """Most reactions a message of a channel with `members` members gets: sessions start once this many
    members (plus the author) have joined, so there are always enough distinct reactors."""
    return np.minimum(members, ds.options.max_reactions + 1) - 1  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _Shape:
    """Per message of a chunk of channels, in (channel, top-level message, reply number) order."""

    channel: IntArray
    turn_key: IntArray  # top_local * REPLY_SLOTS + reply number: the message's draw key in its channel
    replies: IntArray  # per top-level message: replies it gets
    reactions: IntArray  # per message


def _shape(ds: Dataset, top_messages: IntArray, lo: int, hi: int) -> _Shape:
    o, k = ds.options, ds.k
    chans = np.arange(lo, hi, dtype=np.int64)
    tops = top_messages[lo:hi]
    channel = np.repeat(chans, tops)
    top_local = repeat_ranges(tops)
    threaded = k.chance(MESSAGES, "threaded", o.reply_share, channel, top_local)
    replies = np.where(
        threaded, 1 + k.choice(MESSAGES, "replies", REPLIES_PER_THREAD_CDF, channel, top_local), 0
    )
    replies = np.where(channels.arrays(ds).is_dm[channel], np.minimum(replies, 1), replies)
    turn_top = np.repeat(np.arange(len(channel), dtype=np.int64), 1 + replies)
    msg_channel = channel[turn_top]
    turn_key = top_local[turn_top] * REPLY_SLOTS + repeat_ranges(1 + replies)
    if o.max_reactions == 0 or len(ds.reaction_ids) == 0:
        reactions = np.zeros(len(msg_channel), dtype=np.int64)
    else:
        reacted = k.chance(REACTIONS, "reacted", o.reaction_share, msg_channel, turn_key)
        wanted = 1 + k.integers(REACTIONS, "count", 0, o.max_reactions, msg_channel, turn_key)
        cap = reaction_cap(ds, channels.arrays(ds).members[msg_channel])
        reactions = np.where(reacted, np.minimum(wanted, cap), 0)
    return _Shape(msg_channel, turn_key, replies, reactions)


def generate(ds: Dataset, lo: int, hi: int) -> list[Batch]:
    """The memberships, messages and reactions of channels lo..hi-1 (scripted rows first)."""
    a = arrays(ds)
    member_users, members = _memberships(ds, lo, hi)
    membership_batch = _membership_batch(ds, lo, hi, member_users, members)
    shape = _shape(ds, a.top_messages, lo, hi)
    chans = channels.arrays(ds)
    threads = Threads(
        key=np.arange(lo, hi, dtype=np.int64),
        is_dm=chans.is_dm[lo:hi],
        tops=a.top_messages[lo:hi],
        replies=shape.replies,
        # Sessions start once enough members have joined and, in a scripted channel, after the script.
        floor=np.maximum(
            members.floor(reaction_cap(ds, members.count) + 1), -(-a.script_end[lo:hi] // SECOND) * SECOND
        ),
        end=ds.end,
        first_message=a.message_offset[lo:hi] + a.script_messages[lo:hi],
    )
    history = plan_messages(ds.k, a.corpus.conversation_start, threads, members)
    message_batch, message_ids = _messages(ds, a, lo, history, member_users)
    reactions = plan_reactions(ds.k, history, shape.reactions, threads, members)
    reaction_batch = _reactions(ds, a, lo, history, reactions, member_users, message_ids)
    scripted_messages, scripted_reactions = _scripted(ds, a, lo, min(hi, ds.script.n_channels))
    return [
        membership_batch,
        _concat(scripted_messages, message_batch),
        _concat(scripted_reactions, reaction_batch),
    ]


def _concat(first: Batch, second: Batch) -> Batch:
    """One batch of the same table: first's rows, then second's (a scripted parent before its replies)."""
    if len(first) == 0:
        return second
    return Batch(
        first.table, [concat_columns(a, b) for a, b in zip(first.columns, second.columns, strict=True)]
    )


def _scripted(ds: Dataset, a: ContentArrays, lo: int, hi: int) -> tuple[Batch, Batch]:
    """The scenario's messages and reactions of scripted channels lo..hi-1, at the start of each channel's
    share of the id blocks."""
    message_rows: dict[str, list[object]] = {name: [] for name in table_columns(MESSAGES)}
    reaction_rows: dict[str, list[object]] = {name: [] for name in table_columns(REACTIONS)}
    first_user, first_channel = users.first_id(ds), channels.first_id(ds)
    for c in range(lo, hi):
        content = ds.script.contents[c]
        base = ds.id_starts[MESSAGES] + int(a.message_offset[c])
        for m in content.messages:
            message_rows["id"].append(base + m.local)
            message_rows["content"].append(m.text)
            message_rows["created_at"].append(m.created)
            message_rows["updated_at"].append(m.updated)
            message_rows["user_id"].append(first_user + m.author)
            message_rows["channel_id"].append(first_channel + c)
            message_rows["parent_id"].append(None if m.parent_local is None else base + m.parent_local)
        reaction_base = ds.id_starts[REACTIONS] + int(a.reaction_offset[c])
        for j, r in enumerate(content.reactions):
            reaction_rows["id"].append(reaction_base + j)
            reaction_rows["message_id"].append(base + r.message_local)
            reaction_rows["reaction_id"].append(int(ds.reaction_ids[r.reference_index]))
            reaction_rows["user_id"].append(first_user + r.user)
            reaction_rows["created_at"].append(r.created)
    for rows, column in (
        (message_rows, "created_at"),
        (message_rows, "updated_at"),
        (reaction_rows, "created_at"),
    ):
        rows[column] = format_timestamps(np.array(rows[column], dtype=np.int64))
    return make_batch(MESSAGES, message_rows), make_batch(REACTIONS, reaction_rows)


def _memberships(ds: Dataset, lo: int, hi: int) -> tuple[IntArray, Members]:
    """Member user indexes and join times of channels lo..hi-1, each channel's sorted by join time."""
    chans, user_arrays = channels.arrays(ds), users.arrays(ds)
    counts = chans.members[lo:hi]
    channel = np.repeat(np.arange(lo, hi, dtype=np.int64), counts)
    position = repeat_ranges(counts)
    member = channels.member_users(ds, channel, position)
    created = chans.created[channel]
    earliest = np.maximum(created, user_arrays.created[member])
    latest = ds.at(0.9)
    wait = ds.k.uniform(MEMBERSHIPS, "joined_at", channel, position)
    joined = np.where(position == 0, created, earliest + (wait * (latest - earliest)).astype(np.int64))
    # A scripted channel's members joined when the scenario says; with "everyone", the generated users
    # join as soon as both they and the channel exist.
    scripted = range(lo, min(hi, ds.script.n_channels))
    if len(scripted):
        n_listed = np.array([len(ds.script.contents[c].members) for c in scripted], dtype=np.int64)
        in_script = channel < scripted.stop
        joined = np.where(in_script, earliest, joined)
        listed = in_script & (position < n_listed[np.minimum(channel - lo, len(n_listed) - 1)])
        joined[listed] = np.concatenate([ds.script.contents[c].joined for c in scripted])
    order = np.lexsort((position, joined, channel))
    offset = (np.cumsum(counts) - counts).astype(np.int64)
    members = Members(
        offset=offset,
        count=counts.astype(np.int64),
        joined=joined[order],
        activity=user_arrays.activity[member[order]],
    )
    return member[order], members


def _membership_batch(ds: Dataset, lo: int, hi: int, member_users: IntArray, members: Members) -> Batch:
    channel_ids = np.repeat(channels.first_id(ds) + np.arange(lo, hi), members.count)
    return make_batch(
        MEMBERSHIPS,
        {
            "user_id": users.first_id(ds) + member_users,
            "channel_id": channel_ids,
            "joined_at": timestamps(members.joined),
            "seed_run_id": np.full(len(member_users), ds.run_id, dtype=np.int64),
        },
    )


def _messages(
    ds: Dataset, a: ContentArrays, lo: int, history: History, member_users: IntArray
) -> tuple[Batch, IntArray]:
    o, k = ds.options, ds.k
    chan = lo + history.channel
    key = history.turn_key
    ids = ds.id_starts[MESSAGES] + a.message_offset[chan] + a.script_messages[chan] + history.position
    times = history.created
    edited = k.chance(MESSAGES, "edited", EDITED_SHARE, chan, key)
    edit_gap = (MINUTE + k.uniform(MESSAGES, "edit_gap", chan, key) * 2 * HOUR).astype(np.int64)
    updated = np.where(edited, np.minimum(times + edit_gap, ds.end), times)
    draws = Decorated(
        paragraph=k.uniform(MESSAGES, "paragraph", chan, key),
        utterance=k.uniform(MESSAGES, "utterance", chan, key),
        style=k.bits(MESSAGES, "style", chan, key),
        decoration=k.uniform(MESSAGES, "decoration", chan, key),
        pick=k.bits(MESSAGES, "decoration_pick", chan, key),
        replay=history.replay,
        text_mask=lambda text_start: k.bits(MESSAGES, "text_variant", text_start),
    )
    mentioned = member_users[history.addressee]
    names = users.arrays(ds).mention_names
    contents = message_texts(
        a.corpus,
        history.corpus_turn,
        draws,
        lambda which: [names[u] for u in mentioned[which].tolist()],
        ds.pools.topics,
        ds.english,
        o.rich_text,
        o.paragraph_share,
    )
    parents = np.where(history.parent >= 0, ids[np.maximum(history.parent, 0)], -1)
    batch = make_batch(
        MESSAGES,
        {
            "id": ids,
            "content": contents,
            "created_at": timestamps(times),
            "updated_at": timestamps(updated),
            "user_id": users.first_id(ds) + member_users[history.author],
            "channel_id": channels.first_id(ds) + chan,
            "parent_id": nullable(parents, parents < 0),
        },
    )
    return batch, ids


def _reactions(
    ds: Dataset,
    a: ContentArrays,
    lo: int,
    history: History,
    reactions: Reactions,
    member_users: IntArray,
    message_ids: IntArray,
) -> Batch:
    k = ds.k
    chan = lo + history.channel[reactions.message]
    nth = group_ranks(reactions.message)
    key = history.turn_key[reactions.message] * 16 + nth
    reaction = ds.reaction_ids[k.choice(REACTIONS, "reaction", a.reaction_cdf, chan, key)]
    # Each channel's generated reactions follow its scripted ones (`chan` is sorted: ranks per channel).
    ids = ds.id_starts[REACTIONS] + a.reaction_offset[chan] + a.script_reactions[chan] + group_ranks(chan)
    return make_batch(
        REACTIONS,
        {
            "id": ids,
            "message_id": message_ids[reactions.message],
            "reaction_id": reaction,
            "user_id": users.first_id(ds) + member_users[reactions.user],
            "created_at": timestamps(reactions.created),
        },
    )


ENTITY = Entity(
    name="channel_contents",
    tables=(MEMBERSHIPS, MESSAGES, REACTIONS),
    partition="channel",
    items=channels.count,
    rows_per_item=rows_per_item,
    generate=generate,
    estimate=estimate,
    prepare=prepare,
)

"""The rows of a seeding run, in foreign-key order, as bounded batches of plain tuples with explicit ids.

Everything is a pure function of (options, id starts, run id, reaction ids): values come from keyed draws
(keyed.py) and text pools (text.py). Work is partitioned by channel: a channel's memberships, messages and
reactions depend only on the channel's index and on run-wide arrays (users, channels), so chunks of channels
can be generated in any order, in any process, with the same result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from backend.seeding.demo import DEMO_CHANNELS, DEMO_EMAIL_DOMAIN, DEMO_USERS
from backend.seeding.keyed import IntArray, Keyed, bijection, column_key, to_cdf
from backend.seeding.options import SeedOptions
from backend.seeding.text import (
    AVATAR_URL,
    CHAT_OPENERS,
    CODE_BLOCKS,
    CODE_SNIPPETS,
    EMAIL_DOMAINS,
    EMOJI,
    LINK_HOSTS,
    TextPools,
    build_pools,
    slug,
)

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("id", "auth0_id", "email", "is_active", "created_at", "name", "picture", "bio"),
    "channels": ("id", "name", "description", "owner_id", "created_at", "is_private", "is_dm", "join_code"),
    "user_channels": ("user_id", "channel_id", "joined_at", "seed_run_id"),
    "messages": ("id", "content", "created_at", "updated_at", "user_id", "channel_id", "parent_id"),
    "message_reactions": ("id", "message_id", "reaction_id", "user_id", "created_at"),
}
TABLE_ORDER = tuple(TABLE_COLUMNS)
ID_TABLES = ("users", "channels", "messages", "message_reactions")
# Bump when a change to this module changes the rows a given seed produces; recorded in the ledger.
GENERATOR_VERSION = "2"

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
BATCH_ROWS = 20_000
CHUNK_MESSAGES = 20_000

# Share of chat activity by hour of day (UTC): quiet nights, busy working hours.
DIURNAL = to_cdf([1, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 11, 9, 11, 12, 12, 11, 9, 7, 6, 5, 4, 3, 2])
REPLIES_PER_THREAD_CDF = to_cdf([70, 20, 10])  # a thread has 1, 2 or 3 replies
REACTION_POPULARITY = (30, 3, 14, 12, 8, 7, 6, 5, 4, 4, 3, 6, 4, 3, 5, 2)
# Strides for the member permutations: primes, so one that does not divide n is coprime with n.
_STRIDE_PRIMES = np.array(
    [1_000_003, 999_983, 1_299_709, 15_485_863, 32_452_843, 49_979_687, 67_867_967, 86_028_121],
    dtype=np.int64,
)
_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's: no I, L, O, U to misread when typed


def format_timestamps(micros: IntArray) -> list[str]:
    """UTC timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff', the text both backends store and compare."""
    text = micros.astype("datetime64[us]").astype("U26")
    chars = text.view(np.uint32).reshape(-1, 26)
    chars[:, 10] = ord(" ")
    return text.tolist()  # type: ignore[no-any-return]


Columns = list[list[Any]]


@dataclass(frozen=True)
class Batch:
    """Rows of one table, column by column (in TABLE_COLUMNS order): cheap to build and to encode."""

    table: str
    columns: Columns

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def rows(self) -> list[tuple[Any, ...]]:
        return list(zip(*self.columns, strict=True))


@dataclass(frozen=True)
class Plan:
    """Exact row counts, and where each channel's rows start inside the run's id blocks."""

    counts: dict[str, int]
    members: IntArray  # per channel
    messages: IntArray
    reactions: IntArray
    message_offset: IntArray  # first message of each channel, relative to the run's block
    reaction_offset: IntArray
    chunks: tuple[tuple[int, int], ...]  # channel index ranges of about CHUNK_MESSAGES messages


@dataclass(frozen=True)
class _Shape:
    """Per-message structure of a chunk of channels, from the keyed draws that fix the counts."""

    channel: IntArray  # for each top-level message: the channel index
    top_local: IntArray  # its index among the channel's top-level messages (the draw key)
    replies: IntArray  # replies it gets
    msg_channel: IntArray  # for each message (top-level first, then replies, per channel)
    msg_local: IntArray  # its index among the channel's messages
    reactions: IntArray  # reactions it gets


def _group_ranks(groups: IntArray) -> IntArray:
    """For a sorted array of group labels, each element's index within its group."""
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    lengths = np.diff(np.r_[starts, len(groups)])
    return np.arange(len(groups), dtype=np.int64) - np.repeat(starts, lengths)


def _repeat_ranges(counts: IntArray) -> IntArray:
    """0..n-1 for each n in counts, concatenated."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - counts, counts)


class Dataset:
    """One run's data. Build it once (pools and run-wide arrays), then stream its batches."""

    def __init__(
        self, options: SeedOptions, id_starts: dict[str, int], run_id: int, reaction_ids: list[int]
    ) -> None:
        self.options = options
        self.id_starts = id_starts
        self.run_id = run_id
        self.reaction_ids = np.array(reaction_ids, dtype=np.int64)
        self.reaction_cdf = to_cdf(
            [REACTION_POPULARITY[i % len(REACTION_POPULARITY)] for i in range(len(reaction_ids))]
        )
        self.k = Keyed(options.seed)
        self.pools: TextPools = build_pools(options.seed, options.locale)
        self.english = options.locale.startswith("en")
        as_of = datetime(options.as_of.year, options.as_of.month, options.as_of.day, tzinfo=UTC)
        self.end = int(as_of.timestamp()) * SECOND
        self.start = self.end - options.window_days * DAY
        self.window = self.end - self.start
        self._build_users()
        self._build_channels()
        self.plan = self._make_plan()

    # ----- run-wide arrays -------------------------------------------------------------------------

    def _at(self, share: float) -> int:
        return self.start + int(self.window * share)

    def _build_users(self) -> None:
        n = self.options.users
        k, idx = self.k, np.arange(n, dtype=np.int64)
        self.user_created = self.start + (k.uniform("users", "created_at", idx) * self.window * 0.6).astype(
            np.int64
        )
        self.user_first = k.integers("users", "first_name", 0, len(self.pools.first_names), idx)
        self.user_last = k.integers("users", "last_name", 0, len(self.pools.last_names), idx)
        # Pareto-distributed activity: a few users write most of the messages.
        self.user_activity = (1.0 - k.uniform("users", "activity", idx)) ** (-1.0 / 1.16)
        self.n_demo_users = len(DEMO_USERS) if self.options.demo_accounts else 0
        self.first_slugs = [slug(name) for name in self.pools.first_names]
        self.last_slugs = [slug(name) for name in self.pools.last_names]

    def user_name(self, u: int) -> str:
        if u < self.n_demo_users:
            return DEMO_USERS[u][0]
        return f"{self.pools.first_names[self.user_first[u]]} {self.pools.last_names[self.user_last[u]]}"

    def _build_channels(self) -> None:
        o, k = self.options, self.k
        n, users = o.channels, o.users
        idx = np.arange(n, dtype=np.int64)
        # Exact shares spread evenly over the indexes: channel c is a DM when floor(c*share) steps up.
        self.is_dm = np.floor((idx + 1) * o.dm_share + 1e-9) - np.floor(idx * o.dm_share + 1e-9) >= 1
        group = idx - np.floor(idx * o.dm_share + 1e-9).astype(np.int64)
        private_group = (
            np.floor((group + 1) * o.private_share + 1e-9) - np.floor(group * o.private_share + 1e-9) >= 1
        )
        self.is_private = self.is_dm | private_group
        self.group_index = np.where(self.is_dm, -1, group)
        self.owner = k.integers("channels", "owner", 0, max(users, 1), idx)
        n_demo_channels = len(DEMO_CHANNELS) if o.demo_accounts else 0
        demo = (~self.is_dm) & (self.group_index < n_demo_channels)
        self.demo_channel = np.where(demo, self.group_index, -1)
        self.owner = np.where(demo, self.group_index % max(self.n_demo_users, 1), self.owner)
        owner_created = self.user_created[self.owner] if users else np.zeros(n, dtype=np.int64)
        latest = self._at(0.75)
        self.channel_created = owner_created + (
            k.uniform("channels", "created_at", idx) * (latest - owner_created)
        ).astype(np.int64)
        cap = users if o.max_members == 0 else min(users, o.max_members)
        members = 2 + k.integers("channels", "members", 0, max(cap - 1, 1), idx)
        members = np.where(self.is_dm, 2, members)
        # #general in the demo holds everyone.
        self.members = np.where(self.demo_channel == 0, users, members).astype(np.int64)
        low, high = o.messages_per_channel // 2, o.messages_per_channel + o.messages_per_channel // 2 + 1
        self.top_messages = k.integers("channels", "messages", low, np.full(n, high), idx)
        self.member_start = k.integers("user_channels", "start", 0, max(users - 1, 1), idx)
        others = max(users - 1, 1)
        usable = _STRIDE_PRIMES[others % _STRIDE_PRIMES != 0]
        self.member_stride = usable[k.integers("user_channels", "stride", 0, len(usable), idx)]

    # ----- counts ---------------------------------------------------------------------------------

    def _shape(self, lo: int, hi: int) -> _Shape:
        o, k = self.options, self.k
        channels = np.arange(lo, hi, dtype=np.int64)
        tops = self.top_messages[lo:hi]
        channel = np.repeat(channels, tops)
        top_local = _repeat_ranges(tops)
        threaded = k.chance("messages", "threaded", o.reply_share, channel, top_local)
        replies = np.where(
            threaded, 1 + k.choice("messages", "replies", REPLIES_PER_THREAD_CDF, channel, top_local), 0
        )
        per_channel = tops + np.bincount(channel - lo, weights=replies, minlength=hi - lo).astype(np.int64)
        msg_channel = np.repeat(channels, per_channel)
        msg_local = _repeat_ranges(per_channel)
        if o.max_reactions == 0 or len(self.reaction_ids) == 0:
            reactions = np.zeros(len(msg_channel), dtype=np.int64)
        else:
            reacted = k.chance("message_reactions", "reacted", o.reaction_share, msg_channel, msg_local)
            wanted = 1 + k.integers("message_reactions", "count", 0, o.max_reactions, msg_channel, msg_local)
            reactions = np.where(reacted, np.minimum(wanted, self.members[msg_channel]), 0)
        return _Shape(channel, top_local, replies, msg_channel, msg_local, reactions)

    def _make_plan(self) -> Plan:
        n = self.options.channels
        messages = np.zeros(n, dtype=np.int64)
        reactions = np.zeros(n, dtype=np.int64)
        step = max(1, CHUNK_MESSAGES * 4 // max(1, self.options.messages_per_channel))
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            shape = self._shape(lo, hi)
            messages[lo:hi] = np.bincount(shape.msg_channel - lo, minlength=hi - lo)
            reactions[lo:hi] = np.bincount(shape.msg_channel - lo, weights=shape.reactions, minlength=hi - lo)
        chunks: list[tuple[int, int]] = []
        lo, acc = 0, 0
        for c in range(n):
            acc += int(messages[c]) + int(reactions[c]) + int(self.members[c])
            if acc >= CHUNK_MESSAGES:
                chunks.append((lo, c + 1))
                lo, acc = c + 1, 0
        if lo < n:
            chunks.append((lo, n))
        counts = {
            "users": self.options.users,
            "channels": n,
            "user_channels": int(self.members.sum()),
            "messages": int(messages.sum()),
            "message_reactions": int(reactions.sum()),
        }
        return Plan(
            counts=counts,
            members=self.members,
            messages=messages,
            reactions=reactions,
            message_offset=np.cumsum(messages) - messages,
            reaction_offset=np.cumsum(reactions) - reactions,
            chunks=tuple(chunks),
        )

    # ----- users and channels ----------------------------------------------------------------------

    def user_ranges(self) -> list[tuple[int, int]]:
        return [
            (lo, min(self.options.users, lo + BATCH_ROWS)) for lo in range(0, self.options.users, BATCH_ROWS)
        ]

    def user_batch(self, lo: int, hi: int) -> Batch:
        return Batch("users", self._user_rows(lo, hi))

    def _user_rows(self, lo: int, hi: int) -> Columns:
        k, pools = self.k, self.pools
        idx = np.arange(lo, hi, dtype=np.int64)
        ids = self.id_starts["users"] + idx
        # auth0 ids: 64 keyed bits, then a 62-bit permutation of the id, so distinct ids give distinct uuids.
        high = k.bits("users", "auth0_id", idx)
        low = bijection(ids, 62, column_key(self.options.seed, "users", "auth0_low")).astype(np.uint64)
        # Demo accounts are meant to be logged into.
        active = (
            k.chance("users", "is_active", self.options.active_share, idx) | (idx < self.n_demo_users)
        ).tolist()
        has_bio = k.chance("users", "has_bio", 0.85, idx).tolist()
        bio_pick = k.integers("users", "bio", 0, len(pools.bios), idx).tolist()
        domain = k.integers("users", "email_domain", 0, len(EMAIL_DOMAINS), idx).tolist()
        created = format_timestamps(self.user_created[lo:hi])
        rows = []
        for i, u in enumerate(range(lo, hi)):
            user_id = int(ids[i])
            h = int(high[i])
            hexid = f"{(h & ~(0xF << 12)) | (0x4 << 12):016x}{int(low[i]) | (0x2 << 62):016x}"
            auth0 = f"auth0|{hexid[:8]}-{hexid[8:12]}-{hexid[12:16]}-{hexid[16:20]}-{hexid[20:]}"
            if u < self.n_demo_users:
                name, local, bio = DEMO_USERS[u]
                email = f"{local}@{DEMO_EMAIL_DOMAIN}"
            else:
                fi, li = self.user_first[u], self.user_last[u]
                name = f"{pools.first_names[fi]} {pools.last_names[li]}"
                local = (
                    ".".join(part for part in (self.first_slugs[fi], self.last_slugs[li]) if part) or "user"
                )
                email = f"{local}.{user_id}@{EMAIL_DOMAINS[domain[i]]}"
                bio = pools.bios[bio_pick[i]] if has_bio[i] else None
            picture = AVATAR_URL.format(hexid[:16])
            rows.append((user_id, auth0, email, active[i], created[i], name, picture, bio))
        return [list(column) for column in zip(*rows, strict=True)]

    def channel_ranges(self) -> list[tuple[int, int]]:
        n = self.options.channels
        return [(lo, min(n, lo + BATCH_ROWS)) for lo in range(0, n, BATCH_ROWS)]

    def channel_batch(self, lo: int, hi: int) -> Batch:
        return Batch("channels", self._channel_rows(lo, hi))

    def _channel_rows(self, lo: int, hi: int) -> Columns:
        k, pools = self.k, self.pools
        idx = np.arange(lo, hi, dtype=np.int64)
        ids = self.id_starts["channels"] + idx
        user_ids = self.id_starts["users"] + self.owner[lo:hi]
        codes = bijection(ids, 40, column_key(self.options.seed, "channels", "join_code")).tolist()
        topic = k.integers("channels", "topic", 0, len(pools.topics), idx).tolist()
        described = k.integers("channels", "description", 0, len(pools.sentences), idx).tolist()
        created = format_timestamps(self.channel_created[lo:hi])
        rows = []
        for i, c in enumerate(range(lo, hi)):
            is_dm, is_private = bool(self.is_dm[c]), bool(self.is_private[c])
            demo = int(self.demo_channel[c])
            if is_dm:
                name, description = f"{self.user_name(int(self.owner[c]))} DM", None
            elif demo >= 0:
                name, description = DEMO_CHANNELS[demo]
            else:
                name = f"{pools.topics[topic[i]]}-{int(self.group_index[c]) + 1}"
                description = pools.sentences[described[i]]
            join_code = _base32(codes[i]) if is_private and not is_dm else None
            rows.append(
                (int(ids[i]), name, description, int(user_ids[i]), created[i], is_private, is_dm, join_code)
            )
        return [list(column) for column in zip(*rows, strict=True)]

    # ----- memberships, messages and reactions, a chunk of channels at a time -----------------------

    def chunk_batches(self, lo: int, hi: int) -> list[Batch]:
        """The memberships, messages and reactions of channels lo..hi-1."""
        members, joined, member_offset = self._memberships(lo, hi)
        member_rows = self._membership_rows(lo, hi, members, joined, member_offset)
        shape = self._shape(lo, hi)
        message_rows, msg_times, msg_ids = self._message_rows(lo, hi, shape, members, joined, member_offset)
        reaction_rows = self._reaction_rows(lo, hi, shape, members, joined, member_offset, msg_times, msg_ids)
        return [
            Batch("user_channels", member_rows),
            Batch("messages", message_rows),
            Batch("message_reactions", reaction_rows),
        ]

    def _memberships(self, lo: int, hi: int) -> tuple[IntArray, IntArray, IntArray]:
        """Member user indexes (owner first) and join times of channels lo..hi-1, flattened."""
        users = self.options.users
        counts = self.members[lo:hi]
        channel = np.repeat(np.arange(lo, hi, dtype=np.int64), counts)
        position = _repeat_ranges(counts)
        owner = self.owner[channel]
        # Others: an affine permutation of the users other than the owner (distinct by construction).
        step = (position - 1) * self.member_stride[channel]
        other = (self.member_start[channel] + step) % max(users - 1, 1)
        other = other + (other >= owner)
        member = np.where(position == 0, owner, other)
        created = self.channel_created[channel]
        earliest = np.maximum(created, self.user_created[member])
        latest = self._at(0.9)
        wait = self.k.uniform("user_channels", "joined_at", channel, position)
        joined = np.where(position == 0, created, earliest + (wait * (latest - earliest)).astype(np.int64))
        offset = np.r_[0, np.cumsum(counts)][:-1]
        return member, joined, offset

    def _membership_rows(
        self, lo: int, hi: int, members: IntArray, joined: IntArray, offset: IntArray
    ) -> Columns:
        channel_ids = np.repeat(self.id_starts["channels"] + np.arange(lo, hi), self.members[lo:hi])
        user_ids = self.id_starts["users"] + members
        n = len(members)
        return [user_ids.tolist(), channel_ids.tolist(), format_timestamps(joined), [self.run_id] * n]

    def _pick_members(
        self,
        lo: int,
        channel: IntArray,
        uniforms: npt.NDArray[np.float64],
        members: IntArray,
        offset: IntArray,
    ) -> IntArray:
        """Member positions chosen with weight = the member's activity (flattened over channels lo..hi-1)."""
        weights = self.user_activity[members]
        counts = self.members[lo : lo + len(offset)]
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

    def _message_rows(
        self, lo: int, hi: int, shape: _Shape, members: IntArray, joined: IntArray, offset: IntArray
    ) -> tuple[Columns, IntArray, IntArray]:
        k = self.k
        channel, top_local = shape.channel, shape.top_local
        pos = self._pick_members(
            lo, channel, k.uniform("messages", "author", channel, top_local), members, offset
        )
        author_flat = offset[channel - lo] + pos
        author_joined = joined[author_flat]
        latest = self.end - min(2 * DAY, self.window // 20)
        t = author_joined + (
            k.uniform("messages", "created_at", channel, top_local) * (latest - author_joined)
        ).astype(np.int64)
        # Day/night rhythm: keep the day, redraw the time of day from the diurnal curve.
        hour = k.choice("messages", "hour", DIURNAL, channel, top_local)
        within = (k.uniform("messages", "second", channel, top_local) * HOUR).astype(np.int64)
        t2 = (t // DAY) * DAY + hour * HOUR + within
        t2 = np.where(t2 < author_joined, t2 + DAY, t2)
        top_time = np.clip(t2, author_joined, latest)
        # Top-level messages take ids in time order within their channel.
        order = np.lexsort((top_local, top_time, channel))
        top_rank = np.empty_like(order)
        top_rank[order] = _group_ranks(channel[order])
        msg_base = self.id_starts["messages"] + self.plan.message_offset[channel]
        top_ids = msg_base + top_rank

        # Replies: n per threaded message, after the parent, keyed by (channel, parent key, reply number).
        rep_parent = np.repeat(np.arange(len(channel)), shape.replies)
        rep_no = _repeat_ranges(shape.replies)
        rep_channel = channel[rep_parent]
        rep_key = top_local[rep_parent] * 8 + rep_no
        gap = np.exp(
            np.log(2 * MINUTE) + k.uniform("messages", "reply_gap", rep_channel, rep_key) * math.log(240)
        ).astype(np.int64)
        rep_time = np.minimum(top_time[rep_parent] + gap * (1 + rep_no), self.end)
        rep_pos = self._pick_members(
            lo, rep_channel, k.uniform("messages", "reply_author", rep_channel, rep_key), members, offset
        )
        rep_flat = offset[rep_channel - lo] + rep_pos
        # Someone who joined after the reply was written cannot have written it: the owner answers instead.
        rep_flat = np.where(joined[rep_flat] > rep_time, offset[rep_channel - lo], rep_flat)
        rep_order = np.lexsort((rep_no, top_rank[rep_parent], rep_channel))
        rep_rank = np.empty_like(rep_order)
        rep_rank[rep_order] = _group_ranks(rep_channel[rep_order])
        tops_in_channel = self.top_messages[rep_channel]
        rep_ids = (
            self.id_starts["messages"] + self.plan.message_offset[rep_channel] + tops_in_channel + rep_rank
        )

        # All messages of the chunk, in id order, keyed by their position within the channel (= id - base).
        ids = np.concatenate([top_ids, rep_ids])
        times = np.concatenate([top_time, rep_time])
        authors = np.concatenate([author_flat, rep_flat])
        parents = np.concatenate([np.full(len(top_ids), -1), top_ids[rep_parent]])
        chan = np.concatenate([channel, rep_channel])
        order = np.argsort(ids, kind="stable")
        ids, times, authors, parents, chan = (
            ids[order],
            times[order],
            authors[order],
            parents[order],
            chan[order],
        )
        local = ids - (self.id_starts["messages"] + self.plan.message_offset[chan])

        edited = k.chance("messages", "edited", 0.08, chan, local)
        edit_gap = (MINUTE + k.uniform("messages", "edit_gap", chan, local) * 2 * HOUR).astype(np.int64)
        updated = np.where(edited, np.minimum(times + edit_gap, self.end), times)
        contents = self._contents(chan, local, members, offset, lo)
        created_text, updated_text = format_timestamps(times), format_timestamps(updated)
        user_ids = (self.id_starts["users"] + members[authors]).tolist()
        channel_ids = (self.id_starts["channels"] + chan).tolist()
        parent_ids = [None if p < 0 else p for p in parents.tolist()]
        columns = [ids.tolist(), contents, created_text, updated_text, user_ids, channel_ids, parent_ids]
        return columns, times, ids

    def _contents(
        self, chan: IntArray, local: IntArray, members: IntArray, offset: IntArray, lo: int
    ) -> list[str]:
        o, k, pools = self.options, self.k, self.pools
        rich = 2.0 if o.rich_text else 1.0
        paragraph = k.chance("messages", "paragraph", o.paragraph_share, chan, local).tolist()
        sentence = k.integers("messages", "sentence", 0, len(pools.sentences), chan, local).tolist()
        para = k.integers("messages", "paragraph_pick", 0, len(pools.paragraphs), chan, local).tolist()
        deco = k.uniform("messages", "decoration", chan, local)
        pick = k.bits("messages", "decoration_pick", chan, local)
        mention_pos = (pick % self.members[chan].astype(np.uint64)).astype(np.int64)
        mention_user = members[offset[chan - lo] + mention_pos].tolist()
        pick_list = (pick >> np.uint64(20)).astype(np.int64).tolist()
        # One decoration per message at most, chosen by bands of a single draw.
        bands = np.cumsum(np.array([0.10, 0.12, 0.05, 0.04, 0.01, 0.18, 0.04]) * rich)
        kind = np.searchsorted(bands, deco, side="right").tolist()
        first_names = self.pools.first_names
        out = []
        for i in range(len(kind)):
            text = pools.paragraphs[para[i]] if paragraph[i] else pools.sentences[sentence[i]]
            d, p = kind[i], pick_list[i]
            if d == 0:
                u = mention_user[i]
                who = (
                    DEMO_USERS[u][0].split()[0] if u < self.n_demo_users else first_names[self.user_first[u]]
                )
                text = f"@{who} {text}"
            elif d == 1:
                if self.english:
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

    def _reaction_rows(
        self,
        lo: int,
        hi: int,
        shape: _Shape,
        members: IntArray,
        joined: IntArray,
        offset: IntArray,
        msg_times: IntArray,
        msg_ids: IntArray,
    ) -> Columns:
        k = self.k
        counts = shape.reactions
        # shape's messages and msg_ids are both ordered by (channel, position in channel).
        which = np.repeat(np.arange(len(counts)), counts)
        nth = _repeat_ranges(counts)
        chan = shape.msg_channel[which]
        key = shape.msg_local[which] * 16 + nth
        size = self.members[chan]
        start = k.integers(
            "message_reactions", "first_reactor", 0, size, shape.msg_channel[which], shape.msg_local[which]
        )
        # Consecutive members from a keyed start: distinct users per message, so triples never repeat.
        flat = offset[chan - lo] + (start + nth) % size
        gap = (10 * SECOND + k.uniform("message_reactions", "gap", chan, key) * 3 * HOUR).astype(np.int64)
        created = np.minimum(np.maximum(msg_times[which], joined[flat]) + gap, self.end)
        reaction = self.reaction_ids[k.choice("message_reactions", "reaction", self.reaction_cdf, chan, key)]
        first = self.id_starts["message_reactions"] + self.plan.reaction_offset[lo]
        ids = first + np.arange(len(which), dtype=np.int64)
        user_ids = self.id_starts["users"] + members[flat]
        return [
            ids.tolist(),
            msg_ids[which].tolist(),
            reaction.tolist(),
            user_ids.tolist(),
            format_timestamps(created),
        ]


def _base32(value: int, length: int = 8) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, len(_BASE32))
        chars.append(_BASE32[digit])
    return "".join(chars)

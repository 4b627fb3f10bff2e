"""The conversation planner: who says which corpus turn when, in a chunk of channels. Keyed, vectorised.

The run's messages, in id order, replay the corpus as one tape (its conversations one after another, from a
keyed origin), so every turn is replayed equally often and each message knows its replay number. A
channel's history is a run of sessions; each goes on with the channel's stretch of the tape among 2-4
members who had joined by then (chosen by activity; a DM's two members), turn by turn, seconds to minutes
apart; sessions are hours or days apart, on a day/night and weekly rhythm. Turns alternate between two
sides (participants 0 and 2, and 1 and 3), so consecutive messages change speaker; a session whose first
speaker spoke last before it has its participants rotated, and a reply by its parent's author goes to someone
else. A threaded top-level message's replies are the tape's next turns; the channel's next top-level message
continues after them. Reactions come from members who had joined before the message, never its author,
seconds to hours after it.

Inputs are the counts the dataset fixes with its own keyed draws (top-level messages per channel, replies
per top-level message, reactions per message); every draw here is keyed by (channel key, session or turn key),
so a channel's history does not depend on which other channels share its chunk, nor on any order of calls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from backend.seeding.keyed import FloatArray, IntArray, Keyed, group_ranks, ranges, repeat_ranges, to_cdf

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

TABLE = "messages"
REACTIONS_TABLE = "message_reactions"
# A top-level message's replies get turn keys top_local * REPLY_SLOTS + 1, + 2, ...: at most 7 per thread.
REPLY_SLOTS = 8
PARTICIPANTS_CDF = to_cdf([45, 35, 20])  # a group session has 2, 3 or 4 participants
SESSION_TOPS = 6.0  # mean top-level messages per session (lengths are geometric)
TURN_GAP = (15 * SECOND, 6 * MINUTE)  # log-uniform gap between consecutive turns
REACTION_DELAY = (20 * SECOND, 20 * HOUR)  # log-uniform: p50 about 20 minutes, p90 about 9 hours
SESSION_FILL = 0.8  # a session ends before 80 % of the time to the next one has passed
END_MARGIN = 2 * HOUR  # the last session ends this long before the window's end (reactions fit after it)
# Per number of participants n: where each of the 4 slots takes its participant from when a session's first
# n move one place round (the slots past n stay).
_ROTATIONS = np.array([[(slot + 1) % n if slot < n else slot for slot in range(4)] for n in range(5)])
# Share of chat activity by hour of day (UTC): quiet nights, busy working hours.
DIURNAL = to_cdf([1, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 11, 9, 11, 12, 12, 11, 9, 7, 6, 5, 4, 3, 2])
WEEKEND_KEPT = (
    0.3  # a session that falls on a Saturday or Sunday stays there this often, else moves to Friday
)


@dataclass(frozen=True)
class Members:
    """The members of a chunk of channels, flattened; each channel's members sorted by join time."""

    offset: IntArray  # per channel: index of its first member
    count: IntArray  # per channel
    joined: IntArray  # per member: join time (µs since the epoch), non-decreasing within a channel
    activity: FloatArray  # per member: weight > 0 for being chosen to talk

    def present(self, channel: IntArray, at: IntArray) -> IntArray:
        """How many of each channel's members had joined at time `at` (pairs of arrays, vectorised).

        Compared in whole seconds, rounding joins up and times down, so a member counted as present had
        joined by `at` (one who joined earlier within the same second may be missed; callers put floors
        on whole seconds after the joins they rely on).
        """
        member_channel = np.repeat(np.arange(len(self.count), dtype=np.int64), self.count)
        joined = -(-self.joined // SECOND)
        base = int(joined.min()) if len(joined) else 0
        span = int(joined.max()) - base + 2 if len(joined) else 2
        keys = member_channel * span + (joined - base)
        probe = channel * span + np.clip(at // SECOND - base, -1, span - 1)
        return np.searchsorted(keys, probe, side="right") - self.offset[channel]  # type: ignore[no-any-return]

    def floor(self, needed: IntArray) -> IntArray:
        """Per channel: the first whole second at which its first `needed` members had all joined."""
        last = self.joined[self.offset + np.maximum(np.minimum(needed, self.count), 1) - 1]
        return (-(-last // SECOND)) * SECOND  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Threads:
    """What the dataset's keyed draws fixed for a chunk of channels."""

    key: IntArray  # per channel: its global index (the draw key)
    is_dm: npt.NDArray[np.bool_]  # per channel
    tops: IntArray  # per channel: top-level messages
    replies: IntArray  # per top-level message, in (channel, top_local) order: replies it gets
    floor: IntArray  # per channel: sessions start no earlier (enough members have joined by then)
    end: int  # the window's end (µs)
    first_message: IntArray  # per channel: index of its first generated message among the run's messages


@dataclass(frozen=True)
class History:
    """A chunk's messages in (channel, time) order: the order their ids are given in."""

    channel: IntArray  # chunk-local channel ordinal
    turn_key: IntArray  # top_local * REPLY_SLOTS + reply number (0: the top-level message): the draw key
    position: IntArray  # index of the message within its channel (0 = oldest)
    parent: IntArray  # index (into these arrays) of the top-level message a reply answers; -1 if top-level
    author: IntArray  # flat member index
    addressee: IntArray  # flat member index of another participant (whom a mention names)
    created: IntArray  # µs
    corpus_turn: IntArray  # the corpus turn whose text the message carries
    replay: IntArray  # how many times the run replayed the whole corpus before this message


def _log_uniform(uniforms: FloatArray, bounds: tuple[int, int]) -> IntArray:
    low, high = bounds
    return np.exp(math.log(low) + uniforms * math.log(high / low)).astype(np.int64)


def pick_weighted_distinct(
    uniforms: FloatArray,
    first: IntArray,
    size: IntArray,
    taken: list[IntArray],
    cumulative: FloatArray,
    weights: FloatArray,
) -> IntArray:
    """Flat indexes drawn with probability ∝ weight from [first, first + size), skipping those in `taken`.

    `cumulative` is the running sum of `weights` over the flat array. Each entry of `taken` is a flat index
    per row (or -1 for none); a row must have more than len(taken) candidates left.
    """
    base = np.where(first > 0, cumulative[np.maximum(first - 1, 0)], 0.0)
    total = cumulative[first + size - 1] - base
    removed = [np.where(t >= 0, weights[np.maximum(t, 0)], 0.0) for t in taken]
    target = uniforms * (total - sum(removed, np.zeros_like(total)))
    # Walk the taken items in flat order: each one at or below the target pushes it past itself.
    if taken:
        stacked = np.stack(taken, axis=1)
        stacked = np.sort(np.where(stacked >= 0, stacked, np.iinfo(np.int64).max), axis=1)
        for column in stacked.T:
            valid = column != np.iinfo(np.int64).max
            at = np.where(valid, column, 0)
            before = np.where(at > 0, cumulative[np.maximum(at - 1, 0)], 0.0) - base
            push = valid & (target >= before)
            target = np.where(push, target + weights[at], target)
    flat = np.searchsorted(cumulative, base + target, side="right")
    return np.clip(flat, first, first + size - 1)


def plan_messages(keyed: Keyed, corpus_turns: IntArray, threads: Threads, members: Members) -> History:
    """Lay out every message of the chunk: session, speaker, time and corpus turn.

    `corpus_turns` is the corpus' conversation_start array (turn index where each conversation starts, then
    the total number of turns).
    """
    k = keyed
    n_channels = len(threads.tops)
    top_channel = np.repeat(np.arange(n_channels, dtype=np.int64), threads.tops)
    top_local = repeat_ranges(threads.tops)
    top_key = threads.key[top_channel]
    if len(top_channel) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return History(empty, empty, empty, empty, empty, empty, empty, empty, empty)

    # Sessions: a top-level message starts one with probability 1/SESSION_TOPS (the first always does).
    new = (top_local == 0) | k.chance(TABLE, "session_break", 1.0 / SESSION_TOPS, top_key, top_local)
    top_session = np.cumsum(new) - 1
    session_first_top = np.flatnonzero(new)
    session_channel = top_channel[session_first_top]
    session_key = top_local[session_first_top]  # a session is keyed by its first top-level message
    n_sessions = len(session_first_top)

    # Turns: each top-level message, then its replies.
    turn_top = np.repeat(np.arange(len(top_channel), dtype=np.int64), 1 + threads.replies)
    reply_no = repeat_ranges(1 + threads.replies)
    turn_channel = top_channel[turn_top]
    turn_session = top_session[turn_top]
    turn_key = top_local[turn_top] * REPLY_SLOTS + reply_no
    turn_pos = group_ranks(turn_session)  # index within the session
    session_turns = np.bincount(turn_session, minlength=n_sessions)
    ch_key = threads.key[turn_channel]
    s_key = threads.key[session_channel]

    # Which corpus turn: the run's messages, in id order, replay the corpus as one tape from a keyed origin.
    # Each turn is then replayed equally often (few texts repeat), a session goes on from where the
    # channel's previous one stopped (or runs into the next conversation, as a chat moves to a new topic),
    # and a message knows how many times its turn was replayed before: the text's variant (chat_text).
    conversation_start = corpus_turns
    n_corpus_turns = int(conversation_start[-1])
    origin = int(k.integers(TABLE, "corpus_origin", 0, n_corpus_turns, 0)[0])
    tape = origin + threads.first_message[turn_channel] + group_ranks(turn_channel)
    corpus_turn = tape % n_corpus_turns
    replay = tape // n_corpus_turns
    # Sides alternate along the tape, so they still do where it runs from one conversation into the next.
    side = tape % 2

    # When: sorted keyed times in [floor, end - margin), moved onto the weekly and daily rhythm.
    session_start = _session_starts(k, threads, session_channel, s_key, session_key)
    next_start = np.r_[session_start[1:], threads.end]
    last_in_channel = np.r_[session_channel[1:] != session_channel[:-1], True]
    next_start = np.where(last_in_channel, threads.end - END_MARGIN // 2, next_start)

    # Who: 2-4 members present at the session's start, by activity, distinct.
    present = members.present(session_channel, session_start)
    wanted = np.where(
        threads.is_dm[session_channel],
        2,
        2 + k.choice(TABLE, "participants", PARTICIPANTS_CDF, s_key, session_key),
    )
    # A thread answered back on its author's side needs a second member on each side, or its author
    # would answer their own message: such sessions get four participants when four are present.
    long_thread = np.maximum.reduceat(threads.replies, session_first_top) >= 2 if n_sessions else new[:0]
    wanted = np.where(long_thread & ~threads.is_dm[session_channel], 4, wanted)
    n_part = np.minimum(wanted, present)
    first = members.offset[session_channel]
    cumulative = np.cumsum(members.activity)
    participants: list[IntArray] = []
    count = members.count[session_channel]
    for slot in range(4):
        u = k.uniform(TABLE, f"participant_{slot}", s_key, session_key)
        # Slots past n_part are drawn too (and dropped), within the channel so indexes stay valid.
        size = np.minimum(np.maximum(present, slot + 1), count)
        pick = pick_weighted_distinct(u, first, size, participants, cumulative, members.activity)
        participants.append(np.where(slot < n_part, pick, -1))
    part = np.stack(participants, axis=1)  # sessions x 4

    # Speaker of each turn: side A -> participants 0 or 2, side B -> 1 or 3.
    t_n = n_part[turn_session]
    on_side = np.where(side == 0, (t_n + 1) // 2, t_n // 2)
    choice = k.integers(TABLE, "speaker", 0, np.maximum(on_side, 1), ch_key, turn_key)
    slot = side + 2 * choice
    author = part[turn_session, slot]
    # A session goes on with the tape where the channel's previous one stopped: its first speaker must not be
    # whoever spoke last, or they would answer themselves. Where it is, the session's participants move one
    # place round (a derangement: every slot gets someone else).
    # Rotating a session changes who spoke last before the next one, so this goes on until none repeats
    # (each pass settles at least the earliest session left in each channel).
    first_turn = np.flatnonzero(turn_pos == 0)
    after = first_turn[first_turn > 0]
    after = after[(turn_channel[after] == turn_channel[after - 1]) & (n_part[turn_session[after]] >= 2)]
    after_session = turn_session[after]
    candidates = after
    while len(candidates):
        repeat = candidates[author[candidates] == author[candidates - 1]]
        if not len(repeat):
            break
        rotate = turn_session[repeat]
        part[rotate] = part[rotate[:, None], _ROTATIONS[n_part[rotate]]]
        # Only the rotated sessions' speakers change, and a session's turns are consecutive.
        turns = ranges(first_turn[rotate], session_turns[rotate])
        author[turns] = part[turn_session[turns], slot[turns]]
        # So only a session rotated now, or the one after it, can repeat a speaker in the next pass.
        touched = np.zeros(n_sessions + 1, dtype=bool)
        touched[rotate] = True
        touched[rotate + 1] = True
        candidates = after[touched[after_session]]
    # A reply by the parent's author goes to another participant who did not speak just before or just after;
    # with two participants there is no such one, and the author answers back in their own thread.
    parent_turn = np.flatnonzero(reply_no == 0)[turn_top] if len(turn_top) else turn_top
    previous = np.r_[-1, author[:-1]]
    following = np.r_[author[1:], -1]
    clash = (reply_no > 0) & (author == author[parent_turn])
    rotation = k.integers(TABLE, "stand_in", 0, 4, ch_key, turn_key)
    for step in range(4):
        candidate = part[turn_session, (rotation + step) % 4]
        fits = clash & (candidate >= 0) & (candidate != author[parent_turn])
        fits &= (candidate != previous) & (candidate != following)
        author = np.where(fits, candidate, author)
        clash &= ~fits

    # Whom a message addresses: the previous speaker, else a participant of the other side, else anyone.
    previous = np.r_[-1, author[:-1]]
    addressee = np.where((turn_pos > 0) & (previous != author), previous, -1)
    for candidate in (part[turn_session, 1 - side], *(part[turn_session, slot] for slot in range(4))):
        addressee = np.where((addressee < 0) & (candidate >= 0) & (candidate != author), candidate, addressee)

    # Time of each turn: keyed gaps, squeezed when the session would run into the next one.
    gap = _log_uniform(k.uniform(TABLE, "turn_gap", ch_key, turn_key), TURN_GAP)
    gap = np.where(turn_pos == 0, 0, gap)
    running = np.cumsum(gap)
    session_first_turn = np.r_[0, np.cumsum(session_turns)[:-1]].astype(np.int64)
    session_last_turn = session_first_turn + session_turns - 1
    elapsed = running - running[session_first_turn][turn_session]
    duration = np.maximum(running[session_last_turn] - running[session_first_turn], 1)
    room = np.maximum(next_start - session_start, 0) * SESSION_FILL
    scale = np.minimum(1.0, room / duration)
    created = session_start[turn_session] + (elapsed * scale[turn_session]).astype(np.int64) + turn_pos

    position = group_ranks(turn_channel)
    parent = np.where(reply_no > 0, parent_turn, -1)
    return History(
        channel=turn_channel,
        turn_key=turn_key,
        position=position,
        parent=parent,
        author=author,
        addressee=addressee,
        created=created,
        corpus_turn=corpus_turn,
        replay=replay,
    )


def _session_starts(
    k: Keyed, threads: Threads, session_channel: IntArray, s_key: IntArray, session_key: IntArray
) -> IntArray:
    """Each session's start: keyed in the channel's span, on the rhythm, then sorted within the channel."""
    floor = threads.floor[session_channel]
    latest = np.maximum(threads.end - END_MARGIN, floor + 1)
    t = floor + (k.uniform(TABLE, "session_day", s_key, session_key) * (latest - floor)).astype(np.int64)
    day = t // DAY
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday
    keep = k.chance(TABLE, "weekend_kept", WEEKEND_KEPT, s_key, session_key)
    day = np.where((weekday >= 5) & ~keep, day - (weekday - 4), day)
    hour = k.choice(TABLE, "session_hour", DIURNAL, s_key, session_key)
    within = (k.uniform(TABLE, "session_second", s_key, session_key) * HOUR).astype(np.int64)
    t = day * DAY + hour * HOUR + within
    t = np.clip(t, floor, latest)
    order = np.lexsort((t, session_channel))
    return t[order]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Reactions:
    message: IntArray  # index into the History arrays
    user: IntArray  # flat member index
    created: IntArray


def plan_reactions(
    keyed: Keyed, history: History, counts: IntArray, threads: Threads, members: Members
) -> Reactions:
    """Reactions by distinct members present at the message's time, never its author, shortly after it.

    counts[i] reactions for history message i; each must be below the members present at its time (the
    dataset caps counts by the members present at the channel's floor, and sessions start after it).
    """
    k = keyed
    which = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    nth = repeat_ranges(counts)
    channel = history.channel[which]
    ch_key = threads.key[channel]
    key = history.turn_key[which]
    present = members.present(channel, history.created[which])
    others = np.maximum(present - 1, 1)
    start = k.integers(REACTIONS_TABLE, "first_reactor", 0, others, ch_key, key)
    first = members.offset[channel]
    author_pos = history.author[which] - first
    pos = (start + nth) % others
    pos = pos + (pos >= author_pos)
    reaction_key = key * 16 + nth
    delay = _log_uniform(k.uniform(REACTIONS_TABLE, "delay", ch_key, reaction_key), REACTION_DELAY)
    created = np.minimum(history.created[which] + delay, threads.end)
    return Reactions(message=which, user=first + pos, created=created)

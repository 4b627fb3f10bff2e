"""The conversation planner: causality, speakers, threads, rhythm, reactions, and keyed determinism."""

from __future__ import annotations

import numpy as np
import pytest

from backend.seeding.conversation import (
    DAY,
    HOUR,
    MINUTE,
    SECOND,
    History,
    Members,
    Reactions,
    Threads,
    plan_messages,
    plan_reactions,
)
from backend.seeding.corpus import load_corpus
from backend.seeding.keyed import Keyed

START = 1_700_000_000 * SECOND
END = START + 180 * DAY
MAX_REACTIONS = 3


def _chunk(keys: np.ndarray, seed: int = 5) -> tuple[Threads, Members, np.ndarray]:
    """Channels with the given keys; their members, joins and counts depend only on each key."""
    sizes, joined, activity, replies, dms = [], [], [], [], []
    for key in keys.tolist():
        rng = np.random.default_rng([seed, key])
        dm = key % 5 == 0
        size = 2 if dm else int(rng.integers(2, 40))
        sizes.append(size)
        joined.append(np.sort(START + rng.integers(0, 90 * DAY, size)))
        activity.append(rng.pareto(1.16, size) + 0.05)
        replies.append(np.where(rng.random(60) < 0.2, rng.integers(1, 4, 60), 0))
        dms.append(dm)
    count = np.array(sizes, dtype=np.int64)
    members = Members(
        offset=np.r_[0, np.cumsum(count)[:-1]].astype(np.int64),
        count=count,
        joined=np.concatenate(joined).astype(np.int64),
        activity=np.concatenate(activity),
    )
    floor = members.floor(np.minimum(count, MAX_REACTIONS + 1))
    threads = Threads(
        key=keys.astype(np.int64),
        is_dm=np.array(dms),
        tops=np.full(len(keys), 60, dtype=np.int64),
        replies=np.concatenate(replies).astype(np.int64),
        floor=floor,
        end=END,
        first_message=keys.astype(np.int64) * 1000,  # room for each channel's 60 messages and their replies
    )
    return threads, members, count


def _plan(keys: np.ndarray) -> tuple[History, Reactions, Threads, Members]:
    threads, members, count = _chunk(keys)
    corpus = load_corpus("en_US")
    history = plan_messages(Keyed(3), corpus.conversation_start, threads, members)
    cap = np.minimum(count, MAX_REACTIONS + 1)[history.channel] - 1
    wanted = (history.turn_key * 7 + history.channel) % (MAX_REACTIONS + 1)
    reactions = plan_reactions(Keyed(3), history, np.minimum(wanted, cap), threads, members)
    return history, reactions, threads, members


@pytest.fixture(scope="module")
def planned() -> tuple[History, Reactions, Threads, Members]:
    return _plan(np.arange(40, dtype=np.int64) + 100)


def test_messages_follow_joins_and_stay_in_the_window(planned: tuple) -> None:
    history, _, threads, members = planned
    assert len(history.author) == int(threads.tops.sum() + threads.replies.sum())
    assert (members.joined[history.author] <= history.created).all()
    assert (history.created < threads.end).all()
    first, last = (
        members.offset[history.channel],
        members.offset[history.channel] + members.count[history.channel],
    )
    assert ((history.author >= first) & (history.author < last)).all()


def test_time_order_within_a_channel_and_replies_after_parents(planned: tuple) -> None:
    history, _, _, _ = planned
    same = np.diff(history.channel) == 0
    assert (np.diff(history.created)[same] > 0).all()
    assert (np.diff(history.position)[same] == 1).all()
    replies = history.parent >= 0
    parents = history.parent[replies]
    assert (history.parent[parents] == -1).all()  # one level deep
    assert (history.channel[parents] == history.channel[replies]).all()
    assert (history.created[replies] > history.created[parents]).all()


def test_people_answer_each_other(planned: tuple) -> None:
    history, _, _, _ = planned
    assert (history.addressee != history.author).all()  # a mention never names its author
    replies = history.parent >= 0
    self_replies = (history.author[replies] == history.author[history.parent[replies]]).mean()
    assert self_replies < 0.1
    same = np.diff(history.channel) == 0
    consecutive_same = (np.diff(history.author) == 0)[same].mean()
    assert consecutive_same < 0.15


def test_bursts_of_minutes_and_quiet_hours(planned: tuple) -> None:
    history, _, _, _ = planned
    same = np.diff(history.channel) == 0
    gaps = np.diff(history.created)[same]
    assert np.median(gaps) < 10 * MINUTE
    assert (gaps < 5 * MINUTE).mean() > 0.6
    assert (gaps > 6 * HOUR).mean() > 0.03  # sessions are hours or days apart
    hours = (history.created // HOUR) % 24
    night, day = np.isin(hours, [1, 2, 3, 4]).mean(), np.isin(hours, [9, 10, 14, 15]).mean()
    assert day > 3 * night


def test_each_session_has_few_speakers(planned: tuple) -> None:
    history, _, threads, _ = planned
    dm_messages = threads.is_dm[history.channel]
    for channel in np.unique(history.channel[dm_messages]):
        assert len(np.unique(history.author[history.channel == channel])) <= 2


def test_reactions_by_present_members_soon_after(planned: tuple) -> None:
    history, reactions, _, members = planned
    assert len(reactions.user) > 100
    assert (members.joined[reactions.user] <= history.created[reactions.message]).all()
    assert (reactions.user != history.author[reactions.message]).all()
    triples = np.stack([reactions.message, reactions.user], axis=1)
    assert len(np.unique(triples, axis=0)) == len(triples)  # distinct reactors per message
    delay = reactions.created - history.created[reactions.message]
    assert (delay > 0).all()
    assert np.percentile(delay, 90) < DAY
    first = members.offset[history.channel[reactions.message]]
    assert (
        (reactions.user >= first)
        & (reactions.user < first + members.count[history.channel[reactions.message]])
    ).all()


def test_a_channel_does_not_depend_on_its_chunk() -> None:
    """Keyed: channel 117 planned alone or among others gives the same history (principle 2)."""
    together, _, _, members_all = _plan(np.arange(40, dtype=np.int64) + 100)
    alone, _, _, _ = _plan(np.array([117], dtype=np.int64))
    mask = together.channel == 17
    offset = members_all.offset[17]
    assert np.array_equal(together.created[mask], alone.created)
    assert np.array_equal(together.corpus_turn[mask], alone.corpus_turn)
    assert np.array_equal(together.author[mask] - offset, alone.author)


def test_nobody_answers_themselves_from_one_message_to_the_next(planned: tuple) -> None:
    """Sides alternate along the tape, a session does not start with whoever spoke last before it, and a
    reply's stand-in for its parent's author is neither of the speakers around it."""
    history, _, _, _ = planned
    same = np.diff(history.channel) == 0
    assert not (same & (np.diff(history.author) == 0)).any()


def test_sessions_replay_consecutive_corpus_turns(planned: tuple) -> None:
    history, _, _, _ = planned
    """A channel's messages replay the corpus as a tape: each the turn after the previous one (wrapping)."""
    same = np.diff(history.channel) == 0
    turns = int(load_corpus("en_US").conversation_start[-1])
    steps = np.diff(history.corpus_turn)[same] % turns
    assert (steps == 1).all()
    tape = history.replay * turns + history.corpus_turn
    assert (np.diff(tape)[same] == 1).all()


def test_channels_without_messages() -> None:
    threads, members, _ = _chunk(np.arange(3, dtype=np.int64))
    silent = Threads(
        threads.key,
        threads.is_dm,
        threads.tops * 0,
        threads.replies[:0],
        threads.floor,
        END,
        threads.first_message,
    )
    history = plan_messages(Keyed(3), load_corpus("en_US").conversation_start, silent, members)
    assert len(history.author) == 0
    reactions = plan_reactions(Keyed(3), history, np.zeros(0, dtype=np.int64), silent, members)
    assert len(reactions.user) == 0

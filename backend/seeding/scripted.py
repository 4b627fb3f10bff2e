"""A scenario laid out as a run's first users and channels: indexes, instants and per-channel rows.

The seeded entities read this to write a scenario's rows inside the run's id blocks: scripted users are the
run's user indexes 0..S-1 and scripted channels its channel indexes 0..C-1, followed by the generated ones.
Each scripted channel's memberships, messages and reactions come first in the channel's share of the id
blocks; generated messages may follow them, after the script's last message. Columns a scenario leaves out
are the entities' to generate. Everything here is a pure function of (scenario, time window, reaction ids).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from backend.reference_data import REACTIONS
from backend.seeding.keyed import IntArray
from backend.seeding.options import SeedOptions
from backend.seeding.scenario import (
    Generated,
    ResolvedScenario,
    Scenario,
    ScenarioError,
    ScriptedChannel,
    ScriptedUser,
    load_scenario,
    scenario_path,
)

_REFERENCE_ORDER = {code: i for i, (code, _emoji, _name) in enumerate(REACTIONS)}


@dataclass(frozen=True)
class ScriptedMessageRow:
    """One scripted message, by its position in its channel (the scripted ones come first)."""

    local: int
    author: int  # user index
    text: str
    created: int  # microseconds since the epoch
    updated: int
    parent_local: int | None


@dataclass(frozen=True)
class ScriptedReactionRow:
    message_local: int
    reference_index: int  # index into the reference set (and into the run's reaction ids)
    user: int  # user index
    created: int


@dataclass(frozen=True)
class ScriptedChannelRows:
    members: IntArray  # scripted user indexes, owner first
    joined: IntArray
    everyone: bool  # the run's generated users are members too, after these
    messages: tuple[ScriptedMessageRow, ...]
    reactions: tuple[ScriptedReactionRow, ...]
    script_end: int  # generated messages in this channel come after this instant


@dataclass(frozen=True)
class ScriptLayout:
    """The scenario's rows by run index; empty (no users, no channels) when a run has no scenario."""

    users: tuple[ScriptedUser, ...]
    user_created: IntArray
    channels: tuple[ScriptedChannel, ...]
    channel_created: IntArray
    owner: IntArray  # per scripted channel: the owner's user index
    contents: tuple[ScriptedChannelRows, ...]

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    def counts(self) -> dict[str, IntArray]:
        """Per scripted channel: its scripted memberships, messages and reactions."""
        return {
            "members": np.array([len(c.members) for c in self.contents], dtype=np.int64),
            "messages": np.array([len(c.messages) for c in self.contents], dtype=np.int64),
            "reactions": np.array([len(c.reactions) for c in self.contents], dtype=np.int64),
        }

    def user_value(self, u: int, column: str) -> object:
        """A scripted user's column as written in the scenario, or Generated when left out."""
        user = self.users[u]
        value = {
            "name": user.name,
            "email": user.email,
            "bio": user.bio,
            "is_active": user.active,
            "picture": user.picture,
        }[column]
        if column != "bio" and value is None:
            return Generated.VALUE
        return value


EMPTY = ScriptLayout((), np.zeros(0, np.int64), (), np.zeros(0, np.int64), np.zeros(0, np.int64), ())


def layout(scenario: Scenario | None, window_start: int, window_end: int) -> ScriptLayout:
    """The scenario's rows placed in the window [window_start, window_end] (microseconds, UTC)."""
    if scenario is None:
        return EMPTY
    resolved: ResolvedScenario = scenario.resolve(window_start, window_end)
    user_index = {u.handle: i for i, u in enumerate(scenario.users)}
    channel_index = {c.handle: i for i, c in enumerate(scenario.channels)}
    per_channel: list[tuple[list[ScriptedMessageRow], list[ScriptedReactionRow]]] = [
        ([], []) for _ in scenario.channels
    ]
    local_of: dict[int, int] = {}  # index in resolved.messages -> local index in its channel
    for i, message in enumerate(resolved.messages):
        rows, reactions = per_channel[channel_index[message.channel]]
        local = len(rows)
        local_of[i] = local
        parent = None if message.parent is None else local_of[message.parent]
        rows.append(
            ScriptedMessageRow(
                local,
                user_index[message.message.by],
                message.message.text,
                message.created,
                message.updated,
                parent,
            )
        )
        for reaction, at in message.reactions:
            reactions.append(
                ScriptedReactionRow(local, _REFERENCE_ORDER[reaction.code], user_index[reaction.by], at)
            )
    contents = []
    for c, channel in enumerate(scenario.channels):
        rows, reactions = per_channel[c]
        members = np.array([user_index[m] for m in channel.members], dtype=np.int64)
        joined = np.array([resolved.joined[(m, channel.handle)] for m in channel.members], dtype=np.int64)
        # Generated messages come after everything scripted in the channel, edits and reactions included.
        ends = [resolved.channel_created[channel.handle], *(m.updated for m in rows)]
        ends += [r.created for r in reactions]
        contents.append(
            ScriptedChannelRows(members, joined, channel.everyone, tuple(rows), tuple(reactions), max(ends))
        )
    return ScriptLayout(
        users=scenario.users,
        user_created=np.array([resolved.user_created[u.handle] for u in scenario.users], dtype=np.int64),
        channels=scenario.channels,
        channel_created=np.array(
            [resolved.channel_created[c.handle] for c in scenario.channels], dtype=np.int64
        ),
        owner=np.array([user_index[c.owner] for c in scenario.channels], dtype=np.int64),
        contents=tuple(contents),
    )


def options_scenario(options: SeedOptions) -> Scenario | None:
    """The run's scenario, loaded again from its file; refused if the file changed since the options."""
    if not options.scenario:
        return None
    scenario = load_scenario(scenario_path(options.scenario))
    if scenario.digest != options.scenario_digest:
        raise ScenarioError(
            f"{scenario.path}: the scenario file changed while the run was being prepared; run again"
        )
    return scenario


def with_scripted_sizes(options: SeedOptions) -> SeedOptions:
    """The options with the scenario's users and channels added to the generated ones: what estimates
    count (a scenario that cannot be read adds nothing here; seeding refuses it with its reason)."""
    try:
        scenario = options_scenario(options)
    except ScenarioError:
        scenario = None
    if scenario is None:
        return options
    return dataclasses.replace(
        options,
        users=options.users + len(scenario.users),
        channels=options.channels + len(scenario.channels),
    )

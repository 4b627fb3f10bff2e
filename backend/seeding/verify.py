"""Invariants of the chat data as SQL: each one selects the keys of the rows that break it.

INVARIANTS are the chat's own; entities (backend/seeding/entities/) may add checks for their tables, which
run after these. They hold for any database at head schema, seeded or hand-filled, and give the same
answer on SQLite and PostgreSQL. Some repeat what a CHECK or UNIQUE constraint already enforces, because a
database can be migrated from elsewhere, or have had its constraints dropped, and verify must not take them
on trust.

Timestamps are compared column to column (on SQLite they are UTC text in one fixed format, so text order
is time order) and to `now` only through a typed bound parameter, which SQLAlchemy renders per dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, DateTime, Exists, Select, bindparam, exists, func, or_, select
from sqlalchemy.orm import QueryableAttribute, aliased

from backend.models import Channel, Message, MessageReaction, User, UserChannel
from backend.seeding.registry import entity_invariants

SAMPLE_SIZE = 5

# The one parameter an invariant may use; check_invariants binds it.
NOW = bindparam("now", type_=DateTime(timezone=True))

SampleId = int | tuple[int, ...]


@dataclass(frozen=True)
class Invariant:
    """A named rule; `query` selects the key column(s) of every offending row, unordered."""

    name: str
    description: str
    query: Select


@dataclass(frozen=True)
class InvariantResult:
    name: str
    description: str
    violations: int
    sample_ids: tuple[SampleId, ...]

    @property
    def ok(self) -> bool:
        return self.violations == 0


_Parent = aliased(Message, name="parent")


def _is_member(user_id: QueryableAttribute[int], channel_id: QueryableAttribute[int]) -> Exists:
    """EXISTS a membership of user_id in channel_id: a primary-key lookup."""
    return exists().where(UserChannel.user_id == user_id, UserChannel.channel_id == channel_id)


# The primary key (user_id, channel_id) makes every member counted here distinct.
_member_count = select(func.count()).where(UserChannel.channel_id == Channel.id).scalar_subquery()
_replies = select(Message.id).join(_Parent, Message.parent_id == _Parent.id)
_membership_keys = (UserChannel.user_id, UserChannel.channel_id)


def _not_in_future(
    name: str, what: str, keys: Sequence[QueryableAttribute[int]], *columns: QueryableAttribute[datetime]
) -> Invariant:
    return Invariant(
        name, f"no {what} is later than now", select(*keys).where(or_(*(c > NOW for c in columns)))
    )


INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "dm_has_two_members",
        "every DM has exactly 2 distinct members, its owner among them",
        select(Channel.id).where(
            Channel.is_dm,
            or_(_member_count != 2, ~_is_member(Channel.owner_id, Channel.id)),
        ),
    ),
    Invariant(
        "owner_is_member",
        "every channel's owner is a member of it",
        select(Channel.id).where(~_is_member(Channel.owner_id, Channel.id)),
    ),
    Invariant(
        "channel_privacy",
        "join_code is set exactly on private non-DM channels, and every DM is private",
        select(Channel.id).where(
            or_(
                Channel.is_dm & ~Channel.is_private,
                Channel.join_code.is_(None) & Channel.is_private & ~Channel.is_dm,
                Channel.join_code.is_not(None) & (~Channel.is_private | Channel.is_dm),
            )
        ),
    ),
    Invariant(
        "author_is_member",
        "the author of every message, replies included, is a member of the message's channel",
        select(Message.id).where(~_is_member(Message.user_id, Message.channel_id)),
    ),
    Invariant(
        "reactor_is_member",
        "every reaction's user is a member of the reacted message's channel",
        select(MessageReaction.id)
        .join(Message, Message.id == MessageReaction.message_id)
        .where(~_is_member(MessageReaction.user_id, Message.channel_id)),
    ),
    Invariant(
        "reply_parent_is_top_level",
        "replies are one level deep: a reply's parent is not itself a reply",
        _replies.where(_Parent.parent_id.is_not(None)),
    ),
    Invariant(
        "reply_in_parent_channel",
        "every reply is in its parent's channel",
        _replies.where(Message.channel_id != _Parent.channel_id),
    ),
    Invariant(
        "reply_after_parent",
        "every reply is created after its parent",
        _replies.where(Message.created_at <= _Parent.created_at),
    ),
    Invariant(
        "reaction_unique",
        "no user gives the same reaction to the same message twice",
        select(MessageReaction.message_id, MessageReaction.reaction_id, MessageReaction.user_id)
        .group_by(MessageReaction.message_id, MessageReaction.reaction_id, MessageReaction.user_id)
        .having(func.count() > 1),
    ),
    Invariant(
        "reaction_after_message",
        "every reaction is created at or after its message",
        select(MessageReaction.id)
        .join(Message, Message.id == MessageReaction.message_id)
        .where(MessageReaction.created_at < Message.created_at),
    ),
    Invariant(
        "joined_after_created",
        "every member joined at or after both the channel and the user were created",
        select(*_membership_keys)
        .join(Channel, Channel.id == UserChannel.channel_id)
        .join(User, User.id == UserChannel.user_id)
        .where(or_(UserChannel.joined_at < Channel.created_at, UserChannel.joined_at < User.created_at)),
    ),
    Invariant(
        "message_after_author_joined",
        "every message is created at or after its author joined the channel",
        # Messages whose author is no member at all are author_is_member's to report.
        select(Message.id)
        .join(
            UserChannel,
            (UserChannel.user_id == Message.user_id) & (UserChannel.channel_id == Message.channel_id),
        )
        .where(Message.created_at < UserChannel.joined_at),
    ),
    Invariant(
        "reaction_after_reactor_joined",
        "every reaction is created at or after its user joined the message's channel",
        select(MessageReaction.id)
        .join(Message, Message.id == MessageReaction.message_id)
        .join(
            UserChannel,
            (UserChannel.user_id == MessageReaction.user_id) & (UserChannel.channel_id == Message.channel_id),
        )
        .where(MessageReaction.created_at < UserChannel.joined_at),
    ),
    Invariant(
        "updated_after_created",
        "every message's updated_at is at or after its created_at",
        select(Message.id).where(Message.updated_at < Message.created_at),
    ),
    _not_in_future("users_not_in_future", "user's created_at", [User.id], User.created_at),
    _not_in_future("channels_not_in_future", "channel's created_at", [Channel.id], Channel.created_at),
    _not_in_future(
        "memberships_not_in_future", "membership's joined_at", _membership_keys, UserChannel.joined_at
    ),
    _not_in_future(
        "messages_not_in_future",
        "message's created_at or updated_at",
        [Message.id],
        Message.created_at,
        Message.updated_at,
    ),
    _not_in_future(
        "reactions_not_in_future", "reaction's created_at", [MessageReaction.id], MessageReaction.created_at
    ),
)


def check_invariant(connection: Connection, invariant: Invariant, now: datetime) -> InvariantResult:
    """Count one invariant's violations and, only if there are any, fetch the first few offending keys."""
    params = {"now": now}
    # Counting alone lets the planner choose hash joins; an ORDER BY ... LIMIT in the same query (even
    # with count(*) OVER ()) makes PostgreSQL expect an early stop and walk millions of index lookups.
    count = connection.execute(select(func.count()).select_from(invariant.query.subquery()), params)
    violations = int(count.scalar_one())
    sample: tuple[SampleId, ...] = ()
    if violations:
        keys = list(invariant.query.selected_columns)
        rows = connection.execute(invariant.query.order_by(*keys).limit(SAMPLE_SIZE), params)
        sample = tuple(row[0] if len(keys) == 1 else tuple(row) for row in rows)
    return InvariantResult(invariant.name, invariant.description, violations, sample)


def check_invariants(connection: Connection, now: datetime | None = None) -> list[InvariantResult]:
    """Check every invariant, in order; `now` (default: the current UTC time) bounds all timestamps."""
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    # SQLite stores the UTC wall time as text, so the bound value must be in UTC too.
    now = now.astimezone(UTC)
    return [check_invariant(connection, invariant, now) for invariant in (*INVARIANTS, *entity_invariants())]

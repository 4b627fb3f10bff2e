"""A channel's messages as a chat transcript, read from any database (seeded or real). Read-only.

`find_channel` / `find_dm` / `busiest_channel` pick the channel; `load_transcript` reads its latest top-level
messages with their thread replies and reaction counts; `format_transcript` renders them as text: a line per
day, then time, author and text per message, replies indented under their parent, reactions after the
message. Lookups that find nothing raise LookupError with a message naming what to try instead.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, func, or_, select

from backend.models import Channel, Message, MessageReaction, Reaction, User, UserChannel

MAX_LIMIT = 10_000


@dataclass(frozen=True)
class ChannelInfo:
    id: int
    name: str
    is_private: bool
    is_dm: bool
    members: tuple[str, ...]  # member names, for a DM's title
    member_count: int
    top_level: int
    total: int


@dataclass
class Line:
    """One message of the transcript."""

    id: int
    created_at: datetime
    author: str
    content: str
    reactions: list[tuple[str, int]] = field(default_factory=list)
    replies: list[Line] = field(default_factory=list)


@dataclass(frozen=True)
class Transcript:
    channel: ChannelInfo
    messages: list[Line]


def _channel_info(conn: Connection, channel_id: int) -> ChannelInfo:
    channel = conn.execute(select(Channel).where(Channel.id == channel_id)).one()
    member_names = (
        conn.execute(
            select(User.name)
            .join(UserChannel, UserChannel.user_id == User.id)
            .where(UserChannel.channel_id == channel_id)
            .order_by(UserChannel.joined_at, User.id)
            .limit(3 if channel.is_dm else 0)
        )
        .scalars()
        .all()
    )
    member_count = conn.scalar(select(func.count()).where(UserChannel.channel_id == channel_id)) or 0
    total = conn.scalar(select(func.count()).where(Message.channel_id == channel_id)) or 0
    top = conn.scalar(
        select(func.count()).where(Message.channel_id == channel_id, Message.parent_id.is_(None))
    )
    return ChannelInfo(
        channel.id,
        channel.name,
        channel.is_private,
        channel.is_dm,
        tuple(member_names),
        member_count,
        top or 0,
        total,
    )


def busiest_channel(conn: Connection) -> int:
    """The non-DM channel with the most messages (any channel if there are only DMs)."""
    count = func.count(Message.id)
    query = (
        select(Channel.id)
        .join(Message, Message.channel_id == Channel.id, isouter=True)
        .group_by(Channel.id, Channel.is_dm)
        .order_by(Channel.is_dm, count.desc(), Channel.id)
        .limit(1)
    )
    channel_id = conn.scalar(query)
    if channel_id is None:
        raise LookupError("the database has no channels; seed it first: python backend/scripts/seed_data.py")
    return int(channel_id)


def find_channel(conn: Connection, name: str) -> int:
    """A channel by name (a leading # is ignored) or by id; the busiest one if several share the name."""
    wanted = name.removeprefix("#")
    clauses = [Channel.name == wanted]
    if wanted.isdigit():
        clauses.append(Channel.id == int(wanted))
    count = func.count(Message.id)
    channel_id = conn.scalar(
        select(Channel.id)
        .join(Message, Message.channel_id == Channel.id, isouter=True)
        .where(or_(*clauses))
        .group_by(Channel.id)
        .order_by(count.desc(), Channel.id)
        .limit(1)
    )
    if channel_id is None:
        similar = (
            conn.execute(
                select(Channel.name)
                .where(Channel.is_dm.is_(False), func.lower(Channel.name).contains(wanted.lower()[:4]))
                .order_by(Channel.name)
                .limit(5)
            )
            .scalars()
            .all()
        )
        hint = (
            f"; similar: {', '.join(similar)}" if similar else "; omit --channel to see the busiest channel"
        )
        raise LookupError(f"--channel: no channel named {name!r}{hint}")
    return int(channel_id)


def find_dm(conn: Connection, user: str) -> int:
    """The busiest DM of a user given by email, full name or id."""
    clauses = [func.lower(User.email) == user.lower(), User.name == user]
    if user.isdigit():
        clauses.append(User.id == int(user))
    user_id = conn.scalar(select(User.id).where(or_(*clauses)).order_by(User.id).limit(1))
    if user_id is None:
        raise LookupError(f"--dm: no user with the email, name or id {user!r}")
    count = func.count(Message.id)
    channel_id = conn.scalar(
        select(Channel.id)
        .join(UserChannel, UserChannel.channel_id == Channel.id)
        .join(Message, Message.channel_id == Channel.id, isouter=True)
        .where(Channel.is_dm.is_(True), UserChannel.user_id == user_id)
        .group_by(Channel.id)
        .order_by(count.desc(), Channel.id)
        .limit(1)
    )
    if channel_id is None:
        raise LookupError(f"--dm: user {user!r} has no direct messages; try --channel instead")
    return int(channel_id)


def load_transcript(conn: Connection, channel_id: int, limit: int) -> Transcript:
    """The channel's latest `limit` top-level messages, oldest first, with their replies and reactions."""
    info = _channel_info(conn, channel_id)
    columns = (Message.id, Message.created_at, Message.content, Message.parent_id, User.name)
    tops = conn.execute(
        select(*columns)
        .join(User, User.id == Message.user_id)
        .where(Message.channel_id == channel_id, Message.parent_id.is_(None))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    ).all()
    lines = {row.id: Line(row.id, row.created_at, row.name, row.content) for row in reversed(tops)}
    if lines:
        replies = conn.execute(
            select(*columns)
            .join(User, User.id == Message.user_id)
            .where(Message.parent_id.in_(list(lines)))
            .order_by(Message.created_at, Message.id)
        ).all()
        by_id = dict(lines)
        for row in replies:
            reply = Line(row.id, row.created_at, row.name, row.content)
            lines[row.parent_id].replies.append(reply)
            by_id[row.id] = reply
        _attach_reactions(conn, by_id)
    return Transcript(info, list(lines.values()))


def _attach_reactions(conn: Connection, by_id: dict[int, Line]) -> None:
    counted = func.count(MessageReaction.id)
    rows = conn.execute(
        select(MessageReaction.message_id, Reaction.emoji, counted)
        .join(Reaction, Reaction.id == MessageReaction.reaction_id)
        .where(MessageReaction.message_id.in_(list(by_id)))
        .group_by(MessageReaction.message_id, Reaction.emoji)
        .order_by(MessageReaction.message_id, counted.desc(), Reaction.emoji)
    ).all()
    grouped: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for message_id, emoji, count in rows:
        grouped[message_id].append((emoji, int(count)))
    for message_id, reactions in grouped.items():
        by_id[message_id].reactions = reactions


def _title(info: ChannelInfo) -> str:
    if info.is_dm:
        return "DM " + " ↔ ".join(info.members)
    kind = "private" if info.is_private else "public"
    return f"#{info.name} · {kind} · {info.member_count:,} members"


def format_transcript(transcript: Transcript) -> str:
    info = transcript.channel
    shown = len(transcript.messages)
    out = [
        f"{_title(info)} · {info.total:,} messages",
        f"the latest {shown:,} of {info.top_level:,} top-level messages, with their replies (times in UTC)",
    ]
    if not transcript.messages:
        out.append("(no messages)")
    day = ""
    for line in transcript.messages:
        this_day = line.created_at.strftime("%a %Y-%m-%d")
        if this_day != day:
            out.append(f"── {this_day} ──")
            day = this_day
        out.extend(_render(line, indent=""))
        for reply in line.replies:
            out.extend(_render(reply, indent="        ↳ ", same_day=this_day))
    return "\n".join(out)


def _render(line: Line, indent: str, same_day: str = "") -> list[str]:
    when = line.created_at.strftime("%H:%M")
    if same_day and line.created_at.strftime("%a %Y-%m-%d") != same_day:
        when = line.created_at.strftime("%m-%d %H:%M")
    head = f"{indent}{when}  {line.author}: "
    pad = " " * len(head)
    text_lines = line.content.splitlines() or [""]
    rendered = [head + text_lines[0], *(pad + rest for rest in text_lines[1:])]
    if line.reactions:
        rendered.append(pad + "  ".join(f"{emoji} {count}" for emoji, count in line.reactions))
    return rendered

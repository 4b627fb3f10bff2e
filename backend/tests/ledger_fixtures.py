"""Test data written by direct inserts: "seeded runs" exactly as the ledger contract says, and "real" rows.

The seeder has its own tests; these helpers let cleanup and status be tested against the contract alone:
each id table gets one contiguous block starting past every id in use, memberships carry seed_run_id, and a
seed_runs row plus one seed_run_blocks row per id table record it all in the caller's transaction.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, text, update

from backend.models import (
    Base,
    Channel,
    Message,
    MessageReaction,
    Reaction,
    SeedRun,
    SeedRunBlock,
    User,
    UserChannel,
)
from backend.seeding import registry
from backend.tests.helpers import T0

ID_TABLES = registry.id_block_tables()


@dataclass
class SeededRun:
    """What write_seeded_run wrote: the run id and every key, for tests to check against."""

    run_id: int
    users: list[int] = field(default_factory=list)
    channels: list[int] = field(default_factory=list)
    top_level: list[int] = field(default_factory=list)
    replies: list[int] = field(default_factory=list)
    reactions: list[int] = field(default_factory=list)
    memberships: list[tuple[int, int]] = field(default_factory=list)

    @property
    def messages(self) -> list[int]:
        return sorted(self.top_level + self.replies)

    def keys(self) -> dict[str, set[Any]]:
        """Primary keys per table of every row this run owns (ledger rows included)."""
        return {
            "users": set(self.users),
            "channels": set(self.channels),
            "messages": set(self.messages),
            "message_reactions": set(self.reactions),
            "user_channels": set(self.memberships),
            "seed_runs": {self.run_id},
            "seed_run_blocks": {(self.run_id, t) for t in ID_TABLES},
        }

    def row_counts(self) -> dict[str, int]:
        return {
            "users": len(self.users),
            "channels": len(self.channels),
            "user_channels": len(self.memberships),
            "messages": len(self.messages),
            "message_reactions": len(self.reactions),
        }


def _sequence_issued(conn: Connection, table: str) -> int:
    if conn.dialect.name != "postgresql":
        return 0
    seq = conn.exec_driver_sql(f"SELECT pg_get_serial_sequence('{table}', 'id')").scalar_one()
    last, called = conn.exec_driver_sql(f"SELECT last_value, is_called FROM {seq}").one()
    return int(last) if called else int(last) - 1


def _first_free_id(conn: Connection, table: str) -> int:
    top = int(conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar_one())
    return max(top, _sequence_issued(conn, table)) + 1


def _advance_sequence(conn: Connection, table: str, last: int) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last})"))


def reaction_ids(conn: Connection) -> list[int]:
    return list(conn.execute(select(Reaction.id).order_by(Reaction.id)).scalars())


def write_seeded_run(
    conn: Connection,
    rng: random.Random,
    *,
    users: int = 6,
    channels: int = 4,
    messages: int = 12,
    replies: int = 8,
    reactions: int = 10,
    nested_replies: bool = True,
) -> SeededRun:
    """Write one seeding run's rows and its ledger entry, as the seeder does, in the caller's transaction."""
    starts = {t: _first_free_id(conn, t) for t in ID_TABLES}
    run_id = int(
        conn.execute(
            insert(SeedRun)
            .values(
                profile="test",
                seed=rng.randrange(1 << 31),
                as_of=T0.date(),
                options_json="{}",
                options_digest="0" * 64,
                faker_version="0",
                generator_version="test",
                row_counts_json="{}",
                started_at=T0,
                finished_at=T0,
            )
            .returning(SeedRun.id)
        ).scalar_one()
    )
    run = SeededRun(run_id)
    tag = f"r{run_id}"

    user_rows = []
    for i in range(users):
        uid = starts["users"] + i
        run.users.append(uid)
        user_rows.append(
            {
                "id": uid,
                "auth0_id": f"auth0|seed-{tag}-{i}",
                "email": f"seed.{tag}.{i}@example.test",
                "is_active": rng.random() < 0.9,
                "created_at": T0 + timedelta(minutes=i),
                "name": f"Seeded {tag} {i}",
                "picture": None,
                "bio": rng.choice([None, "seeded bio"]),
            }
        )
    if user_rows:
        conn.execute(insert(User), user_rows)

    channel_rows, members_of = [], {}
    for i in range(channels if users else 0):
        cid = starts["channels"] + i
        is_dm = users >= 2 and i % 3 == 2
        is_private = is_dm or i % 3 == 1
        owner = rng.choice(run.users)
        run.channels.append(cid)
        channel_rows.append(
            {
                "id": cid,
                "name": f"seed-{tag}-{i}",
                "description": None,
                "owner_id": owner,
                "created_at": T0 + timedelta(hours=i),
                "is_private": is_private,
                "is_dm": is_dm,
                "join_code": f"S{tag}C{i}" if is_private and not is_dm else None,
            }
        )
        others = [u for u in run.users if u != owner]
        extra = 1 if is_dm else rng.randint(0, len(others))
        members_of[cid] = [owner, *rng.sample(others, extra)]
    if channel_rows:
        conn.execute(insert(Channel), channel_rows)
    membership_rows = []
    for cid, members in members_of.items():
        for uid in members:
            run.memberships.append((uid, cid))
            membership_rows.append(
                {"user_id": uid, "channel_id": cid, "joined_at": T0, "seed_run_id": run_id}
            )
    if membership_rows:
        conn.execute(insert(UserChannel), membership_rows)

    # Top-level messages first, then replies: parents always precede their replies, as in FK order.
    message_rows: list[dict[str, Any]] = []
    next_id = starts["messages"]
    for i in range(messages if channels else 0):
        cid = rng.choice(run.channels)
        message_rows.append(_message_row(next_id, rng.choice(members_of[cid]), cid, None, i))
        run.top_level.append(next_id)
        next_id += 1
    for i in range(replies if message_rows else 0):
        parent = rng.choice(message_rows if nested_replies else message_rows[:messages])
        cid = parent["channel_id"]
        message_rows.append(_message_row(next_id, rng.choice(members_of[cid]), cid, parent["id"], 100 + i))
        run.replies.append(next_id)
        next_id += 1
    if message_rows:
        conn.execute(insert(Message), message_rows)

    triples: set[tuple[int, int, int]] = set()
    kinds = reaction_ids(conn)
    reaction_rows = []
    for _ in range(reactions * 3):
        if len(reaction_rows) == reactions or not message_rows:
            break
        row = rng.choice(message_rows)
        triple = (row["id"], rng.choice(kinds), rng.choice(members_of[row["channel_id"]]))
        if triple in triples:
            continue
        triples.add(triple)
        rid = starts["message_reactions"] + len(reaction_rows)
        run.reactions.append(rid)
        reaction_rows.append(
            {
                "id": rid,
                "message_id": triple[0],
                "reaction_id": triple[1],
                "user_id": triple[2],
                "created_at": T0,
            }
        )
    if reaction_rows:
        conn.execute(insert(MessageReaction), reaction_rows)

    written = {
        "users": run.users,
        "channels": run.channels,
        "messages": run.messages,
        "message_reactions": run.reactions,
    }
    # Every id-block table gets a block, empty for tables these helpers do not write.
    for table_name in ID_TABLES:
        ids = written.get(table_name, [])
        first = starts[table_name]
        assert ids == list(range(first, first + len(ids))), "blocks must be contiguous"
        conn.execute(
            insert(SeedRunBlock).values(
                run_id=run_id,
                table_name=table_name,
                first_id=first,
                last_id=first + len(ids) - 1,
                row_count=len(ids),
            )
        )
        if ids:
            _advance_sequence(conn, table_name, ids[-1])
    conn.execute(
        update(SeedRun)
        .where(SeedRun.id == run_id)
        .values(row_counts_json=json.dumps(run.row_counts()), finished_at=T0 + timedelta(seconds=run_id))
    )
    return run


def _message_row(mid: int, uid: int, cid: int, parent: int | None, minute: int) -> dict[str, Any]:
    at = T0 + timedelta(minutes=minute)
    return {
        "id": mid,
        "content": f"message {mid}",
        "created_at": at,
        "updated_at": at,
        "user_id": uid,
        "channel_id": cid,
        "parent_id": parent,
    }


@dataclass
class RealRows:
    """Inserts "real" rows the way the app would (ids from the database) and remembers their keys."""

    users: list[int] = field(default_factory=list)
    channels: list[int] = field(default_factory=list)
    messages: list[int] = field(default_factory=list)
    reactions: list[int] = field(default_factory=list)
    memberships: list[tuple[int, int]] = field(default_factory=list)
    serial: int = 0

    def keys(self) -> dict[str, set[Any]]:
        return {
            "users": set(self.users),
            "channels": set(self.channels),
            "messages": set(self.messages),
            "message_reactions": set(self.reactions),
            "user_channels": set(self.memberships),
        }

    def _next(self) -> int:
        self.serial += 1
        return self.serial

    def user(self, conn: Connection) -> int:
        n = self._next()
        uid = conn.execute(
            insert(User)
            .values(
                auth0_id=f"auth0|real-{n}",
                email=f"real{n}@example.com",
                is_active=True,
                created_at=T0 + timedelta(seconds=n),
                name=f"Real {n}",
                picture=f"https://example.com/{n}.png",
                bio="real bio",
            )
            .returning(User.id)
        ).scalar_one()
        self.users.append(int(uid))
        return int(uid)

    def channel(self, conn: Connection, owner: int, private: bool = False) -> int:
        n = self._next()
        cid = conn.execute(
            insert(Channel)
            .values(
                name=f"real-{n}",
                description="a real channel",
                owner_id=owner,
                created_at=T0 + timedelta(seconds=n),
                is_private=private,
                is_dm=False,
                join_code=f"REAL{n}" if private else None,
            )
            .returning(Channel.id)
        ).scalar_one()
        self.channels.append(int(cid))
        return int(cid)

    def membership(self, conn: Connection, user: int, channel: int) -> tuple[int, int]:
        conn.execute(
            insert(UserChannel).values(
                user_id=user, channel_id=channel, joined_at=T0 + timedelta(seconds=self._next())
            )
        )
        self.memberships.append((user, channel))
        return user, channel

    def message(self, conn: Connection, user: int, channel: int, parent: int | None = None) -> int:
        n = self._next()
        at = T0 + timedelta(seconds=n)
        mid = conn.execute(
            insert(Message)
            .values(
                content=f"real message {n} ✓",
                created_at=at,
                updated_at=at + timedelta(seconds=n % 3),
                user_id=user,
                channel_id=channel,
                parent_id=parent,
            )
            .returning(Message.id)
        ).scalar_one()
        self.messages.append(int(mid))
        return int(mid)

    def reaction(self, conn: Connection, message: int, user: int, reaction_id: int) -> int:
        rid = conn.execute(
            insert(MessageReaction)
            .values(
                message_id=message,
                reaction_id=reaction_id,
                user_id=user,
                created_at=T0 + timedelta(seconds=self._next()),
            )
            .returning(MessageReaction.id)
        ).scalar_one()
        self.reactions.append(int(rid))
        return int(rid)


def write_real_rows(conn: Connection, rng: random.Random, real: RealRows, rounds: int = 10) -> None:
    """Random real activity that references only real rows: new users, channels, joins, posts, replies
    (replies to replies included) and reactions."""
    kinds = reaction_ids(conn)
    if len(real.users) < 2:
        for _ in range(2):
            real.user(conn)
    if not real.channels:
        real.channel(conn, real.users[0])
    reacted = set()
    for _ in range(rounds):
        action = rng.choice(("user", "channel", "join", "post", "reply", "react", "post", "reply"))
        if action == "user":
            real.user(conn)
        elif action == "channel":
            real.channel(conn, rng.choice(real.users), private=rng.random() < 0.5)
        elif action == "join":
            pair = (rng.choice(real.users), rng.choice(real.channels))
            if pair not in real.memberships:
                real.membership(conn, *pair)
        elif action == "post" or not real.messages:
            real.message(conn, rng.choice(real.users), rng.choice(real.channels))
        elif action == "reply":
            parent = rng.choice(real.messages)
            channel = conn.execute(select(Message.channel_id).where(Message.id == parent)).scalar_one()
            real.message(conn, rng.choice(real.users), channel, parent)
        else:
            triple = (rng.choice(real.messages), rng.choice(real.users), rng.choice(kinds))
            if triple not in reacted:
                reacted.add(triple)
                exists = conn.execute(
                    select(MessageReaction.id).where(
                        MessageReaction.message_id == triple[0],
                        MessageReaction.user_id == triple[1],
                        MessageReaction.reaction_id == triple[2],
                    )
                ).first()
                if exists is None:
                    real.reaction(conn, *triple)


def dump(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ordered by primary key: equal dumps mean equal data."""
    out = {}
    for tbl in Base.metadata.sorted_tables:
        name = tbl.name
        pk = list(tbl.primary_key.columns)
        out[name] = [tuple(r) for r in conn.execute(select(tbl).order_by(*pk))]
    return out


def row_key(table_name: str, row: tuple[Any, ...]) -> Any:
    """The primary key of a dumped row, in the shapes SeededRun.keys() and RealRows.keys() use."""
    tbl = Base.metadata.tables[table_name]
    names = list(tbl.columns.keys())
    key = [row[names.index(c.name)] for c in tbl.primary_key.columns]
    return key[0] if len(key) == 1 else tuple(key)


def without(
    snapshot: dict[str, list[tuple[Any, ...]]], *removed: dict[str, set[Any]]
) -> dict[str, list[tuple[Any, ...]]]:
    """The snapshot minus the rows whose keys are listed (per table)."""
    out = {}
    for name, rows in snapshot.items():
        gone: set[Any] = set().union(*(r.get(name, set()) for r in removed)) if removed else set()
        out[name] = [row for row in rows if row_key(name, row) not in gone]
    return out

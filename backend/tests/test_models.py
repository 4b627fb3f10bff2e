"""Each database constraint rejects a violating row, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import DataError, IntegrityError

from backend.models import Channel, Message, MessageReaction, User, UserChannel
from backend.tests.helpers import T0


def _user(conn: Connection, n: int, **over: Any) -> int:
    values = {
        "auth0_id": f"auth0|{n:032d}",
        "email": f"user{n}@example.com",
        "is_active": True,
        "created_at": T0,
        "name": f"User {n}",
        "picture": None,
        "bio": "hi",
    } | over
    return int(conn.execute(insert(User).values(**values).returning(User.id)).scalar_one())


def _channel(conn: Connection, owner: int, **over: Any) -> int:
    values = {
        "name": "general",
        "description": "d",
        "owner_id": owner,
        "created_at": T0,
        "is_private": False,
        "is_dm": False,
        "join_code": None,
    } | over
    return int(conn.execute(insert(Channel).values(**values).returning(Channel.id)).scalar_one())


def _message(conn: Connection, user: int, channel: int, **over: Any) -> int:
    values = {
        "content": "hello",
        "created_at": T0,
        "updated_at": T0,
        "user_id": user,
        "channel_id": channel,
        "parent_id": None,
    } | over
    return int(conn.execute(insert(Message).values(**values).returning(Message.id)).scalar_one())


def _fixture(conn: Connection) -> dict[str, int]:
    user = _user(conn, 1)
    channel = _channel(conn, user)
    message = _message(conn, user, channel)
    return {"user": user, "channel": channel, "message": message}


def test_valid_rows_are_accepted(engine: Engine) -> None:
    with engine.begin() as conn:
        ids = _fixture(conn)
        _channel(conn, ids["user"], name="secret", is_private=True, join_code="ABC123")
        _channel(conn, ids["user"], name="dm", is_private=True, is_dm=True, description=None)
        conn.execute(insert(UserChannel).values(user_id=ids["user"], channel_id=ids["channel"], joined_at=T0))
        conn.execute(
            insert(MessageReaction).values(
                message_id=ids["message"], reaction_id=1, user_id=ids["user"], created_at=T0
            )
        )


VIOLATIONS: dict[str, Callable[[Connection, dict[str, int]], object]] = {
    "dm_not_private": lambda c, i: _channel(c, i["user"], is_dm=True, is_private=False),
    "join_code_on_public": lambda c, i: _channel(c, i["user"], join_code="X1"),
    "join_code_missing_on_private": lambda c, i: _channel(c, i["user"], is_private=True),
    "join_code_on_dm": lambda c, i: _channel(c, i["user"], is_private=True, is_dm=True, join_code="X2"),
    "duplicate_join_code": lambda c, i: [
        _channel(c, i["user"], is_private=True, join_code="SAME"),
        _channel(c, i["user"], is_private=True, join_code="SAME"),
    ],
    "bio_too_long": lambda c, i: _user(c, 2, bio="x" * 201),
    "bad_auth0_id": lambda c, i: _user(c, 3, auth0_id="google|123"),
    "duplicate_email": lambda c, i: _user(c, 4, email="user1@example.com"),
    "duplicate_auth0_id": lambda c, i: _user(c, 5, auth0_id=f"auth0|{1:032d}"),
    "updated_before_created": lambda c, i: _message(
        c, i["user"], i["channel"], updated_at=T0 - timedelta(seconds=1)
    ),
    "message_unknown_channel": lambda c, i: _message(c, i["user"], 999_999),
    "reply_unknown_parent": lambda c, i: _message(c, i["user"], i["channel"], parent_id=999_999),
    "duplicate_membership": lambda c, i: [
        c.execute(insert(UserChannel).values(user_id=i["user"], channel_id=i["channel"], joined_at=T0))
        for _ in range(2)
    ],
    "duplicate_reaction": lambda c, i: [
        c.execute(
            insert(MessageReaction).values(
                message_id=i["message"], reaction_id=1, user_id=i["user"], created_at=T0
            )
        )
        for _ in range(2)
    ],
    "reaction_unknown_reference": lambda c, i: c.execute(
        insert(MessageReaction).values(
            message_id=i["message"], reaction_id=9999, user_id=i["user"], created_at=T0
        )
    ),
}


@pytest.mark.parametrize("violation", sorted(VIOLATIONS))
def test_constraint_rejects_violating_row(engine: Engine, violation: str) -> None:
    with engine.connect() as conn:
        with conn.begin():
            ids = _fixture(conn)
        # PostgreSQL reports an over-long varchar as DataError before the CHECK runs.
        with pytest.raises((IntegrityError, DataError)), conn.begin():
            VIOLATIONS[violation](conn, ids)


def test_delete_of_referenced_user_is_restricted(engine: Engine) -> None:
    with engine.connect() as conn:
        with conn.begin():
            ids = _fixture(conn)
        with pytest.raises(IntegrityError), conn.begin():
            conn.execute(User.__table__.delete().where(User.id == ids["user"]))

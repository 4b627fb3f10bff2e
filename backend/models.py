"""The chat schema and the seed ledger, as SQLAlchemy 2 typed models.

Every foreign key is ON DELETE RESTRICT (or CASCADE inside the ledger only): cleanup deletes in reverse
order itself, so no row can disappear because some other row was deleted.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-assigns ids to a column declared exactly INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")
# Tables whose seeded rows are id blocks: SQLite would otherwise give a new row max(id) + 1, an id inside a
# block once the newest seeded rows are deleted (migration 0003). PostgreSQL's sequences never go back.
SQLITE_IDS_NEVER_REUSED = {"sqlite_autoincrement": True}

BIO_MAX_LENGTH = 200


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"bio IS NULL OR length(bio) <= {BIO_MAX_LENGTH}", name="bio_length"),
        CheckConstraint("auth0_id LIKE 'auth0|%'", name="auth0_id_format"),
        SQLITE_IDS_NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    auth0_id: Mapped[str] = mapped_column(String(128), unique=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    name: Mapped[str] = mapped_column(String(120))
    picture: Mapped[str | None] = mapped_column(String(512))
    bio: Mapped[str | None] = mapped_column(String(BIO_MAX_LENGTH))


class Channel(Base):
    __tablename__ = "channels"
    __table_args__ = (
        CheckConstraint("is_private OR NOT is_dm", name="dm_is_private"),
        CheckConstraint(
            "(join_code IS NOT NULL) = (is_private AND NOT is_dm)",
            name="join_code_iff_private_group",
        ),
        Index(None, "owner_id"),
        SQLITE_IDS_NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    description: Mapped[str | None] = mapped_column(String(500))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    is_private: Mapped[bool] = mapped_column(Boolean, default=False)
    is_dm: Mapped[bool] = mapped_column(Boolean, default=False)
    join_code: Mapped[str | None] = mapped_column(String(32), unique=True)


class UserChannel(Base):
    """A membership. seed_run_id marks rows the seeder wrote: this table has no id to keep a block of."""

    __tablename__ = "user_channels"
    __table_args__ = (Index(None, "channel_id", "joined_at"), Index(None, "seed_run_id"))

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="RESTRICT"), primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seed_run_id: Mapped[int | None] = mapped_column(ForeignKey("seed_runs.id", ondelete="RESTRICT"))


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("updated_at >= created_at", name="updated_after_created"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        Index(None, "channel_id", "created_at"),
        # Only replies have a parent: a partial index is a fifth of the size and serves threads and FK checks.
        Index(
            None,
            "parent_id",
            "created_at",
            postgresql_where=text("parent_id IS NOT NULL"),
            sqlite_where=text("parent_id IS NOT NULL"),
        ),
        Index(None, "user_id"),
        SQLITE_IDS_NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="RESTRICT"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="RESTRICT"))


class Reaction(Base):
    """The reference set of emoji reactions users can pick from."""

    __tablename__ = "reactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    emoji: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))


class MessageReaction(Base):
    __tablename__ = "message_reactions"
    __table_args__ = (
        UniqueConstraint("message_id", "reaction_id", "user_id"),
        Index(None, "user_id"),
        # No index on reaction_id: the reference set is tiny and never deleted from, so nothing looks it up.
        SQLITE_IDS_NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="RESTRICT"))
    reaction_id: Mapped[int] = mapped_column(ForeignKey("reactions.id", ondelete="RESTRICT"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SeedRun(Base):
    """One completed seeding run; written in the same transaction as its rows."""

    __tablename__ = "seed_runs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    profile: Mapped[str] = mapped_column(String(32))
    seed: Mapped[int] = mapped_column(BigInteger)
    as_of: Mapped[date] = mapped_column(Date)
    options_json: Mapped[str] = mapped_column(Text)
    options_digest: Mapped[str] = mapped_column(String(64), index=True)
    faker_version: Mapped[str] = mapped_column(String(32))
    generator_version: Mapped[str] = mapped_column(String(32))
    row_counts_json: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SeedRunBlock(Base):
    """The contiguous id range a run wrote into one table."""

    __tablename__ = "seed_run_blocks"
    __table_args__ = (CheckConstraint("last_id >= first_id - 1", name="block_range"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("seed_runs.id", ondelete="CASCADE"), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_id: Mapped[int] = mapped_column(BigInteger)
    last_id: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)

"""Chat schema and seed ledger.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reactions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("emoji", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reactions")),
        sa.UniqueConstraint("code", name=op.f("uq_reactions_code")),
        sa.UniqueConstraint("emoji", name=op.f("uq_reactions_emoji")),
    )
    op.create_table(
        "seed_runs",
        sa.Column("id", ID, nullable=False),
        sa.Column("profile", sa.String(32), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("options_json", sa.Text(), nullable=False),
        sa.Column("options_digest", sa.String(64), nullable=False),
        sa.Column("faker_version", sa.String(32), nullable=False),
        sa.Column("generator_version", sa.String(32), nullable=False),
        sa.Column("row_counts_json", sa.Text(), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seed_runs")),
    )
    op.create_index(op.f("ix_seed_runs_options_digest"), "seed_runs", ["options_digest"])
    op.create_table(
        "seed_run_blocks",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("first_id", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("last_id >= first_id - 1", name=op.f("ck_seed_run_blocks_block_range")),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["seed_runs.id"],
            name=op.f("fk_seed_run_blocks_run_id_seed_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "table_name", name=op.f("pk_seed_run_blocks")),
    )
    op.create_table(
        "users",
        sa.Column("id", ID, nullable=False),
        sa.Column("auth0_id", sa.String(128), nullable=False),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("picture", sa.String(512), nullable=True),
        sa.Column("bio", sa.String(200), nullable=True),
        sa.CheckConstraint("bio IS NULL OR length(bio) <= 200", name=op.f("ck_users_bio_length")),
        sa.CheckConstraint("auth0_id LIKE 'auth0|%'", name=op.f("ck_users_auth0_id_format")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("auth0_id", name=op.f("uq_users_auth0_id")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "channels",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(160), nullable=False),
        sa.Column("description", sa.String(500), nullable=True),
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("is_private", sa.Boolean(), nullable=False),
        sa.Column("is_dm", sa.Boolean(), nullable=False),
        sa.Column("join_code", sa.String(32), nullable=True),
        sa.CheckConstraint("is_private OR NOT is_dm", name=op.f("ck_channels_dm_is_private")),
        sa.CheckConstraint(
            "(join_code IS NOT NULL) = (is_private AND NOT is_dm)",
            name=op.f("ck_channels_join_code_iff_private_group"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_channels_owner_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
        sa.UniqueConstraint("join_code", name=op.f("uq_channels_join_code")),
    )
    op.create_index(op.f("ix_channels_owner_id"), "channels", ["owner_id"])
    op.create_table(
        "user_channels",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("joined_at", TZ, nullable=False),
        sa.Column("seed_run_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_channels_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_user_channels_channel_id_channels"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["seed_run_id"],
            ["seed_runs.id"],
            name=op.f("fk_user_channels_seed_run_id_seed_runs"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("user_id", "channel_id", name=op.f("pk_user_channels")),
    )
    op.create_index(
        op.f("ix_user_channels_channel_id_joined_at"), "user_channels", ["channel_id", "joined_at"]
    )
    op.create_index(op.f("ix_user_channels_seed_run_id"), "user_channels", ["seed_run_id"])
    op.create_table(
        "messages",
        sa.Column("id", ID, nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("parent_id", ID, nullable=True),
        sa.CheckConstraint("updated_at >= created_at", name=op.f("ck_messages_updated_after_created")),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name=op.f("ck_messages_not_own_parent")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_messages_user_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_messages_channel_id_channels"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["messages.id"],
            name=op.f("fk_messages_parent_id_messages"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index(op.f("ix_messages_channel_id_created_at"), "messages", ["channel_id", "created_at"])
    op.create_index(
        op.f("ix_messages_parent_id_created_at"),
        "messages",
        ["parent_id", "created_at"],
        postgresql_where=sa.text("parent_id IS NOT NULL"),
        sqlite_where=sa.text("parent_id IS NOT NULL"),
    )
    op.create_index(op.f("ix_messages_user_id"), "messages", ["user_id"])
    op.create_table(
        "message_reactions",
        sa.Column("id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("reaction_id", sa.Integer(), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_reactions_message_id_messages"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reaction_id"],
            ["reactions.id"],
            name=op.f("fk_message_reactions_reaction_id_reactions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_message_reactions_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_reactions")),
        sa.UniqueConstraint(
            "message_id",
            "reaction_id",
            "user_id",
            name=op.f("uq_message_reactions_message_id_reaction_id_user_id"),
        ),
    )
    op.create_index(op.f("ix_message_reactions_user_id"), "message_reactions", ["user_id"])


def downgrade() -> None:
    for table in (
        "message_reactions",
        "messages",
        "user_channels",
        "channels",
        "users",
        "seed_run_blocks",
        "seed_runs",
        "reactions",
    ):
        op.drop_table(table)

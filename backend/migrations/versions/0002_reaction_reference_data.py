"""Reaction reference data, so that an upgraded database is a usable empty chat.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.reference_data import REACTIONS

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

reactions = sa.table(
    "reactions",
    sa.column("id", sa.Integer()),
    sa.column("code", sa.String()),
    sa.column("emoji", sa.String()),
    sa.column("name", sa.String()),
)
message_reactions = sa.table("message_reactions", sa.column("reaction_id", sa.Integer()))


def upgrade() -> None:
    op.bulk_insert(
        reactions,
        [
            {"id": index, "code": code, "emoji": emoji, "name": name}
            for index, (code, emoji, name) in enumerate(REACTIONS, start=1)
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('reactions', 'id'), (SELECT max(id) FROM reactions))"
        )


def downgrade() -> None:
    codes = [code for code, _emoji, _name in REACTIONS]
    # Reactions in use are kept: the RESTRICT foreign key would refuse, and removing them is never ours to do.
    op.execute(
        reactions.delete().where(
            reactions.c.code.in_(codes),
            ~sa.exists().where(message_reactions.c.reaction_id == reactions.c.id),
        )
    )

"""The reaction reference set in the database: an idempotent upsert and a presence check."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from backend.models import Reaction
from backend.reference_data import REACTIONS


@dataclass(frozen=True)
class UpsertResult:
    inserted: int
    updated: int
    unchanged: int


def upsert_reference_reactions(connection: Connection) -> UpsertResult:
    """Insert missing reference reactions and refresh changed emoji or names; never delete any."""
    existing = {
        row.code: row for row in connection.execute(select(Reaction.code, Reaction.emoji, Reaction.name))
    }
    inserted = updated = unchanged = 0
    for code, emoji, name in REACTIONS:
        row = existing.get(code)
        if row is None:
            connection.execute(insert(Reaction).values(code=code, emoji=emoji, name=name))
            inserted += 1
        elif (row.emoji, row.name) != (emoji, name):
            connection.execute(update(Reaction).where(Reaction.code == code).values(emoji=emoji, name=name))
            updated += 1
        else:
            unchanged += 1
    return UpsertResult(inserted=inserted, updated=updated, unchanged=unchanged)


def missing_reference_reactions(connection: Connection) -> list[str]:
    """Codes of the reference set that the database lacks (empty when all are present)."""
    present = set(connection.execute(select(Reaction.code)).scalars())
    return [code for code, _emoji, _name in REACTIONS if code not in present]


def reaction_ids(connection: Connection) -> list[int]:
    """Ids of the reference reactions, in reference order (what seeded reactions pick from)."""
    by_code = dict(connection.execute(select(Reaction.code, Reaction.id)).all())
    return [by_code[code] for code, _emoji, _name in REACTIONS if code in by_code]

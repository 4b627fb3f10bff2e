"""The seeded entities, and everything about their tables that is derived rather than written down.

Entities (backend/seeding/entities/) say how rows are made. The rest comes from Base.metadata: the order
tables are written in (foreign-key order, Base.metadata.sorted_tables), the columns written (every column
of the model), how the ledger finds a table's seeded rows (an id block for a table whose primary key is an
integer `id`, else a `seed_run_id` mark), the plan's row estimates, the tables a run locks, and the extra
verify checks. Adding a table is: its model, a migration, one entity module, a test.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Integer, Table

from backend.models import Base, SeedRun, SeedRunBlock
from backend.seeding import entities as entity_modules
from backend.seeding.entities import Entity
from backend.seeding.options import SeedOptions

if TYPE_CHECKING:
    from backend.seeding.verify import Invariant


def _discover() -> list[Entity]:
    """The ENTITY of every module in backend/seeding/entities/: adding an entity is adding a module."""
    found = []
    for info in sorted(pkgutil.iter_modules(entity_modules.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{entity_modules.__name__}.{info.name}")
        entity = getattr(module, "ENTITY", None)
        if isinstance(entity, Entity):
            found.append(entity)
    return found


# Order does not matter here: entities() sorts them into foreign-key order.
_ENTITIES: list[Entity] = _discover()

# Bump when a change to an entity module changes the rows a given seed produces; recorded in the ledger,
# and part of a run's identity (a re-run after a bump is not "already seeded").
GENERATOR_VERSION = "6"

# The column that marks a seeded row of a table without an integer id.
MARK_COLUMN = "seed_run_id"
SEED_RUNS = SeedRun.__tablename__
SEED_RUN_BLOCKS = SeedRunBlock.__tablename__


class RegistryError(ValueError):
    """An entity does not fit the schema (unknown table, no way to find its seeded rows, wrong order)."""


def _metadata_order() -> dict[str, int]:
    return {table.name: i for i, table in enumerate(Base.metadata.sorted_tables)}


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def is_id_block_table(name: str) -> bool:
    """A table whose primary key is one integer `id` column: the ledger keeps an id block for it."""
    key = list(_table(name).primary_key.columns)
    return len(key) == 1 and key[0].name == "id" and isinstance(key[0].type, Integer)


def _check(ordered: list[Entity]) -> None:
    seen: set[str] = set()
    for entity in ordered:
        for name in entity.tables:
            if name not in Base.metadata.tables:
                raise RegistryError(f"entity {entity.name}: table {name} has no model in backend/models.py")
            if name in seen:
                raise RegistryError(f"entity {entity.name}: table {name} is already seeded by another entity")
            if not is_id_block_table(name) and MARK_COLUMN not in _table(name).c:
                raise RegistryError(
                    f"entity {entity.name}: table {name} needs an integer `id` primary key or a "
                    f"{MARK_COLUMN} column, so that the ledger can tell its seeded rows"
                )
            for fk in _table(name).foreign_keys:
                parent = fk.column.table.name
                if parent != name and parent in _all_tables(ordered) and parent not in seen:
                    raise RegistryError(
                        f"entity {entity.name}: {name}.{fk.parent.name} references {parent}, which is "
                        "written later; list the parent's table first (or in an earlier entity)"
                    )
            seen.add(name)


def _all_tables(ordered: list[Entity]) -> set[str]:
    return {name for entity in ordered for name in entity.tables}


def entities() -> tuple[Entity, ...]:
    """The registered entities in foreign-key order: each after the entities its tables reference."""
    order = _metadata_order()
    missing = [n for e in _ENTITIES for n in e.tables if n not in order]
    if missing:
        raise RegistryError(f"table {missing[0]} has no model in backend/models.py")
    ordered = sorted(_ENTITIES, key=lambda e: min(order[n] for n in e.tables))
    _check(ordered)
    return tuple(ordered)


def register(entity: Entity) -> None:
    """Add an entity (an extension's, or a test's); its tables must have models on Base.metadata."""
    if any(e.name == entity.name for e in _ENTITIES):
        raise RegistryError(f"an entity named {entity.name} is already registered")
    _ENTITIES.append(entity)
    try:
        entities()
    except RegistryError:
        _ENTITIES.remove(entity)
        raise


def unregister(entity: Entity) -> None:
    _ENTITIES.remove(entity)


@contextmanager
def registered(entity: Entity) -> Iterator[Entity]:
    """The entity registered for the duration of a with-block."""
    register(entity)
    try:
        yield entity
    finally:
        unregister(entity)


def seeded_tables() -> tuple[str, ...]:
    """Every seeded table, in the order rows are written (parents first)."""
    return tuple(name for entity in entities() for name in entity.tables)


def columns(table: str) -> tuple[str, ...]:
    """The columns a seeded table's rows are written with: all of its model's, in model order."""
    return tuple(_table(table).columns.keys())


def id_block_tables() -> tuple[str, ...]:
    """Seeded tables whose seeded rows the ledger records as a contiguous id block per run."""
    return tuple(name for name in seeded_tables() if is_id_block_table(name))


def marked_tables() -> tuple[str, ...]:
    """Seeded tables without an integer id, whose seeded rows carry their run's id in seed_run_id."""
    return tuple(name for name in seeded_tables() if not is_id_block_table(name))


def locked_tables() -> tuple[str, ...]:
    """What a seeding run locks against other writers: the seeded tables and the ledger's runs."""
    return (*seeded_tables(), SEED_RUNS)


def estimated_rows(options: SeedOptions) -> dict[str, int]:
    """Rough rows per seeded table for these options (a dry run computes exact ones)."""
    rows: dict[str, int] = {}
    for entity in entities():
        estimate = entity.estimate(options)
        rows.update({name: int(estimate[name]) for name in entity.tables})
    return rows


def entity_invariants() -> tuple[Invariant, ...]:
    """The verify checks entities add to the chat's own."""
    return tuple(check for entity in entities() for check in entity.invariants)

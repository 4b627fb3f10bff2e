"""Alembic as a library: upgrade a connection, and tell where a database stands against head.

Alembic is imported only when it is needed: telling that a database is at head, what every run checks
first, reads the migration scripts' revision assignments (with ast, no import) and the alembic_version
table; anything else (another revision, several heads, a script it cannot read that way) goes to Alembic.
That spares each command about a tenth of a second of imports.
"""

from __future__ import annotations

import ast
import configparser
import enum
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"
MIGRATE_COMMAND = "alembic -c backend/alembic.ini upgrade head"


class SchemaState(enum.Enum):
    EMPTY = "empty"  # no tables at all: safe to create the schema
    CURRENT = "current"
    BEHIND = "behind"
    UNKNOWN = "unknown"  # tables exist but no (or a foreign) alembic revision


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for this project, optionally bound to an open connection."""
    from alembic.config import Config

    config = Config(str(ALEMBIC_INI))
    config.attributes["configure_logger"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


_REVISION_NAMES = ("revision", "down_revision", "branch_labels", "depends_on")


@lru_cache(maxsize=4)
def script_head(alembic_ini: Path = ALEMBIC_INI) -> str | None:
    """The head revision as the migration scripts' own assignments tell it (read with ast), or None when
    they cannot tell it simply: extra version locations, branch labels, dependencies, several heads, or an
    assignment that is not a literal. None sends the caller to Alembic."""
    ini = configparser.ConfigParser(defaults={"here": str(alembic_ini.parent)})
    ini.read(alembic_ini)
    if ini.has_option("alembic", "version_locations"):
        return None
    versions = Path(ini.get("alembic", "script_location")) / "versions"
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in sorted(versions.glob("*.py")):
        if script.name == "__init__.py" or script.name.startswith(".#"):  # Alembic skips these too
            continue
        found = _revision_assignments(script)
        if found is None:
            return None
        revision, down = found.get("revision"), found.get("down_revision")
        if not isinstance(revision, str) or found.get("branch_labels") or found.get("depends_on"):
            return None
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(down)
        elif down is not None:
            return None
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _revision_assignments(script: Path) -> dict[str, object] | None:
    """A script's module-level revision, down_revision, branch_labels and depends_on, as literals (None if
    one is not a literal)."""
    found: dict[str, object] = {}
    try:
        body = ast.parse(script.read_text(encoding="utf-8")).body
    except (SyntaxError, ValueError, UnicodeDecodeError):
        return None
    for node in body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in _REVISION_NAMES:
            try:
                found[target.id] = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, RecursionError):
                return None
    return found


def schema_state(connection: Connection) -> SchemaState:
    """Compare the database's alembic revision with head."""
    names = set(inspect(connection).get_table_names())
    tables = names - {"alembic_version"}
    if not tables:
        return SchemaState.EMPTY
    if "alembic_version" in names:
        stamped = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        if len(stamped) == 1 and stamped[0] == script_head():
            return SchemaState.CURRENT
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    current = MigrationContext.configure(connection).get_current_revision()
    if current == head_revision():
        return SchemaState.CURRENT
    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    if current in known:
        return SchemaState.BEHIND
    return SchemaState.UNKNOWN


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Run migrations up to revision on the caller's connection (inside the caller's transaction)."""
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


def upgrade_database(url: str) -> None:
    """Migrate the database at url to head in a transaction of its own (for tools and tests that own it)."""
    from backend.database import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            upgrade(conn)
    finally:
        engine.dispose()


def downgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(connection), revision)

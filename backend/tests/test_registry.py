"""registry.py: what is derived from the models; and the README's claim that adding a table takes one entity
module: an entity shaped like the checklist's user_statuses (guide_user_statuses.py) is seeded, verified,
shown by status and cleaned up (refused while a real row depends on it, then --cascade) on both backends,
without any change to the core modules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType

import pytest
from sqlalchemy import Engine, func, insert, select

from backend.cli_support import run_cli
from backend.commands import cleanup as cleanup_command
from backend.commands import seed as seed_command
from backend.commands import status as status_command
from backend.commands import verify as verify_command
from backend.database import make_engine
from backend.models import Base, SeedRunBlock
from backend.seeding import registry
from backend.seeding.entities import Entity, users
from backend.tests.guide_user_statuses import USER_STATUSES, Guide, build
from backend.tests.helpers import REPO_ROOT, T0, assert_no_id_handed_out_twice
from backend.tests.ledger_fixtures import dump
from backend.tests.seed_helpers import AS_OF

# --- derived from the models --------------------------------------------------------------------------------


def test_seeded_tables_are_in_foreign_key_order() -> None:
    order = registry.seeded_tables()
    assert len(set(order)) == len(order)
    for position, name in enumerate(order):
        for fk in Base.metadata.tables[name].foreign_keys:
            parent = fk.column.table.name
            if parent in order and parent != name:
                assert order.index(parent) < position, f"{name} is written before its parent {parent}"


def test_ledger_coverage_follows_each_tables_key() -> None:
    ids, marked = set(registry.id_block_tables()), set(registry.marked_tables())
    assert ids | marked == set(registry.seeded_tables()) and not ids & marked
    for name in ids:
        assert [c.name for c in Base.metadata.tables[name].primary_key.columns] == ["id"]
    for name in marked:
        assert registry.MARK_COLUMN in Base.metadata.tables[name].c
    assert marked, "the chat has a table without an id (memberships): both kinds are exercised"


def test_columns_locks_and_estimates_cover_every_seeded_table() -> None:
    for name in registry.seeded_tables():
        assert registry.columns(name) == tuple(c.name for c in Base.metadata.tables[name].columns)
    assert registry.locked_tables() == (*registry.seeded_tables(), registry.SEED_RUNS)
    from backend.seeding.options import SeedOptions

    assert tuple(registry.estimated_rows(SeedOptions())) == registry.seeded_tables()


def _entity(name: str, *tables: str) -> Entity:
    return Entity(
        name=name,
        tables=tables,
        partition="user",
        items=lambda ds: 0,
        rows_per_item=lambda ds: {},
        generate=lambda ds, lo, hi: [],
        estimate=lambda options: {},
    )


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        (("no_such_table",), "no_such_table has no model"),
        ((registry.SEED_RUN_BLOCKS,), "needs an integer `id` primary key or a seed_run_id column"),
        ((users.USERS,), "users is already seeded by another entity"),
    ],
)
def test_register_refuses_an_entity_that_does_not_fit_the_schema(
    tables: tuple[str, ...], message: str
) -> None:
    before = registry.entities()
    with pytest.raises(registry.RegistryError, match=message):
        registry.register(_entity("extra", *tables))
    assert registry.entities() == before


# --- the guide's example, end to end ------------------------------------------------------------------------


@pytest.fixture
def guide_table(db_url: str) -> Iterator[Guide]:
    """user_statuses: its model on Base.metadata and its table in this test's database (not yet seeded)."""
    made = build()
    try:
        engine = make_engine(db_url)
        try:
            with engine.begin() as conn:
                made.table.create(conn)
        finally:
            engine.dispose()
        yield made
    finally:
        Base.metadata.remove(made.table)


@pytest.fixture
def guide(guide_table: Guide) -> Iterator[Guide]:
    """The same, with its entity registered."""
    with registry.registered(guide_table.entity):
        yield guide_table


def _cli(command: ModuleType, prog: str, *args: str) -> int:
    return int(run_cli(command.run, command.build_parser(prog), list(args)))


def _json(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


def test_an_added_entity_is_seeded_verified_shown_and_cleaned_up(
    db_url: str, engine: Engine, guide: Guide, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ("--database-url", db_url)
    statuses = guide.table
    assert USER_STATUSES in registry.id_block_tables(), "an integer id: the ledger keeps a block"
    with engine.connect() as conn:
        assert_no_id_handed_out_twice(conn)

    assert _cli(seed_command, "seed_data.py", *url, "--profile", "test", "--as-of", AS_OF, "--json") == 0
    summary = _json(capsys)
    rows = summary["rows"]
    assert isinstance(rows, dict)
    planned = rows[USER_STATUSES]
    assert planned > 0
    with engine.connect() as conn:
        per_user = conn.execute(select(statuses.c.user_id, func.count()).group_by(statuses.c.user_id)).all()
        first, last, count = conn.execute(
            select(SeedRunBlock.first_id, SeedRunBlock.last_id, SeedRunBlock.row_count).where(
                SeedRunBlock.table_name == USER_STATUSES
            )
        ).one()
        ids = list(conn.execute(select(statuses.c.id).order_by(statuses.c.id)).scalars())
    assert sum(n for _user, n in per_user) == planned == count
    assert max(n for _user, n in per_user) > 1, "several statuses per user"
    assert ids == list(range(first, last + 1)), "the ledger's id block holds exactly the seeded rows"

    assert _cli(seed_command, "seed_data.py", *url, "--profile", "test", "--as-of", AS_OF, "--json") == 0
    assert _json(capsys)["skipped"] is True, "the same seed again writes nothing"

    assert _cli(status_command, "seed_data.py status", *url, "--json") == 0
    tables = _json(capsys)["tables"]
    assert isinstance(tables, dict)
    assert tables[USER_STATUSES] == {"total": planned, "seeded": planned, "real": 0}

    assert _cli(verify_command, "seed_data.py verify", *url) == 0
    out = capsys.readouterr().out
    assert "ok   user_status_expires_after_created" in out and "ok   user_statuses_not_in_future" in out

    # A real status of a seeded user, expiring before it was set: verify names it, cleanup refuses.
    with engine.begin() as conn:
        user_id = conn.execute(select(func.min(statuses.c.user_id))).scalar_one()
        real_id = conn.execute(
            insert(statuses)
            .values(
                user_id=user_id,
                status_text="on leave",
                emoji="🌴",
                created_at=T0,
                expires_at=T0.replace(year=T0.year - 1),
                is_active=True,
            )
            .returning(statuses.c.id)
        ).scalar_one()
    assert _cli(verify_command, "seed_data.py verify", *url) == 1
    assert f"FAIL user_status_expires_after_created: 1 violation(s), e.g. ids {real_id} " in (
        capsys.readouterr().out
    )
    with engine.connect() as conn:
        before = dump(conn)
    assert _cli(cleanup_command, "cleanup_fake_data.py", *url, "--yes") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: refusing to remove: seeded rows have 1 dependent row outside")
    assert (
        f"  {USER_STATUSES}: 1 row whose user_id references seeded users "
        f"(fk_user_statuses_user_id_users): id {real_id}"
    ) in err
    with engine.connect() as conn:
        assert dump(conn) == before

    assert _cli(cleanup_command, "cleanup_fake_data.py", *url, "--yes", "--cascade", "--json") == 0
    result = _json(capsys)
    removed = result["removed"]
    assert isinstance(removed, dict) and removed[USER_STATUSES] == planned
    assert result["dependents_removed"] == {USER_STATUSES: 1}
    assert _cli(status_command, "seed_data.py status", *url, "--json") == 0
    after = _json(capsys)["tables"]
    assert isinstance(after, dict)
    assert all(t == {"total": 0, "seeded": 0, "real": 0} for t in after.values()), after


def test_a_seed_from_before_the_table_was_added_is_not_already_seeded(
    db_url: str, engine: Engine, guide_table: Guide, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("--database-url", db_url, "--profile", "test", "--as-of", AS_OF, "--json")
    assert _cli(seed_command, "seed_data.py", *args) == 0
    run_id = _json(capsys)["run_id"]
    with registry.registered(guide_table.entity):
        assert _cli(seed_command, "seed_data.py", *args) == 1
        err = capsys.readouterr().err
        assert f"run {run_id} has the same seed and options" in err
        assert f"tables seeded now but not then: {USER_STATUSES}" in err
        assert _cli(seed_command, "seed_data.py", *args, "--append") == 0
        assert _json(capsys)["rows"][USER_STATUSES] > 0  # type: ignore[index]


def test_the_core_modules_do_not_name_the_added_table() -> None:
    """What the guide promises: the example needed no edit outside its model, entity, checks and test."""
    core = [p for p in (REPO_ROOT / "backend").rglob("*.py") if "tests" not in p.parts]
    assert core
    assert [str(p) for p in core if USER_STATUSES in p.read_text(encoding="utf-8")] == []

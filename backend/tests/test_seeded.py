"""Seeded test databases: a template seeded once per spec, copies that hold exactly its data and are
independent of each other, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from backend.database import make_engine
from backend.models import Message, MessageReaction, SeedRun, User
from backend.seeding.options import OptionsError
from backend.seeding.verify import check_invariants
from backend.testing.seeded import DEFAULT_AS_OF, SeededDatabases, SeedSpec
from backend.tests.seed_helpers import canonical_dump


def _count(url: str, column: object) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count(column))).scalar_one())  # type: ignore[arg-type]
    finally:
        engine.dispose()


def test_spec_resolves_profile_options_and_a_fixed_as_of() -> None:
    options = SeedSpec("test", options={"users": 12, "seed": 4}).resolve()
    assert (options.profile, options.users, options.seed, options.as_of) == ("test", 12, 4, DEFAULT_AS_OF)
    assert SeedSpec(options={"users": 12}).key() != SeedSpec(options={"users": 13}).key()
    assert SeedSpec(options={"users": 12}).key() == SeedSpec(options={"users": 12}).key()


def test_spec_with_a_bad_option_names_it() -> None:
    with pytest.raises(OptionsError, match=r"dm_share: 2\.0 is out of range"):
        SeedSpec(options={"dm_share": 2.0}).resolve()


def test_copies_hold_the_seeded_data_and_are_independent(seeded_databases: SeededDatabases) -> None:
    spec = SeedSpec("test", options={"seed": 5})
    templates_before = len(seeded_databases.templates)  # other tests' templates share the session
    first, second = seeded_databases.copy(spec), seeded_databases.copy(spec)
    template = seeded_databases.template(spec)
    assert template.summary.counts["users"] == 8 and template.summary.run_id is not None
    engines = [make_engine(first), make_engine(second)]
    try:
        with engines[0].connect() as a, engines[1].connect() as b:
            assert canonical_dump(a) == canonical_dump(b)
            assert all(r.ok for r in check_invariants(a))
            assert a.execute(select(func.count(SeedRun.id))).scalar_one() == 1
        with engines[0].begin() as conn:
            conn.execute(MessageReaction.__table__.delete())
            conn.execute(Message.__table__.delete().where(Message.parent_id.is_not(None)))
            conn.execute(Message.__table__.delete())
        assert _count(first, Message.id) == 0
        assert _count(second, Message.id) == template.summary.counts["messages"] > 0
    finally:
        for engine in engines:
            engine.dispose()
    # A later copy comes from the untouched template.
    third = seeded_databases.copy(spec)
    assert _count(third, User.id) == 8
    assert len(seeded_databases.templates) == templates_before + 1  # seeded once for the three copies
    assert seeded_databases.template(spec) is template


def test_drop_removes_a_copy(seeded_databases: SeededDatabases) -> None:
    url = seeded_databases.copy(SeedSpec())
    seeded_databases.drop(url)
    if seeded_databases.is_sqlite:
        assert not Path(str(url).removeprefix("sqlite:///")).exists()
    else:
        with seeded_databases._admin_engine().connect() as conn:
            names = conn.execute(text("SELECT datname FROM pg_database")).scalars().all()
        assert url.rsplit("/", 1)[1] not in names


def test_close_drops_templates_and_copies(tmp_path: Path) -> None:
    databases = SeededDatabases("sqlite", tmp_path)
    databases.copy(SeedSpec())
    assert len(list(tmp_path.glob("*.db"))) == 2
    databases.close()
    assert list(tmp_path.glob("*.db")) == []


def test_transaction_is_rolled_back_after_use(seeded_databases: SeededDatabases) -> None:
    spec = SeedSpec("test", options={"seed": 6})
    with seeded_databases.transaction(spec) as conn:
        conn.execute(MessageReaction.__table__.delete())
        assert conn.execute(select(func.count(MessageReaction.id))).scalar_one() == 0
    with seeded_databases.transaction(spec) as conn:
        kept = conn.execute(select(func.count(MessageReaction.id))).scalar_one()
    assert kept == seeded_databases.template(spec).summary.counts["message_reactions"] > 0


def test_a_committed_transaction_discards_the_template(seeded_databases: SeededDatabases) -> None:
    spec = SeedSpec("test", options={"seed": 7})
    with seeded_databases.transaction(spec) as conn:
        conn.execute(MessageReaction.__table__.delete())
        conn.commit()
    assert spec.key() not in seeded_databases.templates
    with seeded_databases.transaction(spec) as conn:  # seeded afresh
        assert conn.execute(select(func.count(MessageReaction.id))).scalar_one() > 0


def test_copies_and_transactions_mix(seeded_databases: SeededDatabases) -> None:
    spec = SeedSpec("test", options={"seed": 8})
    with seeded_databases.transaction(spec) as conn:
        users = conn.execute(select(func.count(User.id))).scalar_one()
    assert _count(seeded_databases.copy(spec), User.id) == users  # the template's connections closed first
    with seeded_databases.transaction(spec) as conn:
        assert conn.execute(select(func.count(User.id))).scalar_one() == users

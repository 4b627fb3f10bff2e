"""seed_reactions.py: an idempotent upsert of the reference set that never deletes."""

from __future__ import annotations

from sqlalchemy import Engine, func, insert, select, update

from backend.models import Channel, Message, MessageReaction, Reaction, User
from backend.reference_data import REACTIONS
from backend.tests.helpers import T0, run_script


def _reactions(engine: Engine) -> list[tuple[int, str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(Reaction.id, Reaction.code, Reaction.emoji, Reaction.name).order_by(Reaction.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_run_twice_changes_nothing(db_url: str, engine: Engine) -> None:
    before = _reactions(engine)
    assert len(before) == len(REACTIONS) >= 12
    for _ in range(2):
        result = run_script("seed_reactions.py", database_url=db_url)
        assert result.returncode == 0, result.stderr
        assert f"0 inserted, 0 updated, {len(REACTIONS)} unchanged" in result.stdout
    assert _reactions(engine) == before


def test_missing_and_renamed_reactions_are_repaired(db_url: str, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(Reaction.__table__.delete().where(Reaction.code == "rocket"))
        conn.execute(update(Reaction).where(Reaction.code == "heart").values(name="Old name"))
        conn.execute(insert(Reaction).values(code="custom", emoji="🦄", name="Unicorn"))
    result = run_script("seed_reactions.py", database_url=db_url)
    assert result.returncode == 0, result.stderr
    assert "1 inserted, 1 updated" in result.stdout
    with engine.connect() as conn:
        names = dict(conn.execute(select(Reaction.code, Reaction.name)).all())
        assert names["heart"] == "Heart" and "rocket" in names
        assert names["custom"] == "Unicorn", "reactions outside the reference set are kept"
        total = conn.execute(select(func.count()).select_from(Reaction)).scalar_one()
        assert total == len(REACTIONS) + 1


def test_reactions_in_use_survive(db_url: str, engine: Engine) -> None:
    with engine.begin() as conn:
        uid = conn.execute(
            insert(User)
            .values(auth0_id="auth0|x", email="x@x.io", is_active=True, created_at=T0, name="X")
            .returning(User.id)
        ).scalar_one()
        cid = conn.execute(
            insert(Channel)
            .values(name="c", owner_id=uid, created_at=T0, is_private=False, is_dm=False)
            .returning(Channel.id)
        ).scalar_one()
        mid = conn.execute(
            insert(Message)
            .values(content="m", created_at=T0, updated_at=T0, user_id=uid, channel_id=cid)
            .returning(Message.id)
        ).scalar_one()
        conn.execute(
            insert(MessageReaction).values(message_id=mid, reaction_id=1, user_id=uid, created_at=T0)
        )
    assert run_script("seed_reactions.py", database_url=db_url).returncode == 0
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(MessageReaction)).scalar_one() == 1


def test_unmigrated_database_is_refused(empty_db_url: str) -> None:
    result = run_script("seed_reactions.py", database_url=empty_db_url)
    assert result.returncode == 1
    assert "alembic -c backend/alembic.ini upgrade head" in result.stderr
    assert "Traceback" not in result.stderr

"""seed_data.py reset: every seeded run removed, a fresh one seeded, real rows untouched, all or nothing."""

from __future__ import annotations

from sqlalchemy import Engine, func, insert, select

from backend.models import Channel, SeedRun, User
from backend.tests.helpers import T0, run_script

AS_OF = "2026-06-01"


def _runs(engine: Engine) -> list[tuple[int, int]]:
    with engine.connect() as conn:
        return [(r.seed, r.id) for r in conn.execute(select(SeedRun.seed, SeedRun.id).order_by(SeedRun.id))]


def _real_user(engine: Engine) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                insert(User)
                .values(
                    auth0_id="auth0|real", email="real@corp.test", is_active=True, created_at=T0, name="Real"
                )
                .returning(User.id)
            ).scalar_one()
        )


def test_reset_replaces_seeded_runs_and_keeps_real_rows(db_url: str, engine: Engine) -> None:
    for seed in ("1", "2"):
        result = run_script(
            "seed_data.py", "--profile", "test", "--seed", seed, "--as-of", AS_OF, "-q", database_url=db_url
        )
        assert result.returncode == 0, result.stderr
    real = _real_user(engine)
    result = run_script(
        "seed_data.py",
        "reset",
        "--yes",
        "--profile",
        "test",
        "--seed",
        "9",
        "--as-of",
        AS_OF,
        database_url=db_url,
    )
    assert result.returncode == 0, result.stderr
    assert "removed" in result.stdout and "of 2 run(s)" in result.stdout
    assert [seed for seed, _id in _runs(engine)] == [9]
    with engine.connect() as conn:
        assert conn.execute(select(User.email).where(User.id == real)).scalar_one() == "real@corp.test"
        assert conn.execute(select(func.count()).select_from(User)).scalar_one() == 8 + 1


def test_reset_without_terminal_or_yes_is_refused_and_changes_nothing(db_url: str, engine: Engine) -> None:
    assert (
        run_script(
            "seed_data.py", "--profile", "test", "--as-of", AS_OF, "-q", database_url=db_url
        ).returncode
        == 0
    )
    before = _runs(engine)
    result = run_script("seed_data.py", "reset", "--profile", "test", "--seed", "5", database_url=db_url)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "--yes" in result.stderr
    assert _runs(engine) == before


def test_reset_refuses_dependents_then_cascades(db_url: str, engine: Engine) -> None:
    assert (
        run_script(
            "seed_data.py", "--profile", "test", "--as-of", AS_OF, "-q", database_url=db_url
        ).returncode
        == 0
    )
    with engine.begin() as conn:
        owner = conn.execute(select(User.id).order_by(User.id).limit(1)).scalar_one()
        conn.execute(
            insert(Channel).values(name="real", owner_id=owner, created_at=T0, is_private=False, is_dm=False)
        )
    before = _runs(engine)
    refused = run_script(
        "seed_data.py", "reset", "--yes", "--profile", "test", "--seed", "3", database_url=db_url
    )
    assert refused.returncode == 1 and "--cascade" in refused.stderr and "Traceback" not in refused.stderr
    assert _runs(engine) == before
    done = run_script(
        "seed_data.py",
        "reset",
        "--yes",
        "--cascade",
        "--profile",
        "test",
        "--seed",
        "3",
        "--as-of",
        AS_OF,
        database_url=db_url,
    )
    assert done.returncode == 0, done.stderr
    assert [seed for seed, _id in _runs(engine)] == [3]
    with engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(Channel).where(Channel.name == "real")).scalar_one()
            == 0
        )


def test_reset_with_a_bad_option_changes_nothing(db_url: str, engine: Engine) -> None:
    assert (
        run_script(
            "seed_data.py", "--profile", "test", "--as-of", AS_OF, "-q", database_url=db_url
        ).returncode
        == 0
    )
    before = _runs(engine)
    result = run_script("seed_data.py", "reset", "--yes", "--users", "-3", database_url=db_url)
    assert result.returncode == 2 and "users" in result.stderr
    assert _runs(engine) == before

"""The pytest plugin, used the way an app uses it: markers choose the data, each test gets its own copy."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, func, select

from backend.models import Channel, Message, User
from backend.tests.helpers import REPO_ROOT


def test_default_marker_gives_the_test_profile(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as conn:
        assert conn.execute(select(func.count(User.id))).scalar_one() == 8
        assert conn.execute(select(func.count(Channel.id))).scalar_one() == 5


@pytest.mark.chat_seed(users=11, channels=3, seed=9)
def test_marker_options_reach_the_seed(seeded_engine: Engine) -> None:
    with seeded_engine.connect() as conn:
        assert conn.execute(select(func.count(User.id))).scalar_one() == 11
        assert conn.execute(select(func.count(Channel.id))).scalar_one() == 3


@pytest.mark.chat_seed(users=11, channels=3, seed=9)
def test_writes_of_one_test_do_not_reach_the_next(seeded_engine: Engine) -> None:
    # Runs after the test above with the same marker: it sees the template's rows, not its own earlier writes.
    with seeded_engine.begin() as conn:
        assert conn.execute(select(func.count(Message.id)).where(Message.content == "mine")).scalar_one() == 0
        conn.execute(Message.__table__.insert().values(
            content="mine", created_at=func.now(), updated_at=func.now(),
            user_id=select(func.min(User.id)).scalar_subquery(),
            channel_id=select(func.min(Channel.id)).scalar_subquery(),
        ))  # fmt: skip


APP_TEST = """
import pytest
from sqlalchemy import func, select
from backend.models import User

pytest_plugins = ["backend.testing.pytest_plugin"]

@pytest.mark.chat_seed(users=10)
@pytest.mark.parametrize("n", range(3))
def test_app(seeded_engine, n):
    with seeded_engine.begin() as conn:
        assert conn.execute(select(func.count(User.id))).scalar_one() == 10
        conn.execute(User.__table__.delete().where(User.id > 1e12))
"""


def test_an_apps_conftest_can_use_the_plugin(tmp_path: Path) -> None:
    (tmp_path / "test_app.py").write_text(textwrap.dedent(APP_TEST))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         str(tmp_path / "test_app.py")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


@pytest.mark.chat_seed(seed=2)
@pytest.mark.parametrize("attempt", range(2))
def test_seeded_connection_rolls_back_each_test(seeded_connection: Connection, attempt: int) -> None:
    conn = seeded_connection
    assert conn.execute(select(func.count(User.id)).where(User.name == "temp")).scalar_one() == 0
    row = {"auth0_id": "auth0|temp", "email": "temp@example.com", "created_at": func.now(), "name": "temp"}
    conn.execute(User.__table__.insert().values(row))
    assert conn.execute(select(func.count(User.id)).where(User.name == "temp")).scalar_one() == 1

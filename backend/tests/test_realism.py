"""The realism figures (backend/benchmarks/realism.py): exact on a hand-made chat, and on a seeded one."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import Engine, insert

from backend.benchmarks.realism import format_figures, measure
from backend.models import Message
from backend.tests.helpers import REPO_ROOT, run_script
from backend.tests.seed_helpers import T0, insert_real_rows, seed


def test_figures_of_a_hand_made_chat(engine: Engine) -> None:
    with engine.begin() as conn:
        real = insert_real_rows(conn)
        at = T0 + timedelta(hours=3, minutes=10)
        conn.execute(
            insert(Message).values(
                content="@Real did you see this? it is a long message for the duplicate figure",
                created_at=at,
                updated_at=at,
                user_id=real.users[0],
                channel_id=real.channels[0],
                parent_id=None,
            )
        )
    with engine.connect() as conn:
        figures = measure(conn)
    assert figures["messages"] == 4 and figures["users"] == 3
    assert figures["long_messages"] == 1 and figures["long_duplicate_share"] == 0.0
    assert figures["gap_median_minutes"] == 1.0  # gaps of 1, 1 and 8 minutes
    assert figures["gap_share_under_5_minutes"] == pytest.approx(2 / 3, abs=1e-3)
    assert (
        figures["mentions"] == 1 and figures["self_mention_share"] == 1.0
    )  # "Real" is the author's first name
    assert figures["replies"] == 1 and figures["self_reply_share"] == 0.0
    assert figures["reactions"] == 1 and figures["self_reaction_share"] == 0.0
    assert figures["reaction_delay_p90_hours"] == 1.0
    assert figures["name_collision_share"] == 0.0
    assert figures["channel_size_busiest_over_median"] == 1.0
    assert figures["users_in_no_channel_share"] == 0.0
    assert figures["users_never_posting_share"] == 0.0
    assert figures["question_share"] == 0.25
    text = format_figures(figures)
    assert "@mentions naming the author" in text and "100.0%" in text


def test_script_on_an_existing_database(db_url: str, engine: Engine) -> None:
    with engine.begin() as conn:
        insert_real_rows(conn)
    result = run_script("../benchmarks/realism.py", "--database-url", db_url, "--json", cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["messages"] == 3


def test_figures_of_the_demo_profile(engine: Engine) -> None:
    """The issue's realism figures, on a seeded profile (the load profile's are in the README)."""
    seed(engine, "demo")
    with engine.connect() as conn:
        figures = measure(conn)
    assert figures["gap_median_minutes"] < 10 and figures["gap_share_under_5_minutes"] > 0.6
    assert figures["self_mention_share"] == 0.0 and figures["mentions"] > 20
    assert figures["self_reply_share"] < 0.1
    assert figures["self_reaction_share"] == 0.0
    assert figures["reaction_delay_p90_hours"] < 24
    assert figures["name_collision_share"] == 0.0
    assert figures["users_in_no_channel_share"] == 0.0
    assert figures["question_share"] > 0.15
    assert figures["long_duplicate_share"] < 0.05
    assert figures["channel_size_busiest_over_median"] > 2
    assert figures["channel_activity_busiest_over_median"] > 2

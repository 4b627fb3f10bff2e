"""seed_data.py show: a channel as a transcript, on seeded and on real databases; errors as one line."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine, select

from backend.models import Channel, Message, User, UserChannel
from backend.tests.helpers import run_script
from backend.tests.seed_helpers import error_line, insert_real_rows, seed


def show(url: str, *args: str) -> tuple[int, str, str]:
    result = run_script("seed_data.py", "show", *args, database_url=url)
    return result.returncode, result.stdout, result.stderr


def test_busiest_channel_of_a_seeded_database(db_url: str, engine: Engine) -> None:
    seed(engine, "test")
    with engine.connect() as conn:
        dm_names = set(conn.scalars(select(Channel.name).where(Channel.is_dm.is_(True))))
    code, out, err = show(db_url, "--limit", "5")
    assert code == 0, err
    title = out.splitlines()[0]
    assert title.startswith("#") and "members" in title and "messages" in title
    assert not any(name in title for name in dm_names)
    assert "the latest 5 of " in out.splitlines()[1]
    assert re.search(r"^── \w{3} \d{4}-\d\d-\d\d ──$", out, re.M)
    top_lines = [line for line in out.splitlines() if re.match(r"^\d\d:\d\d  \S", line)]
    assert len(top_lines) == 5


def test_named_channel_shows_threads_and_reactions(db_url: str, engine: Engine) -> None:
    with engine.begin() as conn:
        real = insert_real_rows(conn)
        name = conn.scalar(select(Channel.name).where(Channel.id == real.channels[0]))
        authors = dict(conn.execute(select(User.id, User.name)).all())
    code, out, err = show(db_url, "--channel", f"#{name}")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"#{name} · public · 3 members · 3 messages")
    body = "\n".join(lines[2:])
    # Two top-level messages; the reply sits indented under the first, the reaction after the message.
    assert re.search(rf"^\d\d:\d\d  {authors[real.users[0]]}: real message 0$", body, re.M)
    assert re.search(r"^ +\S+ 1$", body, re.M)  # "👍 1" or whatever the first reaction is
    reply = re.search(rf"^ {{8}}↳ \d\d:\d\d  {authors[real.users[2]]}: real message 2$", body, re.M)
    assert reply is not None
    assert body.index("real message 0") < reply.start() < body.index("real message 1")


def test_channel_by_id_and_limit(db_url: str, engine: Engine) -> None:
    with engine.begin() as conn:
        real = insert_real_rows(conn)
    code, out, _ = show(db_url, "--channel", str(real.channels[0]), "--limit", "1")
    assert code == 0
    assert "real message 1" in out and "real message 0" not in out  # the latest one only


def test_dm_of_a_user(db_url: str, engine: Engine) -> None:
    seed(engine, "test")
    with engine.connect() as conn:
        dm = conn.execute(select(Channel.id).where(Channel.is_dm.is_(True)).limit(1)).scalar_one()
        user_id, email, name = conn.execute(
            select(User.id, User.email, User.name)
            .join(UserChannel)
            .where(UserChannel.channel_id == dm)
            .limit(1)
        ).one()
        wrote = conn.scalar(select(Message.id).where(Message.channel_id == dm).limit(1))
    code, out, err = show(db_url, "--dm", email)
    assert code == 0, err
    assert out.startswith("DM ") and name in out.splitlines()[0]
    if wrote is not None:
        assert re.search(r"^\d\d:\d\d  ", out, re.M)
    assert show(db_url, "--dm", str(user_id))[1].splitlines()[0] == out.splitlines()[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--channel", "no-such-channel"), "--channel: no channel named 'no-such-channel'"),
        (("--dm", "nobody@nowhere.test"), "--dm: no user with the email, name or id"),
        (("--limit", "0"), "--limit: 0 is out of range; allowed 1..10000"),
        (("--channel", "a", "--dm", "b"), "not allowed with argument"),
        (("--limit", "many"), "invalid int value"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    db_url: str, engine: Engine, args: tuple[str, ...], message: str
) -> None:
    seed(engine, "test")
    code, out, err = show(db_url, *args)
    assert code == 2
    assert out == ""
    assert message in error_line(err)
    assert "Traceback" not in err


def test_a_user_without_dms(db_url: str, engine: Engine) -> None:
    with engine.begin() as conn:
        insert_real_rows(conn)
    code, _, err = show(db_url, "--dm", "real0@company.test")
    assert code == 2
    assert "has no direct messages; try --channel instead" in error_line(err)


def test_an_empty_database_says_to_seed_first(db_url: str) -> None:
    code, out, err = show(db_url)
    assert code == 1 and out == ""
    assert "has no channels; seed it first" in error_line(err)


def test_an_unmigrated_database_is_refused(empty_db_url: str) -> None:
    code, _, err = show(empty_db_url)
    assert code == 1
    assert "is not migrated to head" in error_line(err)


def test_show_writes_nothing(db_url: str, engine: Engine) -> None:
    seed(engine, "test")
    with engine.connect() as conn:
        before = conn.scalar(select(Message.id).order_by(Message.id.desc()).limit(1))
    assert show(db_url)[0] == 0
    with engine.connect() as conn:
        assert conn.scalar(select(Message.id).order_by(Message.id.desc()).limit(1)) == before

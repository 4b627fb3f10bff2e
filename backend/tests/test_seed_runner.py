"""runner.py, in-process on real databases: the shape of the seeded chat, its invariants, its realism and
its determinism (two databases, two backends, any number of workers)."""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine

from backend.database import make_engine
from backend.seeding import dataset as dataset_module
from backend.seeding import registry
from backend.seeding.dataset import Dataset
from backend.seeding.scenario import load_scenario, scenario_path
from backend.seeding.verify import check_invariants
from backend.tests.helpers import run_script
from backend.tests.seed_helpers import (
    AS_OF_DATE,
    WINDOW_END,
    Chat,
    another_database,
    assert_same_dump,
    canonical_dump,
    copy_sqlite_template,
    corpus_runs,
    fetch_chat,
    make_options,
    message_kind,
    seed,
)

AUTH0_ID = re.compile(r"^auth0\|[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
EMAIL = re.compile(r"^[^@\s]+@[a-z0-9.-]+\.[a-z]{2,}$")
EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")


def chat_of(engine: Engine) -> Chat:
    with engine.connect() as conn:
        return fetch_chat(conn)


def seeded_chat(engine: Engine, profile: str = "test", **overrides: object) -> Chat:
    seed(engine, profile, **overrides)
    return chat_of(engine)


# ----- shape ------------------------------------------------------------------------------------------


def test_users(engine: Engine) -> None:
    chat = seeded_chat(engine, users=200, channels=4, messages_per_channel=2)
    users = chat.users
    assert len(users) == 200
    assert all(AUTH0_ID.match(u["auth0_id"]) for u in users), users[0]["auth0_id"]
    assert len({u["auth0_id"] for u in users}) == 200
    assert all(EMAIL.match(u["email"]) for u in users), [u["email"] for u in users[:3]]
    assert len({u["email"].lower() for u in users}) == 200
    active = sum(u["is_active"] for u in users) / len(users)
    assert 0.75 < active < 1.0, f"mostly active, some not: {active:.0%}"
    assert all(u["bio"] is None or len(u["bio"]) <= 200 for u in users)
    assert sum(u["bio"] is not None for u in users) > 100
    assert all(u["picture"] and u["picture"].startswith("https://") for u in users)
    assert all(u["name"].strip() and " " in u["name"] for u in users)
    assert all(u["created_at"] < WINDOW_END for u in users)


def test_channels(engine: Engine) -> None:
    chat = seeded_chat(engine, channels=10)
    users = chat.user
    assert len(chat.channels) == 10
    dms = [c for c in chat.channels if c["is_dm"]]
    groups = [c for c in chat.channels if not c["is_dm"]]
    assert len(dms) == 3, "30% of 10 channels are DMs"
    private = [c for c in groups if c["is_private"]]
    assert len(private) == 3, "40% of the 7 other channels, rounded to the nearest, are private"
    codes = [c["join_code"] for c in private]
    assert all(codes) and len(set(codes)) == len(codes)
    assert all(c["join_code"] is None for c in chat.channels if c not in private)
    for dm in dms:
        assert dm["is_private"] and dm["description"] is None
        assert dm["name"] == f"{users[dm['owner_id']]['name']} DM"
    for channel in chat.channels:
        owner = users[channel["owner_id"]]
        assert channel["created_at"] >= owner["created_at"], "a channel is created after its owner"
        assert channel["created_at"] < WINDOW_END


# The shape tests below only read: they share one seeded template per backend (the chat_seed fixture).
SHAPE = {"users": 12, "channels": 10, "messages_per_channel": 20, "as_of": AS_OF_DATE}


@pytest.mark.chat_seed(**SHAPE)
def test_memberships(seeded_connection: Connection) -> None:
    chat = fetch_chat(seeded_connection)
    users, members = chat.user, chat.members
    sizes = set()
    for channel in chat.channels:
        joined = members[channel["id"]]
        assert channel["owner_id"] in joined
        if channel["is_dm"]:
            assert len(joined) == 2
        else:
            assert 2 <= len(joined) <= len(users)
            sizes.add(len(joined))
        for user_id, at in joined.items():
            assert at >= channel["created_at"] and at >= users[user_id]["created_at"]
            assert at < WINDOW_END
    assert len(sizes) > 1, "regular channels vary in size"
    assert len(chat.memberships) == len({(m["user_id"], m["channel_id"]) for m in chat.memberships})


@pytest.mark.chat_seed(**SHAPE)
def test_messages_and_replies(seeded_connection: Connection) -> None:
    chat = fetch_chat(seeded_connection)
    members, messages = chat.members, chat.message
    replies = [m for m in chat.messages if m["parent_id"] is not None]
    assert replies and len(replies) < len(chat.messages)
    for m in chat.messages:
        joined = members[m["channel_id"]]
        assert m["user_id"] in joined, "authors are members"
        assert m["created_at"] >= joined[m["user_id"]], "authors write after they joined"
        assert m["updated_at"] >= m["created_at"]
        assert m["updated_at"] <= WINDOW_END and m["content"].strip()
    for reply in replies:
        parent = messages[reply["parent_id"]]
        assert parent["parent_id"] is None, "replies are one level deep"
        assert parent["channel_id"] == reply["channel_id"]
        assert reply["created_at"] > parent["created_at"]
    assert any(m["updated_at"] > m["created_at"] for m in chat.messages), "some messages were edited"


def test_nothing_is_in_the_future(engine: Engine) -> None:
    """Seeding as of today (the real clock) writes nothing later than now."""
    today = datetime.now(UTC).date()
    seed(engine, "test", as_of=today, channels=10)
    chat = chat_of(engine)
    now = datetime.now(UTC)
    stamps = [u["created_at"] for u in chat.users] + [c["created_at"] for c in chat.channels]
    stamps += [m["joined_at"] for m in chat.memberships] + [r["created_at"] for r in chat.reactions]
    stamps += [m["created_at"] for m in chat.messages] + [m["updated_at"] for m in chat.messages]
    assert max(stamps) <= now
    with engine.connect() as conn:
        assert all(r.ok for r in check_invariants(conn))


def test_bigger_seed_has_the_configured_shares(engine: Engine) -> None:
    """Sentences vs paragraphs about 60/40, reactions on about 40% of messages, 1-3 each."""
    seed(engine, "test", users=60, channels=30, messages_per_channel=100, seed=3)
    chat = chat_of(engine)
    assert len(chat.messages) > 2500
    utterances = corpus_runs()
    kinds = Counter(message_kind(m["content"], utterances) for m in chat.messages)
    assert kinds["?"] < 0.05 * len(chat.messages), "message text comes from the corpus"
    paragraphs = kinds["paragraph"] / len(chat.messages)
    assert 0.35 < paragraphs < 0.45, f"{paragraphs:.1%} paragraphs"

    per_message = Counter(r["message_id"] for r in chat.reactions)
    reacted = len(per_message) / len(chat.messages)
    assert 0.35 < reacted < 0.45, f"{reacted:.1%} of messages have reactions"
    assert set(per_message.values()) == {1, 2, 3}


@pytest.mark.chat_seed(**SHAPE)
def test_reactions(seeded_connection: Connection) -> None:
    chat = fetch_chat(seeded_connection)
    members, messages = chat.members, chat.message
    assert chat.reactions
    triples = [(r["message_id"], r["reaction_id"], r["user_id"]) for r in chat.reactions]
    assert len(set(triples)) == len(triples)
    for r in chat.reactions:
        message = messages[r["message_id"]]
        joined = members[message["channel_id"]]
        assert r["user_id"] in joined, "reactors are members"
        assert r["created_at"] >= message["created_at"] and r["created_at"] >= joined[r["user_id"]]
        assert r["created_at"] <= WINDOW_END


@pytest.mark.parametrize("profile", ["test", "dev", "demo"])
def test_every_invariant_holds_after_each_profile(db_url: str, engine: Engine, profile: str) -> None:
    seed(engine, profile)
    with engine.connect() as conn:
        failed = [(r.name, r.violations, r.sample_ids) for r in check_invariants(conn) if not r.ok]
    assert failed == []
    result = run_script("seed_data.py", "verify", database_url=db_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout


def test_demo_profile_opens_on_the_demo_scenario(engine: Engine) -> None:
    demo = load_scenario(scenario_path("demo"))
    chat = seeded_chat(engine, "demo")
    by_email = {u["email"]: u for u in chat.users}
    for user in demo.users:
        row = by_email[user.email]
        assert (row["name"], row["bio"], row["is_active"]) == (user.name, user.bio, True)
    names = [c["name"] for c in chat.channels]
    for name in ("general", "random", "engineering", "design"):
        assert names.count(name) == 1, name
    channels = {c["name"]: c for c in chat.channels}
    general = channels["general"]
    assert not general["is_private"] and not general["is_dm"]
    assert set(chat.members[general["id"]]) == set(chat.user), "#general holds every user"
    # The story: the scripted welcome opens #general, generated chat follows it.
    in_general = sorted((m for m in chat.messages if m["channel_id"] == general["id"]), key=lambda m: m["id"])
    first = demo.conversations[0].messages[0]
    assert in_general[0]["content"] == first.text
    assert len(in_general) > sum(1 for _c, _m, _p in demo.messages() if _c.channel == "general")
    assert len(chat.users) == 40 + len(demo.users) and len(chat.channels) == 14 + len(demo.channels)


# ----- realism ------------------------------------------------------------------------------------------


def test_dev_seed_reads_like_a_chat(engine: Engine) -> None:
    chat = seeded_chat(engine, "dev")
    per_author = sorted(Counter(m["user_id"] for m in chat.messages).values(), reverse=True)
    top = per_author[: math.ceil(len(per_author) * 0.2)]
    assert sum(top) / len(chat.messages) > 0.4, "a few users write most messages"

    contents = [m["content"] for m in chat.messages]

    def share(pattern: str) -> float:
        return sum(1 for c in contents if re.search(pattern, c)) / len(contents)

    assert 0.02 < share(r"@\w") < 0.5, "some mentions"
    assert 0 < share(r"https?://") < 0.3, "some links"
    assert 0 < share("`") < 0.3, "some code"
    assert 0.02 < share(EMOJI.pattern) < 0.6, "some emoji"
    assert share(r"[A-Za-z]") > 0.99

    messages = chat.message
    replies = [m for m in chat.messages if m["parent_id"] is not None]
    assert replies
    gaps = [r["created_at"] - messages[r["parent_id"]]["created_at"] for r in replies]
    assert all(timedelta(0) < gap <= timedelta(days=1) for gap in gaps)
    assert sorted(gaps)[len(gaps) // 2] < timedelta(minutes=30), "threads answer within minutes"
    for r in chat.reactions:
        assert r["created_at"] >= messages[r["message_id"]]["created_at"]


def test_dev_seed_is_a_conversation(engine: Engine) -> None:
    """People answer each other: questions, bursts of minutes, no talking to oneself, prompt reactions."""
    chat = seeded_chat(engine, "dev")
    users, messages = chat.user, chat.message
    contents = [m["content"] for m in chat.messages]
    assert sum("?" in c for c in contents) / len(contents) > 0.15, "people ask each other things"
    by_channel: dict[int, list[datetime]] = {}
    for m in sorted(chat.messages, key=lambda m: (m["channel_id"], m["created_at"])):
        by_channel.setdefault(m["channel_id"], []).append(m["created_at"])
    gaps = sorted(b - a for times in by_channel.values() for a, b in itertools.pairwise(times))
    assert gaps[len(gaps) // 2] < timedelta(minutes=10), "the median gap is minutes"
    assert sum(g < timedelta(minutes=5) for g in gaps) / len(gaps) > 0.6, "bursts"
    assert gaps[-1] > timedelta(days=1), "quiet days between conversations"
    for m in chat.messages:
        for name in re.findall(r"@(\w+)", m["content"]):
            assert name != users[m["user_id"]]["name"].split()[0], "nobody mentions themselves"
    assert all(r["user_id"] != messages[r["message_id"]]["user_id"] for r in chat.reactions)
    delays = sorted(r["created_at"] - messages[r["message_id"]]["created_at"] for r in chat.reactions)
    assert delays[int(len(delays) * 0.9)] < timedelta(days=1)
    replies = [m for m in chat.messages if m["parent_id"] is not None]
    own = sum(r["user_id"] == messages[r["parent_id"]]["user_id"] for r in replies)
    assert own <= 0.2 * len(replies), "replies mostly answer someone else"
    in_a_channel = {m["user_id"] for m in chat.memberships}
    assert in_a_channel == set(users), "every user is in a channel"


def test_japanese_locale_gives_japanese_names(engine: Engine) -> None:
    chat = seeded_chat(engine, "test", locale="ja_JP", users=20)
    names = [u["name"] for u in chat.users]
    japanese = [n for n in names if any("CJK" in unicodedata.name(ch, "") for ch in n)]
    assert len(japanese) == len(names), names
    assert all(EMAIL.match(u["email"]) for u in chat.users), "emails stay ASCII"
    japanese_text = [m for m in chat.messages if re.search("[\u3040-\u30ff\u4e00-\u9fff]", m["content"])]
    assert len(japanese_text) > 0.9 * len(chat.messages), "the locale reaches the text too"
    with engine.connect() as conn:
        assert all(r.ok for r in check_invariants(conn))


def test_the_documented_arabic_locale_gives_arabic_names(engine: Engine) -> None:
    """--help and the README give ar_SA as an example of a locale that reaches names and text."""
    chat = seeded_chat(engine, "test", locale="ar_SA", users=20)
    arabic = [u["name"] for u in chat.users if re.search("[\u0600-\u06ff]", u["name"])]
    assert len(arabic) == len(chat.users), [u["name"] for u in chat.users][:5]


# ----- determinism ----------------------------------------------------------------------------------------


OPTIONS = {"users": 15, "channels": 10, "messages_per_channel": 12, "seed": 77}


def _dump(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return canonical_dump(conn)


def _dump_of(url: str, profile: str = "test", **overrides: object) -> dict[str, list[tuple[object, ...]]]:
    eng = make_engine(url)
    try:
        seed(eng, profile, **overrides)
        return _dump(eng)
    finally:
        eng.dispose()


def test_same_inputs_give_identical_databases(
    backend: str, engine: Engine, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    seed(engine, "test", **OPTIONS)
    first = _dump(engine)
    second = _dump_of(another_database(request, backend, tmp_path), **OPTIONS)
    assert_same_dump(first, second)
    assert len(first["messages"]) > 50


@pytest.mark.parametrize(
    ("profile", "overrides"),
    [
        ("test", OPTIONS),
        ("demo", {}),
        ("test", {"locale": "ja_JP", "rich_text": True, "seed": 5}),
        ("test", {**OPTIONS, "scenario": "test"}),
    ],
    ids=["test", "demo", "ja_JP", "test-scenario"],
)
def test_sqlite_and_postgresql_get_identical_data(
    pg_url: str, sqlite_template: Path, tmp_path: Path, profile: str, overrides: dict[str, object]
) -> None:
    on_postgres = _dump_of(pg_url, profile, **overrides)
    on_sqlite = _dump_of(copy_sqlite_template(sqlite_template, tmp_path), profile, **overrides)
    assert_same_dump(on_postgres, on_sqlite)


def test_a_different_seed_gives_different_data(
    backend: str, engine: Engine, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    seed(engine, "test", **OPTIONS)
    first = _dump(engine)
    other = _dump_of(another_database(request, backend, tmp_path), **{**OPTIONS, "seed": 78})
    for table in ("users", "channels", "messages"):
        assert first[table] != other[table], table
    assert {u[5] for u in first["users"]} != {u[5] for u in other["users"]}, "names differ"
    assert [m[2] for m in first["messages"]] != [m[2] for m in other["messages"]]


def test_workers_and_chunking_do_not_change_the_data(
    backend: str,
    engine: Engine,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Small batches and chunks: many tasks, so worker processes really share the work.
    monkeypatch.setattr(dataset_module, "CHUNK_ROWS", 3)
    options = make_options("test", **OPTIONS)
    planned = Dataset(options, dict.fromkeys(registry.id_block_tables(), 1), 1, list(range(1, 17)))
    assert all(len(chunks) > 3 for chunks in planned.plan.chunks.values()), planned.plan.chunks

    seed(engine, "test", **OPTIONS)
    in_process = _dump(engine)
    for workers in (1, 2):
        url = another_database(request, backend, tmp_path)
        assert_same_dump(in_process, _dump_of(url, **{**OPTIONS, "workers": workers}))

"""Scenario files: each feature of the format is read into typed rows, each broken rule is refused in one
line naming the file, the line and the rule, and the shipped scenarios load and keep the invariants."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from backend.seeding.scenario import (
    DAY,
    GENERATED,
    HOUR,
    MINUTE,
    At,
    ScenarioError,
    load_scenario,
    parse_at,
    parse_scenario,
    reaction_code,
)

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

BASE = """\
users:
  ada: {name: Ada, email: ada@example.com}
  ben: {name: Ben}
  cy: {}
channels:
  general: {kind: public, owner: ada, members: all}
  pair: {kind: dm, owner: ada, members: [ben]}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:")
    return message


# ----- times ------------------------------------------------------------------------------------------


def test_parse_at_reads_offsets_and_days() -> None:
    assert parse_at("+2m") == At(None, 2 * MINUTE, "+2m")
    assert parse_at("+1h30m").offset == HOUR + 30 * MINUTE  # type: ignore[union-attr]
    assert parse_at("+1d").offset == DAY  # type: ignore[union-attr]
    at = parse_at("day 3 09:15")
    assert at is not None and at.day == 3 and at.offset == 9 * HOUR + 15 * MINUTE
    assert at.after(previous=123, window_start=1000) == 1000 + 2 * DAY + 9 * HOUR + 15 * MINUTE
    assert parse_at("day 2").offset == 0  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["2m", "+2x", "day 0", "day 3 25:00", "day 3 09:61", "tomorrow", 5])
def test_parse_at_refuses_what_it_cannot_read(text: object) -> None:
    assert parse_at(text) is None


def test_parse_at_relative_only_refuses_days() -> None:
    assert parse_at("day 2", relative_only=True) is None
    assert parse_at("+5m", relative_only=True) is not None


def test_reaction_names_codes_aliases_and_emoji() -> None:
    assert reaction_code(":+1:") == "thumbsup"
    assert reaction_code(":tada:") == "tada"
    assert reaction_code("🔥") == "fire"
    assert reaction_code(":nope:") is None


# ----- features ---------------------------------------------------------------------------------------


def test_test_scenario_every_feature(tmp_path: Path) -> None:
    s = load_scenario(SCENARIOS / "test.yaml")
    ada, ben, cy = s.users
    assert (ada.handle, ada.name, ada.email, ada.active) == (
        "ada",
        "Ada Admin",
        "ada@scenario.example.com",
        True,
    )
    assert ada.created is not None and ada.created.day == 1
    assert ben.bio is None and ben.active is False  # explicit null bio, explicit inactive
    assert (cy.name, cy.email, cy.bio, cy.active) == (None, None, GENERATED, None)  # all generated
    incident, secret, plans, pair = s.channels
    assert incident.members == ("ada", "ben", "cy") and not incident.is_private
    assert secret.is_private and secret.join_code == "TESTCODE1" and secret.members == ("ben", "ada")
    assert plans.is_private and plans.join_code is None  # generated
    assert pair.is_dm and pair.is_private and pair.members == ("ada", "ben") and pair.description is None
    messages = list(s.messages())
    assert [(m.by, parent.by if parent else None) for _c, m, parent in messages] == [
        ("ada", None),
        ("ben", "ada"),
        ("cy", "ada"),
        ("ben", None),
        ("ben", None),
    ]
    first = messages[0][1]
    assert [(r.code, r.by) for r in first.reactions] == [
        ("thumbsup", "ben"),
        ("thumbsup", "cy"),
        ("fire", "ada"),
    ]
    assert first.replies[0].edited == At(None, MINUTE, "+1m")
    assert "```" in first.replies[1].text
    assert len(s.digest) == 64


def test_resolve_places_times_in_the_window() -> None:
    s = load_scenario(SCENARIOS / "test.yaml")
    start = 1_000 * DAY
    r = s.resolve(start, start + 30 * DAY)
    assert r.user_created["ada"] == start + 8 * HOUR
    assert r.user_created["ben"] == start  # default: the window's start
    assert r.channel_created["incident"] == start + 8 * HOUR + 30 * MINUTE
    assert r.joined[("ben", "incident")] == r.channel_created["incident"]
    top, reply1, reply2, later, dm = r.messages
    assert top.created == start + DAY + 9 * HOUR + 15 * MINUTE
    assert reply1.created == top.created + 2 * MINUTE and reply1.parent == 0
    assert reply1.updated == reply1.created + MINUTE
    assert reply2.created == reply1.created + MINUTE  # no `at`: a minute after the thread's previous message
    assert later.created == top.created + HOUR  # relative to the previous top-level message
    assert dm.created == start + 2 * DAY
    assert [at for _r, at in top.reactions] == [top.created + n * MINUTE for n in (1, 2, 3)]


def test_digest_is_the_file_content_hash(tmp_path: Path) -> None:
    one = parse_scenario(BASE.encode(), Path("a.yaml"))
    same = parse_scenario(BASE.encode(), Path("b.yaml"))
    other = parse_scenario((BASE + "description: x\n").encode(), Path("a.yaml"))
    assert one.digest == same.digest != other.digest


def test_empty_file_is_an_empty_scenario(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, ""))
    assert (s.users, s.channels, s.conversations) == ((), (), ())


def test_shipped_demo_scenario_tells_a_story() -> None:
    s = load_scenario(SCENARIOS / "demo.yaml")
    assert s.users[0].email == "ada.admin@demo.example.com"
    names = [c.handle for c in s.channels]
    assert names[:4] == ["general", "random", "engineering", "design"]
    messages = [m for _c, m, _p in s.messages()]
    assert any(m.replies for m in messages)
    assert any("@" in m.text for m in messages)
    assert any("```" in m.text or "`" in m.text for m in messages)
    assert sum(len(m.reactions) for m in messages) >= 10


# ----- refused scripts ----------------------------------------------------------------------------------

CONVERSATION = BASE + "conversations:\n  - channel: general\n    messages:\n"

REFUSED = {
    "malformed": ("users: [a, b\n", 2, "not valid YAML"),
    "unknown top key": ("people: {}\n", 1, "unknown key 'people'"),
    "unknown user key": ("users:\n  ada: {nmae: Ada}\n", 2, "unknown key 'nmae'"),
    "duplicate key": ("users:\n  ada: {}\n  ada: {}\n", 3, "appears twice"),
    "duplicate email": (
        "users:\n  a: {email: x@example.com}\n  b: {email: X@example.com}\n",
        3,
        "duplicate email",
    ),
    "bad email": ("users:\n  a: {email: nobody}\n", 2, "not an email address"),
    "long bio": ("users:\n  a: {bio: " + "x" * 201 + "}\n", 2, "at most 200"),
    "active not bool": ("users:\n  a: {active: maybe}\n", 2, "true or false"),
    "dm with three": (
        BASE + "  trio: {kind: dm, owner: ada, members: [ben, cy]}\n",
        8,
        "(dm_has_two_members)",
    ),
    "dm with one": (BASE + "  solo: {kind: dm, owner: ada}\n", 8, "dm_has_two_members"),
    "unknown kind": (BASE + "  x: {kind: secret, owner: ada}\n", 8, "kind 'secret' is unknown"),
    "unknown owner": (BASE + "  x: {owner: zed}\n", 8, "'zed' is not one of the scenario's users"),
    "unknown member": (BASE + "  x:\n    owner: ada\n    members: [ben, zed]\n", 10, "'zed' is not one"),
    "join code on public": (BASE + "  x: {owner: ada, join_code: ABCD1234}\n", 8, "(channel_privacy)"),
    "duplicate join code": (
        BASE + "  x: {kind: private, owner: ada, join_code: ABCD}\n"
        "  y: {kind: private, owner: ada, join_code: ABCD}\n",
        9,
        "join codes are unique",
    ),
    "message by non-member": (
        BASE.replace("members: all", "members: [ben]") + "conversations:\n  - channel: general\n"
        "    messages:\n      - {by: cy, text: hi}\n",
        11,
        "(author_is_member)",
    ),
    "reaction by non-member": (
        BASE + "conversations:\n  - channel: pair\n    messages:\n"
        "      - {by: ada, text: hi, reactions: [':+1: by cy']}\n",
        11,
        "(reactor_is_member)",
    ),
    "unknown reaction": (
        CONVERSATION + "      - {by: ada, text: hi, reactions: [':unicorn: by ben']}\n",
        11,
        "unknown reaction",
    ),
    "reaction twice": (
        CONVERSATION + "      - {by: ada, text: hi, reactions: [':+1: by ben', ':thumbsup: by ben']}\n",
        11,
        "(reaction_unique)",
    ),
    "unreadable reaction": (
        CONVERSATION + "      - {by: ada, text: hi, reactions: [':+1:']}\n",
        11,
        "cannot read reaction",
    ),
    "reply before parent": (
        CONVERSATION + "      - by: ada\n        at: day 2 10:00\n        text: hi\n        replies:\n"
        "          - {by: ben, at: day 2 09:00, text: early}\n",
        15,
        "(reply_after_parent)",
    ),
    "reply at the same instant": (
        CONVERSATION + "      - by: ada\n        text: hi\n        replies:\n"
        "          - {by: ben, at: +0m, text: same}\n",
        14,
        "reply_after_parent",
    ),
    "reply to a reply": (
        CONVERSATION + "      - by: ada\n        text: hi\n        replies:\n"
        "          - by: ben\n            text: a\n            replies: [{by: ada, text: b}]\n",
        16,
        "(reply_parent_is_top_level)",
    ),
    "messages backwards": (
        CONVERSATION + "      - {by: ada, at: day 3, text: a}\n      - {by: ben, at: day 2, text: b}\n",
        12,
        "go forward in time",
    ),
    "bad time": (CONVERSATION + "      - {by: ada, at: yesterday, text: a}\n", 11, "cannot read 'yesterday'"),
    "edited as a day": (CONVERSATION + "      - {by: ada, edited: day 2, text: a}\n", 11, "'+2m' or"),
    "message without text": (CONVERSATION + "      - {by: ada}\n", 11, "needs 'text'"),
    "unknown message key": (
        CONVERSATION + "      - {by: ada, text: a, sender: ben}\n",
        11,
        "unknown key 'sender'",
    ),
    "unknown channel": (
        BASE + "conversations:\n  - channel: nowhere\n    messages: []\n",
        9,
        "'nowhere' is not",
    ),
    "before joining": (
        "users:\n  ada: {}\n  ben: {created: day 5}\nchannels:\n  g: {owner: ada, members: all}\n"
        "conversations:\n  - channel: g\n    messages:\n      - {by: ben, at: day 2, text: early}\n",
        9,
        "(message_after_author_joined)",
    ),
    "channel before owner": (
        "users:\n  ada: {created: day 3}\nchannels:\n  g: {owner: ada, created: day 2}\n",
        4,
        "(joined_after_created)",
    ),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_refused_scripts_name_file_line_and_rule(tmp_path: Path, case: str) -> None:
    text, line, rule = REFUSED[case]
    message = refused(tmp_path, text)
    assert message.startswith(f"{tmp_path / 's.yaml'}:{line}: "), message
    assert rule in message, message


def test_times_past_the_window_are_refused(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, CONVERSATION + "      - {by: ada, at: day 40 10:00, text: late}\n"))
    with pytest.raises(ScenarioError, match=r"s\.yaml:11: .*past the window's end \(window_days 30\)"):
        s.resolve(0, 30 * DAY)
    s.resolve(0, 40 * DAY)  # fits once the window is long enough


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"nope\.yaml: cannot read the scenario file"):
        load_scenario(tmp_path / "nope.yaml")

"""A scenario laid out by run index: users and channels in file order, each channel's rows in order, the
instants the scenario resolves to, and the reload check of the options' content hash."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from backend.reference_data import REACTIONS
from backend.seeding.options import resolve_options
from backend.seeding.scenario import DAY, HOUR, MINUTE, Generated, ScenarioError, load_scenario, window
from backend.seeding.scripted import EMPTY, layout, options_scenario

TEST_YAML = Path(__file__).resolve().parents[1] / "scenarios" / "test.yaml"
START = 20_000 * DAY
END = START + 60 * DAY
CODES = [code for code, _emoji, _name in REACTIONS]


def test_no_scenario_is_an_empty_layout() -> None:
    assert layout(None, START, END) is EMPTY
    assert (EMPTY.n_users, EMPTY.n_channels) == (0, 0)


def test_layout_by_index() -> None:
    script = layout(load_scenario(TEST_YAML), START, END)
    assert (script.n_users, script.n_channels) == (3, 4)
    assert script.user_created.tolist() == [START + 8 * HOUR, START, START]
    assert script.user_value(0, "name") == "Ada Admin"
    assert script.user_value(1, "bio") is None  # explicitly no bio
    assert script.user_value(2, "name") is Generated.VALUE
    assert script.user_value(2, "bio") is Generated.VALUE
    assert script.owner.tolist() == [0, 1, 0, 0]  # incident: ada, secret: ben, plans: ada, ada-ben: ada
    counts = script.counts()
    assert counts["members"].tolist() == [3, 2, 2, 2]
    assert counts["messages"].tolist() == [4, 0, 0, 1]
    assert counts["reactions"].tolist() == [4, 0, 0, 1]
    incident = script.contents[0]
    assert incident.members.tolist() == [0, 1, 2]
    top, reply1, reply2, later = incident.messages
    assert (top.local, top.author, top.parent_local) == (0, 0, None)
    assert (reply1.author, reply1.parent_local, reply2.parent_local, later.parent_local) == (1, 0, 0, None)
    assert top.created == START + DAY + 9 * HOUR + 15 * MINUTE
    assert reply1.updated == reply1.created + MINUTE
    assert [(r.message_local, CODES[r.reference_index], r.user) for r in incident.reactions] == [
        (0, "thumbsup", 1),
        (0, "thumbsup", 2),
        (0, "fire", 0),
        (2, "eyes", 0),
    ]
    # Generated messages in the channel come after the last scripted instant (here: the later message).
    assert incident.script_end == max(later.updated, *(r.created for r in incident.reactions), reply1.updated)
    assert script.contents[1].script_end == script.channel_created[1]  # no script: the channel's creation


def test_options_scenario_reloads_and_checks_the_hash(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(TEST_YAML.read_bytes())
    options = resolve_options("test", None, {"scenario": str(path), "as_of": date(2026, 6, 1)})
    assert options_scenario(options) is not None
    assert options_scenario(resolve_options("test", None, {"as_of": date(2026, 6, 1)})) is None
    path.write_bytes(path.read_bytes() + b"\n# edited\n")
    with pytest.raises(ScenarioError, match="changed while the run was being prepared"):
        options_scenario(options)


def test_window_ends_at_midnight_of_the_as_of_date() -> None:
    start, end = window(date(2026, 6, 1), 30)
    assert end % DAY == 0 and end - start == 30 * DAY

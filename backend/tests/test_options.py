"""options.py: profile <- YAML file <- flags, validated into one frozen object; errors name the key."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from backend.seeding.options import (
    PROFILES,
    OptionsError,
    SeedOptions,
    describe_profiles,
    load_config_file,
    resolve_options,
)

TODAY = date(2026, 6, 1)


def resolve(profile: str = "test", config: dict[str, Any] | None = None, **overrides: Any) -> SeedOptions:
    return resolve_options(profile, config, overrides, today=TODAY)


def test_profiles_give_their_numbers_and_as_of_defaults_to_today() -> None:
    test = resolve("test")
    assert (test.profile, test.users, test.channels, test.messages_per_channel) == ("test", 8, 5, 6)
    assert test.as_of == TODAY
    dev = resolve("dev")
    assert dev.profile == "dev" and dev.users == SeedOptions().users
    demo = resolve("demo")
    assert demo.scenario == "demo" and len(demo.scenario_digest) == 64 and demo.rich_text
    load = resolve("load")
    assert load.users == 100_000 and load.max_members == 50
    assert set(PROFILES) == {"test", "dev", "demo", "load"}


def test_config_overrides_the_profile_and_flags_override_the_config() -> None:
    config = {"users": 12, "channels": 4, "dm_share": 0.5, "locale": "de_DE"}
    options = resolve("test", config, channels=6, users=None, seed=9)
    assert options.users == 12, "a flag left out (None) does not override the file"
    assert options.channels == 6, "a flag overrides the file"
    assert options.dm_share == 0.5 and options.locale == "de_DE"
    assert options.messages_per_channel == 6, "what neither sets comes from the profile"
    assert options.seed == 9


def test_config_file_keys_may_use_dashes(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text("messages-per-channel: 3\ndm_share: 0.25\nas-of: 2026-05-01\n", encoding="utf-8")
    config = load_config_file(path)
    # Dates stay text until resolve_options checks them like --as-of.
    assert config == {"messages_per_channel": 3, "dm_share": 0.25, "as_of": "2026-05-01"}
    options = resolve("test", config)
    assert options.messages_per_channel == 3 and options.as_of == date(2026, 5, 1)


def test_an_empty_config_file_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing here\n", encoding="utf-8")
    assert resolve("test", load_config_file(path)) == resolve("test")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("users: [1, 2\nchannels: 3\n", "not valid YAML at line"),
        ("- users\n- channels\n", "must hold a mapping"),
    ],
    ids=["malformed", "not-a-mapping"],
)
def test_bad_config_files_are_refused(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OptionsError, match="--config") as info:
        load_config_file(path)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_a_missing_config_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OptionsError, match=r"--config: cannot read .*missing\.yaml"):
        load_config_file(tmp_path / "missing.yaml")


# (profile, config, overrides, key named, allowed range or hint named)
BAD_OPTIONS: list[tuple[str, dict[str, Any], dict[str, Any], str, str]] = [
    ("test", {"userz": 5}, {}, "userz", "known options are"),
    ("test", {}, {"users": -1}, "users", "0.."),
    ("test", {}, {"channels": -3}, "channels", "0.."),
    ("test", {}, {"messages_per_channel": -1}, "messages_per_channel", "0..1000000"),
    ("test", {}, {"dm_share": 1.5}, "dm_share", "0..1"),
    ("test", {"reaction_share": -0.1}, {}, "reaction_share", "0..1"),
    ("test", {}, {"private_share": float("nan")}, "private_share", "0..1"),
    ("test", {}, {"users": 1, "channels": 3}, "users", "at least 2 users"),
    ("test", {}, {"locale": "xx_XX"}, "locale", "en_US"),
    ("test", {}, {"as_of": date(2026, 6, 2)}, "as_of", "up to today (2026-06-01)"),
    ("test", {"as_of": "2026-13-01"}, {}, "as_of", "YYYY-MM-DD"),
    ("test", {"users": "many"}, {}, "users", "whole number"),
    ("test", {"users": 5.5}, {}, "users", "whole number"),
    ("test", {"dm_share": "half"}, {}, "dm_share", "between 0 and 1"),
    ("test", {"rich_text": "yes"}, {}, "rich_text", "true or false"),
    ("test", {}, {"max_members": 1}, "max_members", "2 and more"),
    ("test", {}, {"window_days": 0}, "window_days", "1..36500"),
    ("test", {}, {"seed": -1}, "seed", "0.."),
    ("test", {"profile": "demo"}, {}, "profile", "--profile"),
    ("huge", {}, {}, "profile", "test, dev, demo, load"),
    ("test", {}, {"scenario": "nowhere"}, "scenario", "shipped scenarios: demo, test"),
    ("test", {}, {"scenario": 3}, "scenario", "expected text"),
]


@pytest.mark.parametrize(
    ("profile", "config", "overrides", "key", "allowed"),
    BAD_OPTIONS,
    ids=[f"{case[3]}-{i}" for i, case in enumerate(BAD_OPTIONS)],
)
def test_bad_values_name_the_key_and_what_is_allowed(
    profile: str, config: dict[str, Any], overrides: dict[str, Any], key: str, allowed: str
) -> None:
    with pytest.raises(OptionsError) as info:
        resolve_options(profile, config, overrides, today=TODAY)
    message = str(info.value)
    assert key in message and allowed in message, message
    assert "\n" not in message


def test_limits_are_inclusive() -> None:
    options = resolve("test", dm_share=1.0, private_share=0.0, users=2, channels=1, reaction_share=1.0)
    assert options.dm_share == 1.0 and options.users == 2
    assert resolve("test", users=0, channels=0).users == 0, "an empty dataset is allowed"
    assert resolve("test", as_of=TODAY).as_of == TODAY


def test_options_are_frozen() -> None:
    options = resolve("test")
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.users = 3  # type: ignore[misc]


def test_digest_is_the_identity_of_the_data() -> None:
    base = resolve("test")
    assert base.digest() == resolve("test").digest()
    assert base.digest() == resolve("test", workers=3).digest(), "workers do not change the data"
    assert base.digest() != resolve("test", seed=2).digest()
    assert base.digest() != resolve("test", users=9).digest()
    assert base.digest() != resolve("dev").digest()
    assert "workers" not in base.identity()


def test_to_json_records_every_option() -> None:
    options = resolve("test", seed=5, as_of=date(2026, 5, 30), locale="ja_JP")
    data = json.loads(options.to_json())
    assert data["seed"] == 5 and data["as_of"] == "2026-05-30" and data["locale"] == "ja_JP"
    assert set(data) == {f.name for f in dataclasses.fields(SeedOptions)}


def test_describe_profiles_lists_every_profile_with_numbers() -> None:
    text = describe_profiles()
    for name in PROFILES:
        assert f"{name}:" in text
    assert "users 8, channels 5" in text
    assert "users 100,000, channels 10,000" in text
    assert "about users" in text


def test_message_spread_and_lurker_share() -> None:
    assert resolve_options("dev").message_spread == "exact"
    assert resolve_options("load").message_spread == "skewed"
    options = resolve_options("dev", None, {"message_spread": "uniform", "lurker_share": 0.1})
    assert (options.message_spread, options.lurker_share) == ("uniform", 0.1)
    with pytest.raises(OptionsError, match=r"message_spread: unknown spread 'wild'; choose one of exact"):
        resolve_options("dev", None, {"message_spread": "wild"})
    with pytest.raises(OptionsError, match=r"lurker_share: 1.5 is out of range; allowed 0..1"):
        resolve_options("dev", None, {"lurker_share": 1.5})


# ----- scenarios ---------------------------------------------------------------------------------------


def test_scenario_by_name_or_path_and_its_hash_is_the_identity(tmp_path: Path) -> None:
    shipped = resolve("test", scenario="test")
    assert shipped.scenario == "test" and len(shipped.scenario_digest) == 64
    copy = tmp_path / "copy.yaml"
    copy.write_bytes((Path(__file__).resolve().parents[1] / "scenarios" / "test.yaml").read_bytes())
    from_file = resolve("test", {"scenario": str(copy)})
    assert from_file.scenario == str(copy.resolve())
    # Same content, another place: the same data, the same identity.
    assert from_file.digest() == shipped.digest() != resolve("test").digest()
    copy.write_bytes(copy.read_bytes() + b"\n# changed\n")
    assert resolve("test", scenario=str(copy)).digest() != shipped.digest()


def test_a_broken_scenario_is_an_options_error_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("users:\n  ada: {mail: x}\n", encoding="utf-8")
    with pytest.raises(OptionsError, match=r"^scenario: .*bad\.yaml:2: unknown key 'mail'"):
        resolve("test", scenario=str(bad))
    with pytest.raises(
        OptionsError, match=r"scenario: .*nope\.yaml: cannot read .*shipped scenarios: demo, test"
    ):
        resolve("test", scenario=str(tmp_path / "nope.yaml"))


def test_a_scenario_must_fit_the_time_window() -> None:
    with pytest.raises(OptionsError, match=r"demo\.yaml:\d+: .*past the window's end \(window_days 3\)"):
        resolve("test", scenario="demo", window_days=3)


def test_the_scenario_digest_cannot_be_set_by_hand() -> None:
    with pytest.raises(OptionsError, match="scenario_digest: unknown option"):
        resolve("test", {"scenario_digest": "0" * 64})

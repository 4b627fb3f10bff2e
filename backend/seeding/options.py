"""Seeding options: profile defaults <- YAML file <- command-line flags, validated into one frozen object."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

# Join codes are a 40-bit permutation of the channel id: more channels than this cannot all be distinct.
MAX_CHANNELS = 1 << 40
MAX_ROWS = 1 << 40
# How top-level messages spread over channels: each gets exactly messages_per_channel; uniformly 50-150 % of
# it; or skewed (bigger channels busier, a long tail), about the same total.
MESSAGE_SPREADS = ("exact", "uniform", "skewed")


class OptionsError(ValueError):
    """An option has a value we cannot use; the message names the key and the allowed range."""


@dataclass(frozen=True)
class SeedOptions:
    """Everything that decides a dataset (with the seed and the as-of date), plus how to run it."""

    profile: str = "dev"
    seed: int = 1
    as_of: date = date(2026, 1, 1)
    users: int = 20
    channels: int = 10
    messages_per_channel: int = 20
    dm_share: float = 0.3
    private_share: float = 0.4
    paragraph_share: float = 0.4
    reply_share: float = 0.2
    reaction_share: float = 0.4
    max_reactions: int = 3
    max_members: int = 0
    message_spread: str = "exact"  # top-level messages per channel: exact, uniform (±50 %) or skewed
    lurker_share: float = 0.0  # users left out of every group channel (they may still have DMs)
    active_share: float = 0.9
    window_days: int = 180
    locale: str = "en_US"
    rich_text: bool = False
    scenario: str = ""  # a shipped scenario's name or a scenario file's path; "" for none
    scenario_digest: str = ""  # SHA-256 of the scenario file's bytes (set by resolve_options)
    workers: int = 0  # 0: decide from the run's size and the machine's cores

    # Fields that do not change the data: excluded from the run's identity. The scenario counts by its
    # content (scenario_digest), not by where the file lies.
    RUNTIME_FIELDS = frozenset({"workers", "scenario"})

    def identity(self) -> dict[str, Any]:
        """The options that decide the data, as JSON-able values (the as-of date excluded)."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in self.RUNTIME_FIELDS and f.name != "as_of"
        }

    def digest(self) -> str:
        """A stable hash of identity(): the same seed and options give the same digest."""
        canonical = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["as_of"] = self.as_of.isoformat()
        return json.dumps(data, sort_keys=True)

    @property
    def dm_channels(self) -> int:
        """DMs among the channels: the share rounded to the nearest (halves up), as the channels get them."""
        return math.floor(self.channels * self.dm_share + 0.5)


PROFILES: dict[str, dict[str, Any]] = {
    "test": {"users": 8, "channels": 5, "messages_per_channel": 6},
    "dev": {},
    "demo": {
        "users": 40,
        "channels": 14,
        "messages_per_channel": 40,
        "scenario": "demo",
        "rich_text": True,
        "message_spread": "skewed",
    },
    "load": {
        "users": 100_000,
        "channels": 10_000,
        "messages_per_channel": 100,
        "max_members": 50,
        "window_days": 365,
        "message_spread": "skewed",
    },
}

PROFILE_DESCRIPTIONS = {
    "test": "tiny and fast, for tests",
    "dev": "the everyday development dataset (the default)",
    "demo": "the demo scenario (named accounts, #general, #random, ..., scripted conversations) "
    "beside generated data, richer text",
    "load": "large, for load and performance work",
}

_RANGES: dict[str, tuple[float, float]] = {
    "users": (0, MAX_ROWS),
    "channels": (0, MAX_CHANNELS - 1),
    "messages_per_channel": (0, 1_000_000),
    "dm_share": (0.0, 1.0),
    "private_share": (0.0, 1.0),
    "paragraph_share": (0.0, 1.0),
    "reply_share": (0.0, 1.0),
    "reaction_share": (0.0, 1.0),
    "max_reactions": (0, 16),
    "max_members": (0, MAX_ROWS),
    "active_share": (0.0, 1.0),
    "lurker_share": (0.0, 1.0),
    "window_days": (1, 36_500),
    "seed": (0, (1 << 63) - 1),
    "workers": (0, 64),
}

_FIELD_TYPES = {f.name: f.type for f in fields(SeedOptions)}
CONFIG_KEYS = tuple(name for name in _FIELD_TYPES if name not in ("profile", "scenario_digest"))


def profile_options(name: str) -> dict[str, Any]:
    if name not in PROFILES:
        raise OptionsError(f"profile: unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
    return {"profile": name, **PROFILES[name]}


class _ConfigLoader(yaml.SafeLoader):
    """YAML's safe loader, except that timestamps stay text.

    A date is then checked by the same code as --as-of, so an impossible one (2026-02-30) is an error that
    names its key, instead of the YAML library's own ValueError without one.
    """


_ConfigLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)


def load_config_file(path: Path) -> dict[str, Any]:
    """Read a YAML mapping of option names (dashes or underscores) to values."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise OptionsError(f"--config: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise OptionsError(
            f"--config: {path} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None
    try:
        raw = yaml.load(text, Loader=_ConfigLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise OptionsError(f"--config: {path} is not valid YAML{where}") from None
    except (ValueError, TypeError, RecursionError) as exc:
        # An explicit tag whose text does not fit it, e.g. `users: !!int "x"`.
        detail = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise OptionsError(f"--config: {path} holds a value YAML cannot read ({detail})") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise OptionsError(f"--config: {path} must hold a mapping of option names to values")
    return {str(key).replace("-", "_"): value for key, value in raw.items()}


def _coerce(key: str, value: Any) -> Any:
    kind = _FIELD_TYPES[key]
    if kind in ("int", int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise OptionsError(f"{key}: expected a whole number, got {value!r}")
        return value
    if kind in ("float", float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise OptionsError(f"{key}: expected a number between 0 and 1, got {value!r}")
        return float(value)
    if kind in ("bool", bool):
        if not isinstance(value, bool):
            raise OptionsError(f"{key}: expected true or false, got {value!r}")
        return value
    if kind in ("date", date):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise OptionsError(f"{key}: expected a date as YYYY-MM-DD, got {value!r}") from None
    if not isinstance(value, str):
        raise OptionsError(f"{key}: expected text, got {value!r}")
    return value


def _validate(options: SeedOptions, today: date) -> None:
    for key, (low, high) in _RANGES.items():
        value = getattr(options, key)
        if not low <= value <= high:
            shown = f"{low:g}..{high:g}" if isinstance(low, float) else f"{int(low)}..{int(high)}"
            raise OptionsError(f"{key}: {value} is out of range; allowed {shown}")
    if options.channels > 0 and options.users < 2:
        raise OptionsError(
            f"users: {options.users} is too few; channels need at least 2 users (allowed 2..{MAX_ROWS})"
        )
    if options.message_spread not in MESSAGE_SPREADS:
        allowed = ", ".join(MESSAGE_SPREADS)
        raise OptionsError(
            f"message_spread: unknown spread {options.message_spread!r}; choose one of {allowed}"
        )
    if options.max_members == 1:
        raise OptionsError("max_members: 1 is too few; allowed 0 (no cap) or 2 and more")
    if options.as_of > today:
        raise OptionsError(
            f"as_of: {options.as_of} is in the future; allowed up to today ({today.isoformat()})"
        )
    from faker.config import AVAILABLE_LOCALES

    if options.locale not in AVAILABLE_LOCALES:
        raise OptionsError(
            f"locale: unknown locale {options.locale!r}; use one of Faker's, e.g. en_US, ja_JP"
        )


def _with_scenario(options: SeedOptions) -> SeedOptions:
    """Load and check the scenario (in the options' time window); record its content hash."""
    if not options.scenario:
        return options
    from backend.seeding.scenario import SHIPPED_DIR, ScenarioError, load_scenario, scenario_path, window

    path = scenario_path(options.scenario)
    try:
        scenario = load_scenario(path)
        scenario.resolve(*window(options.as_of, options.window_days))
    except ScenarioError as exc:
        raise OptionsError(f"scenario: {exc}") from None
    # A file is recorded by its absolute path (the run may be topped up from another directory).
    named = options.scenario if path.parent == SHIPPED_DIR else str(path.resolve())
    return dataclasses.replace(options, scenario=named, scenario_digest=scenario.digest)


def resolve_options(
    profile: str = "dev",
    config: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    today: date | None = None,
) -> SeedOptions:
    """Merge profile <- config <- overrides (None values ignored), check every key, return frozen options."""
    today = today or datetime.now(UTC).date()
    merged: dict[str, Any] = {"as_of": today, **profile_options(profile)}
    for source in (config or {}, overrides or {}):
        for key, value in source.items():
            if value is None:
                continue
            if key == "profile":
                raise OptionsError("profile: choose the profile with --profile, not in the config file")
            if key not in _FIELD_TYPES or key == "scenario_digest":
                raise OptionsError(f"{key}: unknown option; known options are {', '.join(CONFIG_KEYS)}")
            merged[key] = _coerce(key, value)
    options = SeedOptions(**merged)
    _validate(options, today)
    return _with_scenario(options)


def estimated_rows(options: SeedOptions) -> dict[str, int]:
    """Rough row counts per seeded table for a profile listing (the dry run computes exact ones)."""
    from backend.seeding.registry import estimated_rows as per_entity

    return per_entity(options)


def describe_profiles() -> str:
    """One block per profile with its numbers, for --list-profiles."""
    lines = []
    for name in PROFILES:
        options = SeedOptions(**profile_options(name))
        rows = estimated_rows(options)
        members = "all users" if options.max_members == 0 else f"up to {options.max_members}"
        spread = "" if options.message_spread == "exact" else f" on average ({options.message_spread})"
        lines.append(f"{name}: {PROFILE_DESCRIPTIONS[name]}")
        lines.append(
            f"  users {options.users:,}, channels {options.channels:,} "
            f"({options.dm_share:.0%} DMs, {options.private_share:.0%} of the rest private), "
            f"{options.messages_per_channel:,} messages per channel{spread}, members per channel 2..{members}"
        )
        lines.append(
            f"  replies {options.reply_share:.0%} of top-level messages, reactions on "
            f"{options.reaction_share:.0%} of messages (1..{options.max_reactions}), "
            f"window {options.window_days} days"
        )
        lines.append("  about " + ", ".join(f"{table} {count:,}" for table, count in rows.items()))
    return "\n".join(lines)

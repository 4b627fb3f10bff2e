"""Scenario files: known accounts, channels and scripted conversations, read from YAML and checked.

load_scenario(path) parses the file with a loader that remembers each node's line, and returns a frozen
Scenario, or raises ScenarioError with one line: `FILE:LINE: what is wrong (rule)`. Every rule that the
seeder's own rows obey (the data checklist, and each invariant in verify.py) is checked here for the
scripted rows, so a bad script is refused before anything is written. Scenario.resolve(start, end) then
turns the relative times ("+2m", "day 3 09:15") into instants inside a run's time window, checking the rules
that depend on time (nothing after the window's end, a reply after its parent, a message after its author
joined, ...). The scenario's identity is the SHA-256 of the file's bytes.

The format (see the README for the reference):

    users:                       # handle -> columns; any column left out is generated
      ada: {name: Ada Admin, email: ada@example.com, bio: "...", active: true, created: day 1 08:00}
    channels:                    # handle -> channel
      general: {kind: public, owner: ada, members: everyone, description: "..."}  # or all, or a list
      ada-ben: {kind: dm, owner: ada, members: [ben]}
    conversations:               # ordered; each in one channel
      - channel: general
        messages:
          - by: ada
            at: day 2 09:15      # or +2m after the previous message; default +1m
            text: "Hello @ben"
            edited: +5m
            reactions: [":+1: by ben, chloe"]
            replies:
              - {by: ben, at: +3m, text: "Hi!"}
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from backend.models import Channel, User
from backend.reference_data import REACTIONS

# Shipped scenarios, named without a path or suffix (`--scenario demo`).
SHIPPED_DIR = Path(__file__).resolve().parents[1] / "scenarios"

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

TOP_KEYS = ("description", "users", "channels", "conversations")
USER_KEYS = ("name", "email", "bio", "active", "picture", "created")
CHANNEL_KEYS = ("kind", "name", "owner", "members", "description", "join_code", "created")
CONVERSATION_KEYS = ("channel", "messages")
MESSAGE_KEYS = ("by", "text", "at", "edited", "reactions", "replies")
CHANNEL_KINDS = ("public", "private", "dm")
# Short names people type for reactions, beside the reference set's own codes and emoji.
REACTION_ALIASES = {
    "+1": "thumbsup",
    "-1": "thumbsdown",
    "thumbs_up": "thumbsup",
    "thumbs_down": "thumbsdown",
}
JOIN_CODE = re.compile(r"[0-9A-Za-z_-]{4,32}")
HANDLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_RELATIVE = re.compile(r"\+\s*((?:\d+\s*[dhms]\s*)+)")
_RELATIVE_PART = re.compile(r"(\d+)\s*([dhms])")
_UNITS = {"d": DAY, "h": HOUR, "m": MINUTE, "s": SECOND}
_DAY_TIME = re.compile(r"day\s+(\d+)(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_REACTION = re.compile(r"(:[^:\s]+:|\S+)\s+by\s+(.+)")


class ScenarioError(ValueError):
    """A scenario file breaks a rule; the message is one line: file, line, rule."""


class Generated(enum.Enum):
    """A column the scenario leaves to the generator (distinct from an explicit null)."""

    VALUE = "generated"


GENERATED = Generated.VALUE


# ----- times ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class At:
    """A point in time as written: `day` (1-based day of the window) and time of day, or an offset."""

    day: int | None  # None: relative to the previous message
    offset: int  # microseconds: the time of day, or the offset after the previous message
    text: str

    def after(self, previous: int, window_start: int) -> int:
        if self.day is None:
            return previous + self.offset
        return window_start + (self.day - 1) * DAY + self.offset


NEXT_MINUTE = At(None, MINUTE, "+1m")


def parse_at(value: object, relative_only: bool = False) -> At | None:
    """`+2m`, `+1h30m`, `+1d`, `+45s`, or `day 3`, `day 3 09:15`, `day 3 09:15:30`; None if unreadable."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _RELATIVE.fullmatch(text)
    if match:
        total = sum(int(n) * _UNITS[unit] for n, unit in _RELATIVE_PART.findall(match.group(1)))
        return At(None, total, text)
    match = _DAY_TIME.fullmatch(text)
    if match is None or relative_only:
        return None
    day, hour, minute, second = (int(g) if g is not None else 0 for g in match.groups())
    if day < 1 or hour > 23 or minute > 59 or second > 59:
        return None
    return At(day, hour * HOUR + minute * MINUTE + second * SECOND, text)


# ----- the typed scenario ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScriptedUser:
    handle: str
    line: int
    name: str | None  # None: generated
    email: str | None
    bio: str | Generated | None
    active: bool | None
    picture: str | None
    created: At | None


@dataclass(frozen=True)
class ScriptedChannel:
    handle: str
    line: int
    kind: str  # public | private | dm
    name: str | None  # None: the handle for groups, "<owner's name> DM" for DMs
    owner: str
    members: tuple[str, ...]  # scripted members: owner first, distinct
    everyone: bool  # every user of the run is a member, the generated ones too (after these)
    description: str | Generated | None
    join_code: str | None  # None on a private group: generated
    created: At | None

    @property
    def is_private(self) -> bool:
        return self.kind != "public"

    @property
    def is_dm(self) -> bool:
        return self.kind == "dm"


@dataclass(frozen=True)
class ScriptedReaction:
    code: str  # the reference set's code
    by: str
    line: int


@dataclass(frozen=True)
class ScriptedMessage:
    line: int
    by: str
    text: str
    at: At
    edited: At | None
    reactions: tuple[ScriptedReaction, ...]
    replies: tuple[ScriptedMessage, ...]


@dataclass(frozen=True)
class Conversation:
    line: int
    channel: str
    messages: tuple[ScriptedMessage, ...]


@dataclass(frozen=True)
class Scenario:
    path: Path
    digest: str  # SHA-256 of the file's bytes: part of a run's identity
    description: str
    users: tuple[ScriptedUser, ...]
    channels: tuple[ScriptedChannel, ...]
    conversations: tuple[Conversation, ...]

    def user(self, handle: str) -> ScriptedUser:
        return next(u for u in self.users if u.handle == handle)

    def channel(self, handle: str) -> ScriptedChannel:
        return next(c for c in self.channels if c.handle == handle)

    def messages(self) -> Iterator[tuple[Conversation, ScriptedMessage, ScriptedMessage | None]]:
        """Every message in file order (a parent before its replies), with its conversation and parent."""
        for conversation in self.conversations:
            for message in conversation.messages:
                yield conversation, message, None
                for reply in message.replies:
                    yield conversation, reply, message

    def resolve(self, window_start: int, window_end: int) -> ResolvedScenario:
        """Instants (microseconds since the epoch, UTC) for every scripted row, inside the window."""
        return _resolve(self, window_start, window_end)


# ----- loading --------------------------------------------------------------------------------------


class _Map(dict[str, Any]):
    """A YAML mapping that remembers its own line and each key's line."""

    line: int
    key_lines: dict[str, int]


class _Seq(list[Any]):
    """A YAML sequence that remembers its own line and each item's line."""

    line: int
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences carry 1-based line numbers; duplicate keys are refused."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> _Map:  # type: ignore[override]
        result = _Map()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                key = str(key)
            if key in result:
                raise _DuplicateKey(key, line)
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = line
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> _Seq:  # type: ignore[override]
        result = _Seq(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    return loader.construct_mapping(node)


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> _Seq:
    return loader.construct_sequence(node)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def _empty(line: int) -> _Map:
    empty = _Map()
    empty.line, empty.key_lines = line, {}
    return empty


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int) -> None:
        super().__init__(key)
        self.key, self.line = key, line


def _max_length(column: Any) -> int:
    return int(column.type.length)


NAME_MAX = _max_length(User.__table__.c.name)
EMAIL_MAX = _max_length(User.__table__.c.email)
BIO_MAX = _max_length(User.__table__.c.bio)
PICTURE_MAX = _max_length(User.__table__.c.picture)
CHANNEL_NAME_MAX = _max_length(Channel.__table__.c.name)
DESCRIPTION_MAX = _max_length(Channel.__table__.c.description)


class _Reader:
    """Walks the parsed YAML, checking each rule where it applies, and builds the typed scenario."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, line: int, message: str) -> ScenarioError:
        return ScenarioError(f"{self.path}:{line}: {message}")

    def mapping(self, value: Any, line: int, what: str, allowed: tuple[str, ...]) -> _Map:
        if not isinstance(value, _Map):
            raise self.fail(line, f"{what} must be a mapping with keys {', '.join(allowed)}")
        for key in value:
            if key not in allowed:
                raise self.fail(
                    value.key_lines[key], f"unknown key {key!r} in {what}; allowed: {', '.join(allowed)}"
                )
        return value

    def named(self, value: Any, line: int, what: str) -> _Map:
        if not isinstance(value, _Map):
            raise self.fail(line, f"{what} must be a mapping of handles to their columns")
        return value

    def sequence(self, value: Any, line: int, what: str) -> _Seq:
        if not isinstance(value, _Seq):
            raise self.fail(line, f"{what} must be a list")
        return value

    def text(self, value: Any, line: int, what: str, max_length: int, empty: bool = False) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(line, f"{what} must be text")
        text = str(value)
        if not text.strip() and not empty:
            raise self.fail(line, f"{what} must not be empty")
        if len(text) > max_length:
            raise self.fail(line, f"{what} is {len(text)} characters long; at most {max_length} fit")
        return text

    def handle(self, value: Any, line: int, what: str) -> str:
        if not isinstance(value, str) or not HANDLE.fullmatch(value):
            raise self.fail(line, f"{what} {value!r} is not a handle (letters, digits, '.', '_', '-')")
        return value

    def at(self, value: Any, line: int, what: str, relative_only: bool = False) -> At:
        at = parse_at(value, relative_only)
        if at is None:
            shape = "'+2m' or '+1h30m'" if relative_only else "'+2m', '+1h30m', 'day 3' or 'day 3 09:15'"
            raise self.fail(line, f"{what}: cannot read {value!r} as a time; write {shape}")
        return at

    # ----- sections --------------------------------------------------------------------------------

    def users(self, section: Any, line: int) -> tuple[ScriptedUser, ...]:
        if section is None:
            return ()
        users = self.named(section, line, "users")
        result: list[ScriptedUser] = []
        emails: dict[str, int] = {}
        for handle, spec in users.items():
            key_line = users.key_lines[handle]
            self.handle(handle, key_line, "user")
            fields = self.mapping(
                _empty(key_line) if spec is None else spec, key_line, f"user {handle!r}", USER_KEYS
            )
            lines = fields.key_lines
            name = fields.get("name")
            email = fields.get("email")
            if name is not None:
                name = self.text(name, lines["name"], f"user {handle!r}: name", NAME_MAX)
            if "name" in fields and name is None:
                raise self.fail(lines["name"], f"user {handle!r}: name cannot be null; leave it out instead")
            if "email" in fields:
                email = self.text(email, lines["email"], f"user {handle!r}: email", EMAIL_MAX)
                if not EMAIL.fullmatch(email):
                    raise self.fail(lines["email"], f"user {handle!r}: {email!r} is not an email address")
                folded = email.casefold()
                if folded in emails:
                    raise self.fail(
                        lines["email"],
                        f"duplicate email {email!r} (also on line {emails[folded]}); emails are unique",
                    )
                emails[folded] = lines["email"]
            bio: str | Generated | None = GENERATED
            if "bio" in fields:
                bio = (
                    None
                    if fields["bio"] is None
                    else self.text(fields["bio"], lines["bio"], f"user {handle!r}: bio", BIO_MAX)
                )
            active = fields.get("active")
            if "active" in fields and not isinstance(active, bool):
                raise self.fail(lines["active"], f"user {handle!r}: active must be true or false")
            picture = fields.get("picture")
            if "picture" in fields:
                picture = self.text(picture, lines["picture"], f"user {handle!r}: picture", PICTURE_MAX)
            created = self.created_day(fields, f"user {handle!r}")
            result.append(ScriptedUser(handle, key_line, name, email, bio, active, picture, created))
        return tuple(result)

    def channels(
        self, section: Any, line: int, users: tuple[ScriptedUser, ...]
    ) -> tuple[ScriptedChannel, ...]:
        if section is None:
            return ()
        channels = self.named(section, line, "channels")
        known = {u.handle for u in users}
        result: list[ScriptedChannel] = []
        codes: dict[str, int] = {}
        for handle, spec in channels.items():
            key_line = channels.key_lines[handle]
            self.handle(handle, key_line, "channel")
            what = f"channel {handle!r}"
            fields = self.mapping(_empty(key_line) if spec is None else spec, key_line, what, CHANNEL_KEYS)
            lines = fields.key_lines
            kind = fields.get("kind", "public")
            if kind not in CHANNEL_KINDS:
                raise self.fail(
                    lines.get("kind", key_line),
                    f"{what}: kind {kind!r} is unknown; use public, private or dm",
                )
            if "owner" not in fields:
                raise self.fail(key_line, f"{what}: owner is missing; name one of the users")
            owner = self.user_ref(fields["owner"], lines["owner"], known, f"{what}: owner")
            members = self.members(fields.get("members"), lines.get("members", key_line), owner, users, what)
            everyone = fields.get("members") == "everyone"
            if kind == "dm" and everyone:
                raise self.fail(
                    lines["members"],
                    f"{what}: a DM has exactly 2 members, not everyone; list the other one "
                    "(dm_has_two_members)",
                )
            if kind == "dm" and len(members) != 2:
                raise self.fail(
                    lines.get("members", key_line),
                    f"{what}: a DM has exactly 2 members, its owner included; this one has {len(members)} "
                    "(dm_has_two_members)",
                )
            name = fields.get("name")
            if name is not None:
                name = self.text(name, lines["name"], f"{what}: name", CHANNEL_NAME_MAX)
            description: str | Generated | None = None if kind == "dm" else GENERATED
            if "description" in fields:
                description = (
                    None
                    if fields["description"] is None
                    else self.text(
                        fields["description"], lines["description"], f"{what}: description", DESCRIPTION_MAX
                    )
                )
            join_code = fields.get("join_code")
            if "join_code" in fields:
                if kind != "private":
                    raise self.fail(
                        lines["join_code"],
                        f"{what}: only private non-DM channels have a join code; remove it or make the "
                        "channel private (channel_privacy)",
                    )
                if not isinstance(join_code, str) or not JOIN_CODE.fullmatch(join_code):
                    raise self.fail(
                        lines["join_code"], f"{what}: join_code must be 4 to 32 letters, digits, '_' or '-'"
                    )
                if join_code in codes:
                    raise self.fail(
                        lines["join_code"],
                        f"{what}: join code {join_code!r} is already used on line {codes[join_code]}; "
                        "join codes are unique",
                    )
                codes[join_code] = lines["join_code"]
            created = self.created_day(fields, what)
            result.append(
                ScriptedChannel(
                    handle, key_line, kind, name, owner, members, everyone, description, join_code, created
                )
            )
        return tuple(result)

    def created_day(self, fields: _Map, what: str) -> At | None:
        if "created" not in fields:
            return None
        line = fields.key_lines["created"]
        created = self.at(fields["created"], line, f"{what}: created")
        if created.day is None:
            raise self.fail(line, f"{what}: created must be a day, e.g. 'day 1 08:00'")
        return created

    def user_ref(self, value: Any, line: int, known: set[str], what: str) -> str:
        if not isinstance(value, str) or value not in known:
            raise self.fail(line, f"{what}: {value!r} is not one of the scenario's users")
        return value

    def members(
        self, value: Any, line: int, owner: str, users: tuple[ScriptedUser, ...], what: str
    ) -> tuple[str, ...]:
        if value is None:
            return (owner,)
        if value in ("all", "everyone"):
            return (owner, *(u.handle for u in users if u.handle != owner))
        listed = self.sequence(value, line, f"{what}: members (a list, 'all' or 'everyone')")
        known = {u.handle for u in users}
        members = [owner]
        for item, item_line in zip(listed, listed.item_lines, strict=True):
            handle = self.user_ref(item, item_line, known, f"{what}: member")
            if handle in members[1:]:
                raise self.fail(item_line, f"{what}: member {handle!r} is listed twice")
            if handle != owner:
                members.append(handle)
        return tuple(members)

    def conversations(
        self, section: Any, line: int, channels: tuple[ScriptedChannel, ...]
    ) -> tuple[Conversation, ...]:
        if section is None:
            return ()
        items = self.sequence(section, line, "conversations")
        by_handle = {c.handle: c for c in channels}
        result = []
        for spec, item_line in zip(items, items.item_lines, strict=True):
            fields = self.mapping(spec, item_line, "a conversation", CONVERSATION_KEYS)
            if "channel" not in fields:
                raise self.fail(
                    item_line, "a conversation needs a channel: name one of the scenario's channels"
                )
            handle = fields["channel"]
            if not isinstance(handle, str) or handle not in by_handle:
                raise self.fail(
                    fields.key_lines["channel"], f"conversation: channel {handle!r} is not in the scenario"
                )
            channel = by_handle[handle]
            if "messages" not in fields:
                raise self.fail(item_line, f"conversation in {handle!r} has no messages")
            listed = self.sequence(fields["messages"], fields.key_lines["messages"], "messages")
            messages = tuple(
                self.message(m, m_line, channel, reply=False)
                for m, m_line in zip(listed, listed.item_lines, strict=True)
            )
            result.append(Conversation(item_line, handle, messages))
        return tuple(result)

    def message(self, spec: Any, line: int, channel: ScriptedChannel, reply: bool) -> ScriptedMessage:
        what = "a reply" if reply else "a message"
        fields = self.mapping(spec, line, what, MESSAGE_KEYS)
        lines = fields.key_lines
        for required in ("by", "text"):
            if required not in fields:
                raise self.fail(line, f"{what} needs {required!r}")
        by = fields["by"]
        if not isinstance(by, str) or by not in channel.members:
            raise self.fail(
                lines["by"],
                f"{by!r} is not a member of channel {channel.handle!r}, so cannot write in it "
                "(author_is_member)",
            )
        text = self.text(fields["text"], lines["text"], f"{what}: text", 1 << 20)
        at = self.at(fields["at"], lines["at"], f"{what}: at") if "at" in fields else NEXT_MINUTE
        edited = (
            self.at(fields["edited"], lines["edited"], f"{what}: edited", relative_only=True)
            if "edited" in fields
            else None
        )
        reactions = self.reactions(fields.get("reactions"), lines.get("reactions", line), channel)
        replies: tuple[ScriptedMessage, ...] = ()
        if "replies" in fields:
            if reply:
                raise self.fail(
                    lines["replies"],
                    "a reply cannot have replies: threads are one level deep (reply_parent_is_top_level)",
                )
            listed = self.sequence(fields["replies"], lines["replies"], "replies")
            replies = tuple(
                self.message(r, r_line, channel, reply=True)
                for r, r_line in zip(listed, listed.item_lines, strict=True)
            )
        return ScriptedMessage(line, by, text, at, edited, reactions, replies)

    def reactions(self, value: Any, line: int, channel: ScriptedChannel) -> tuple[ScriptedReaction, ...]:
        if value is None:
            return ()
        listed = self.sequence(value, line, "reactions (e.g. [':+1: by ada, ben'])")
        result: list[ScriptedReaction] = []
        seen: set[tuple[str, str]] = set()
        for item, item_line in zip(listed, listed.item_lines, strict=True):
            match = _REACTION.fullmatch(item.strip()) if isinstance(item, str) else None
            if match is None:
                raise self.fail(item_line, f"cannot read reaction {item!r}; write ':+1: by ada, ben'")
            code = reaction_code(match.group(1))
            if code is None:
                known = ", ".join(f":{c}:" for c, _e, _n in REACTIONS)
                raise self.fail(
                    item_line, f"unknown reaction {match.group(1)!r}; the reference set has {known}"
                )
            for who in re.split(r"\s*(?:,|\band\b)\s*", match.group(2).strip()):
                if who not in channel.members:
                    raise self.fail(
                        item_line,
                        f"{who!r} is not a member of channel {channel.handle!r}, so cannot react in it "
                        "(reactor_is_member)",
                    )
                if (code, who) in seen:
                    raise self.fail(
                        item_line, f"{who!r} gives :{code}: to the same message twice (reaction_unique)"
                    )
                seen.add((code, who))
                result.append(ScriptedReaction(code, who, item_line))
        return tuple(result)


def reaction_code(name: str) -> str | None:
    """The reference set's code for ':code:', 'code', an alias like ':+1:', or the emoji itself."""
    bare = name[1:-1] if len(name) > 2 and name.startswith(":") and name.endswith(":") else name
    bare = REACTION_ALIASES.get(bare, bare)
    for code, emoji, _name in REACTIONS:
        if bare in (code, emoji):
            return code
    return None


def parse_scenario(data: bytes, path: Path) -> Scenario:
    """Check and type a scenario given as bytes; path only names the file in errors."""
    reader = _Reader(path)
    try:
        # _LineLoader is a SafeLoader: plain data only, no object construction.
        raw = yaml.load(data.decode("utf-8"), Loader=_LineLoader)
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}:1: the file is not UTF-8 text") from None
    except _DuplicateKey as exc:
        raise reader.fail(exc.line, f"key {exc.key!r} appears twice in the same mapping") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise reader.fail(line, f"not valid YAML: {problem}") from None
    if raw is None:
        raw = _empty(1)
    top = reader.mapping(raw, 1, "the scenario", TOP_KEYS)
    lines = top.key_lines
    description = top.get("description") or ""
    if not isinstance(description, str):
        raise reader.fail(lines["description"], "description must be text")
    users = reader.users(top.get("users"), lines.get("users", 1))
    channels = reader.channels(top.get("channels"), lines.get("channels", 1), users)
    conversations = reader.conversations(top.get("conversations"), lines.get("conversations", 1), channels)
    digest = hashlib.sha256(data).hexdigest()
    scenario = Scenario(path, digest, description, users, channels, conversations)
    # Times that need no window (order within a conversation, replies after parents) are checked now.
    scenario.resolve(0, 1 << 62)
    return scenario


def scenario_path(name: str) -> Path:
    """A shipped scenario's file for a bare name ('demo'), else the path as given."""
    if name and "/" not in name and "\\" not in name and not name.endswith((".yaml", ".yml")):
        return SHIPPED_DIR / f"{name}.yaml"
    return Path(name)


def shipped_scenarios() -> list[str]:
    return sorted(path.stem for path in SHIPPED_DIR.glob("*.yaml"))


def window(as_of: date, window_days: int) -> tuple[int, int]:
    """A run's time window in microseconds since the epoch: window_days days up to midnight of as_of."""
    end = int(datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC).timestamp()) * SECOND
    return end - window_days * DAY, end


def load_scenario(path: Path) -> Scenario:
    """Read and check a scenario file; ScenarioError names the file, the line and the rule."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        shipped = ", ".join(shipped_scenarios())
        raise ScenarioError(
            f"{path}: cannot read the scenario file: {exc.strerror} (shipped scenarios: {shipped})"
        ) from None
    return parse_scenario(data, path)


# ----- times inside a window -----------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedMessage:
    message: ScriptedMessage
    channel: str
    parent: int | None  # index of the parent in ResolvedScenario.messages
    created: int
    updated: int
    reactions: tuple[tuple[ScriptedReaction, int], ...]  # with their instants


@dataclass(frozen=True)
class ResolvedScenario:
    """The scenario's rows with instants (microseconds since the epoch, UTC), in file order."""

    scenario: Scenario
    user_created: dict[str, int]
    channel_created: dict[str, int]
    joined: dict[tuple[str, str], int]  # (user, channel) -> joined_at
    messages: tuple[ResolvedMessage, ...]


def _resolve(scenario: Scenario, start: int, end: int) -> ResolvedScenario:
    fail = _Reader(scenario.path).fail
    window_days = (end - start) // DAY

    def instant(at: At, previous: int, line: int, what: str) -> int:
        if at.day is not None and at.day > window_days:
            raise fail(
                line,
                f"{what}: {at.text!r} is past the window's end (window_days {window_days}); "
                "use an earlier day or raise window_days",
            )
        moment = at.after(previous, start)
        if moment > end:
            raise fail(line, f"{what}: {at.text!r} falls after the as-of date (nothing may be in the future)")
        return moment

    user_created = {
        u.handle: start if u.created is None else instant(u.created, start, u.line, f"user {u.handle!r}")
        for u in scenario.users
    }
    channel_created: dict[str, int] = {}
    joined: dict[tuple[str, str], int] = {}
    for c in scenario.channels:
        owner_since = user_created[c.owner]
        created = (
            owner_since if c.created is None else instant(c.created, start, c.line, f"channel {c.handle!r}")
        )
        if created < owner_since:
            raise fail(
                c.line,
                f"channel {c.handle!r} is created before its owner {c.owner!r} exists (joined_after_created)",
            )
        channel_created[c.handle] = created
        for member in c.members:
            joined[(member, c.handle)] = max(created, user_created[member])

    resolved: list[ResolvedMessage] = []
    previous_top = start
    for conversation in scenario.conversations:
        last_in_conversation: int | None = None
        for message in conversation.messages:
            created = _message_instant(message, previous_top, conversation.channel, joined, instant, fail)
            if last_in_conversation is not None and created < last_in_conversation:
                raise fail(
                    message.line,
                    f"message at {message.at.text!r} is earlier than the one before it; "
                    "a conversation's messages go forward in time",
                )
            previous_top = last_in_conversation = created
            parent_index = len(resolved)
            resolved.append(
                _with_reactions(message, conversation.channel, None, created, joined, end, instant)
            )
            previous_in_thread = created
            for reply in message.replies:
                reply_at = _message_instant(
                    reply, previous_in_thread, conversation.channel, joined, instant, fail
                )
                if reply_at <= created:
                    raise fail(
                        reply.line,
                        f"reply at {reply.at.text!r} is not after its parent (line {message.line}) "
                        "(reply_after_parent)",
                    )
                if reply_at < previous_in_thread:
                    raise fail(
                        reply.line,
                        f"reply at {reply.at.text!r} is earlier than the reply before it; "
                        "a thread goes forward in time",
                    )
                previous_in_thread = reply_at
                resolved.append(
                    _with_reactions(reply, conversation.channel, parent_index, reply_at, joined, end, instant)
                )
    return ResolvedScenario(scenario, user_created, channel_created, joined, tuple(resolved))


def _message_instant(
    message: ScriptedMessage,
    previous: int,
    channel: str,
    joined: Mapping[tuple[str, str], int],
    instant: Any,
    fail: Any,
) -> int:
    created = int(instant(message.at, previous, message.line, "message"))
    if created < joined[(message.by, channel)]:
        raise fail(
            message.line,
            f"{message.by!r} writes before joining channel {channel!r} (message_after_author_joined)",
        )
    return created


def _with_reactions(
    message: ScriptedMessage,
    channel: str,
    parent: int | None,
    created: int,
    joined: Mapping[tuple[str, str], int],
    end: int,
    instant: Any,
) -> ResolvedMessage:
    updated = (
        created if message.edited is None else int(instant(message.edited, created, message.line, "edited"))
    )
    reactions = []
    for n, reaction in enumerate(message.reactions):
        # A minute apart after the message, and never before the reactor joined or after the window's end.
        at = min(max(created, joined[(reaction.by, channel)]) + (n + 1) * MINUTE, end)
        reactions.append((reaction, at))
    return ResolvedMessage(message, channel, parent, created, updated, tuple(reactions))

"""Remove exactly what seeding runs wrote, read from the ledger, in reverse foreign-key order.

A row is seeded by the selected runs when its id lies in one of their seed_run_blocks (users, channels,
messages, message_reactions) or, for user_channels, when seed_run_id names one of them. Everything else is
"real", including rows of runs that were not selected. Counts and deletes are set-based SQL over id ranges
(the handful of ledger rows are read, never a data row). The caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Delete,
    Select,
    and_,
    delete,
    exists,
    false,
    func,
    insert,
    not_,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy import column as sql_column
from sqlalchemy.sql.expression import TableClause

from backend.models import Base

USERS = Base.metadata.tables["users"]
CHANNELS = Base.metadata.tables["channels"]
MEMBERSHIPS = Base.metadata.tables["user_channels"]
MESSAGES = Base.metadata.tables["messages"]
MESSAGE_REACTIONS = Base.metadata.tables["message_reactions"]
SEED_RUNS = Base.metadata.tables["seed_runs"]
SEED_RUN_BLOCKS = Base.metadata.tables["seed_run_blocks"]

# Tables whose seeded rows are found by id block; user_channels is found by its seed_run_id mark.
BLOCK_TABLES = ("users", "channels", "messages", "message_reactions")

# The delete order: children before parents.
STEPS = (
    "message_reactions",
    "replies",
    "top_level_messages",
    "user_channels",
    "channels",
    "users",
    "seed_runs",
)
STEP_LABELS = {
    "message_reactions": "message_reactions",
    "replies": "messages (replies)",
    "top_level_messages": "messages (top-level)",
    "user_channels": "user_channels",
    "channels": "channels",
    "users": "users",
    "seed_runs": "seed_runs",
}
SAMPLE_SIZE = 5

Range = tuple[int, int]
Ranges = tuple[Range, ...]
SampleId = int | tuple[int, int]
# Called after each delete statement with (what was deleted, how many rows).
ProgressCallback = Callable[[str, int], None]


class CleanupError(Exception):
    """Cleanup cannot go ahead; nothing was removed once the caller rolls back."""


class UnknownRunError(CleanupError):
    def __init__(self, run_ids: Sequence[int]) -> None:
        self.run_ids = tuple(run_ids)
        listed = ", ".join(str(i) for i in self.run_ids)
        super().__init__(f"no seed run with id {listed} in the ledger")


class LedgerChangedError(CleanupError):
    """The ledger or the seeded rows changed under us (another cleanup or seeding at the same time)."""


class DependentsError(CleanupError):
    """Rows outside the selected runs depend on seeded rows, and cascade was not requested."""

    def __init__(self, dependents: Dependents) -> None:
        self.dependents = dependents
        super().__init__(
            f"seeded rows have {dependents.total} dependent rows outside the selected seed runs; "
            "cascade would remove those as well"
        )


@dataclass(frozen=True)
class Dependent:
    """One kind of real row that references rows being removed; kinds may overlap."""

    kind: str
    table: str
    description: str
    count: int
    sample_ids: tuple[SampleId, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "table": self.table,
            "description": self.description,
            "count": self.count,
            "sample_ids": [list(i) if isinstance(i, tuple) else i for i in self.sample_ids],
        }


@dataclass(frozen=True)
class Dependents:
    """The dependents check: per kind (kinds may overlap) and distinct rows per table."""

    kinds: tuple[Dependent, ...] = ()
    rows: Mapping[str, int] = field(default_factory=dict)  # table -> distinct dependent rows

    def __bool__(self) -> bool:
        return bool(self.kinds)

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def to_dict(self) -> dict[str, Any]:
        return {"kinds": [d.to_dict() for d in self.kinds], "rows": dict(self.rows), "total": self.total}


@dataclass(frozen=True)
class CleanupPlan:
    """What a cleanup of these runs would remove, and what stands in its way."""

    run_ids: tuple[int, ...]
    counts: Mapping[str, int]  # step -> seeded rows, in STEPS order
    dependents: Dependents = field(default_factory=Dependents)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def is_empty(self) -> bool:
        return not self.run_ids

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_ids": list(self.run_ids),
            "counts": dict(self.counts),
            "total": self.total,
            "dependents": self.dependents.to_dict(),
        }


@dataclass(frozen=True)
class CleanupResult:
    run_ids: tuple[int, ...]
    removed: Mapping[str, int]  # step -> seeded rows removed, in STEPS order
    dependents: Dependents = field(default_factory=Dependents)  # what cascade found (and removed)
    dependents_removed: Mapping[str, int] = field(default_factory=dict)  # table -> real rows removed

    @property
    def total(self) -> int:
        return sum(self.removed.values()) + sum(self.dependents_removed.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_ids": list(self.run_ids),
            "removed": dict(self.removed),
            "dependents": self.dependents.to_dict(),
            "dependents_removed": dict(self.dependents_removed),
            "total": self.total,
        }


# --- id ranges -------------------------------------------------------------------------------------------


def merge_ranges(ranges: Iterable[Range]) -> Ranges:
    """Sorted, non-empty, non-overlapping ranges; adjacent ones joined so predicates stay short."""
    merged: list[list[int]] = []
    for first, last in sorted(r for r in ranges if r[1] >= r[0]):
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return tuple((a, b) for a, b in merged)


def load_ranges(connection: Connection, run_ids: Sequence[int] | None = None) -> dict[str, Ranges]:
    """The merged id blocks per table of the given runs (of every run when run_ids is None)."""
    query = select(SEED_RUN_BLOCKS.c.table_name, SEED_RUN_BLOCKS.c.first_id, SEED_RUN_BLOCKS.c.last_id)
    if run_ids is not None:
        query = query.where(SEED_RUN_BLOCKS.c.run_id.in_(list(run_ids)))
    collected: dict[str, list[Range]] = {name: [] for name in BLOCK_TABLES}
    for name, first, last in connection.execute(query):
        if name in collected:
            collected[name].append((int(first), int(last)))
    return {name: merge_ranges(pairs) for name, pairs in collected.items()}


def in_ranges(col: ColumnElement[Any] | Column[Any], ranges: Ranges) -> ColumnElement[bool]:
    """col lies in one of the ranges. Literal bounds let PostgreSQL plan index range scans."""
    if not ranges:
        return false()
    return or_(*(col.between(first, last) for first, last in ranges))


def _count(connection: Connection, query: Select[Any]) -> int:
    return int(connection.execute(select(func.count()).select_from(query.subquery())).scalar_one())


# --- run selection ---------------------------------------------------------------------------------------


def select_runs(
    connection: Connection, run_ids: Iterable[int] | None = None, *, latest: bool = False
) -> tuple[int, ...]:
    """Every run (the default), the given ones (UnknownRunError names any missing), or the latest one."""
    if latest:
        row = connection.execute(
            select(SEED_RUNS.c.id).order_by(SEED_RUNS.c.finished_at.desc(), SEED_RUNS.c.id.desc()).limit(1)
        ).first()
        return () if row is None else (int(row[0]),)
    if run_ids is None:
        return tuple(
            int(i) for i in connection.execute(select(SEED_RUNS.c.id).order_by(SEED_RUNS.c.id)).scalars()
        )
    wanted = sorted(set(run_ids))
    # An id no 64-bit column can hold names no run; SQLite's driver would raise OverflowError on it.
    storable = [i for i in wanted if -(1 << 63) <= i < (1 << 63)]
    found = set(connection.execute(select(SEED_RUNS.c.id).where(SEED_RUNS.c.id.in_(storable))).scalars())
    missing = [i for i in wanted if i not in found]
    if missing:
        raise UnknownRunError(missing)
    return tuple(wanted)


# --- what is seeded, what depends on it --------------------------------------------------------------------


@dataclass(frozen=True)
class _Selection:
    """Predicates for 'seeded by the selected runs', per table."""

    run_ids: tuple[int, ...]
    ranges: Mapping[str, Ranges]

    def users(self, col: ColumnElement[Any] | Column[Any] = USERS.c.id) -> ColumnElement[bool]:
        return in_ranges(col, self.ranges["users"])

    def channels(self, col: ColumnElement[Any] | Column[Any] = CHANNELS.c.id) -> ColumnElement[bool]:
        return in_ranges(col, self.ranges["channels"])

    def messages(self, col: ColumnElement[Any] | Column[Any] = MESSAGES.c.id) -> ColumnElement[bool]:
        return in_ranges(col, self.ranges["messages"])

    def reactions(self) -> ColumnElement[bool]:
        return in_ranges(MESSAGE_REACTIONS.c.id, self.ranges["message_reactions"])

    def memberships(self) -> ColumnElement[bool]:
        if not self.run_ids:
            return false()
        return MEMBERSHIPS.c.seed_run_id.in_(list(self.run_ids))

    def not_memberships(self) -> ColumnElement[bool]:
        # NOT IN alone would drop the NULL-marked (real) rows.
        return or_(MEMBERSHIPS.c.seed_run_id.is_(None), not_(self.memberships()))


def _selection(connection: Connection, run_ids: Sequence[int]) -> _Selection:
    run_ids = tuple(run_ids)
    ranges = load_ranges(connection, run_ids) if run_ids else {name: () for name in BLOCK_TABLES}
    return _Selection(run_ids, ranges)


def _seeded_counts(connection: Connection, sel: _Selection) -> dict[str, int]:
    counts = dict.fromkeys(STEPS, 0)
    if not sel.run_ids:
        return counts
    counts["message_reactions"] = _count(connection, select(MESSAGE_REACTIONS.c.id).where(sel.reactions()))
    replies, top_level = connection.execute(
        select(
            func.count(MESSAGES.c.parent_id),
            func.count() - func.count(MESSAGES.c.parent_id),
        ).where(sel.messages())
    ).one()
    counts["replies"], counts["top_level_messages"] = int(replies), int(top_level)
    counts["user_channels"] = _count(connection, select(MEMBERSHIPS.c.user_id).where(sel.memberships()))
    counts["channels"] = _count(connection, select(CHANNELS.c.id).where(sel.channels()))
    counts["users"] = _count(connection, select(USERS.c.id).where(sel.users()))
    counts["seed_runs"] = _count(connection, select(SEED_RUNS.c.id).where(SEED_RUNS.c.id.in_(sel.run_ids)))
    return counts


@dataclass(frozen=True)
class _DependentKind:
    kind: str
    table: str
    description: str
    where: Callable[[_Selection], ColumnElement[bool]]


def _not_seeded_message(sel: _Selection) -> ColumnElement[bool]:
    return not_(sel.messages())


def _not_seeded_reaction(sel: _Selection) -> ColumnElement[bool]:
    return not_(sel.reactions())


DEPENDENT_KINDS = (
    _DependentKind(
        "message_in_seeded_channel",
        "messages",
        "messages or replies in a seeded channel",
        lambda s: and_(s.channels(MESSAGES.c.channel_id), _not_seeded_message(s)),
    ),
    _DependentKind(
        "reply_to_seeded_message",
        "messages",
        "replies to a seeded message",
        lambda s: and_(s.messages(MESSAGES.c.parent_id), _not_seeded_message(s)),
    ),
    _DependentKind(
        "reaction_on_seeded_message",
        "message_reactions",
        "reactions on a seeded message",
        lambda s: and_(s.messages(MESSAGE_REACTIONS.c.message_id), _not_seeded_reaction(s)),
    ),
    _DependentKind(
        "membership_in_seeded_channel",
        "user_channels",
        "memberships in a seeded channel",
        lambda s: and_(s.channels(MEMBERSHIPS.c.channel_id), s.not_memberships()),
    ),
    _DependentKind(
        "membership_of_seeded_user",
        "user_channels",
        "memberships of a seeded user",
        lambda s: and_(s.users(MEMBERSHIPS.c.user_id), s.not_memberships()),
    ),
    _DependentKind(
        "channel_owned_by_seeded_user",
        "channels",
        "channels owned by a seeded user",
        lambda s: and_(s.users(CHANNELS.c.owner_id), not_(s.channels())),
    ),
    _DependentKind(
        "message_by_seeded_user",
        "messages",
        "messages written by a seeded user",
        lambda s: and_(s.users(MESSAGES.c.user_id), _not_seeded_message(s)),
    ),
    _DependentKind(
        "reaction_by_seeded_user",
        "message_reactions",
        "reactions made by a seeded user",
        lambda s: and_(s.users(MESSAGE_REACTIONS.c.user_id), _not_seeded_reaction(s)),
    ),
)

_KEYS: dict[str, tuple[Column[Any], ...]] = {
    "messages": (MESSAGES.c.id,),
    "message_reactions": (MESSAGE_REACTIONS.c.id,),
    "channels": (CHANNELS.c.id,),
    "user_channels": (MEMBERSHIPS.c.user_id, MEMBERSHIPS.c.channel_id),
}


def _find_dependents(connection: Connection, sel: _Selection) -> Dependents:
    if not sel.run_ids:
        return Dependents()
    found = []
    for kind in DEPENDENT_KINDS:
        keys = _KEYS[kind.table]
        query = select(*keys).where(kind.where(sel))
        count = _count(connection, query)
        if not count:
            continue
        rows = connection.execute(query.order_by(*keys).limit(SAMPLE_SIZE)).all()
        samples = tuple(int(r[0]) if len(r) == 1 else (int(r[0]), int(r[1])) for r in rows)
        found.append(Dependent(kind.kind, kind.table, kind.description, count, samples))
    # Kinds overlap (a real reply in a seeded channel to a seeded message): count each row once.
    distinct = {}
    for table_name in dict.fromkeys(d.table for d in found):
        either = or_(*(k.where(sel) for k in DEPENDENT_KINDS if k.table == table_name))
        distinct[table_name] = _count(connection, select(*_KEYS[table_name]).where(either))
    return Dependents(tuple(found), distinct)


def find_dependents(connection: Connection, run_ids: Sequence[int]) -> Dependents:
    """Real rows (outside these runs) that reference rows the cleanup would remove: count and sample ids."""
    return _find_dependents(connection, _selection(connection, run_ids))


def plan_cleanup(connection: Connection, run_ids: Sequence[int]) -> CleanupPlan:
    """Per-step counts of the seeded rows these runs' cleanup would remove, and the dependents in the way."""
    sel = _selection(connection, run_ids)
    return CleanupPlan(
        run_ids=sel.run_ids,
        counts=_seeded_counts(connection, sel),
        dependents=_find_dependents(connection, sel),
    )


# --- execution -------------------------------------------------------------------------------------------


class _Deleter:
    """Runs the delete statements of one cleanup and reports each one."""

    def __init__(self, connection: Connection, progress: ProgressCallback | None) -> None:
        self.connection = connection
        self.progress = progress

    def run(self, label: str, statement: Delete) -> int:
        rows = int(self.connection.execute(statement).rowcount)
        if self.progress is not None:
            self.progress(label, rows)
        return rows


def _temp_ids(connection: Connection, name: str) -> TableClause:
    """A fresh session-private table of ids (cascade work lists), qualified so it can never hit a real one."""
    if connection.dialect.name == "postgresql":
        schema, ddl = "pg_temp", f"CREATE TEMPORARY TABLE {name} (id BIGINT PRIMARY KEY) ON COMMIT DROP"
    else:
        schema, ddl = "temp", f"CREATE TEMPORARY TABLE {name} (id INTEGER PRIMARY KEY)"
    # Belt and braces: a leftover from an earlier cleanup on this pooled connection must not leak in.
    connection.execute(text(f"DROP TABLE IF EXISTS {schema}.{name}"))
    connection.execute(text(ddl))
    return table(name, sql_column("id"), schema=schema)


def _drop_temp(connection: Connection, tmp: TableClause) -> None:
    connection.execute(text(f"DROP TABLE IF EXISTS {tmp.schema}.{tmp.name}"))


def _cascade_sets(connection: Connection, sel: _Selection) -> tuple[TableClause, TableClause]:
    """Fill work tables with the real channels and messages that must go for the seeded rows to go."""
    channels = _temp_ids(connection, "cleanup_doomed_channels")
    messages = _temp_ids(connection, "cleanup_doomed_messages")
    connection.execute(
        insert(channels).from_select(
            ["id"], select(CHANNELS.c.id).where(sel.users(CHANNELS.c.owner_id), not_(sel.channels()))
        )
    )
    doomed_channel = or_(
        sel.channels(MESSAGES.c.channel_id), MESSAGES.c.channel_id.in_(select(channels.c.id))
    )
    connection.execute(
        insert(messages).from_select(
            ["id"],
            select(MESSAGES.c.id).where(
                not_(sel.messages()),
                or_(doomed_channel, sel.users(MESSAGES.c.user_id), sel.messages(MESSAGES.c.parent_id)),
            ),
        )
    )
    # Replies to doomed messages are doomed too, however deep the thread: one level per pass.
    while True:
        added = connection.execute(
            insert(messages).from_select(
                ["id"],
                select(MESSAGES.c.id).where(
                    MESSAGES.c.parent_id.in_(select(messages.c.id)),
                    MESSAGES.c.id.not_in(select(messages.c.id)),
                    not_(sel.messages()),
                ),
            )
        ).rowcount
        if not added:
            break
    return channels, messages


def _delete_messages(deleter: _Deleter, doomed: ColumnElement[bool], label: str, replies: bool) -> int:
    """Delete doomed replies (replies=True) or what remains of the doomed messages (the top-level ones).

    PostgreSQL checks RESTRICT at the end of each statement, so a whole thread goes in one statement.
    SQLite checks it row by row as it deletes, so replies go leaves first, one thread level per statement.
    """
    if not replies:
        return deleter.run(label, delete(MESSAGES).where(doomed))
    base = and_(doomed, MESSAGES.c.parent_id.is_not(None))
    if deleter.connection.dialect.name != "sqlite":
        return deleter.run(label, delete(MESSAGES).where(base))
    child = MESSAGES.alias("child")
    leaves = delete(MESSAGES).where(base, ~exists().where(child.c.parent_id == MESSAGES.c.id))
    total = 0
    while rows := deleter.run(label, leaves):
        total += rows
    return total


def _lock_runs(connection: Connection, run_ids: Sequence[int]) -> set[int]:
    """Lock the runs' ledger rows before checking anything, so nothing changes between checks and deletes.

    PostgreSQL: row locks, so two cleanups of one run cannot interleave. SQLite: its driver would only begin
    the transaction at the first DELETE; a no-op write begins it here and takes the database's write lock.
    """
    if connection.dialect.name == "sqlite":
        connection.execute(
            update(SEED_RUNS).where(SEED_RUNS.c.id.in_(run_ids)).values(profile=SEED_RUNS.c.profile)
        )
    query = select(SEED_RUNS.c.id).where(SEED_RUNS.c.id.in_(run_ids)).with_for_update()
    return {int(i) for i in connection.execute(query).scalars()}


def execute_cleanup(
    connection: Connection,
    plan: CleanupPlan,
    cascade: bool = False,
    progress: ProgressCallback | None = None,
) -> CleanupResult:
    """Delete the plan's runs' seeded rows (and, with cascade, the real rows depending on them).

    Runs inside the caller's transaction and never commits: on any error the caller rolls back and nothing
    is removed. Counts and dependents are checked again here, as the database may have changed since the
    plan was made; DependentsError is raised (before any delete) when dependents exist without cascade.
    """
    if plan.is_empty:
        return CleanupResult(run_ids=(), removed=dict.fromkeys(STEPS, 0))
    if missing := sorted(set(plan.run_ids) - _lock_runs(connection, plan.run_ids)):
        raise LedgerChangedError(
            f"seed run {', '.join(map(str, missing))} was removed meanwhile; nothing done"
        )
    sel = _selection(connection, plan.run_ids)
    expected = _seeded_counts(connection, sel)
    dependents = _find_dependents(connection, sel)
    if dependents and not cascade:
        raise DependentsError(dependents)

    deleter = _Deleter(connection, progress)
    removed = dict.fromkeys(STEPS, 0)
    extra: dict[str, int] = {}
    doomed_message = sel.messages()
    dependent_members = dependent_channels = false()
    work: tuple[TableClause, TableClause] | None = None
    if dependents:
        work = _cascade_sets(connection, sel)
        channel_ids, message_ids = select(work[0].c.id), select(work[1].c.id)
        extra["messages"] = _count(connection, message_ids)
        doomed_message = or_(doomed_message, MESSAGES.c.id.in_(message_ids))
        dependent_channels = CHANNELS.c.id.in_(channel_ids)
        dependent_members = and_(
            sel.not_memberships(),
            or_(
                sel.channels(MEMBERSHIPS.c.channel_id),
                MEMBERSHIPS.c.channel_id.in_(channel_ids),
                sel.users(MEMBERSHIPS.c.user_id),
            ),
        )
        extra["message_reactions"] = deleter.run(
            "message_reactions (dependents)",
            delete(MESSAGE_REACTIONS).where(
                not_(sel.reactions()),
                or_(
                    sel.messages(MESSAGE_REACTIONS.c.message_id),
                    MESSAGE_REACTIONS.c.message_id.in_(message_ids),
                    sel.users(MESSAGE_REACTIONS.c.user_id),
                ),
            ),
        )
    removed["message_reactions"] = deleter.run(
        "message_reactions", delete(MESSAGE_REACTIONS).where(sel.reactions())
    )
    # Seeded and dependent messages go together: either may be the other's parent.
    deleted_messages = _delete_messages(deleter, doomed_message, STEP_LABELS["replies"], replies=True)
    deleted_messages += _delete_messages(
        deleter, doomed_message, STEP_LABELS["top_level_messages"], replies=False
    )
    removed["replies"], removed["top_level_messages"] = expected["replies"], expected["top_level_messages"]
    if deleted_messages != expected["replies"] + expected["top_level_messages"] + extra.get("messages", 0):
        raise LedgerChangedError("messages changed while the cleanup ran; nothing done, try again")
    if work is not None:
        extra["user_channels"] = deleter.run(
            "user_channels (dependents)", delete(MEMBERSHIPS).where(dependent_members)
        )
    removed["user_channels"] = deleter.run("user_channels", delete(MEMBERSHIPS).where(sel.memberships()))
    if work is not None:
        extra["channels"] = deleter.run("channels (dependents)", delete(CHANNELS).where(dependent_channels))
    removed["channels"] = deleter.run("channels", delete(CHANNELS).where(sel.channels()))
    removed["users"] = deleter.run("users", delete(USERS).where(sel.users()))
    # Blocks go with their run (ON DELETE CASCADE).
    removed["seed_runs"] = deleter.run("seed_runs", delete(SEED_RUNS).where(SEED_RUNS.c.id.in_(sel.run_ids)))
    for tmp in work or ():
        _drop_temp(connection, tmp)
    return CleanupResult(
        run_ids=sel.run_ids,
        removed=removed,
        dependents=dependents,
        dependents_removed=extra,
    )

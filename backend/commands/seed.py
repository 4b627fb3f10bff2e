"""`seed_data.py [seed]`: seed the database with a deterministic fake chat."""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

from backend.cli_support import (
    ArgumentParser,
    CommandError,
    UsageError,
    add_common_arguments,
    resolve_database_url,
)
from backend.config import load_settings
from backend.database import (
    DEFAULT_LOCK_TIMEOUT_SECONDS,
    is_lock_timeout,
    lock_schema_creation,
    make_engine,
    mask_url,
    parse_url,
)
from backend.schema import MIGRATE_COMMAND, SchemaState, schema_state, upgrade
from backend.seeding.options import PROFILES, OptionsError, SeedOptions, describe_profiles, load_config_file
from backend.seeding.sizing import PlanSize, plan_size

MAX_LOCK_TIMEOUT_SECONDS = 86_400.0

# Flags that map onto option names; None means "not given" so the profile or config file decides.
OPTION_FLAGS: tuple[tuple[str, type, str], ...] = (
    ("users", int, "number of users"),
    ("channels", int, "number of channels (DMs included)"),
    ("messages_per_channel", int, "top-level messages per channel (exactly, unless --message-spread)"),
    (
        "message_spread",
        str,
        "exact (default), uniform (each channel 50-150%% of it) or skewed (busier big channels, a long tail)",
    ),
    ("dm_share", float, "share of channels that are DMs, 0..1"),
    ("private_share", float, "share of the other channels that are private, 0..1"),
    ("paragraph_share", float, "share of messages that are a paragraph rather than a sentence, 0..1"),
    ("reply_share", float, "chance that a top-level message gets a thread of replies, 0..1"),
    ("reaction_share", float, "share of messages that get reactions, 0..1"),
    ("max_reactions", int, "most reactions on one message"),
    ("max_members", int, "most members of a regular channel (0: up to all users)"),
    ("active_share", float, "share of users that are active, 0..1"),
    ("lurker_share", float, "share of users in no group channel (default 0: everyone is in one), 0..1"),
    ("window_days", int, "days of history before the as-of date"),
    ("locale", str, "Faker locale for names and text, e.g. en_US, ja_JP, ar_SA"),
    (
        "scenario",
        str,
        "known users, channels and scripted conversations from a YAML file (or a shipped one by name: "
        "demo, test), with generated data around them; see README, Scenarios",
    ),
    (
        "workers",
        int,
        "processes generating rows beside the writer (default 0: automatic); the data is the same for any N. "
        "On SQLite they spool the rows to files in TMPDIR (about the rows' size) when it has the room",
    ),
)


def add_seed_arguments(parser: argparse.ArgumentParser) -> None:
    """The options shared by seeding and reset."""
    parser.add_argument("--profile", choices=tuple(PROFILES), default="dev", help="dataset size and style")
    parser.add_argument("--seed", type=int, help="random seed (default 1); same seed, same data")
    parser.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="end of the time window (default: today, UTC); give a past run's date to reproduce it",
    )
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="YAML file of options overriding the profile"
    )
    for name, kind, help_text in OPTION_FLAGS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, help=help_text)
    parser.add_argument(
        "--rich-text",
        dest="rich_text",
        action="store_true",
        default=None,
        help="more mentions, links, code and emoji",
    )
    parser.add_argument(
        "--allow-production", action="store_true", help="seed even though APP_ENV/ENVIRONMENT is production"
    )
    parser.add_argument(
        "--lock-timeout",
        type=_lock_timeout,
        default=DEFAULT_LOCK_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="how long to wait for another writer (e.g. another seeder) before giving up "
        f"(default {DEFAULT_LOCK_TIMEOUT_SECONDS:g})",
    )
    parser.add_argument(
        "--online",
        action="store_true",
        help="for a database in use: drop no indexes or constraints, so readers and other writers carry on "
        "(slower; see the README, Concurrent use and locking)",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars or summary")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def _lock_timeout(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= MAX_LOCK_TIMEOUT_SECONDS:
        raise argparse.ArgumentTypeError(
            f"expected seconds above 0 and at most {MAX_LOCK_TIMEOUT_SECONDS:g}, got {text!r}"
        )
    return seconds


def lock_timeout_error(exc: OperationalError, args: argparse.Namespace) -> CommandError | None:
    """A CommandError for a lock wait that ran out (None for any other database error)."""
    if not is_lock_timeout(exc):
        return None
    return CommandError(
        f"another writer held the database lock for more than {args.lock_timeout:g} s (--lock-timeout); "
        "nothing was written; try again once it has finished"
    )


def build_parser(prog: str) -> ArgumentParser:
    parser = ArgumentParser(
        prog=prog,
        description=(
            "Fill the database with a realistic, deterministic fake chat: users, channels (DMs, private "
            "channels with join codes), memberships, messages with threaded replies, reactions. The same "
            "seed, options and as-of date give the same data on SQLite and PostgreSQL. Re-running the same "
            "command puts back only the run's rows that are missing (nothing, if none are); --append adds "
            "another run. Everything is one transaction."
        ),
        epilog=(
            "subcommands: seed_data.py verify | status | audit | reset | show (each has --help). "
            "Remove seeded rows with cleanup_fake_data.py."
        ),
    )
    add_common_arguments(parser)
    add_seed_arguments(parser)
    parser.add_argument("--append", action="store_true", help="add a run even if an identical one exists")
    parser.add_argument("--dry-run", action="store_true", help="print the rows per table; write nothing")
    parser.add_argument(
        "--audit",
        action="store_true",
        help="report this command's run: rows written, present, missing and drifted per table; write nothing",
    )
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="when re-running a completed run, also set its seeded rows edited since back to their "
        "generated values",
    )
    parser.add_argument("--list-profiles", action="store_true", help="print each profile with its numbers")
    return parser


def options_from_args(args: argparse.Namespace) -> SeedOptions:
    """Profile <- --config file <- flags, validated; a bad value is a usage error naming the key."""
    overrides: dict[str, Any] = {name: getattr(args, name) for name, _kind, _help in OPTION_FLAGS}
    overrides["seed"] = args.seed
    overrides["rich_text"] = args.rich_text
    if args.as_of is not None:
        try:
            overrides["as_of"] = date.fromisoformat(args.as_of)
        except ValueError:
            raise UsageError(f"--as-of: expected a date as YYYY-MM-DD, got {args.as_of!r}") from None
    from backend.seeding.options import resolve_options

    try:
        config = load_config_file(args.config) if args.config else None
        return resolve_options(args.profile, config, overrides)
    except OptionsError as exc:
        raise UsageError(str(exc)) from None


def refuse_production(args: argparse.Namespace) -> None:
    if load_settings().is_production and not args.allow_production:
        raise UsageError(
            "APP_ENV/ENVIRONMENT is production; refusing to write fake data "
            "(pass --allow-production if you mean it)"
        )


def prepare_schema(conn: Any, url: str, quiet: bool) -> None:
    """Create the schema on an empty database; refuse one that is behind or unknown."""
    state = schema_state(conn)
    if state is SchemaState.EMPTY:
        # Another seeder may be creating it right now: wait for it, then look again.
        lock_schema_creation(conn)
        state = schema_state(conn)
    if state is SchemaState.EMPTY:
        upgrade(conn)
        if not quiet:
            print(f"created the schema in {mask_url(url)} (alembic upgrade head)", file=sys.stderr)
    elif state is SchemaState.BEHIND:
        raise CommandError(f"the database schema is behind the code; run: {MIGRATE_COMMAND}")
    elif state is SchemaState.UNKNOWN:
        raise CommandError(
            "the database has tables but no known schema revision; point --database-url at the chat "
            f"database, or run: {MIGRATE_COMMAND}"
        )


def describe_locking(summary: Any, url: str) -> str:
    """Which tables were loaded the fast way, and whom the run kept waiting (the README's Locking section)."""
    fast = ", ".join(summary.fast_tables)
    if parse_url(url).get_backend_name() != "postgresql":
        # SQLite has one writer at a time whatever we do; only the index drops differ.
        return f"fast load (indexes dropped and rebuilt) of {fast}" if fast else "no index dropped"
    if summary.online:
        return "online load: no index or constraint dropped; readers and other writers were not blocked"
    if fast:
        return (
            f"fast load of {fast}: indexes and constraints dropped and rebuilt, so these tables were locked "
            "against readers and writers until the commit (--online avoids that)"
        )
    return "no index dropped; other writers to the chat tables waited until the commit (--online avoids that)"


def _progress_factory(quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty():
        return lambda _table, _total: None
    from tqdm import tqdm

    position = iter(range(10))
    return lambda table, total: tqdm(
        total=total,
        desc=f"{table:<17}",
        unit=" rows",
        unit_scale=True,
        position=next(position),
        leave=True,
        file=sys.stderr,
        dynamic_ncols=True,
    )


def format_summary(summary: Any, url: str) -> str:
    lines = []
    o = summary.options
    if summary.skipped_for_run is not None:
        return format_topup(summary)
    elif summary.dry_run:
        estimated = " (estimated rows: the exact count would take too long)" if summary.estimated else ""
        lines.append(
            f"dry run: would seed {mask_url(url)} (profile {o.profile}, seed {o.seed}, as of {o.as_of}); "
            f"nothing written{estimated}"
        )
    else:
        lines.append(f"seeded {mask_url(url)}")
    about = "≈" if summary.estimated else ""
    lines.append(f"{'table':<20}{'rows':>12}")
    for table, count in summary.counts.items():
        lines.append(f"{table:<20}{about + format(count, ','):>12}")
    lines.append(f"{'total':<20}{about + format(summary.total_rows, ','):>12}")
    if summary.run_id is not None and summary.skipped_for_run is None:
        rate = summary.total_rows / summary.seconds if summary.seconds > 0 else 0
        lines.append(
            f"run {summary.run_id} · seed {o.seed} · profile {o.profile} · as of {o.as_of} · "
            f"{summary.seconds:.2f} s ({rate:,.0f} rows/s)"
        )
        lines.append(describe_locking(summary, url))
    return "\n".join(lines)


def format_topup(summary: Any) -> str:
    """A re-run of a completed run: nothing to do, or the rows restored (and refreshed) per table."""
    run_id, topup = summary.skipped_for_run, summary.topup
    if topup is None:  # a dry run: the ledger was read, the rows were not
        return (
            f"already seeded: run {run_id} has the same seed and options; a real run would put back what is "
            "missing (seed_data.py audit shows it)"
        )
    restored = summary.restored
    refreshed = {t.table: t.refreshed for t in topup.tables if t.refreshed}
    skipped = {t.table: t.skipped for t in topup.tables if t.skipped}
    if topup.note and not topup.compared and not topup.complete:
        return f"run {run_id} has the same seed and options, but it was {topup.note}"
    if not restored and not refreshed and not skipped:
        return (
            f"already seeded: run {run_id} has the same seed and options and all its rows; nothing to do "
            f"({summary.seconds:.2f} s; --append adds another run, seed_data.py audit shows drift)"
        )
    lines = [f"topped up run {run_id} (same seed and options) in {summary.seconds:.2f} s"]
    lines.append(f"{'table':<20}{'restored':>10}{'skipped':>10}{'refreshed':>10}")
    for t in topup.tables:
        lines.append(f"{t.table:<20}{t.restored:>10,}{t.skipped:>10,}{t.refreshed:>10,}")
    total = (sum(restored.values()), sum(skipped.values()), sum(refreshed.values()))
    lines.append(f"{'total':<20}{total[0]:>10,}{total[1]:>10,}{total[2]:>10,}")
    if skipped:
        lines.append("skipped: rows whose real parent is gone, or whose unique value a real row now holds")
    return "\n".join(lines)


def _estimated_dry_run(args: argparse.Namespace, options: SeedOptions, size: PlanSize, url: str) -> int:
    """A dry run of a plan too big to count exactly (or to run): its expected size and the limits, at once.

    Exit 2 when the plan would be refused, so that a script's dry run fails like the real run would.
    """
    from backend.seeding.runner import RunSummary

    summary = RunSummary(None, options, size.rows, dry_run=True, estimated=True)
    if args.json:
        print(json.dumps({**summary.as_dict(), **size.as_dict()}, sort_keys=True))
    else:
        print(format_summary(summary, url))
        print(size.limits_line())
    if not size.fits:
        raise UsageError(size.refusal())
    return 0


def run(args: argparse.Namespace) -> int:
    from backend.seeding.runner import SeedError, plan_only, seed_database

    if args.list_profiles:
        print(describe_profiles())
        return 0
    options = options_from_args(args)
    url = resolve_database_url(args)
    if args.audit:
        from backend.commands.audit import audit_options

        return audit_options(args, options, url)
    size = plan_size(options)
    if args.dry_run and not size.exact_count_is_quick:
        return _estimated_dry_run(args, options, size, url)
    if not size.fits:
        raise UsageError(size.refusal())
    if not args.dry_run:
        refuse_production(args)
    engine = make_engine(url, writer=not args.dry_run, lock_timeout=args.lock_timeout)
    try:
        if args.dry_run:
            with engine.connect() as conn:
                state = schema_state(conn)
                if state in (SchemaState.BEHIND, SchemaState.UNKNOWN):
                    raise CommandError(f"the database is not at the current schema; run: {MIGRATE_COMMAND}")
                try:
                    # An empty database would get the schema first: plan as if it had.
                    summary = plan_only(conn if state is SchemaState.CURRENT else None, options, args.append)
                except SeedError as exc:
                    raise CommandError(str(exc)) from None
        else:
            with engine.begin() as conn:
                prepare_schema(conn, url, args.quiet or args.json)
                try:
                    summary = seed_database(
                        conn,
                        options,
                        append=args.append,
                        progress=_progress_factory(args.quiet or args.json),
                        online=args.online,
                        refresh=args.refresh,
                    )
                except SeedError as exc:
                    raise CommandError(str(exc)) from None
    except OperationalError as exc:
        raise lock_timeout_error(exc, args) or exc from None
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(summary.as_dict(), sort_keys=True))
    elif not args.quiet:
        print(format_summary(summary, url))
    return 0

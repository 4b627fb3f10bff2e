"""`seed_data.py [seed]`: seed the database with a deterministic fake chat."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from backend.cli_support import (
    ArgumentParser,
    CommandError,
    UsageError,
    add_common_arguments,
    resolve_database_url,
)
from backend.config import load_settings
from backend.database import make_engine, mask_url
from backend.schema import MIGRATE_COMMAND, SchemaState, schema_state, upgrade
from backend.seeding.options import PROFILES, OptionsError, SeedOptions, describe_profiles, load_config_file

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
        "workers",
        int,
        "processes generating rows beside the writer (default 0: automatic); the data is the same for any N",
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
        "--demo-accounts",
        dest="demo_accounts",
        action="store_true",
        default=None,
        help="add the named demo accounts and channels",
    )
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
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars or summary")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def build_parser(prog: str) -> ArgumentParser:
    parser = ArgumentParser(
        prog=prog,
        description=(
            "Fill the database with a realistic, deterministic fake chat: users, channels (DMs, private "
            "channels with join codes), memberships, messages with threaded replies, reactions. The same "
            "seed, options and as-of date give the same data on SQLite and PostgreSQL. Re-running the same "
            "command writes nothing; --append adds another run. Everything is one transaction."
        ),
        epilog=(
            "subcommands: seed_data.py verify | status | reset | show (each has --help). "
            "Remove seeded rows with cleanup_fake_data.py."
        ),
    )
    add_common_arguments(parser)
    add_seed_arguments(parser)
    parser.add_argument("--append", action="store_true", help="add a run even if an identical one exists")
    parser.add_argument("--dry-run", action="store_true", help="print the rows per table; write nothing")
    parser.add_argument("--list-profiles", action="store_true", help="print each profile with its numbers")
    return parser


def options_from_args(args: argparse.Namespace) -> SeedOptions:
    """Profile <- --config file <- flags, validated; a bad value is a usage error naming the key."""
    overrides: dict[str, Any] = {name: getattr(args, name) for name, _kind, _help in OPTION_FLAGS}
    overrides["seed"] = args.seed
    overrides["demo_accounts"] = args.demo_accounts
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
        lines.append(
            f"already seeded: run {summary.skipped_for_run} has the same seed and options; nothing written "
            "(use --append to add another run)"
        )
    elif summary.dry_run:
        lines.append(
            f"dry run: would seed {mask_url(url)} (profile {o.profile}, seed {o.seed}, as of {o.as_of}); "
            "nothing written"
        )
    else:
        lines.append(f"seeded {mask_url(url)}")
    lines.append(f"{'table':<20}{'rows':>12}")
    for table, count in summary.counts.items():
        lines.append(f"{table:<20}{count:>12,}")
    lines.append(f"{'total':<20}{summary.total_rows:>12,}")
    if summary.run_id is not None and summary.skipped_for_run is None:
        rate = summary.total_rows / summary.seconds if summary.seconds > 0 else 0
        lines.append(
            f"run {summary.run_id} · seed {o.seed} · profile {o.profile} · as of {o.as_of} · "
            f"{summary.seconds:.2f} s ({rate:,.0f} rows/s)"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from backend.seeding.runner import SeedError, plan_only, seed_database

    if args.list_profiles:
        print(describe_profiles())
        return 0
    options = options_from_args(args)
    url = resolve_database_url(args)
    if not args.dry_run:
        refuse_production(args)
    engine = make_engine(url)
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
                        conn, options, append=args.append, progress=_progress_factory(args.quiet or args.json)
                    )
                except SeedError as exc:
                    raise CommandError(str(exc)) from None
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(summary.as_dict(), sort_keys=True))
    elif not args.quiet:
        print(format_summary(summary, url))
    return 0

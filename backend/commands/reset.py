"""`seed_data.py reset`: remove every seeded run, then seed afresh, in one transaction; real rows stay."""

from __future__ import annotations

import argparse
import json
import sys

from sqlalchemy.exc import OperationalError

from backend.cli_support import (
    ArgumentParser,
    CommandError,
    UsageError,
    add_common_arguments,
    resolve_database_url,
)
from backend.commands.cleanup import format_dependents, format_plan
from backend.commands.seed import (
    add_seed_arguments,
    format_summary,
    lock_timeout_error,
    options_from_args,
    prepare_schema,
    refuse_production,
)
from backend.database import make_engine
from backend.seeding.cleanup import (
    DependentsError,
    LedgerChangedError,
    execute_cleanup,
    plan_cleanup,
    select_runs,
)
from backend.seeding.sizing import PlanTooBigError, check_plan_size


def build_parser(prog: str) -> ArgumentParser:
    parser = ArgumentParser(
        prog=prog,
        description=(
            "Remove the rows of every seeded run (as cleanup_fake_data.py does) and seed afresh with the "
            "given options, in one transaction: on any failure nothing changes. Real rows are left alone."
        ),
    )
    add_common_arguments(parser)
    add_seed_arguments(parser)
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    parser.add_argument(
        "--cascade", action="store_true", help="also remove real rows that depend on seeded ones"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    from backend.seeding.runner import SeedError, seed_database

    options = options_from_args(args)
    try:
        check_plan_size(options)
    except PlanTooBigError as exc:
        raise UsageError(str(exc)) from None
    url = resolve_database_url(args)
    refuse_production(args)
    if not args.yes and not sys.stdin.isatty():
        raise UsageError("refusing to reset without confirmation: stdin is not a terminal; pass --yes")
    engine = make_engine(url, writer=True, lock_timeout=args.lock_timeout)
    try:
        with engine.begin() as conn:
            prepare_schema(conn, url, args.quiet or args.json)
            plan = plan_cleanup(conn, select_runs(conn))
            if plan.dependents and not args.cascade:
                print(format_dependents(plan.dependents), file=sys.stderr)
                raise CommandError(
                    "refusing to reset: real rows depend on seeded ones; nothing changed; "
                    "re-run with --cascade to remove those too"
                )
            if not args.yes:
                print(format_plan(plan) if not plan.is_empty else "no seeded rows to remove")
                answer = input("Remove these rows and seed afresh? [y/N] ").strip().lower()
                if answer not in ("y", "yes"):
                    raise CommandError("aborted: nothing changed")
            try:
                removed = execute_cleanup(conn, plan, cascade=args.cascade)
                summary = seed_database(conn, options, append=True, online=args.online)
            except DependentsError:
                raise CommandError("real rows started to depend on seeded ones; nothing changed") from None
            except (LedgerChangedError, SeedError) as exc:
                raise CommandError(str(exc)) from None
    except OperationalError as exc:
        raise lock_timeout_error(exc, args) or exc from None
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps({"removed": removed.to_dict(), "seeded": summary.as_dict()}, sort_keys=True))
    elif not args.quiet:
        print(f"removed {sum(removed.removed.values()):,} seeded rows of {len(removed.run_ids)} run(s)")
        print(format_summary(summary, url))
    return 0

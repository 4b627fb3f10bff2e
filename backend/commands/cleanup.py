"""cleanup_fake_data.py: remove exactly the rows seeding runs wrote, per the ledger, and nothing else."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from sqlalchemy import Connection

from backend.cli_support import (
    EXIT_FAILURE,
    EXIT_OK,
    ArgumentParser,
    CommandError,
    UsageError,
    add_common_arguments,
    require_current_schema,
    resolve_database_url,
)
from backend.database import make_engine
from backend.seeding.cleanup import (
    CleanupPlan,
    CleanupResult,
    Dependent,
    Dependents,
    DependentsError,
    LedgerChangedError,
    ProgressCallback,
    UnknownRunError,
    delete_order,
    execute_cleanup,
    plan_cleanup,
    select_runs,
)

PROMPT = "Remove these rows? [y/N] "


def build_parser(prog: str) -> ArgumentParser:
    parser = ArgumentParser(
        prog=prog,
        description="Remove the rows written by seeding runs, exactly as the seed ledger records them, "
        "children before parents, in one transaction. Real rows are never touched unless --cascade is given "
        "and they depend on seeded rows.",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--run",
        metavar="ID",
        type=int,
        action="append",
        dest="runs",
        help="remove this seed run (repeatable; default: every run in the ledger)",
    )
    which.add_argument("--latest", action="store_true", help="remove only the most recent seed run")
    parser.add_argument("--dry-run", action="store_true", help="print what would be removed; change nothing")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument(
        "--cascade",
        action="store_true",
        help="also remove real rows that depend on seeded rows (e.g. a real reply to a seeded message)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar, only the result")
    parser.add_argument("--json", action="store_true", help="print the plan or the result as JSON")
    add_common_arguments(parser)
    return parser


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _runs_phrase(run_ids: tuple[int, ...]) -> str:
    return f"{_n(len(run_ids), 'seed run')} (id {', '.join(map(str, run_ids))})"


def _count_lines(counts: Mapping[str, int]) -> list[str]:
    tables = delete_order()
    width = max(len(name) for name in tables)
    return [f"  {name:<{width}}  {counts.get(name, 0):>10}" for name in tables]


def format_plan(plan: CleanupPlan) -> str:
    lines = [
        f"would remove {_n(plan.total, 'row')} of {_runs_phrase(plan.run_ids)}:",
        *_count_lines(plan.counts),
    ]
    return "\n".join(lines)


def _dependent_line(dep: Dependent) -> str:
    shown = ", ".join(
        str(i) if not isinstance(i, tuple) else f"({', '.join(map(str, i))})" for i in dep.sample_ids
    )
    more = ", ..." if dep.count > len(dep.sample_ids) else ""
    key = dep.key_columns[0] if len(dep.key_columns) == 1 else f"({', '.join(dep.key_columns)})"
    return f"  {dep.table}: {dep.count} {dep.description}: {key} {shown}{more}"


def format_dependents(dependents: Dependents) -> str:
    return "\n".join(_dependent_line(d) for d in dependents.kinds)


def format_result(result: CleanupResult) -> str:
    seeded = sum(result.removed.values())
    lines = [
        f"removed {_n(seeded, 'seeded row')} of {_runs_phrase(result.run_ids)}:",
        *_count_lines(result.removed),
    ]
    extra = {table: n for table, n in result.dependents_removed.items() if n}
    if extra:
        lines.append(f"and {_n(sum(extra.values()), 'dependent row')} outside those runs (--cascade):")
        lines += [f"  {table}: {n}" for table, n in extra.items()]
    return "\n".join(lines)


def _require_terminal() -> None:
    if not sys.stdin.isatty():
        raise UsageError("refusing to remove rows without confirmation: stdin is not a terminal; pass --yes")


def _confirm() -> bool:
    try:
        answer = input(PROMPT)
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


@contextmanager
def _progress_bar(enabled: bool, total: int | None) -> Iterator[ProgressCallback | None]:
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="row", desc="cleanup", file=sys.stderr, leave=False) as bar:

        def advance(step: str, rows: int) -> None:
            bar.set_description(step)
            bar.update(rows)

        yield advance


def _emit_json(payload: dict[str, object]) -> None:
    print(json.dumps(payload, indent=2, sort_keys=False))


def _report_dependents(dependents: Dependents, as_json: bool, plan: CleanupPlan) -> int:
    if as_json:
        _emit_json({"status": "refused", **plan.to_dict(), "dependents": dependents.to_dict()})
    print(
        f"error: refusing to remove: seeded rows have {_n(dependents.total, 'dependent row')} outside the "
        "selected seed runs; nothing was removed; re-run with --cascade to remove those too",
        file=sys.stderr,
    )
    print(format_dependents(dependents), file=sys.stderr)
    return EXIT_FAILURE


def _plan(conn: Connection, args: argparse.Namespace, url: str) -> CleanupPlan:
    require_current_schema(conn, url)
    try:
        run_ids = select_runs(conn, args.runs, latest=args.latest)
    except UnknownRunError as exc:
        raise UsageError(str(exc)) from None
    # With --yes nothing shows the plan's counts unless it is refused: execute_cleanup counts anyway.
    return plan_cleanup(conn, run_ids, counts=args.dry_run or not args.yes)


def _counted(conn: Connection, plan: CleanupPlan) -> CleanupPlan:
    """The plan with its counts, for a report that shows them."""
    if plan.counted:
        return plan
    counted = plan_cleanup(conn, plan.run_ids)
    conn.rollback()
    return counted


def run(args: argparse.Namespace) -> int:
    if args.json and not (args.yes or args.dry_run):
        raise UsageError("--json needs --yes or --dry-run (it cannot ask for confirmation)")
    url = resolve_database_url(args)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            plan = _plan(conn, args, url)
            # Planning only reads; do not sit in a transaction while the user thinks.
            conn.rollback()
            if plan.is_empty:
                if args.json:
                    _emit_json({"status": "nothing to remove", **plan.to_dict()})
                else:
                    print("nothing to remove: the ledger has no seed runs to clean up")
                return EXIT_OK
            if args.dry_run:
                if args.json:
                    _emit_json({"status": "dry run", **plan.to_dict()})
                    return EXIT_OK
                print(format_plan(plan))
                if plan.dependents:
                    print("rows outside these runs depend on them (--cascade would remove them too):")
                    print(format_dependents(plan.dependents))
                print("dry run: nothing was removed")
                return EXIT_OK
            if plan.dependents and not args.cascade:
                return _report_dependents(plan.dependents, args.json, _counted(conn, plan))
            if not args.yes:
                _require_terminal()
                print(format_plan(plan))
                if plan.dependents:
                    print("with --cascade these rows outside the runs are removed as well:")
                    print(format_dependents(plan.dependents))
                if not _confirm():
                    print("aborted: nothing was removed", file=sys.stderr)
                    return EXIT_FAILURE
            show_progress = not (args.quiet or args.json) and sys.stderr.isatty()
            try:
                with _progress_bar(show_progress, plan.total or None) as progress, conn.begin():
                    result = execute_cleanup(conn, plan, cascade=args.cascade, progress=progress)
            except DependentsError as exc:
                return _report_dependents(exc.dependents, args.json, _counted(conn, plan))
            except LedgerChangedError as exc:
                raise CommandError(str(exc)) from None
    finally:
        engine.dispose()
    if args.json:
        _emit_json({"status": "removed", **result.to_dict()})
    else:
        print(format_result(result))
    return EXIT_OK

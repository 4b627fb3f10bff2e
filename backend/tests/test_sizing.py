"""sizing.py, and seed_data.py refusing a plan one run cannot hold: at once, exit 2, before any write.

The refusals go through the real CLI with a time limit: before sizing existed, these plans ran until
killed or died with MemoryError.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import pytest

from backend.database import make_engine
from backend.schema import SchemaState, schema_state
from backend.seeding import registry
from backend.seeding.dataset import Dataset
from backend.seeding.options import resolve_options
from backend.seeding.sizing import MAX_PLANNED_ROWS, PlanTooBigError, check_plan_size, plan_size
from backend.tests.helpers import run_script
from backend.tests.seed_helpers import error_line

AS_OF = date(2026, 6, 1)
# Each is refused for a different reason; none may take more than a few seconds to say so.
TOO_MANY_ROWS = ("--users", "100000", "--channels", "100000", "--messages-per-channel", "1000000")
TOO_MANY_USERS = ("--users", "1099511627776")
TOO_MUCH_MEMORY = (
    "--users", "100", "--channels", "2", "--messages-per-channel", "1000000",
    "--reply-share", "1", "--reaction-share", "1", "--max-reactions", "16",
)  # fmt: skip
ANSWER_WITHIN_SECONDS = 20


def _options(**overrides: object) -> object:
    return resolve_options("test", None, {"as_of": AS_OF, **overrides}, today=AS_OF)


@pytest.mark.parametrize("profile", ["test", "dev", "demo", "load"])
def test_the_estimate_is_close_to_the_exact_plan(profile: str) -> None:
    options = resolve_options(profile, None, {"as_of": AS_OF}, today=AS_OF)
    exact = Dataset(options, dict.fromkeys(registry.id_block_tables(), 1), 0, list(range(1, 17))).plan.counts
    estimate = plan_size(options).rows
    assert estimate["users"] == exact["users"] and estimate["channels"] == exact["channels"]
    total_exact, total_estimate = sum(exact.values()), sum(estimate.values())
    tolerance = 0.05 if profile == "load" else 0.35  # small profiles are few draws, so noisy
    assert abs(total_estimate - total_exact) <= tolerance * total_exact, (estimate, exact)


def test_sizes_in_constant_time_whatever_the_plan() -> None:
    started = time.perf_counter()
    size = plan_size(_options(users=1 << 40, channels=(1 << 40) - 1, messages_per_channel=1_000_000))
    assert time.perf_counter() - started < 1
    assert size.too_many_rows and size.too_much_memory and not size.fits


def test_the_load_profile_fits_and_counts_exactly() -> None:
    size = check_plan_size(resolve_options("load", None, {"as_of": AS_OF}, today=AS_OF))
    assert size.fits and size.exact_count_is_quick


def test_memory_alone_can_refuse_a_plan() -> None:
    options = _options(users=100, channels=2, messages_per_channel=100)
    assert plan_size(options, memory_limit=1 << 40).fits
    small = plan_size(options, memory_limit=1 << 20)
    assert not small.too_many_rows and small.too_much_memory
    assert "memory" in small.refusal() and "rows planned" not in small.refusal()


def test_check_plan_size_names_the_planned_rows_and_the_limit() -> None:
    with pytest.raises(PlanTooBigError) as caught:
        check_plan_size(_options(users=MAX_PLANNED_ROWS + 1, channels=0))
    assert f"{MAX_PLANNED_ROWS + 1:,} rows planned" in str(caught.value)
    assert f"limit of {MAX_PLANNED_ROWS:,}" in str(caught.value)


# ----- through the CLI ----------------------------------------------------------------------------------


def _assert_still_empty(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert schema_state(conn) is SchemaState.EMPTY, "nothing may be created before the refusal"
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (TOO_MANY_ROWS, ("rows planned", f"limit of {MAX_PLANNED_ROWS:,}")),
        (TOO_MANY_USERS, ("rows planned", "memory needed")),
        (TOO_MUCH_MEMORY, ("memory needed", "limit of")),
    ],
    ids=["rows", "users", "memory"],
)
def test_a_plan_too_big_is_refused_at_once_before_any_write(
    empty_db_url: str, flags: tuple[str, ...], named: tuple[str, ...]
) -> None:
    started = time.monotonic()
    result = run_script("seed_data.py", *flags, database_url=empty_db_url, timeout=ANSWER_WITHIN_SECONDS)
    assert time.monotonic() - started < ANSWER_WITHIN_SECONDS
    assert result.returncode == 2, result.stderr
    line = error_line(result.stderr)
    assert line.startswith("error: plan too big: about ")
    for part in named:
        assert part in line, line
    assert result.stdout == ""
    _assert_still_empty(empty_db_url)


def test_reset_refuses_a_plan_too_big_too(db_url: str) -> None:
    result = run_script("seed_data.py", "reset", "--yes", *TOO_MANY_ROWS, database_url=db_url, timeout=20)
    assert result.returncode == 2, result.stderr
    assert "plan too big" in error_line(result.stderr)


def test_a_dry_run_of_a_plan_too_big_answers_at_once_with_its_size_and_the_limit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    result = run_script("seed_data.py", *TOO_MANY_ROWS, "--dry-run", database_url=url, timeout=20)
    assert result.returncode == 2, result.stderr
    assert "plan too big" in error_line(result.stderr)
    assert "estimated" in result.stdout
    assert "messages            ≈128,000,000,000" in result.stdout
    assert f"(limit {MAX_PLANNED_ROWS:,} per run)" in result.stdout
    as_json = run_script("seed_data.py", *TOO_MANY_ROWS, "--dry-run", "--json", database_url=url, timeout=20)
    assert as_json.returncode == 2
    answer = json.loads(as_json.stdout)
    assert answer["estimated"] is True and answer["max_rows"] == MAX_PLANNED_ROWS
    assert answer["planned_rows"] == answer["total_rows"] > MAX_PLANNED_ROWS
    assert not (tmp_path / "none.db").exists() or (tmp_path / "none.db").stat().st_size == 0


def test_a_dry_run_too_big_to_count_exactly_estimates_at_once(tmp_path: Path) -> None:
    """Within the limits, but a million channels: the exact count would take long, so it says 'about'."""
    url = f"sqlite:///{tmp_path / 'none.db'}"
    flags = ("--users", "1000", "--channels", "1000000", "--messages-per-channel", "5", "--max-members", "3")
    result = run_script("seed_data.py", *flags, "--dry-run", database_url=url, timeout=20)
    assert result.returncode == 0, result.stderr
    assert "estimated" in result.stdout and "channels              ≈1,000,000" in result.stdout

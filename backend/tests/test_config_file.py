"""--config files as a user writes them: every bad file is one usage line naming the file or the key.

Through the real CLI (a child process): exit 2, exactly one line on stderr, nothing on stdout, no traceback,
and the database unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.tests.helpers import run_script
from backend.tests.seed_helpers import ALL_TABLES, AS_OF, copy_sqlite_template, error_line, table_counts_at

BAD_FILES: list[tuple[str, bytes, tuple[str, ...]]] = [
    ("latin-1", "users: 12\nlocale: fr_FR # café\n".encode("latin-1"), ("--config", "UTF-8", "0xe9")),
    ("binary", b"\xff\xfe\x00users: 3\n", ("--config", "UTF-8", "0xff")),
    ("impossible-date", b"as_of: 2026-02-30\n", ("as_of", "2026-02-30", "YYYY-MM-DD")),
    ("date-and-time", b"as_of: 2026-01-01 10:00:00\n", ("as_of", "YYYY-MM-DD")),
    ("explicit-timestamp", b"as_of: !!timestamp 2026-13-01\n", ("as_of", "2026-13-01")),
    ("bad-explicit-int", b'users: !!int "many"\n', ("--config", "cannot read", "many")),
    ("bad-explicit-float", b"dm_share: !!float half\n", ("--config", "half")),
    ("deep-nesting", b"[" * 50_000 + b"\n", ("--config",)),
]


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    return copy_sqlite_template(sqlite_template, tmp_path, "config")


@pytest.mark.parametrize(("content", "named"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_a_bad_config_file_is_one_usage_line_naming_it(
    sqlite_url: str, tmp_path: Path, content: bytes, named: tuple[str, ...]
) -> None:
    config = tmp_path / "seed.yaml"
    config.write_bytes(content)
    result = run_script("seed_data.py", "--profile", "test", "--config", str(config), database_url=sqlite_url)
    assert result.returncode == 2, result.stderr
    line = error_line(result.stderr)
    for part in named:
        assert part in line, line
    if "--config" in named:
        assert str(config) in line
    assert result.stdout == ""
    assert table_counts_at(sqlite_url) == dict.fromkeys(ALL_TABLES, 0)


def test_a_date_in_the_config_file_is_checked_like_the_flag(sqlite_url: str, tmp_path: Path) -> None:
    """The same impossible date: from the file it names the key, from the flag it names the option."""
    config = tmp_path / "seed.yaml"
    config.write_text("as_of: 2026-02-30\n", encoding="utf-8")
    from_file = run_script("seed_data.py", "--config", str(config), "--dry-run", database_url=sqlite_url)
    from_flag = run_script("seed_data.py", "--as-of", "2026-02-30", "--dry-run", database_url=sqlite_url)
    assert (from_file.returncode, from_flag.returncode) == (2, 2)
    assert error_line(from_file.stderr).startswith("error: as_of: expected a date as YYYY-MM-DD")
    assert error_line(from_flag.stderr).startswith("error: --as-of: expected a date as YYYY-MM-DD")


def test_a_valid_date_in_the_config_file_still_works(sqlite_url: str, tmp_path: Path) -> None:
    config = tmp_path / "seed.yaml"
    config.write_text(f"as_of: {AS_OF}\nusers: 9\n", encoding="utf-8")
    result = run_script(
        "seed_data.py", "--profile", "test", "--config", str(config), "--json", database_url=sqlite_url
    )
    assert result.returncode == 0, result.stderr
    assert f'"as_of": "{AS_OF}"' in result.stdout
    assert table_counts_at(sqlite_url)["users"] == 9

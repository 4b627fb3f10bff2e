"""bench_online.py on a small plan: a seed with the app beside it, and the figures say what happened."""

from __future__ import annotations

from backend.benchmarks.bench_online import measure

SMALL = ("--users", "300", "--channels", "30", "--messages-per-channel", "5")


def test_measure_an_online_seed_with_the_app_running(pg_url: str) -> None:
    figures = measure(pg_url, online=True, extra=SMALL)
    assert figures.rows > 300 and figures.seed_seconds > 0
    assert figures.fast_tables == []
    assert figures.reads.seconds and figures.writes.seconds
    assert figures.row().startswith("| online (`--online`) |")

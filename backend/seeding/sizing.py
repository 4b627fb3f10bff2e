"""How big a seeding plan is, from the options alone, and whether one run can hold it.

Nothing here builds the dataset: the row counts are the expected values of the keyed draws (the exact
counts need a pass over every channel's messages, which is itself too slow for a huge plan), and memory is
estimated from per-item costs measured on the run-wide arrays. A plan is refused before anything is built
or written when it has more rows than MAX_PLANNED_ROWS, or when its run-wide arrays (per user and per
channel, kept for the whole run) plus the chunks in flight would need more than MEMORY_SHARE of this
machine's (or container's) memory. The same numbers answer `--dry-run` at once for such plans.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from backend.seeding.dataset import CHUNK_ROWS
from backend.seeding.options import SeedOptions, estimated_rows

# The most rows one run may plan: about 1.5 hours at the measured 180,000 rows/s; split bigger datasets
# into several runs with --append.
MAX_PLANNED_ROWS = 1_000_000_000
# Peak bytes while building the run-wide arrays, measured with tracemalloc on 2M users / 2M channels
# (64 and 124 bytes), with a margin for the allocator.
BYTES_PER_USER = 96
BYTES_PER_CHANNEL = 192
# A generated row waiting to be written (Python tuple and strings, then its COPY text); generous.
BYTES_PER_ROW_IN_FLIGHT = 800
MEMORY_SHARE = 0.5
# Above these the exact count (a numpy pass over every message, a Python one over every channel) takes
# more than a few seconds, so a dry run answers with the estimate instead.
EXACT_COUNT_MAX_ROWS = 20_000_000
EXACT_COUNT_MAX_CHANNELS = 500_000
_CGROUP_MEMORY_MAX = Path("/sys/fs/cgroup/memory.max")


class PlanTooBigError(ValueError):
    """The plan has more rows, or needs more memory, than one run may use."""


def memory_limit_bytes() -> int:
    """MEMORY_SHARE of the physical memory, or of the container's limit when that is lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        cgroup = _CGROUP_MEMORY_MAX.read_text().strip()
    except OSError:
        cgroup = "max"
    if cgroup.isdigit():
        total = min(total, int(cgroup))
    return int(total * MEMORY_SHARE)


def _largest_chunk_rows(options: SeedOptions) -> int:
    """Rows of the biggest chunk: a chunk closes past CHUNK_ROWS rows; one huge channel is one chunk."""
    top = options.messages_per_channel + options.messages_per_channel // 2  # the most a channel draws
    messages = top * (1 + 3 * options.reply_share)  # threads get at most 3 replies
    reactions = messages * options.reaction_share * options.max_reactions
    members = options.users if options.max_members == 0 else min(options.users, options.max_members)
    return CHUNK_ROWS + int(messages + reactions) + members


def _chunks_in_flight(options: SeedOptions, rows: int) -> int:
    from backend.seeding.pipeline import effective_workers

    workers = effective_workers(options, rows)
    return 1 if workers == 0 else 2 * workers + 1  # the runner keeps 2 tasks per worker queued


def _binary_size(count: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if count < 1024 or unit == "PiB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class PlanSize:
    """A plan's expected rows per table and its memory need, against the run's limits."""

    rows: dict[str, int]
    memory_bytes: int
    memory_limit: int
    channels: int

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def too_many_rows(self) -> bool:
        return self.total_rows > MAX_PLANNED_ROWS

    @property
    def too_much_memory(self) -> bool:
        return self.memory_bytes > self.memory_limit

    @property
    def fits(self) -> bool:
        return not (self.too_many_rows or self.too_much_memory)

    @property
    def exact_count_is_quick(self) -> bool:
        return (
            self.fits
            and self.total_rows <= EXACT_COUNT_MAX_ROWS
            and self.channels <= EXACT_COUNT_MAX_CHANNELS
        )

    def limits_line(self) -> str:
        return (
            f"about {self.total_rows:,} rows planned (limit {MAX_PLANNED_ROWS:,} per run); about "
            f"{_binary_size(self.memory_bytes)} of memory (limit {_binary_size(self.memory_limit)}, "
            f"{MEMORY_SHARE:.0%} of this machine's)"
        )

    def refusal(self) -> str:
        """One line: what is too big, by how much, and what to lower."""
        reasons = []
        if self.too_many_rows:
            reasons.append(
                f"about {self.total_rows:,} rows planned, more than the limit of {MAX_PLANNED_ROWS:,} per run"
            )
        if self.too_much_memory:
            reasons.append(
                f"about {_binary_size(self.memory_bytes)} of memory needed, more than the limit of "
                f"{_binary_size(self.memory_limit)} ({MEMORY_SHARE:.0%} of this machine's)"
            )
        return (
            f"plan too big: {'; '.join(reasons)}; lower --users, --channels or --messages-per-channel "
            "(or seed in several runs with --append)"
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "planned_rows": self.total_rows,
            "max_rows": MAX_PLANNED_ROWS,
            "memory_bytes": self.memory_bytes,
            "memory_limit_bytes": self.memory_limit,
        }


def plan_size(options: SeedOptions, memory_limit: int | None = None) -> PlanSize:
    """The plan's expected size, in constant time whatever the options."""
    rows = estimated_rows(options)
    total = sum(rows.values())
    in_flight = _chunks_in_flight(options, total) * _largest_chunk_rows(options) * BYTES_PER_ROW_IN_FLIGHT
    memory = options.users * BYTES_PER_USER + options.channels * BYTES_PER_CHANNEL + in_flight
    limit = memory_limit_bytes() if memory_limit is None else memory_limit
    return PlanSize(rows=rows, memory_bytes=memory, memory_limit=limit, channels=options.channels)


def check_plan_size(options: SeedOptions) -> PlanSize:
    """The plan's size; PlanTooBigError (before anything is built) when one run cannot hold it."""
    size = plan_size(options)
    if not size.fits:
        raise PlanTooBigError(size.refusal())
    return size

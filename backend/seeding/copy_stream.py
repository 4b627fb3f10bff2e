"""A few long COPY statements instead of one per payload, fed from the pipeline while it generates.

The pipeline yields each chunk's tables in turn (memberships, messages, reactions, then the next chunk's):
loaded one COPY per payload, that is hundreds of statements alternating between tables, and PostgreSQL
spends measurably more time per row that way than in one COPY per table (the benchmarks README has the
figures). Here a feeder thread moves the payloads into a backlog per table, held in memory and bounded, and
the caller's thread runs COPY statements that each take one table's backlog, for as long as that table has
rows coming, and switch to another table only when its backlog has reached `switch_bytes` (or this table
is complete). The generation behind the feeder never waits for the COPY of another table to finish,
so it keeps overlapping with the server's work, and each table's rows arrive in a handful of statements.

The rows of different tables are loaded in another order than the pipeline's (a reaction may reach the
database before its message): only for tables without foreign keys during the load (the writer dropped
them for a fast load). A table's own rows keep their order. Payloads are data rows only, in the format the
table's COPY reads; each statement gets its `framing` (binary COPY's header and trailer) here.

A failure on either side ends both: a feeder's exception is raised in the caller's thread (as itself, not
as the driver's "error in .read() call"), and a failed or interrupted COPY stops the feeder and closes the
pipeline (its workers end) before the exception goes on. The first item is taken in the caller's thread,
so a pipeline that forks its workers does so before there is a second thread.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import deque
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any

# The feeder waits when a table's backlog reaches BACKLOG_BYTES. A COPY that has sent SWITCH_BYTES ends when
# another table's backlog has reached SWITCH_BYTES, and that table's COPY comes next: statements of at least
# SWITCH_BYTES (or a whole table), and about two backlogs held at most. At 8 MB (was 12 MB, switching at 6 MB)
# the tree's peak memory at 5x the load profile was 10 MiB lower and the run no slower (alternated, 6 rounds).
BACKLOG_BYTES = 8 << 20
SWITCH_BYTES = 4 << 20

Fed = tuple[str, Any, int]  # (table, payload, rows)


@dataclass(frozen=True)
class Copied:
    statements: int  # COPY statements run
    peak_bytes: int  # the most payload bytes held at once, all tables together


class _Backlog:
    """Payloads per table between the feeder thread and the COPY statements, under one condition."""

    def __init__(self, planned: Mapping[str, int], backlog_bytes: int, switch_bytes: int) -> None:
        self.cond = threading.Condition()
        self.queues: dict[str, deque[bytes]] = {table: deque() for table in planned}
        self.queued = dict.fromkeys(planned, 0)  # bytes waiting per table
        self.to_come = dict(planned)  # rows not fed yet per table
        self.backlog_bytes = backlog_bytes
        self.switch_bytes = switch_bytes
        self.fed_all = False
        self.stopping = False
        self.error: BaseException | None = None
        self.statements = 0
        self.peak_bytes = 0  # the most bytes waiting at once, over all tables

    def feed(self, first: Fed, items: Generator[Fed, None, None]) -> None:
        """In the feeder thread: every item into its table's backlog, waiting while that one is full."""
        try:
            for table, payload, rows in itertools.chain([first], items):
                data = payload if isinstance(payload, bytes) else bytes(payload)  # COPY's reader takes bytes
                with self.cond:
                    while self.queued[table] >= self.backlog_bytes and not self.stopping:
                        self.cond.wait()
                    if self.stopping:
                        return
                    if data:
                        self.queues[table].append(data)
                        self.queued[table] += len(data)
                        self.peak_bytes = max(self.peak_bytes, sum(self.queued.values()))
                    self.to_come[table] -= rows
                    self.cond.notify_all()
        except BaseException as exc:  # handed to the caller's thread, which raises it
            with self.cond:
                self.error = exc
        finally:
            # Here, in the thread that iterates it: the pipeline's own cleanup (its workers) runs now.
            items.close()
            with self.cond:
                self.fed_all = True
                self.cond.notify_all()

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()

    def _raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    def _overdue(self, table: str | None) -> list[str]:
        """Tables other than `table` whose backlog has reached switch_bytes."""
        return [other for other, size in self.queued.items() if other != table and size >= self.switch_bytes]

    def next_table(self, previous: str | None) -> str | None:
        """The table to copy next: one whose backlog is overdue (not the one just copied), else the one with
        the most bytes waiting; None once everything was fed and taken."""
        with self.cond:
            while True:
                self._raise_error()
                waiting = self._overdue(previous) or [t for t, size in self.queued.items() if size > 0]
                if waiting:
                    return max(waiting, key=lambda table: self.queued[table])
                if self.fed_all:
                    return None
                self.cond.wait()

    def take(self, table: str, sent: int) -> bytes | None:
        """The next payload of table for its running COPY, which has sent `sent` bytes so far; None when that
        COPY should end: the table is complete, or another's backlog is overdue and this statement has sent
        switch_bytes (or has nothing to send)."""
        with self.cond:
            while True:
                self._raise_error()
                if sent >= self.switch_bytes and self._overdue(table):
                    return None
                queue = self.queues[table]
                if queue:
                    data = queue.popleft()
                    self.queued[table] -= len(data)
                    self.cond.notify_all()
                    return data
                if self.to_come[table] <= 0 or self.fed_all or self._overdue(table):
                    return None
                self.cond.wait()


class _TableReader:
    """The file-like object one COPY statement reads: head, the table's payloads as they come, tail."""

    def __init__(self, backlog: _Backlog, table: str, head: bytes, tail: bytes) -> None:
        self.backlog = backlog
        self.table = table
        self.parts: deque[bytes] = deque([head] if head else [])
        self.tail = tail
        self.ended = False
        self.sent = 0  # payload bytes read
        self.raised: BaseException | None = None  # the driver reports it as a failed COPY: kept to re-raise

    def read(self, _size: int = -1) -> bytes:
        try:
            return self._next()
        except BaseException as exc:  # a feeder's failure, or Ctrl-C while waiting for rows
            self.raised = exc
            raise

    def _next(self) -> bytes:
        # Whole payloads, whatever the size asked: the driver sends what it gets as one message.
        if self.parts:
            return self.parts.popleft()
        if self.ended:
            return b""
        data = self.backlog.take(self.table, self.sent)
        if data is not None:
            self.sent += len(data)
            return data
        self.ended = True
        return self.tail


# How psycopg2 reports an exception raised in read() before its body ran, which can only be Ctrl-C handled on
# the way in (the body records anything it raises): "error in .read() call: KeyboardInterrupt" when Python had
# made the exception object, and without the name when the signal handler left only the exception's type.
_INTERRUPTED_READ = re.compile(r"error in \.read\(\) call(: KeyboardInterrupt\b|\s*$)", re.MULTILINE)


def copy_interleaved(
    cursor: Any,
    items: Generator[Fed, None, None],
    planned: Mapping[str, int],
    statement: Callable[[str], str],
    framing: Callable[[str], tuple[bytes, bytes]],
    *,
    backlog_bytes: int = BACKLOG_BYTES,
    switch_bytes: int = SWITCH_BYTES,
    buffer_bytes: int = 1 << 20,
) -> Copied:
    """Load every item with COPY statements on cursor (a DB-API cursor with psycopg2's copy_expert).
    statement(table) is the table's COPY ... FROM STDIN; framing(table) what each statement's data starts
    and ends with."""
    if switch_bytes > backlog_bytes:
        raise ValueError("switch_bytes must not exceed backlog_bytes, or a full backlog could not end a COPY")
    first = next(items, None)
    if first is None:
        return Copied(0, 0)
    backlog = _Backlog(planned, backlog_bytes, switch_bytes)
    feeder = threading.Thread(target=backlog.feed, args=(first, items), name="copy-feeder", daemon=True)
    feeder.start()
    table: str | None = None
    try:
        while (table := backlog.next_table(table)) is not None:
            head, tail = framing(table)
            reader = _TableReader(backlog, table, head, tail)
            try:
                cursor.copy_expert(statement(table), reader, size=buffer_bytes)
            except Exception as exc:
                if reader.raised is not None:
                    raise reader.raised from None
                if _INTERRUPTED_READ.search(str(exc)):
                    raise KeyboardInterrupt from None
                raise
            backlog.statements += 1
    finally:
        backlog.stop()
        feeder.join()
    backlog._raise_error()
    return Copied(backlog.statements, backlog.peak_bytes)

"""cli_support.py: exit_process ends a script as sys.exit would (exit handlers, flushed output, the code),
and reports a closed pipe as the interpreter does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import atexit, sys
from backend.cli_support import exit_process
atexit.register(lambda: sys.stderr.write(", and the exit handler ran"))
sys.stdout.write("written, not flushed")
sys.stderr.write("to stderr")
exit_process(int(sys.argv[1]))
"""


def _run(code: int, **kwargs: object) -> subprocess.CompletedProcess[str]:
    # Buffered output, as a script's usually is: the flush at exit is what writes it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(code)], cwd=ROOT, env=env, text=True, check=False, **kwargs
    )  # type: ignore[call-overload, no-any-return]


def test_exit_process_runs_the_exit_handlers_flushes_and_exits_with_the_code() -> None:
    for code in (0, 3):
        done = _run(code, capture_output=True)
        assert done.returncode == code
        assert done.stdout == "written, not flushed"
        assert done.stderr == "to stderr, and the exit handler ran"


def test_exit_process_reports_a_closed_pipe_as_the_interpreter_does() -> None:
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = _run(0, stdout=writer, stderr=subprocess.PIPE)
    finally:
        os.close(writer)
    assert done.returncode == 120
    assert done.stderr == "to stderr, and the exit handler ran"
    assert _run(4, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 4

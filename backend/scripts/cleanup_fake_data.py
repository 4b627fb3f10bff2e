"""Remove the rows seed_data.py wrote, exactly as its ledger records them. See --help."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from backend.cli_support import exit_process, run_cli
from backend.commands import cleanup

if __name__ == "__main__":
    exit_process(run_cli(cleanup.run, cleanup.build_parser("cleanup_fake_data.py")))

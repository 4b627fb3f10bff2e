"""Seed the chat database with a deterministic fake chat; also: verify, status, reset, show.

python backend/scripts/seed_data.py [options]          seed (see --help)
python backend/scripts/seed_data.py verify [options]   check the data's invariants
python backend/scripts/seed_data.py status [options]   seeded and real rows, and the ledger's runs
python backend/scripts/seed_data.py audit [options]    per run: rows written, present, missing, drifted
python backend/scripts/seed_data.py reset [options]    remove seeded rows, then seed afresh
python backend/scripts/seed_data.py show [options]     a channel's latest messages as a chat transcript
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from backend.cli_support import exit_process, run_cli

SUBCOMMANDS = ("seed", "verify", "status", "reset", "audit", "show")


def main(argv: list[str]) -> int:
    name = argv[0] if argv and argv[0] in SUBCOMMANDS else "seed"
    rest = argv[1:] if argv and argv[0] == name else argv
    prog = "seed_data.py" if name == "seed" else f"seed_data.py {name}"
    try:
        command = importlib.import_module(f"backend.commands.{name}")
    except ImportError as exc:
        print(
            f"error: cannot load the {name} command ({exc}); reinstall: pip install -r requirements.txt",
            file=sys.stderr,
        )
        return 1
    return run_cli(command.run, command.build_parser(prog), rest)


if __name__ == "__main__":
    exit_process(main(sys.argv[1:]))

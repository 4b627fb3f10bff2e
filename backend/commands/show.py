"""seed_data.py show: print a channel's latest messages as a chat transcript (backend/transcript.py)."""

from __future__ import annotations

import argparse

from backend.cli_support import (
    EXIT_OK,
    ArgumentParser,
    CommandError,
    UsageError,
    add_common_arguments,
    reading,
    resolve_database_url,
)
from backend.transcript import (
    MAX_LIMIT,
    busiest_channel,
    find_channel,
    find_dm,
    format_transcript,
    load_transcript,
)


def build_parser(prog: str) -> ArgumentParser:
    parser = ArgumentParser(
        prog=prog,
        description="Print a channel's latest messages as a chat transcript: time, author, text, thread "
        "replies under their parent, reactions after the message. Without --channel or --dm: the busiest "
        "channel. Works on any database, seeded or real; read-only.",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--channel", metavar="NAME", help="a channel's name (e.g. general or #general) or id")
    which.add_argument("--dm", metavar="USER", help="the busiest DM of a user, by email, full name or id")
    parser.add_argument(
        "--limit",
        type=int,
        default=30,
        metavar="N",
        help=f"how many top-level messages, the latest ones (default 30, at most {MAX_LIMIT:,})",
    )
    add_common_arguments(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= MAX_LIMIT:
        raise UsageError(f"--limit: {args.limit} is out of range; allowed 1..{MAX_LIMIT}")
    with reading(resolve_database_url(args)) as conn:
        try:
            if args.channel is not None:
                channel_id = find_channel(conn, args.channel)
            elif args.dm is not None:
                channel_id = find_dm(conn, args.dm)
            else:
                channel_id = busiest_channel(conn)
        except LookupError as exc:
            if args.channel is None and args.dm is None:
                raise CommandError(str(exc)) from None
            raise UsageError(str(exc)) from None
        transcript = load_transcript(conn, channel_id, args.limit)
    print(format_transcript(transcript))
    return EXIT_OK

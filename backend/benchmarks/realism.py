"""How much a chat database reads like a real chat: figures measured with SQL, on a profile or any database.

    python backend/benchmarks/realism.py --profile dev [--seed N] [--as-of YYYY-MM-DD]   # a fresh SQLite file
    python backend/benchmarks/realism.py --database-url URL                            # an existing database
    ... [--json]

Figures (all read-only queries; the heavy ones fetch one number per row and summarise in Python):
duplicate share among long messages (>= 40 characters: share of them whose exact text occurs more than once,
and the most repeated text's count), gaps between consecutive messages of a channel (median, share under
5 minutes), self-mentions (share of @mentions naming the author's first name), self-replies, self-reactions,
reaction delay p50/p90, name collisions (share of users whose full name another user has), channel-size and
channel-activity skew (busiest / median, group channels), users in no channel, users who never post, and the
share of messages asking a question.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import aliased

from backend.database import make_engine, mask_url
from backend.models import Channel, Message, MessageReaction, User, UserChannel

LONG_MESSAGE = 40
MENTION = re.compile(r"@(\w+)")


def _seconds(values: list[Any]) -> np.ndarray:
    """Timestamps (datetimes, or text as SQLite may return; naive ones are UTC) as float seconds."""
    out = np.empty(len(values), dtype=np.float64)
    for i, value in enumerate(values):
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        out[i] = (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return out


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def measure(conn: Connection) -> dict[str, Any]:
    """Every figure, as a flat mapping of name to number."""
    figures: dict[str, Any] = {}
    messages = conn.scalar(select(func.count(Message.id))) or 0
    users = conn.scalar(select(func.count(User.id))) or 0
    figures["messages"], figures["users"] = messages, users

    # Duplicates among long texts.
    counts = (
        conn.execute(
            select(func.count()).where(func.length(Message.content) >= LONG_MESSAGE).group_by(Message.content)
        )
        .scalars()
        .all()
    )
    long_total = sum(counts)
    figures["long_messages"] = long_total
    figures["long_duplicate_share"] = _share(sum(c for c in counts if c > 1), long_total)
    figures["long_most_repeated"] = max(counts, default=0)

    # Gaps between consecutive messages of a channel (time order).
    rows = conn.execute(
        select(Message.channel_id, Message.created_at).order_by(Message.channel_id, Message.created_at)
    ).all()
    channel = np.array([r[0] for r in rows], dtype=np.int64)
    times = _seconds([r[1] for r in rows])
    same = np.diff(channel) == 0
    gaps = np.diff(times)[same] if len(rows) > 1 else np.zeros(0)
    figures["gap_median_minutes"] = round(float(np.median(gaps)) / 60, 1) if len(gaps) else 0.0
    figures["gap_share_under_5_minutes"] = round(float((gaps < 300).mean()), 4) if len(gaps) else 0.0

    # Self-mentions: an @word equal to the author's first name.
    mentions = conn.execute(
        select(Message.content, User.name)
        .join(User, User.id == Message.user_id)
        .where(Message.content.contains("@"))
    ).all()
    named = self_named = 0
    for content, name in mentions:
        first = (name or "").split()[0] if name else ""
        for word in MENTION.findall(content):
            named += 1
            self_named += word == first
    figures["mentions"] = named
    figures["self_mention_share"] = _share(self_named, named)

    parent = aliased(Message)
    replies = conn.scalar(select(func.count(Message.id)).where(Message.parent_id.is_not(None))) or 0
    self_replies = (
        conn.scalar(
            select(func.count(Message.id))
            .join(parent, parent.id == Message.parent_id)
            .where(parent.user_id == Message.user_id)
        )
        or 0
    )
    figures["replies"] = replies
    figures["self_reply_share"] = _share(self_replies, replies)

    reaction_rows = conn.execute(
        select(
            MessageReaction.user_id == Message.user_id, MessageReaction.created_at, Message.created_at
        ).join(Message, Message.id == MessageReaction.message_id)
    ).all()
    figures["reactions"] = len(reaction_rows)
    figures["self_reaction_share"] = _share(sum(1 for r in reaction_rows if r[0]), len(reaction_rows))
    if reaction_rows:
        delay = _seconds([r[1] for r in reaction_rows]) - _seconds([r[2] for r in reaction_rows])
        p50, p90 = np.percentile(delay, [50, 90]) / 3600
        figures["reaction_delay_p50_hours"], figures["reaction_delay_p90_hours"] = (
            round(p50, 2),
            round(p90, 2),
        )
        figures["reaction_delay_max_days"] = round(float(delay.max()) / 86400, 1)

    shared = select(User.name).group_by(User.name).having(func.count() > 1)
    colliding = conn.scalar(select(func.count(User.id)).where(User.name.in_(shared))) or 0
    figures["name_collision_share"] = _share(colliding, users)

    group = Channel.is_dm.is_(False)
    sizes = np.array(
        conn.execute(
            select(func.count(UserChannel.user_id))
            .join(Channel, Channel.id == UserChannel.channel_id)
            .where(group)
            .group_by(UserChannel.channel_id)
        )
        .scalars()
        .all()
        or [0]
    )
    activity = np.array(
        conn.execute(
            select(func.count(Message.id))
            .join(Channel, Channel.id == Message.channel_id)
            .where(group)
            .group_by(Message.channel_id)
        )
        .scalars()
        .all()
        or [0]
    )
    figures["channel_size_busiest_over_median"] = round(float(sizes.max() / max(np.median(sizes), 1)), 1)
    figures["channel_activity_busiest_over_median"] = round(
        float(activity.max() / max(np.median(activity), 1)), 1
    )
    in_channel = select(UserChannel.user_id)
    figures["users_in_no_channel_share"] = _share(
        conn.scalar(select(func.count(User.id)).where(User.id.not_in(in_channel))) or 0, users
    )
    posted = select(Message.user_id)
    figures["users_never_posting_share"] = _share(
        conn.scalar(select(func.count(User.id)).where(User.id.not_in(posted))) or 0, users
    )
    questions = conn.scalar(select(func.count(Message.id)).where(Message.content.contains("?"))) or 0
    figures["question_share"] = _share(questions, messages)
    return figures


LABELS = {
    "long_duplicate_share": "long messages (>= 40 chars) whose text occurs more than once",
    "long_most_repeated": "most repeated long text, times",
    "gap_median_minutes": "median gap between consecutive messages of a channel, minutes",
    "gap_share_under_5_minutes": "gaps under 5 minutes",
    "self_mention_share": "@mentions naming the author",
    "self_reply_share": "replies to one's own message",
    "self_reaction_share": "reactions on one's own message",
    "reaction_delay_p50_hours": "reaction delay p50, hours",
    "reaction_delay_p90_hours": "reaction delay p90, hours",
    "reaction_delay_max_days": "reaction delay max, days",
    "name_collision_share": "users sharing their full name with another user",
    "channel_size_busiest_over_median": "group channel size, busiest / median",
    "channel_activity_busiest_over_median": "group channel messages, busiest / median",
    "users_in_no_channel_share": "users in no channel",
    "users_never_posting_share": "users who never post",
    "question_share": "messages with a question mark",
}


def format_figures(figures: dict[str, Any]) -> str:
    reactions = figures.get("reactions", 0)
    lines = [f"{figures['users']:,} users, {figures['messages']:,} messages, {reactions:,} reactions"]
    for key, label in LABELS.items():
        if key not in figures:
            continue
        value = figures[key]
        shown = f"{value:.1%}" if "share" in key else f"{value:,}"
        lines.append(f"  {label:<70} {shown:>10}")
    return "\n".join(lines)


def _seed_profile(url: str, args: argparse.Namespace) -> None:
    """Seed as a user does: the CLI in a child process (it creates the schema in an empty database)."""
    command = [sys.executable, str(ROOT / "backend" / "scripts" / "seed_data.py"), "--profile", args.profile]
    command += ["--seed", str(args.seed), "--database-url", url, "--quiet"]
    if args.as_of:
        command += ["--as-of", args.as_of]
    subprocess.run(command, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--profile", help="seed this profile into a fresh SQLite file first (dev, demo, load, ...)"
    )
    which.add_argument("--database-url", metavar="URL", help="measure this database as it is (read-only)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", metavar="YYYY-MM-DD")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="realism-") as scratch:
        if args.profile:
            url = f"sqlite:///{Path(scratch) / 'realism.db'}"
            _seed_profile(url, args)
            where = f"profile {args.profile}, seed {args.seed}"
        else:
            url, where = args.database_url, mask_url(args.database_url)
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                figures = measure(conn)
        finally:
            engine.dispose()
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"realism figures for {where}")
        print(format_figures(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())

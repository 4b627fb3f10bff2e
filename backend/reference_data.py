"""The reference set of emoji reactions: (code, emoji, display name). Codes are the stable key."""

from __future__ import annotations

REACTIONS: tuple[tuple[str, str, str], ...] = (
    ("thumbsup", "👍", "Thumbs up"),
    ("thumbsdown", "👎", "Thumbs down"),
    ("heart", "❤️", "Heart"),
    ("joy", "😂", "Tears of joy"),
    ("tada", "🎉", "Party popper"),
    ("fire", "🔥", "Fire"),
    ("eyes", "👀", "Eyes"),
    ("rocket", "🚀", "Rocket"),
    ("pray", "🙏", "Folded hands"),
    ("clap", "👏", "Clapping hands"),
    ("thinking", "🤔", "Thinking face"),
    ("white_check_mark", "✅", "Check mark"),
    ("100", "💯", "Hundred points"),
    ("wave", "👋", "Waving hand"),
    ("smile", "😄", "Grinning face"),
    ("cry", "😢", "Crying face"),
)

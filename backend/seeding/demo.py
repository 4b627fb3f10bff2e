"""The demo profile's known accounts and channels, placed before the generated ones."""

from __future__ import annotations

# (name, email local part, bio)
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("Ada Admin", "ada.admin", "Runs this workspace. Ask me for access to private channels."),
    ("Ben Builder", "ben.builder", "Backend engineer. Postgres, queues and too much coffee."),
    ("Chloe Designer", "chloe.designer", "Product designer. Figma, fonts and friendly error messages."),
    ("Dev Ops", "dev.ops", "On call this week. Pager goes brrr."),
    ("Eve Eval", "eve.eval", "QA lead. If it can break, I will find out how."),
)
DEMO_EMAIL_DOMAIN = "demo.example.com"

# (name, description); the first is joined by every user.
DEMO_CHANNELS: tuple[tuple[str, str], ...] = (
    ("general", "Company-wide announcements and work-based matters"),
    ("random", "Non-work banter and water cooler conversation"),
    ("engineering", "Builds, deploys, reviews and incidents"),
    ("design", "Mockups, feedback and the design system"),
)

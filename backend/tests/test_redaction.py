"""backend/redaction.py: only password fields are hidden, and every one of them is."""

from __future__ import annotations

import pytest

from backend.redaction import redact_credentials


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The URL's password field, whatever it holds.
        ("postgresql+psycopg2://chat:chat@db:5432/chatx", "postgresql+psycopg2://chat:***@db:5432/chatx"),
        ("see postgresql://u:p%40ss%3A@db/x now", "see postgresql://u:***@db/x now"),
        # A raw `@` in a hand-written URL: hidden up to the host, not leaked in part.
        ("postgresql://u:p@ss@db/x failed", "postgresql://u:***@db/x failed"),
        (
            "postgresql://u:a@h/d and postgresql://v:b@h2/d",
            "postgresql://u:***@h/d and postgresql://v:***@h2/d",
        ),
        (
            "postgresql://u@h/d?password=s3cret&sslmode=require",
            "postgresql://u@h/d?password=***&sslmode=require",
        ),
        # A libpq DSN's password value, bare or quoted.
        ("host=db password=s3cret dbname=chat", "host=db password=*** dbname=chat"),
        ("host=db password = 'se cr\\'et' dbname=chat", "host=db password = *** dbname=chat"),
    ],
)
def test_password_fields_are_hidden(text: str, expected: str) -> None:
    assert redact_credentials(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # The default password `chat` is part of the database name: the name stays whole.
        'FATAL:  database "chatx" does not exist',
        # A one-letter password (`t`) must not garble words.
        "database at db:5432 not reachable after 3 attempts (2.0s): Connection refused",
        'FATAL:  password authentication failed for user "chat"',
        "postgresql://chat@db:5432/chat",
        "sqlite:////app/data/chat.db",
        "mail me at someone@example.org",
    ],
)
def test_everything_else_is_left_alone(text: str) -> None:
    assert redact_credentials(text) == text

"""backend/config.py: DATABASE_URL, else the URL built from DATABASE_HOST and its siblings, else SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from backend.config import DEFAULT_DATABASE_URL, SettingsError, load_settings

PARTS = {
    "DATABASE_HOST": "db",
    "DATABASE_PORT": "6543",
    "DATABASE_USER": "ch@t",
    "DATABASE_PASSWORD": "p@ss:w/rd%40 x?#&=",
    "DATABASE_NAME": "chat",
}


def test_the_url_is_built_from_the_parts_with_any_password() -> None:
    url = make_url(load_settings(PARTS).database_url)
    assert url.drivername == "postgresql+psycopg2"
    assert (url.host, url.port, url.database) == ("db", 6543, "chat")
    assert url.username == "ch@t"
    assert url.password == "p@ss:w/rd%40 x?#&="


def test_the_port_defaults_to_5432() -> None:
    parts = {k: v for k, v in PARTS.items() if k != "DATABASE_PORT"}
    assert make_url(load_settings(parts).database_url).port == 5432


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({**PARTS, "DATABASE_URL": "sqlite:///x.db"}, "sqlite:///x.db"),  # an explicit URL wins
        ({"DATABASE_URL": "", "DATABASE_PASSWORD": "x"}, DEFAULT_DATABASE_URL),  # no host: SQLite
        ({}, DEFAULT_DATABASE_URL),
    ],
    ids=["url-wins", "no-host", "nothing"],
)
def test_which_database(env: dict[str, str], expected: str) -> None:
    assert load_settings(env).database_url == expected


@pytest.mark.parametrize("port", ["five", "0", "65536"])
def test_a_bad_port_is_named(port: str) -> None:
    with pytest.raises(SettingsError, match="DATABASE_PORT"):
        load_settings({**PARTS, "DATABASE_PORT": port})

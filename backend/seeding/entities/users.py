"""Users: one row per user, the scenario's first (scripted.py), then the profile's generated ones.

Run-wide: creation times, name picks and activity, which later entities read. A scripted user's columns are
the scenario's where it gives them and generated (keyed by the user's index) where it leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backend.models import User
from backend.seeding.dataset import Batch, Dataset, batch_from_rows, format_timestamps
from backend.seeding.entities import one_row_per_item
from backend.seeding.keyed import FloatArray, IntArray, bijection, column_key
from backend.seeding.scenario import Generated
from backend.seeding.scripted import with_scripted_sizes
from backend.seeding.text import AVATAR_URL, EMAIL_DOMAINS, name_indexes, slug

USERS = User.__tablename__


@dataclass(frozen=True)
class UserArrays:
    """Per user index: what other entities need to know about the run's users."""

    created: IntArray  # microseconds since the epoch
    first_name: IntArray  # index into the pools' first names
    last_name: IntArray
    activity: FloatArray  # Pareto weights: how much each user writes
    n_scripted: int  # the first n_scripted users are the scenario's
    first_slugs: list[str]
    last_slugs: list[str]


def count(ds: Dataset) -> int:
    """Users in the run: the scenario's, then the profile's."""
    return ds.script.n_users + ds.options.users


def prepare(ds: Dataset) -> UserArrays:
    n = count(ds)
    k, idx = ds.k, np.arange(n, dtype=np.int64)
    created = ds.start + (k.uniform(USERS, "created_at", idx) * ds.window * 0.6).astype(np.int64)
    created[: ds.script.n_users] = ds.script.user_created
    # Distinct (first, family) pairs for distinct users, as far as the locale's name lists go.
    first, last = name_indexes(ds.options.seed, idx, len(ds.pools.first_names), len(ds.pools.last_names))
    return UserArrays(
        created=created,
        first_name=first,
        last_name=last,
        # Pareto-distributed activity: a few users write most of the messages.
        activity=(1.0 - k.uniform(USERS, "activity", idx)) ** (-1.0 / 1.16),
        n_scripted=ds.script.n_users,
        first_slugs=[slug(name) for name in ds.pools.first_names],
        last_slugs=[slug(name) for name in ds.pools.last_names],
    )


def arrays(ds: Dataset) -> UserArrays:
    """The run's user arrays (built by prepare)."""
    state: UserArrays = ds.state[ENTITY.name]
    return state


def first_id(ds: Dataset) -> int:
    """The id of user index 0 in this run's block."""
    return ds.id_starts[USERS]


def _scripted(ds: Dataset, u: int, column: str) -> object:
    """The scenario's value of a column for user index u, or Generated."""
    if u < arrays(ds).n_scripted:
        return ds.script.user_value(u, column)
    return Generated.VALUE


def display_name(ds: Dataset, u: int) -> str:
    """User index u's full name."""
    name = _scripted(ds, u, "name")
    if isinstance(name, str):
        return name
    users = arrays(ds)
    return ds.pools.full_name(users.first_name[u], users.last_name[u])


def first_name(ds: Dataset, u: int) -> str:
    """User index u's first name, as a mention would use it."""
    name = _scripted(ds, u, "name")
    if isinstance(name, str):
        return name.split()[0]
    return ds.pools.first_names[arrays(ds).first_name[u]]


def generate(ds: Dataset, lo: int, hi: int) -> list[Batch]:
    k, pools, users = ds.k, ds.pools, arrays(ds)
    idx = np.arange(lo, hi, dtype=np.int64)
    ids = first_id(ds) + idx
    # auth0 ids: 64 keyed bits, then a 62-bit permutation of the id, so distinct ids give distinct uuids.
    high = k.bits(USERS, "auth0_id", idx)
    low = bijection(ids, 62, column_key(ds.options.seed, USERS, "auth0_low")).astype(np.uint64)
    active = k.chance(USERS, "is_active", ds.options.active_share, idx).tolist()
    has_bio = k.chance(USERS, "has_bio", 0.85, idx).tolist()
    bio_pick = k.integers(USERS, "bio", 0, len(pools.bios), idx).tolist()
    domain = k.integers(USERS, "email_domain", 0, len(EMAIL_DOMAINS), idx).tolist()
    created = format_timestamps(users.created[lo:hi])
    rows = []
    for i, u in enumerate(range(lo, hi)):
        user_id = int(ids[i])
        h = int(high[i])
        hexid = f"{(h & ~(0xF << 12)) | (0x4 << 12):016x}{int(low[i]) | (0x2 << 62):016x}"
        auth0 = f"auth0|{hexid[:8]}-{hexid[8:12]}-{hexid[12:16]}-{hexid[16:20]}-{hexid[20:]}"
        fi, li = users.first_name[u], users.last_name[u]
        local = ".".join(part for part in (users.first_slugs[fi], users.last_slugs[li]) if part) or "user"
        generated = {
            "name": pools.full_name(fi, li),
            # The id makes a generated email unique; a scenario's emails are checked against the database.
            "email": f"{local}.{user_id}@{EMAIL_DOMAINS[domain[i]]}",
            "bio": pools.bios[bio_pick[i]] if has_bio[i] else None,
            "is_active": active[i],
            "picture": AVATAR_URL.format(hexid[:16]),
        }
        value = generated
        if u < users.n_scripted:  # a scenario's user: its given values win
            for column, default in generated.items():
                given = _scripted(ds, u, column)
                value[column] = default if given is Generated.VALUE else given
        rows.append(
            (
                user_id,
                auth0,
                value["email"],
                value["is_active"],
                created[i],
                value["name"],
                value["picture"],
                value["bio"],
            )
        )
    names = ("id", "auth0_id", "email", "is_active", "created_at", "name", "picture", "bio")
    return [batch_from_rows(USERS, names, rows)]


ENTITY = one_row_per_item(
    USERS, "user", count, lambda options: with_scripted_sizes(options).users, generate, prepare
)

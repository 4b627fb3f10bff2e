"""Users: one row per user. Run-wide: creation times, name picks and activity, which later entities read."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backend.models import User
from backend.seeding.dataset import Batch, Dataset, batch_from_rows, format_timestamps
from backend.seeding.demo import DEMO_EMAIL_DOMAIN, DEMO_USERS
from backend.seeding.entities import one_row_per_item
from backend.seeding.keyed import FloatArray, IntArray, bijection, column_key
from backend.seeding.text import AVATAR_URL, EMAIL_DOMAINS, name_indexes, slug

USERS = User.__tablename__


@dataclass(frozen=True)
class UserArrays:
    """Per user index: what other entities need to know about the run's users."""

    created: IntArray  # microseconds since the epoch
    first_name: IntArray  # index into the pools' first names
    last_name: IntArray
    activity: FloatArray  # Pareto weights: how much each user writes
    n_demo: int  # the first n_demo users are the demo accounts
    first_slugs: list[str]
    last_slugs: list[str]


def prepare(ds: Dataset) -> UserArrays:
    n = ds.options.users
    k, idx = ds.k, np.arange(n, dtype=np.int64)
    created = ds.start + (k.uniform(USERS, "created_at", idx) * ds.window * 0.6).astype(np.int64)
    # Distinct (first, family) pairs for distinct users, as far as the locale's name lists go.
    first, last = name_indexes(ds.options.seed, idx, len(ds.pools.first_names), len(ds.pools.last_names))
    return UserArrays(
        created=created,
        first_name=first,
        last_name=last,
        # Pareto-distributed activity: a few users write most of the messages.
        activity=(1.0 - k.uniform(USERS, "activity", idx)) ** (-1.0 / 1.16),
        n_demo=len(DEMO_USERS) if ds.options.demo_accounts else 0,
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


def display_name(ds: Dataset, u: int) -> str:
    """User index u's full name."""
    users = arrays(ds)
    if u < users.n_demo:
        return DEMO_USERS[u][0]
    return ds.pools.full_name(users.first_name[u], users.last_name[u])


def first_name(ds: Dataset, u: int) -> str:
    """User index u's first name, as a mention would use it."""
    users = arrays(ds)
    if u < users.n_demo:
        return DEMO_USERS[u][0].split()[0]
    return ds.pools.first_names[users.first_name[u]]


def generate(ds: Dataset, lo: int, hi: int) -> list[Batch]:
    k, pools, users = ds.k, ds.pools, arrays(ds)
    idx = np.arange(lo, hi, dtype=np.int64)
    ids = first_id(ds) + idx
    # auth0 ids: 64 keyed bits, then a 62-bit permutation of the id, so distinct ids give distinct uuids.
    high = k.bits(USERS, "auth0_id", idx)
    low = bijection(ids, 62, column_key(ds.options.seed, USERS, "auth0_low")).astype(np.uint64)
    # Demo accounts are meant to be logged into.
    active = (k.chance(USERS, "is_active", ds.options.active_share, idx) | (idx < users.n_demo)).tolist()
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
        if u < users.n_demo:
            name, local, bio = DEMO_USERS[u]
            email = f"{local}@{DEMO_EMAIL_DOMAIN}"
        else:
            fi, li = users.first_name[u], users.last_name[u]
            name = pools.full_name(fi, li)
            local = ".".join(part for part in (users.first_slugs[fi], users.last_slugs[li]) if part) or "user"
            email = f"{local}.{user_id}@{EMAIL_DOMAINS[domain[i]]}"
            bio = pools.bios[bio_pick[i]] if has_bio[i] else None
        picture = AVATAR_URL.format(hexid[:16])
        rows.append((user_id, auth0, email, active[i], created[i], name, picture, bio))
    names = ("id", "auth0_id", "email", "is_active", "created_at", "name", "picture", "bio")
    return [batch_from_rows(USERS, names, rows)]


ENTITY = one_row_per_item(USERS, "user", lambda options: options.users, generate, prepare)

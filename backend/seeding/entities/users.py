"""Users: one row per user, the scenario's first (scripted.py), then the profile's generated ones.

Run-wide: creation times, name picks and activity, which later entities read. A scripted user's columns are
the scenario's where it gives them and generated (keyed by the user's index) where it leaves them out.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from backend.models import User
from backend.seeding.dataset import Batch, Dataset, make_batch, timestamps
from backend.seeding.entities import one_row_per_item
from backend.seeding.keyed import FloatArray, IntArray, bijection, column_key
from backend.seeding.scenario import Generated
from backend.seeding.scripted import with_scripted_sizes
from backend.seeding.text import AVATAR_URL, EMAIL_DOMAINS, name_indexes, side_by_side, slug

USERS = User.__tablename__
AVATAR_PREFIX, AVATAR_SUFFIX = (part.encode() for part in AVATAR_URL.split("{}"))


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
    mention_names: list[str]  # per user index: the first name a mention or a vocative uses


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
    # Looked up for every mention: a list built once, before the workers fork, spares a call per message.
    mention_names = [ds.pools.first_names[f] for f in first.tolist()]
    for u in range(ds.script.n_users):
        name = ds.script.user_value(u, "name")
        if isinstance(name, str):
            mention_names[u] = name.split()[0]
    return UserArrays(
        created=created,
        first_name=first,
        last_name=last,
        # Pareto-distributed activity: a few users write most of the messages.
        activity=(1.0 - k.uniform(USERS, "activity", idx)) ** (-1.0 / 1.16),
        n_scripted=ds.script.n_users,
        first_slugs=[slug(name) for name in ds.pools.first_names],
        last_slugs=[slug(name) for name in ds.pools.last_names],
        mention_names=mention_names,
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


def generate(ds: Dataset, lo: int, hi: int) -> list[Batch]:
    k, pools, users = ds.k, ds.pools, arrays(ds)
    idx = np.arange(lo, hi, dtype=np.int64)
    ids = first_id(ds) + idx
    # auth0 ids: 64 keyed bits (with the UUID's version nibble), then a 62-bit permutation of the id with
    # the variant bits, so distinct ids give distinct uuids.
    high = (k.bits(USERS, "auth0_id", idx) & np.uint64(~(0xF << 12) & (2**64 - 1))) | np.uint64(0x4 << 12)
    low = bijection(ids, 62, column_key(ds.options.seed, USERS, "auth0_low")).astype(np.uint64)
    # The 32 hex digits of each user's (high, low) as an n x 32 byte block: auth0 ids and avatar seeds are
    # cut from it a column range at a time, not formatted per row.
    pair = np.empty((len(idx), 2), dtype=">u8")
    pair[:, 0], pair[:, 1] = high, low | np.uint64(2 << 62)
    hexes = np.frombuffer(pair.tobytes().hex().encode(), dtype=np.uint8).reshape(len(idx), 32)
    first, last = users.first_name[lo:hi].tolist(), users.last_name[lo:hi].tolist()
    # "first.last", or the one of them that is not empty, or "user".
    locals_ = [
        f"{a}.{b}" if a and b else a or b or "user"
        for a, b in zip(
            map(users.first_slugs.__getitem__, first), map(users.last_slugs.__getitem__, last), strict=True
        )
    ]
    domains = [
        EMAIL_DOMAINS[d] for d in k.integers(USERS, "email_domain", 0, len(EMAIL_DOMAINS), idx).tolist()
    ]
    bio_pick = k.integers(USERS, "bio", 0, len(pools.bios), idx).tolist()
    has_bio = k.chance(USERS, "has_bio", 0.85, idx).tolist()
    columns: dict[str, list[object]] = {
        # The id makes a generated email unique; a scenario's emails are checked against the database.
        "email": [f"{a}.{i}@{d}" for a, i, d in zip(locals_, ids.tolist(), domains, strict=True)],
        "is_active": k.chance(USERS, "is_active", ds.options.active_share, idx).tolist(),
        "name": pools.full_names(first, last),
        "picture": side_by_side(AVATAR_PREFIX, hexes[:, :16], AVATAR_SUFFIX),
        "bio": [pools.bios[b] if has else None for b, has in zip(bio_pick, has_bio, strict=True)],
    }
    for u in range(lo, min(hi, users.n_scripted)):  # a scenario's user: its given values win
        for column, values in columns.items():
            given = _scripted(ds, u, column)
            if given is not Generated.VALUE:
                values[u - lo] = given
    uuid = [hexes[:, a:b] for a, b in itertools.pairwise((0, 8, 12, 16, 20, 32))]  # 8-4-4-4-12 digits
    auth0 = side_by_side(b"auth0|", uuid[0], b"-", uuid[1], b"-", uuid[2], b"-", uuid[3], b"-", uuid[4])
    return [
        make_batch(
            USERS, {"id": ids, "auth0_id": auth0, "created_at": timestamps(users.created[lo:hi]), **columns}
        )
    ]


ENTITY = one_row_per_item(
    USERS, "user", count, lambda options: with_scripted_sizes(options).users, generate, prepare
)

"""The README's "Adding a table" example, as working code: the checklist's user_statuses.

In an application this would be three places: the model in backend/models.py, its migration, and this entity
in backend/seeding/entities/user_statuses.py (the registry finds every module there). Here `build()` makes
the model on Base.metadata only while a test wants it, so the product's own schema and migrations stay as
they are, and the test registers the entity itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Table, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backend.models import SQLITE_IDS_NEVER_REUSED, Base, Id
from backend.seeding.dataset import HOUR, Batch, Dataset, format_timestamps, make_batch
from backend.seeding.entities import Entity, users
from backend.seeding.keyed import IntArray, repeat_ranges
from backend.seeding.options import SeedOptions
from backend.seeding.text import EMOJI
from backend.seeding.verify import NOW, Invariant

USER_STATUSES = "user_statuses"
MAX_PER_USER = 3
STATUS_MAX_LENGTH = 140


@dataclass(frozen=True)
class Guide:
    """What `build()` made: the model's table and the entity that seeds it."""

    table: Table
    entity: Entity


@dataclass(frozen=True)
class StatusArrays:
    per_user: IntArray  # statuses of each user
    offset: IntArray  # each user's first status, relative to the run's block


def build() -> Guide:
    """Define the model (on Base.metadata, until the caller removes its table) and the entity."""

    class StatusBase(DeclarativeBase):
        metadata = Base.metadata  # the same metadata as every model: that is all the registry reads

    class UserStatus(StatusBase):
        __tablename__ = USER_STATUSES
        __table_args__ = (Index(None, "user_id"), SQLITE_IDS_NEVER_REUSED)

        id: Mapped[int] = mapped_column(Id, primary_key=True)
        user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
        status_text: Mapped[str] = mapped_column(String(STATUS_MAX_LENGTH))
        emoji: Mapped[str | None] = mapped_column(String(16))
        created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
        expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
        is_active: Mapped[bool] = mapped_column(Boolean)

    def prepare(ds: Dataset) -> StatusArrays:
        # Several statuses per user: 0..MAX_PER_USER, a keyed draw per user index.
        idx = np.arange(ds.options.users, dtype=np.int64)
        per_user = ds.k.integers(USER_STATUSES, "count", 0, MAX_PER_USER + 1, idx)
        return StatusArrays(per_user, np.cumsum(per_user) - per_user)

    def generate(ds: Dataset, lo: int, hi: int) -> list[Batch]:
        k, state = ds.k, ds.state[USER_STATUSES]
        user = np.repeat(np.arange(lo, hi, dtype=np.int64), state.per_user[lo:hi])
        nth = repeat_ranges(state.per_user[lo:hi])
        joined = users.arrays(ds).created[user]
        created = joined + (k.uniform(USER_STATUSES, "created_at", user, nth) * (ds.end - joined)).astype(
            np.int64
        )
        expires = created + (1 + k.integers(USER_STATUSES, "hours", 0, 72, user, nth)) * HOUR
        lasts = k.chance(USER_STATUSES, "expires", 0.7, user, nth)
        text = k.integers(USER_STATUSES, "text", 0, len(ds.pools.sentences), user, nth).tolist()
        emoji = k.integers(USER_STATUSES, "emoji", 0, len(EMOJI), user, nth).tolist()
        return [
            make_batch(
                USER_STATUSES,
                {
                    "id": (ds.id_starts[USER_STATUSES] + state.offset[user] + nth).tolist(),
                    "user_id": (users.first_id(ds) + user).tolist(),
                    "status_text": [ds.pools.sentences[i][:STATUS_MAX_LENGTH] for i in text],
                    "emoji": [EMOJI[i] for i in emoji],
                    "created_at": format_timestamps(created),
                    "expires_at": [
                        t if keep else None
                        for t, keep in zip(format_timestamps(expires), lasts.tolist(), strict=True)
                    ],
                    "is_active": (~lasts | (expires > ds.end)).tolist(),
                },
            )
        ]

    def estimate(options: SeedOptions) -> dict[str, int]:
        return {USER_STATUSES: options.users * MAX_PER_USER // 2}

    status = UserStatus
    entity = Entity(
        name=USER_STATUSES,
        tables=(USER_STATUSES,),
        partition="user",
        items=lambda ds: ds.options.users,
        rows_per_item=lambda ds: {USER_STATUSES: ds.state[USER_STATUSES].per_user},
        generate=generate,
        estimate=estimate,
        prepare=prepare,
        invariants=(
            Invariant(
                "user_status_expires_after_created",
                "every status that expires does so after it was set",
                select(status.id).where(status.expires_at <= status.created_at),
            ),
            Invariant(
                "user_statuses_not_in_future",
                "no status is set later than now",
                select(status.id).where(status.created_at > NOW),
            ),
        ),
    )
    return Guide(UserStatus.__table__, entity)  # type: ignore[arg-type]

"""The hourly count of requests turned away for too many refusals: one upsert each, one sum to read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from photomaker.store.models import TurnedAway, utcnow
from photomaker.store.rollup_schema import epoch_hour
from photomaker.store.rollups import dialect


def count(session: Session, *, now: datetime | None = None) -> None:
    """One more request turned away, in the current hour."""
    table = TurnedAway.__table__  # type: ignore[attr-defined]
    statement = dialect(session).insert(table).values(epoch_hour=epoch_hour(now or utcnow()), requests=1)
    session.execute(
        statement.on_conflict_do_update(index_elements=["epoch_hour"], set_={"requests": table.c.requests + 1})
    )


def total(session: Session, *, since_hour: int | None) -> int:
    """The requests turned away from the start of `since_hour` (all of them when None)."""
    query = select(func.coalesce(func.sum(TurnedAway.requests), 0))
    if since_hour is not None:
        query = query.where(col(TurnedAway.epoch_hour) >= since_hour)
    return int(session.exec(query).one())

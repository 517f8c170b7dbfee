"""Rollups recounted from the generation rows: when they cannot be read as they are, and the rebuild."""

from __future__ import annotations

import logging

from sqlalchemy import delete, inspect, select, text
from sqlmodel import Session

from photomaker.store.db import Database
from photomaker.store.models import FINAL_STATUSES, generation_table
from photomaker.store.rollup_schema import LAYOUT, LAYOUT_KEY, SOURCE_FIELDS, meta_table, rollup_table
from photomaker.store.rollups import add_many, dialect

log = logging.getLogger(__name__)


def _lock_for_rebuild(session: Session) -> None:
    """On PostgreSQL, make concurrent finishes wait for the rebuild and then add themselves.

    SQLite needs nothing: every write transaction there starts with the database's write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"LOCK TABLE {rollup_table.name} IN EXCLUSIVE MODE"))


def _drop_retired_columns(session: Session) -> None:
    """Drop the columns of layouts gone by (older latency buckets) from an existing table.

    Nothing reads them, and in a database made before rollup columns had a server default they are
    NOT NULL without a default, so every insert that leaves them out would be refused.
    """
    present = {column["name"] for column in inspect(session.connection()).get_columns(rollup_table.name)}
    quote = session.get_bind().dialect.identifier_preparer.quote
    for name in sorted(present - set(rollup_table.c.keys())):
        session.execute(text(f"ALTER TABLE {rollup_table.name} DROP COLUMN {quote(name)}"))


def _record_layout(session: Session) -> None:
    statement = dialect(session).insert(meta_table).values(key=LAYOUT_KEY, value=LAYOUT)
    session.execute(statement.on_conflict_do_update(index_elements=["key"], set_={"value": LAYOUT}))


def rebuild(session: Session) -> int:
    """Recompute every rollup from the generation rows, in the current `LAYOUT`, and record that layout;
    returns how many rows were counted."""
    _lock_for_rebuild(session)
    _drop_retired_columns(session)
    session.execute(delete(rollup_table))
    source = (
        select(*(generation_table.c[name] for name in SOURCE_FIELDS))
        .where(generation_table.c.status.in_(FINAL_STATUSES))
        .execution_options(yield_per=20_000)
    )
    counted = add_many(session, session.execute(source).mappings())
    _record_layout(session)
    return counted


def missing(session: Session) -> bool:
    """True when finished generations exist but no rollups do: a database from before rollups."""
    if session.execute(select(rollup_table.c.id).limit(1)).first() is not None:
        return False
    finished = select(generation_table.c.id).where(generation_table.c.status.in_(FINAL_STATUSES))
    return session.execute(finished.limit(1)).first() is not None


def stale(session: Session) -> str | None:
    """Why the rollups cannot be read as they are (counted with another layout or none recorded, or missing),
    or None when they can: a few small reads, so that a start with current rollups stays cheap."""
    recorded = session.execute(select(meta_table.c.value).where(meta_table.c.key == LAYOUT_KEY)).scalar()
    if recorded is None:
        return "no layout recorded"
    if recorded != LAYOUT:
        return f"counted with layout {recorded}, not {LAYOUT}"
    return "missing" if missing(session) else None


def rebuild_now(database: Database) -> int:
    """Recompute the rollups in a transaction of their own (`python -m photomaker metrics rebuild`); returns how
    many generations were counted."""
    with database.session() as session:
        return rebuild(session)


def rebuild_if_stale(database: Database) -> None:
    """Rebuild rollups that cannot be read as they are: counted with other buckets or columns (or before
    layouts were recorded), or missing beside existing generations. Current rollups cost a few small reads."""
    with database.reading() as session:  # every start asks: no write lock for that on SQLite
        if stale(session) is None:
            return
    with database.session() as session:
        # Asked again under the write lock: another process starting at the same time may have rebuilt them.
        why = stale(session)
        if why is None:
            return
        counted = rebuild(session)
    if counted:
        log.warning("rebuilt the monitoring rollups from %d existing generations (%s)", counted, why)

"""Synthetic generations for demos and benchmarks: inserted in bulk, told apart and deleted by engine name.

They go in as finished rows with their rollups, through the same `rollups.add_many` that
the rebuild uses, so a database full of demo history has the rollups a rebuild would give.
They belong to their own user and move no credits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert
from sqlmodel import Session, col

from photomaker.store import rollups, users
from photomaker.store.models import FINAL_STATUSES, SYNTHETIC_ENGINE, Generation, generation_table

DEMO_USER = "demo-history"


def demo_user_id(session: Session) -> int:
    """The account synthetic generations belong to (it has no credits)."""
    user = users.get_or_create_user(session, DEMO_USER, starting_credits=0)
    if user.id is None:
        raise RuntimeError(f"the {DEMO_USER} account has no id")
    return user.id


def insert_finished(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert finished generations (Generation columns) as synthetic rows, and count them in the rollups."""
    if any(row["status"] not in FINAL_STATUSES for row in rows):
        raise ValueError("synthetic generations must be finished (completed, failed or rejected)")
    marked = [{**row, "engine": SYNTHETIC_ENGINE} for row in rows]
    session.execute(insert(generation_table), marked)
    return rollups.add_many(session, marked)


def delete_all(session: Session) -> int:
    """Delete every synthetic generation and its rollups; returns how many rows went."""
    deleted = session.exec(delete(Generation).where(col(Generation.engine) == SYNTHETIC_ENGINE)).rowcount
    rollups.delete_engine(session, SYNTHETIC_ENGINE)
    return deleted

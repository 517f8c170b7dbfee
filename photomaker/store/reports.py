"""Raw generation rows for operators: the latest few for the dashboard table, all of a window for CSV.

Prompts and usernames are left out: the Monitoring tab is about how generation goes, not
about what people asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import Session, col

from photomaker.store import rollup_queries, rollup_schema
from photomaker.store.models import Generation, generation_table
from photomaker.store.rollup_queries import Scope
from photomaker.store.rollup_schema import hour_start

COLUMNS: tuple[str, ...] = (
    "id",
    "created_at",
    "completed_at",
    "model_key",
    "mode",
    "engine",
    "status",
    "error_code",
    "processing_ms",
    "credits_charged",
    "attempts",
    "photo_count",
    "rating",
    "preview",
    *rollup_schema.GATING_COLUMNS,
    "likeness",
)
"""`likeness` is the row's list of its images' likeness scores (None where no face was found), or None; before it,
the likeness check's tally (`rollup_schema.GATING_COLUMNS`), None on rows without one."""


def _rows(scope: Scope) -> Select:
    table = generation_table.c
    statement = select(*(table[name] for name in COLUMNS)).where(*scope.filters(table))
    if scope.since_hour is not None:
        statement = statement.where(table.created_at >= hour_start(scope.since_hour))
    return statement


def recent(session: Session, scope: Scope, *, limit: int = 25, now: datetime) -> list[dict[str, Any]]:
    """The newest generations in scope, including any still processing.

    The rollups say from which hour on the scope holds `limit` finished rows, so the read
    along the `created_at` index starts there (or at the last hour, for work in progress)
    and its cost does not grow with the history, even when the scope's rows are rare.
    """
    start = rollup_queries.latest_hours(session, scope, generations=limit)
    if start is None:
        start = rollup_schema.epoch_hour(now) - 1
    bounded = replace(scope, since_hour=start if scope.since_hour is None else max(start, scope.since_hour))
    statement = _rows(bounded).order_by(col(Generation.created_at).desc(), col(Generation.id).desc()).limit(limit)
    return [dict(row) for row in session.execute(statement).mappings()]


def stream(session: Session, scope: Scope, *, chunk: int = 20_000) -> Iterator[list[dict[str, Any]]]:
    """Every generation in scope, oldest first, in chunks (for a CSV of a whole window)."""
    statement = _rows(scope).order_by(col(Generation.created_at), col(Generation.id))
    for part in session.execute(statement.execution_options(yield_per=chunk)).mappings().partitions():
        yield [dict(row) for row in part]

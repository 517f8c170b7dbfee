"""Hourly rollups of finished generations: what the dashboard, the API and Prometheus read.

One row per (hour, model key, mode, status, engine, error code) holds sums: generations,
credits charged, latency count and sum, one column per latency bucket and one per star
rating, and the likeness of the avatars: how many were scored, how many look like the person,
the sum of their scores, one column per likeness bucket, and how many had no face to score.
A generation is added in the transaction that gives it its final status, and a rating moves
it between star columns in the transaction that records the rating, so the rollups never
disagree with the rows. Updates are `INSERT ... ON CONFLICT DO UPDATE` with increments, which
is atomic on SQLite and PostgreSQL alike.

Everything is read from the generation row, likeness included (its `likeness` list, one entry
per image), and generation rows are kept for ever: retention and a user's deletion remove
avatar rows only, so a rebuild gives exactly the rollups that were counted as the rows
finished. Rows without a likeness list (Text to Image, failures, refusals, and Photo to Avatar
generations made before likeness was measured) add no likeness figures at all.

The hour is an integer (hours since the Unix epoch, UTC, of the generation's `created_at`)
so that grouping by day or by six hours is plain integer arithmetic on both databases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    cast,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel

from photomaker.likeness import Likeness
from photomaker.monitoring import histogram
from photomaker.store.models import FINAL_STATUSES, SYNTHETIC_ENGINE, Generation, generation_table

KEY: tuple[str, ...] = ("epoch_hour", "model_key", "mode", "status", "engine", "error_code")
STARS = (1, 2, 3, 4, 5)
RATING_COLUMNS: tuple[str, ...] = tuple(f"rating_{stars}" for stars in STARS)
LIKENESS_COLUMNS: tuple[str, ...] = (
    "likeness_scored",
    "likeness_ok",
    "likeness_sum_milli",
    "likeness_no_face",
    *histogram.LIKENESS.columns,
)
"""Avatars with a likeness score, those that look like the person (`Likeness.ok`), the sum of their
scores in thousandths (scores are stored to three decimals, so the sum is an exact integer), the
avatars in which no face could be found, and the likeness histogram."""
SUM_COLUMNS: tuple[str, ...] = (
    "generations",
    "credits",
    "latency_count",
    "latency_sum_ms",
    *RATING_COLUMNS,
    *histogram.LATENCY.columns,
    *LIKENESS_COLUMNS,
)
SOURCE_FIELDS: tuple[str, ...] = (
    "created_at",
    "model_key",
    "mode",
    "status",
    "engine",
    "error_code",
    "processing_ms",
    "credits_charged",
    "rating",
    "likeness",
)
"""The Generation columns a rollup is made of."""

rollup_table = Table(
    "generation_rollups",
    SQLModel.metadata,
    Column("id", Integer, primary_key=True),
    Column("epoch_hour", Integer, nullable=False),
    Column("model_key", String(120), nullable=False),
    Column("mode", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    Column("engine", String(40), nullable=False),
    Column("error_code", String(40), nullable=False),
    # A server default too, so that a column added since a database was made starts at 0 there.
    *(Column(name, BigInteger, nullable=False, default=0, server_default="0") for name in SUM_COLUMNS),
    UniqueConstraint(*KEY, name="uq_generation_rollups_key"),
    Index(
        "ix_generation_rollups_counts",
        "status",
        "model_key",
        "mode",
        "error_code",
        "engine",
        "epoch_hour",
        "generations",
        "credits",
    ),
)
"""The index covers the counts the dashboard groups over every row of a window, so SQLite
reads it in order instead of sorting the table: 5 ms rather than 25 ms for a month of rows."""


def epoch_hour(moment: datetime) -> int:
    """Hours since the Unix epoch (UTC) at `moment`; naive times are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() // 3600)


def hour_start(hour: int) -> datetime:
    """The UTC time at which an epoch hour starts."""
    return datetime.fromtimestamp(hour * 3600, UTC)


def contribution(row: Mapping[str, Any] | RowMapping) -> tuple[tuple[Any, ...], dict[str, int]]:
    """A finished generation's rollup key and the sums it adds (`row` holds `SOURCE_FIELDS`)."""
    key = (
        epoch_hour(row["created_at"]),
        row["model_key"],
        row["mode"],
        row["status"],
        row["engine"],
        row["error_code"] or "",
    )
    sums = {"generations": 1, "credits": row["credits_charged"] or 0}
    if row["processing_ms"] is not None:
        sums["latency_count"] = 1
        sums["latency_sum_ms"] = row["processing_ms"]
        sums[histogram.LATENCY.columns[histogram.LATENCY.bucket_of(row["processing_ms"] / 1000)]] = 1
    if row["rating"] is not None:
        sums[f"rating_{row['rating']}"] = 1
    if row["likeness"] is not None:
        sums.update(_likeness_sums(row["likeness"]))
    return key, sums


def _likeness_sums(scores: Sequence[float | None]) -> dict[str, int]:
    """The likeness sums of a generation's images: each score, or (None) an image with no face found."""
    scored = [score for score in scores if score is not None]
    sums = {
        "likeness_scored": len(scored),
        "likeness_ok": sum(Likeness(score).ok for score in scored),
        "likeness_sum_milli": sum(round(score * 1000) for score in scored),
        "likeness_no_face": len(scores) - len(scored),
    }
    for score in scored:
        column = histogram.LIKENESS.columns[histogram.LIKENESS.bucket_of(score)]
        sums[column] = sums.get(column, 0) + 1
    return sums


def _upsert_statement(session: Session):
    """`INSERT ... ON CONFLICT (key) DO UPDATE SET column = column + excluded.column`, in the session's dialect."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(rollup_table)
    return statement.on_conflict_do_update(
        index_elements=list(KEY),
        set_={name: rollup_table.c[name] + statement.excluded[name] for name in SUM_COLUMNS},
    )


def _upsert(session: Session, deltas: Mapping[tuple[Any, ...], Mapping[str, int]]) -> None:
    """Add each key's sums to its row, creating missing rows.

    One statement executed for many rows; keys in order, so no two concurrent PostgreSQL
    transactions lock the same rows in opposite orders.
    """
    if not deltas:
        return
    rows = [
        {**dict(zip(KEY, key, strict=True)), **{name: deltas[key].get(name, 0) for name in SUM_COLUMNS}}
        for key in sorted(deltas)
    ]
    session.execute(_upsert_statement(session), rows)


def _fields(generation: Generation) -> dict[str, Any]:
    return {name: getattr(generation, name) for name in SOURCE_FIELDS}


def add_many(session: Session, rows: Iterable[Mapping[str, Any] | RowMapping]) -> int:
    """Add finished generations (mappings of `SOURCE_FIELDS`) in bulk, in one statement; returns how many."""
    deltas: dict[tuple[Any, ...], dict[str, int]] = {}
    added = 0
    for row in rows:
        key, sums = contribution(row)
        bucket = deltas.setdefault(key, {})
        for name, value in sums.items():
            bucket[name] = bucket.get(name, 0) + value
        added += 1
    _upsert(session, deltas)
    return added


def add(session: Session, generation: Generation) -> None:
    """Count a generation that has just reached its final status."""
    add_many(session, [_fields(generation)])


def change_rating(session: Session, generation: Generation, *, previous: int | None) -> None:
    """Move a generation from its previous star column (if any) to its current one."""
    key, _ = contribution(_fields(generation))
    sums = {f"rating_{generation.rating}": 1}
    if previous is not None:
        sums[f"rating_{previous}"] = sums.get(f"rating_{previous}", 0) - 1
    _upsert(session, {key: sums})


def _lock_for_rebuild(session: Session) -> None:
    """On PostgreSQL, make concurrent finishes wait for the rebuild and then add themselves.

    SQLite needs nothing: every write transaction there starts with the database's write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"LOCK TABLE {rollup_table.name} IN EXCLUSIVE MODE"))


def rebuild(session: Session) -> int:
    """Recompute every rollup from the generation rows; returns how many rows were counted."""
    _lock_for_rebuild(session)
    session.execute(delete(rollup_table))
    source = (
        select(*(generation_table.c[name] for name in SOURCE_FIELDS))
        .where(generation_table.c.status.in_(FINAL_STATUSES))
        .execution_options(yield_per=20_000)
    )
    return add_many(session, session.execute(source).mappings())


def delete_engine(session: Session, engine: str) -> None:
    """Drop the rollups of one engine's generations (used when those rows are deleted)."""
    session.execute(delete(rollup_table).where(rollup_table.c.engine == engine))


def missing(session: Session) -> bool:
    """True when finished generations exist but no rollups do: a database from before rollups."""
    if session.execute(select(rollup_table.c.id).limit(1)).first() is not None:
        return False
    finished = select(generation_table.c.id).where(generation_table.c.status.in_(FINAL_STATUSES))
    return session.execute(finished.limit(1)).first() is not None


@dataclass(frozen=True)
class Scope:
    """Which rollups a figure reads: a start hour, some model keys, some statuses, demo rows or not."""

    since_hour: int | None = None
    model_keys: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    include_synthetic: bool = True

    def filters(self, columns: ReadOnlyColumnCollection) -> list[ColumnElement[bool]]:
        """WHERE terms on model key, status and demo rows, for any table with those columns.

        The start of the window is left to the caller: its column differs from table to table.
        """
        terms = []
        if self.model_keys is not None:
            terms.append(columns.model_key.in_(self.model_keys))
        if self.statuses is not None:
            terms.append(columns.status.in_(self.statuses))
        if not self.include_synthetic:
            terms.append(columns.engine != SYNTHETIC_ENGINE)
        return terms


def aggregate(
    session: Session,
    scope: Scope,
    *,
    by: Sequence[str],
    sums: Sequence[str],
    period_hours: int | None = None,
) -> list[dict[str, Any]]:
    """Sums of `sums` per distinct value of the `by` columns over the rollups in `scope`.

    With `period_hours`, `by` may name `period`: the first epoch hour of each period.
    """
    table = rollup_table.c
    groups: list[ColumnElement[Any]] = []
    for name in by:
        if name == "period":
            if not period_hours:
                raise ValueError("grouping by period needs period_hours")
            groups.append((table.epoch_hour - table.epoch_hour % period_hours).label("period"))
        else:
            groups.append(table[name])
    totals = [cast(func.coalesce(func.sum(table[name]), 0), BigInteger).label(name) for name in sums]
    statement = select(*groups, *totals).where(*scope.filters(table)).group_by(*groups)
    if scope.since_hour is not None:
        statement = statement.where(table.epoch_hour >= scope.since_hour)
    return [dict(row) for row in session.execute(statement).mappings()]


def latest_hours(session: Session, scope: Scope, *, generations: int) -> int | None:
    """The latest epoch hour such that the hours from it on hold `generations` finished rows in
    `scope` (or all of them, when there are fewer); None when `scope` holds none.

    Reading the rollups newest first bounds how far back a raw query for the latest rows must
    look, however rare the rows that `scope` selects are among all rows.
    """
    table = rollup_table.c
    statement = (
        select(table.epoch_hour, func.sum(table.generations))
        .where(*scope.filters(table))
        .group_by(table.epoch_hour)
        .order_by(table.epoch_hour.desc())
    )
    if scope.since_hour is not None:
        statement = statement.where(table.epoch_hour >= scope.since_hour)
    seen, start = 0, None
    for hour, count in session.execute(statement):
        seen, start = seen + count, hour
        if seen >= generations:
            break
    return start

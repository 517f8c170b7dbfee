"""Hourly rollups of finished generations: what the dashboard, the API and Prometheus read.

One row per (hour, model key, mode, status, engine, error code) holds sums: generations,
credits charged, latency count and sum, one column per latency bucket and one per star
rating, and the likeness of the avatars: how many were scored, how many look like the person,
the sum of their scores, one column per likeness bucket, and how many had no face to score.
It also keeps the fastest and slowest processing time, so that percentiles read from the
histogram never fall outside the times seen. A generation is added in the transaction that
gives it its final status, and a rating moves it between star columns in the transaction that
records the rating, so the rollups never disagree with the rows. Updates are `INSERT ... ON
CONFLICT DO UPDATE` with increments (and min and max for the extremes), which is atomic on
SQLite and PostgreSQL alike.

Every rebuild records the layout it counted with (`LAYOUT`: the columns and the histograms'
bounds); rollups counted with another layout, or with none recorded, are rebuilt on start.

Everything is read from the generation row, likeness included (its `likeness` list, one entry
per image), and generation rows are kept for ever: retention and a user's deletion remove
avatar rows only, so a rebuild gives exactly the rollups that were counted as the rows
finished. Rows without a likeness list (Text to Image, failures, refusals, and Photo to Avatar
generations made before likeness was measured) add no likeness figures at all.

The hour is an integer (hours since the Unix epoch, UTC, of the generation's `created_at`)
so that grouping by day or by six hours is plain integer arithmetic on both databases.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    case,
    cast,
    delete,
    func,
    inspect,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel

from photomaker.faces.likeness import Likeness
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


@dataclass(frozen=True)
class Extreme:
    """How a column that keeps one value rather than a sum takes in another, in Python and in SQL."""

    keep: Callable[..., Any]
    """`min` or `max`."""
    beats: Callable[[Any, Any], Any]
    """The comparison by which a new value replaces the one kept (`operator.lt` for the smallest)."""
    total: Any
    """The SQL aggregate over many rows (`func.min` for the smallest)."""


FASTEST_MS, SLOWEST_MS = "latency_min_ms", "latency_max_ms"
EXTREMES: dict[str, Extreme] = {
    FASTEST_MS: Extreme(keep=min, beats=operator.lt, total=func.min),
    SLOWEST_MS: Extreme(keep=max, beats=operator.gt, total=func.max),
}
"""The fastest and slowest processing time: kept, never added, and NULL while a row has no time (refusals)."""
COLUMNS: tuple[str, ...] = (*SUM_COLUMNS, *EXTREMES)
"""Every figure of a rollup row."""
EMPTY: dict[str, int | None] = {name: None if name in EXTREMES else 0 for name in COLUMNS}
"""The figures of no generations at all."""
_SHAPE = (COLUMNS, histogram.LATENCY.bounds, histogram.LIKENESS.bounds)
LAYOUT: str = hashlib.sha256(repr(_SHAPE).encode()).hexdigest()[:16]
"""A fingerprint of what a rollup row holds and which buckets it counts into, recorded by every rebuild."""

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
    *(Column(name, BigInteger, nullable=True) for name in EXTREMES),
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

meta_table = Table(
    "rollup_meta",
    SQLModel.metadata,
    Column("key", String(40), primary_key=True),
    Column("value", String(200), nullable=False),
)
"""Facts about the rollups themselves, by key: `layout`, the `LAYOUT` they were last rebuilt with."""
LAYOUT_KEY = "layout"


def epoch_hour(moment: datetime) -> int:
    """Hours since the Unix epoch (UTC) at `moment`; naive times are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() // 3600)


def hour_start(hour: int) -> datetime:
    """The UTC time at which an epoch hour starts."""
    return datetime.fromtimestamp(hour * 3600, UTC)


def contribution(row: Mapping[str, Any] | RowMapping) -> tuple[tuple[Any, ...], dict[str, int]]:
    """A finished generation's rollup key and the figures it adds (`row` holds `SOURCE_FIELDS`)."""
    key = (
        epoch_hour(row["created_at"]),
        row["model_key"],
        row["mode"],
        row["status"],
        row["engine"],
        row["error_code"] or "",
    )
    sums = {"generations": 1, "credits": row["credits_charged"] or 0}
    if (processing_ms := row["processing_ms"]) is not None:
        sums["latency_count"] = 1
        sums["latency_sum_ms"] = sums[FASTEST_MS] = sums[SLOWEST_MS] = processing_ms
        sums[histogram.LATENCY.columns[histogram.LATENCY.bucket_of(processing_ms / 1000)]] = 1
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


def totals(rows: Iterable[Mapping[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    """The named figures over `rows` (rollup rows, or aggregates of them): sums added, extremes kept (None: no
    value in any row)."""
    rows = list(rows)
    found: dict[str, Any] = {}
    for name in names:
        extreme = EXTREMES.get(name)
        if extreme is None:
            found[name] = sum(row[name] for row in rows)
        else:
            found[name] = extreme.keep((row[name] for row in rows if row[name] is not None), default=None)
    return found


def dialect(session: Session):
    """The session's SQL dialect module (`sqlite` or `postgresql`), for its `insert ... on conflict`."""
    return postgresql if session.get_bind().dialect.name == "postgresql" else sqlite


def _merged(name: str, kept: ColumnElement[Any], value: ColumnElement[Any]) -> ColumnElement[Any]:
    """A row's figure and a new one as one, in SQL portable to SQLite and PostgreSQL: sums added, extremes
    replaced by a new value that beats them (a comparison with NULL is never true)."""
    extreme = EXTREMES.get(name)
    if extreme is None:
        return kept + value
    return case((or_(kept.is_(None), extreme.beats(value, kept)), value), else_=kept)


def _upsert_statement(session: Session):
    """`INSERT ... ON CONFLICT (key) DO UPDATE SET column = column + excluded.column` (extremes: the smaller or
    larger), in the session's dialect."""
    statement = dialect(session).insert(rollup_table)
    return statement.on_conflict_do_update(
        index_elements=list(KEY),
        set_={name: _merged(name, rollup_table.c[name], statement.excluded[name]) for name in COLUMNS},
    )


def _upsert(session: Session, deltas: Mapping[tuple[Any, ...], Mapping[str, int]]) -> None:
    """Add each key's figures to its row, creating missing rows.

    One statement executed for many rows; keys in order, so no two concurrent PostgreSQL
    transactions lock the same rows in opposite orders.
    """
    if not deltas:
        return
    rows = [{**dict(zip(KEY, key, strict=True)), **EMPTY, **deltas[key]} for key in sorted(deltas)]
    session.execute(_upsert_statement(session), rows)


def _fields(generation: Generation) -> dict[str, Any]:
    return {name: getattr(generation, name) for name in SOURCE_FIELDS}


def add_many(session: Session, rows: Iterable[Mapping[str, Any] | RowMapping]) -> int:
    """Add finished generations (mappings of `SOURCE_FIELDS`) in bulk, in one statement; returns how many."""
    deltas: dict[tuple[Any, ...], dict[str, Any]] = {}
    added = 0
    for row in rows:
        key, sums = contribution(row)
        bucket = deltas.setdefault(key, {})
        for name, value in sums.items():
            if name in EXTREMES:
                bucket[name] = EXTREMES[name].keep(bucket.get(name, value), value)
            else:
                bucket[name] = bucket.get(name, 0) + value
        added += 1
    _upsert(session, deltas)
    return added


def add(session: Session, generation: Generation) -> None:
    """Count a generation that has just reached its final status."""
    add_many(session, [_fields(generation)])


def change_rating(session: Session, generation: Generation, *, previous: int | None) -> None:
    """Move a generation from its previous star column (if any) to its current one; no other figure moves."""
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


def delete_engine(session: Session, engine: str) -> None:
    """Drop the rollups of one engine's generations (used when those rows are deleted)."""
    session.execute(delete(rollup_table).where(rollup_table.c.engine == engine))


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
    """Totals of the `sums` columns per distinct value of the `by` columns over the rollups in `scope`:
    sums (0 when none), and for the extremes the smallest or largest (None when none).

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
    statement = select(*groups, *(_total(name).label(name) for name in sums))
    statement = statement.where(*scope.filters(table)).group_by(*groups)
    if scope.since_hour is not None:
        statement = statement.where(table.epoch_hour >= scope.since_hour)
    return [dict(row) for row in session.execute(statement).mappings()]


def _total(name: str) -> ColumnElement[Any]:
    """A column's total over grouped rows in SQL: its sum, or for an extreme the smallest or largest."""
    column = rollup_table.c[name]
    extreme = EXTREMES.get(name)
    if extreme is None:
        return cast(func.coalesce(func.sum(column), 0), BigInteger)
    return extreme.total(column)


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

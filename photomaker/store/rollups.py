"""Rolling up finished generations into the hourly rollups, as they finish: what the dashboard, the API and
Prometheus read (the table is `rollup_schema`'s).

A generation is added in the transaction that gives it its final status, and a rating moves it
between star columns in the transaction that records the rating, so the rollups never disagree
with the rows. Updates are `INSERT ... ON CONFLICT DO UPDATE` with increments (and min and max for
the extremes), which is atomic on SQLite and PostgreSQL alike.

Everything is read from the generation row, likeness included (its `likeness` list, one entry
per image), and generation rows are kept for ever: retention and a user's deletion remove
avatar rows only, so a rebuild (`rollup_rebuild`) gives exactly the rollups that were counted as
the rows finished. Rows without a likeness list (Text to Image, failures, refusals, and Photo to
Avatar generations made before likeness was measured) add no likeness figures at all. Likewise only the rows
`tallied` add to the likeness check's tally.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import case, delete, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from photomaker.faces.likeness import Likeness
from photomaker.monitoring import histogram
from photomaker.store.models import Generation
from photomaker.store.rollup_schema import (
    COLUMNS,
    EMPTY,
    EXTREMES,
    FASTEST_MS,
    GATING_COLUMNS,
    KEY,
    SLOWEST_MS,
    SOURCE_FIELDS,
    TALLIED_STATUSES,
    epoch_hour,
    rollup_table,
)


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
    # What the user paid: a completed generation gives back what it did not keep (a failed one is not counted).
    sums = {"generations": 1, "credits": (row["credits_charged"] or 0) - (row.get("credits_refunded") or 0)}
    if (processing_ms := row["processing_ms"]) is not None:
        sums["latency_count"] = 1
        sums["latency_sum_ms"] = sums[FASTEST_MS] = sums[SLOWEST_MS] = processing_ms
        sums[histogram.LATENCY.columns[histogram.LATENCY.bucket_of(processing_ms / 1000)]] = 1
    if row["rating"] is not None:
        sums[f"rating_{row['rating']}"] = 1
    if row["likeness"] is not None:
        sums.update(_likeness_sums(row["likeness"]))
    if tallied(row):
        sums.update({name: row[name] for name in GATING_COLUMNS})
    return key, sums


def tallied(row: Mapping[str, Any] | RowMapping) -> bool:
    """Whether a finished generation adds its images asked, kept, made and alike at the first try to the rollups:
    a Photo to Avatar generation, completed or failed, with all four counts on its row.

    Refusals (nothing asked), Text to Image (no likeness to check), rows made before packs (no counts) and rows
    the app stopped before their making was tallied (settled by recovery or abandoned: no images made on record)
    add nothing, so every figure made of these sums reads the same rows.
    """
    return (
        row["mode"] == "photo"
        and row["status"] in TALLIED_STATUSES
        and all(row[name] is not None for name in GATING_COLUMNS)
    )


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


def delete_engine(session: Session, engine: str) -> None:
    """Drop the rollups of one engine's generations (used when those rows are deleted)."""
    session.execute(delete(rollup_table).where(rollup_table.c.engine == engine))

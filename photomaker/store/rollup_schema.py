"""The hourly rollup table's schema: what one row holds, the layout it was counted with, and its hour.

One row per (hour, model key, mode, status, engine, error code) holds sums: generations,
credits charged, latency count and sum, one column per latency bucket and one per star
rating, and the likeness of the avatars: how many were scored, how many look like the person,
the sum of their scores, one column per likeness bucket, and how many had no face to score;
and the likeness check's tally of Photo to Avatar images: asked for, kept, made, alike at the first try.
It also keeps the fastest and slowest processing time, so that percentiles read from the
histogram never fall outside the times seen.

Every rebuild records the layout it counted with (`LAYOUT`: the columns and the histograms'
bounds); rollups counted with another layout, or with none recorded, are rebuilt on start.

The hour is an integer (hours since the Unix epoch, UTC, of the generation's `created_at`)
so that grouping by day or by six hours is plain integer arithmetic on both databases.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, UniqueConstraint, func
from sqlmodel import SQLModel

from photomaker.monitoring import histogram

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
GATING_COLUMNS: tuple[str, ...] = ("images_asked", "images_kept", "candidates", "alike_first_try")
"""The likeness check's tally, summed from the generation columns of the same names: images asked for, kept
(paid for), made by the engine (second tries included) and alike at their first try. Only Photo to Avatar
generations that ended with a tally add to them (`rollups.tallied`)."""
TALLIED_STATUSES: tuple[str, ...] = ("completed", "failed")
"""The final statuses of generations that may carry a tally: a generation that kept no image fails (NOT_ALIKE,
CANCELLED or the engine's code) with its tally all the same; a refusal asks for nothing."""
SUM_COLUMNS: tuple[str, ...] = (
    "generations",
    "credits",
    "latency_count",
    "latency_sum_ms",
    *RATING_COLUMNS,
    *histogram.LATENCY.columns,
    *LIKENESS_COLUMNS,
    *GATING_COLUMNS,
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
    "credits_refunded",
    "rating",
    "likeness",
    *GATING_COLUMNS,
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

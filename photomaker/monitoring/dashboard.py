"""What the Monitoring tab draws: a view's summary and its series over time (success, latency, likeness), from one
read of the hourly rollups."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from photomaker.monitoring import histogram
from photomaker.monitoring.metrics import LATENCY_SUMS, percentiles, ratio, summary_in
from photomaker.monitoring.views import PERIOD_HOURS, View, catalogue, scope_for, tier_of
from photomaker.store import AIModel, Database, rollup_queries, rollup_schema
from photomaker.store.models import utcnow

LIKENESS_SERIES_SUMS = ("likeness_scored", "likeness_sum_milli", "likeness_ok")
SERIES_SUMS = (*LATENCY_SUMS, *LIKENESS_SERIES_SUMS)


@dataclass(frozen=True)
class SuccessPoint:
    start: datetime
    completed: int
    failed: int

    @property
    def rate(self) -> float | None:
        return ratio(self.completed, self.completed + self.failed)


@dataclass(frozen=True)
class LatencyPoint:
    start: datetime
    completed: int
    p50_s: float | None
    p95_s: float | None


@dataclass(frozen=True)
class LikenessPoint:
    start: datetime
    scored: int
    """Avatars scored in the period."""
    mean: float
    ok_rate: float


@dataclass(frozen=True)
class Dashboard:
    """Everything the Monitoring tab draws, from one read of the rollups."""

    summary: dict[str, Any]
    success: list[SuccessPoint]
    latency: dict[str, list[LatencyPoint]]
    likeness: dict[tuple[str, str], list[LikenessPoint]]
    """Per (tier, engine), the periods in which avatars were scored."""
    period_hours: int
    span: tuple[datetime, datetime]
    """The time the charts over time cover: the window (or, for all time, from the first point) up to now."""


def read(database: Database, view: View, *, now: datetime | None = None) -> Dashboard:
    """The summary and the success, latency and likeness series of a view."""
    now = now or utcnow()
    period = PERIOD_HOURS[view.window]
    with database.session() as session:
        models = catalogue(session)
        scope = scope_for(view, models, now)
        result = summary_in(session, view, models, scope, now=now)
        settled = replace(scope, statuses=("completed", "failed"))
        outcome_series = rollup_queries.aggregate(
            session, settled, by=("period", "status"), sums=("generations",), period_hours=period
        )
        completed = replace(scope, statuses=("completed",))
        completed_series = rollup_queries.aggregate(
            session, completed, by=("period", "model_key", "engine"), sums=SERIES_SUMS, period_hours=period
        )
    success = _success_points(outcome_series)
    latency = _latency_points(completed_series, models)
    starts = [point.start for point in success] + [point.start for points in latency.values() for point in points]
    if scope.since_hour is not None:
        first = rollup_schema.hour_start(scope.since_hour)
    else:
        first = min(starts, default=now - timedelta(hours=period))
    return Dashboard(
        summary=result,
        success=success,
        latency=latency,
        likeness=_likeness_points(completed_series, models),
        period_hours=period,
        span=(first, now),
    )


def _success_points(rows: Iterable[Mapping[str, Any]]) -> list[SuccessPoint]:
    periods: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        periods[row["period"]][row["status"]] += row["generations"]
    return [
        SuccessPoint(start=rollup_schema.hour_start(period), completed=found["completed"], failed=found["failed"])
        for period, found in sorted(periods.items())
    ]


def _latency_points(rows: Iterable[Mapping[str, Any]], models: Mapping[str, AIModel]) -> dict[str, list[LatencyPoint]]:
    """p50 and p95 per tier per period, from the tier's histograms and extremes combined (over its engines)."""
    grouped: dict[str, dict[int, list[Mapping[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        grouped[tier_of(models, row["model_key"])][row["period"]].append(row)
    points: dict[str, list[LatencyPoint]] = {}
    for tier in _tier_order(models, grouped):
        points[tier] = []
        for period, found in sorted(grouped[tier].items()):
            latency = rollup_queries.totals(found, LATENCY_SUMS)
            p50, p95 = percentiles(latency)
            completed = sum(latency[name] for name in histogram.LATENCY.columns)
            points[tier].append(
                LatencyPoint(start=rollup_schema.hour_start(period), completed=completed, p50_s=p50, p95_s=p95)
            )
    return points


def _tier_order(models: Mapping[str, AIModel], found: Iterable[str]) -> list[str]:
    """The tiers `found`, in catalogue order, then any unknown."""
    present = set(found)
    every = dict.fromkeys([*(model.tier for model in models.values()), *sorted(present)])
    return [tier for tier in every if tier in present]


def _likeness_points(
    rows: Iterable[Mapping[str, Any]], models: Mapping[str, AIModel]
) -> dict[tuple[str, str], list[LikenessPoint]]:
    """Mean likeness and the share that looks like the person, per tier and engine per period."""
    sums: dict[tuple[str, str], dict[int, dict[str, int]]] = defaultdict(dict)
    for row in rows:
        if not row["likeness_scored"]:
            continue
        key = tier_of(models, row["model_key"]), row["engine"]
        totals = sums[key].setdefault(row["period"], dict.fromkeys(LIKENESS_SERIES_SUMS, 0))
        for name in LIKENESS_SERIES_SUMS:
            totals[name] += row[name]
    tiers = _tier_order(models, (tier for tier, _ in sums))
    return {
        key: [
            LikenessPoint(
                start=rollup_schema.hour_start(period),
                scored=totals["likeness_scored"],
                mean=totals["likeness_sum_milli"] / 1000 / totals["likeness_scored"],
                ok_rate=totals["likeness_ok"] / totals["likeness_scored"],
            )
            for period, totals in sorted(sums[key].items())
        ]
        for key in sorted(sums, key=lambda key: (tiers.index(key[0]), key[1]))
    }

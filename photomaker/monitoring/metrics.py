"""How generation is going: the summary against the targets and the series behind the charts.

Everything here reads the hourly rollups (a few hundred to a few tens of thousands of rows
whatever the history), never the whole generations table (raw rows are `exports`' business).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from photomaker.core import safe_text as text
from photomaker.core.errors import RefusedError
from photomaker.faces.likeness import ALIKE_SCORE, SAME_PERSON_DISTANCE
from photomaker.monitoring import histogram
from photomaker.store import AIModel, Database, rollups, turned_away
from photomaker.store import catalog as model_rows
from photomaker.store.models import utcnow
from photomaker.store.rollups import FASTEST_MS, LIKENESS_COLUMNS, RATING_COLUMNS, SLOWEST_MS, STARS, Scope

log = logging.getLogger(__name__)

WINDOWS: dict[str, int | None] = {"24h": 24, "7d": 7 * 24, "30d": 30 * 24, "all": None}
"""Each window's length in hours; it starts at the beginning of the hour that long ago."""
WINDOW_LABELS: dict[str, str] = {"24h": "last 24 hours", "7d": "last 7 days", "30d": "last 30 days", "all": "all time"}
PERIOD_HOURS: dict[str, int] = {"24h": 1, "7d": 6, "30d": 24, "all": 24}
"""The width of one point on the charts over time."""
ALL_TIERS = "all"
DEFINITIONS: dict[str, str] = {
    "total": "finished generations created in the window: completed + failed + refused",
    "success_rate": "completed / (completed + failed); refused requests (turned down before any charge, e.g. no "
    "face found) are counted apart and do not lower it",
    "processing_s": "processing time of completed generations; the average is exact, p50 and p95 come from a "
    f"fixed histogram of {histogram.LATENCY.buckets} buckets (bounds from {histogram.LATENCY.bounds[0]:g} s to "
    f"{histogram.LATENCY.bounds[-1]:g} s, at most 2 s apart below 10 s) and are exact to within one bucket, "
    "interpolated between the fastest and slowest times seen, so never outside them",
    "adoption_rate": "share of completed generations made from photos (photo to avatar) rather than text; "
    "across all tiers only (n/a when one tier is chosen, as a tier has one mode)",
    "turned_away": "requests turned away unread, before anything was checked, because their user or address had "
    "too many refusals that minute (REFUSALS_PER_MIN); all tiers, counted per hour and never with a row each, so "
    "they are not in total or refused",
    "avg_rating": "mean stars (1-5) over rated generations",
    "credits_spent": "credits charged for completed generations (failures are refunded, refusals cost nothing)",
    "likeness_ok_rate": "share of scored avatars that look like the person: after a photo to avatar generation, "
    "the face found in each avatar is compared with the mean face of the photos (dlib's face descriptors), and it "
    f"looks like the person when its likeness is at least {ALIKE_SCORE:.0%}, i.e. within the model's same-person "
    f"distance ({SAME_PERSON_DISTANCE}); avatars in which no face can be found are counted apart "
    "(avatars_without_face) and do not lower it; text to image avatars, and photo to avatar generations made "
    "before likeness was measured, count in neither. Counted from the generation rows, which outlive their "
    "avatars: retention and a user's deletion change nothing, and a rebuild gives the same figures",
    "likeness_p50": "median likeness score of the scored avatars, 0-100%: 1 - distance / "
    f"{SAME_PERSON_DISTANCE / (1 - ALIKE_SCORE):g}, clipped, so the same-person threshold scores "
    f"{ALIKE_SCORE:.0%}; from a fixed "
    f"histogram of {histogram.LIKENESS.bounds[0]:.0%} buckets, exact to within one bucket (avg_likeness is the "
    "exact mean)",
}

COUNT_SUMS = ("generations", "credits")
LATENCY_SUMS = (*histogram.LATENCY.columns, FASTEST_MS, SLOWEST_MS)
"""A latency histogram and the extremes its percentiles are kept within."""
DETAIL_SUMS = ("latency_count", "latency_sum_ms", *LATENCY_SUMS, *RATING_COLUMNS, *LIKENESS_COLUMNS)
LIKENESS_SERIES_SUMS = ("likeness_scored", "likeness_sum_milli", "likeness_ok")
SERIES_SUMS = (*LATENCY_SUMS, *LIKENESS_SERIES_SUMS)
ONE_TIER_ADOPTION = "one tier has one mode: choose All tiers"
"""Why adoption is n/a when one tier is chosen: it compares modes, and each tier has a single one."""


@dataclass(frozen=True)
class Target:
    """A figure the product promises: above or below a threshold, or (`inclusive`) at least or at most it."""

    key: str
    label: str
    threshold: float
    above: bool
    inclusive: bool = False

    @property
    def comparison(self) -> str:
        return (">" if self.above else "<") + ("=" if self.inclusive else "")

    def check(self, value: float | None, *, not_applicable: str | None = None) -> dict[str, Any]:
        """The value against the target; `met` is None while there is nothing to measure.

        A figure that cannot exist in a view (adoption within one tier) has no value, and its check
        carries `not_applicable`, the reason, so that it never reads as data still to come.
        """
        met = None
        if value is not None:
            met = self.inclusive if value == self.threshold else (value > self.threshold) == self.above
        checked = {"value": value, "target": self.threshold, "comparison": self.comparison, "met": met}
        return checked if not_applicable is None else {**checked, "not_applicable": not_applicable}


TARGETS: tuple[Target, ...] = (
    Target("success_rate", "Success rate", 0.95, above=True),
    Target("avg_processing_s", "Average time", 120, above=False),
    Target("p95_processing_s", "p95 time", 120, above=False),
    Target("adoption_rate", "Photo-to-avatar adoption", 0.30, above=True),
    Target("avg_rating", "Satisfaction", 4.5, above=True),
    Target("likeness_ok_rate", "Looks like the person", 0.90, above=True, inclusive=True),
)
LIKENESS_SCORES = ("likeness_p50", "avg_likeness")
"""Summary figures that are likeness scores, read in percent like the scores under each avatar."""


def display(key: str, value: float | None) -> str:
    """A summary figure as people read it: rates in percent, times in seconds, ratings out of 5."""
    if value is None:
        return "n/a"
    if key.endswith("_rate"):
        return f"{value:.1%}"
    if key in LIKENESS_SCORES:
        return f"{value:.0%}"
    if key.endswith("_s"):
        # Hundredths below 10 s, so that a preview's 0.35 s average and 0.37 s p95 read apart and in order.
        return f"{value:.2f} s" if round(value, 2) < 10 else f"{value:.1f} s"
    if key == "avg_rating":
        return f"{value:.2f} / 5"
    return f"{value:,}"


def target_text(target: Target) -> str:
    """`> 95.0%`, `< 120.0 s`: the target as people read it."""
    return f"{target.comparison} {display(target.key, target.threshold)}"


@dataclass(frozen=True)
class View:
    """What an operator is looking at: a window, a tier (or all), with or without demo rows."""

    window: str = "7d"
    tier: str = ALL_TIERS
    include_synthetic: bool = True


@dataclass(frozen=True)
class SuccessPoint:
    start: datetime
    completed: int
    failed: int

    @property
    def rate(self) -> float | None:
        return _ratio(self.completed, self.completed + self.failed)


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


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def tier_of(models: Mapping[str, AIModel], key: str) -> str:
    """A model key's tier, or `unknown` for a key no longer in the catalogue."""
    return models[key].tier if key in models else "unknown"


def _seconds(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else milliseconds / 1000


def _percentiles(latency: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """p50 and p95 from `LATENCY_SUMS`, kept within the fastest and slowest times seen."""
    buckets = [latency[name] for name in histogram.LATENCY.columns]
    seen = {"lowest": _seconds(latency[FASTEST_MS]), "highest": _seconds(latency[SLOWEST_MS])}
    return histogram.LATENCY.quantile(buckets, 0.50, **seen), histogram.LATENCY.quantile(buckets, 0.95, **seen)


def _timing(details: Mapping[str, Any]) -> dict[str, float | None]:
    p50, p95 = _percentiles(details)
    return {
        "avg_processing_s": _seconds(_ratio(details["latency_sum_ms"], details["latency_count"])),
        "p50_processing_s": p50,
        "p95_processing_s": p95,
    }


def _likeness(details: Mapping[str, int]) -> dict[str, Any]:
    scored = details["likeness_scored"]
    mean_milli = _ratio(details["likeness_sum_milli"], scored)
    return {
        "likeness_p50": histogram.LIKENESS.quantile([details[name] for name in histogram.LIKENESS.columns], 0.50),
        "avg_likeness": None if mean_milli is None else mean_milli / 1000,
        "likeness_ok_rate": _ratio(details["likeness_ok"], scored),
        "avatars_scored": scored,
        "avatars_without_face": details["likeness_no_face"],
    }


def _ratings(details: Mapping[str, int]) -> dict[str, Any]:
    distribution = {str(stars): details[f"rating_{stars}"] for stars in STARS}
    count = sum(distribution.values())
    total = sum(stars * details[f"rating_{stars}"] for stars in STARS)
    return {"avg_rating": _ratio(total, count), "ratings": count, "rating_distribution": distribution}


def _outcomes(counts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    by_status: defaultdict[str, int] = defaultdict(int)
    credits = 0
    for row in counts:
        by_status[row["status"]] += row["generations"]
        if row["status"] == "completed":
            credits += row["credits"]
    completed, failed, rejected = by_status["completed"], by_status["failed"], by_status["rejected"]
    return {
        "total": completed + failed + rejected,
        "completed": completed,
        "failed": failed,
        "rejected": rejected,
        "success_rate": _ratio(completed, completed + failed),
        "credits_spent": credits,
    }


def _codes(counts: Iterable[Mapping[str, Any]], status: str) -> dict[str, int]:
    found: dict[str, int] = defaultdict(int)
    for row in counts:
        if row["status"] == status:
            found[row["error_code"]] += row["generations"]
    return dict(sorted(found.items(), key=lambda item: (-item[1], item[0])))


def _by_model(
    counts: list[dict[str, Any]], details: list[dict[str, Any]], models: Mapping[str, AIModel]
) -> dict[str, dict[str, Any]]:
    keys = {row["model_key"]: row["mode"] for row in counts}
    ordered = [key for key in models if key in keys] + sorted(key for key in keys if key not in models)
    result = {}
    for key in ordered:
        model = models.get(key)
        detail = rollups.totals((row for row in details if row["model_key"] == key), DETAIL_SUMS)
        result[key] = {
            "name": model.name if model else key,
            "tier": tier_of(models, key),
            "mode": keys[key],
            **_outcomes(row for row in counts if row["model_key"] == key),
            **_timing(detail),
            **_ratings(detail),
            **_likeness(detail),
        }
    return result


def _not_applicable(view: View) -> dict[str, str]:
    """The targets a view cannot measure, with the reason: adoption compares modes, and a tier has one."""
    return {} if view.tier == ALL_TIERS else {"adoption_rate": ONE_TIER_ADOPTION}


def _adoption(counts: Iterable[Mapping[str, Any]], *, applicable: bool) -> dict[str, Any]:
    """Photo-to-avatar's share of completed generations: a comparison of modes, so all tiers only."""
    completed_by_mode: dict[str, int] = defaultdict(int)
    for row in counts:
        if row["status"] == "completed":
            completed_by_mode[row["mode"]] += row["generations"]
    photo = completed_by_mode["photo"]
    share = _ratio(photo, sum(completed_by_mode.values())) if applicable else None
    return {"adoption_rate": share, "completed_by_mode": dict(completed_by_mode)}


def _summarise(
    counts: list[dict[str, Any]],
    details: list[dict[str, Any]],
    models: Mapping[str, AIModel],
    *,
    view: View,
    since_hour: int | None,
    now: datetime,
) -> dict[str, Any]:
    detail = rollups.totals(details, DETAIL_SUMS)
    not_applicable = _not_applicable(view)
    figures = {
        **_outcomes(counts),
        **_timing(detail),
        **_adoption(counts, applicable="adoption_rate" not in not_applicable),
        **_ratings(detail),
        **_likeness(detail),
    }
    return {
        "window": view.window,
        "tier": view.tier,
        "include_synthetic": view.include_synthetic,
        "since": None if since_hour is None else rollups.hour_start(since_hour).isoformat(),
        "until": now.isoformat(),
        **figures,
        "by_model": _by_model(counts, details, models),
        "failures_by_code": _codes(counts, "failed"),
        "rejections_by_code": _codes(counts, "rejected"),
        "targets": {
            target.key: target.check(figures[target.key], not_applicable=not_applicable.get(target.key))
            for target in TARGETS
        },
        "definitions": DEFINITIONS,
    }


def tiers(database: Database) -> list[str]:
    """The tier filter's choices: all, then each tier in catalogue order."""
    with database.session() as session:
        models = catalogue(session)
    return [ALL_TIERS, *dict.fromkeys(model.tier for model in models.values())]


def scope_for(view: View, models: Mapping[str, AIModel], now: datetime) -> Scope:
    """The rollups a view reads; an unknown window or tier is refused with the valid choices."""
    if not isinstance(view.window, str) or view.window not in WINDOWS:
        raise RefusedError(
            "INVALID_PARAMS", f"Unknown window {text.quoted(view.window)}; choose one of {', '.join(WINDOWS)}."
        )
    if not isinstance(view.include_synthetic, bool):
        raise RefusedError(
            "INVALID_PARAMS", f"include_synthetic is true or false; you gave {text.quoted(view.include_synthetic)}."
        )
    model_keys = None
    if view.tier != ALL_TIERS:
        model_keys = tuple(key for key, model in models.items() if model.tier == view.tier)
        if not model_keys:
            known = ", ".join(dict.fromkeys(model.tier for model in models.values()))
            raise RefusedError("INVALID_PARAMS", f"Unknown tier {text.quoted(view.tier)}; choose all, {known}.")
    hours = WINDOWS[view.window]
    since_hour = None if hours is None else rollups.epoch_hour(now) - hours
    return Scope(since_hour=since_hour, model_keys=model_keys, include_synthetic=view.include_synthetic)


def catalogue(session: Session) -> dict[str, AIModel]:
    """Every model by key, photo tiers first (cheapest first), then text: the order of tables and charts."""
    models = sorted(model_rows.list_models(session, enabled_only=False), key=lambda model: model.mode != "photo")
    return {model.model_key: model for model in models}


def summary(database: Database, view: View = View(), *, now: datetime | None = None) -> dict[str, Any]:
    """The headline figures of a view, with each target's value and whether it is met."""
    return dashboard(database, view, now=now, series=False).summary


def dashboard(database: Database, view: View, *, now: datetime | None = None, series: bool = True) -> Dashboard:
    """The summary and (with `series`) the success, latency and likeness series of a view."""
    now = now or utcnow()
    with database.session() as session:
        models = catalogue(session)
        scope = scope_for(view, models, now)
        period = PERIOD_HOURS[view.window]
        counts = rollups.aggregate(session, scope, by=("model_key", "mode", "status", "error_code"), sums=COUNT_SUMS)
        turned = turned_away.total(session, since_hour=scope.since_hour)
        completed = replace(scope, statuses=("completed",))
        details = rollups.aggregate(session, completed, by=("model_key",), sums=DETAIL_SUMS)
        outcome_series: list[dict[str, Any]] = []
        completed_series: list[dict[str, Any]] = []
        if series:
            settled = replace(scope, statuses=("completed", "failed"))
            outcome_series = rollups.aggregate(
                session, settled, by=("period", "status"), sums=("generations",), period_hours=period
            )
            completed_series = rollups.aggregate(
                session, completed, by=("period", "model_key", "engine"), sums=SERIES_SUMS, period_hours=period
            )
    result = {
        **_summarise(counts, details, models, view=view, since_hour=scope.since_hour, now=now),
        "turned_away": turned,
    }
    success = _success_points(outcome_series)
    latency = _latency_points(completed_series, models)
    starts = [point.start for point in success] + [point.start for points in latency.values() for point in points]
    if scope.since_hour is not None:
        first = rollups.hour_start(scope.since_hour)
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
        SuccessPoint(start=rollups.hour_start(period), completed=found["completed"], failed=found["failed"])
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
            latency = rollups.totals(found, LATENCY_SUMS)
            p50, p95 = _percentiles(latency)
            completed = sum(latency[name] for name in histogram.LATENCY.columns)
            points[tier].append(
                LatencyPoint(start=rollups.hour_start(period), completed=completed, p50_s=p50, p95_s=p95)
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
                start=rollups.hour_start(period),
                scored=totals["likeness_scored"],
                mean=totals["likeness_sum_milli"] / 1000 / totals["likeness_scored"],
                ok_rate=totals["likeness_ok"] / totals["likeness_scored"],
            )
            for period, totals in sorted(sums[key].items())
        ]
        for key in sorted(sums, key=lambda key: (tiers.index(key[0]), key[1]))
    }


def rebuild(database: Database) -> int:
    """Recompute the rollups from the generation rows; returns how many generations were counted."""
    with database.session() as session:
        return rollups.rebuild(session)


def rebuild_if_stale(database: Database) -> None:
    """Rebuild rollups that cannot be read as they are: counted with other buckets or columns (or before
    layouts were recorded), or missing beside existing generations. Current rollups cost a few small reads."""
    with database.reading() as session:  # every start asks: no write lock for that on SQLite
        if rollups.stale(session) is None:
            return
    with database.session() as session:
        # Asked again under the write lock: another process starting at the same time may have rebuilt them.
        why = rollups.stale(session)
        if why is None:
            return
        counted = rollups.rebuild(session)
    if counted:
        log.warning("rebuilt the monitoring rollups from %d existing generations (%s)", counted, why)

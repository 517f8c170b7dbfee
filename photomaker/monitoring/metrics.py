"""How generation is going: a view's summary against the targets, read from the hourly rollups.

Everything here reads the hourly rollups (a few hundred to a few tens of thousands of rows
whatever the history), never the whole generations table (raw rows are `exports`' business).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlmodel import Session

from photomaker.monitoring import histogram
from photomaker.monitoring.targets import DEFINITIONS, TARGETS
from photomaker.monitoring.views import ALL_TIERS, View, catalogue, scope_for, tier_of
from photomaker.store import AIModel, Database, rollup_queries, rollup_schema, turned_away
from photomaker.store.models import utcnow
from photomaker.store.rollup_queries import Scope
from photomaker.store.rollup_schema import (
    FASTEST_MS,
    GATING_COLUMNS,
    LIKENESS_COLUMNS,
    RATING_COLUMNS,
    SLOWEST_MS,
    STARS,
    TALLIED_STATUSES,
)

COUNT_SUMS = ("generations", "credits")
LATENCY_SUMS = (*histogram.LATENCY.columns, FASTEST_MS, SLOWEST_MS)
"""A latency histogram and the extremes its percentiles are kept within."""
DETAIL_SUMS = ("latency_count", "latency_sum_ms", *LATENCY_SUMS, *RATING_COLUMNS, *LIKENESS_COLUMNS)
ONE_TIER_ADOPTION = "one tier has one mode: choose All tiers"
"""Why adoption is n/a when one tier is chosen: it compares modes, and each tier has a single one."""


def ratio(part: float, whole: float) -> float | None:
    """`part / whole`, or None when there is no whole to take a share of."""
    return part / whole if whole else None


def _seconds(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else milliseconds / 1000


def percentiles(latency: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """p50 and p95 from `LATENCY_SUMS`, kept within the fastest and slowest times seen."""
    buckets = [latency[name] for name in histogram.LATENCY.columns]
    seen = {"lowest": _seconds(latency[FASTEST_MS]), "highest": _seconds(latency[SLOWEST_MS])}
    return histogram.LATENCY.quantile(buckets, 0.50, **seen), histogram.LATENCY.quantile(buckets, 0.95, **seen)


def _timing(details: Mapping[str, Any]) -> dict[str, float | None]:
    p50, p95 = percentiles(details)
    return {
        "avg_processing_s": _seconds(ratio(details["latency_sum_ms"], details["latency_count"])),
        "p50_processing_s": p50,
        "p95_processing_s": p95,
    }


def _likeness(details: Mapping[str, int]) -> dict[str, Any]:
    scored = details["likeness_scored"]
    mean_milli = ratio(details["likeness_sum_milli"], scored)
    return {
        "likeness_p50": histogram.LIKENESS.quantile([details[name] for name in histogram.LIKENESS.columns], 0.50),
        "avg_likeness": None if mean_milli is None else mean_milli / 1000,
        "likeness_ok_rate": ratio(details["likeness_ok"], scored),
        "avatars_scored": scored,
        "avatars_without_face": details["likeness_no_face"],
    }


GATING_FIGURES = (
    "avatars_asked",
    "avatars_made",
    "avatars_kept",
    "avatars_alike_first_try",
    "first_try_alike_rate",
    "kept_rate",
    "tries_per_kept_avatar",
)
"""The likeness check's figures in a summary (overall and per model), in this order: counts, then rates."""


def _gating(tally: Mapping[str, int]) -> dict[str, Any]:
    """The likeness check's figures, before and after it, from the rollups' tally (`rollups.tallied` says which
    generations count: Photo to Avatar, completed or failed, with counts on their row).

    Both rates share one whole, the images asked for: the first-try rate is the share alike at their first try
    (no face found counts as alike, as the check keeps such an image), the kept rate the share the users got. An
    image never made (cancelled, the engine failed) is asked and not kept in both. Tries per kept avatar are
    the images the engine made, second tries included, per image kept. None where there is no whole.
    """
    asked, kept, made, alike = (
        tally[name] for name in ("images_asked", "images_kept", "candidates", "alike_first_try")
    )
    rates = (ratio(alike, asked), ratio(kept, asked), ratio(made, kept))
    return dict(zip(GATING_FIGURES, (asked, made, kept, alike, *rates), strict=True))


def _ratings(details: Mapping[str, int]) -> dict[str, Any]:
    distribution = {str(stars): details[f"rating_{stars}"] for stars in STARS}
    count = sum(distribution.values())
    total = sum(stars * details[f"rating_{stars}"] for stars in STARS)
    return {"avg_rating": ratio(total, count), "ratings": count, "rating_distribution": distribution}


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
        "success_rate": ratio(completed, completed + failed),
        "credits_spent": credits,
    }


def _codes(counts: Iterable[Mapping[str, Any]], status: str) -> dict[str, int]:
    found: dict[str, int] = defaultdict(int)
    for row in counts:
        if row["status"] == status:
            found[row["error_code"]] += row["generations"]
    return dict(sorted(found.items(), key=lambda item: (-item[1], item[0])))


def _by_model(
    counts: list[dict[str, Any]],
    details: list[dict[str, Any]],
    tallies: list[dict[str, Any]],
    models: Mapping[str, AIModel],
) -> dict[str, dict[str, Any]]:
    keys = {row["model_key"]: row["mode"] for row in counts}
    ordered = [key for key in models if key in keys] + sorted(key for key in keys if key not in models)
    result = {}
    for key in ordered:
        model = models.get(key)
        detail = rollup_queries.totals((row for row in details if row["model_key"] == key), DETAIL_SUMS)
        tally = rollup_queries.totals((row for row in tallies if row["model_key"] == key), GATING_COLUMNS)
        result[key] = {
            "name": model.name if model else key,
            "tier": tier_of(models, key),
            "mode": keys[key],
            **_outcomes(row for row in counts if row["model_key"] == key),
            **_timing(detail),
            **_ratings(detail),
            **_likeness(detail),
            **_gating(tally),
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
    share = ratio(photo, sum(completed_by_mode.values())) if applicable else None
    return {"adoption_rate": share, "completed_by_mode": dict(completed_by_mode)}


def _summarise(
    counts: list[dict[str, Any]],
    details: list[dict[str, Any]],
    tallies: list[dict[str, Any]],
    models: Mapping[str, AIModel],
    *,
    view: View,
    since_hour: int | None,
    now: datetime,
) -> dict[str, Any]:
    detail = rollup_queries.totals(details, DETAIL_SUMS)
    not_applicable = _not_applicable(view)
    figures = {
        **_outcomes(counts),
        **_timing(detail),
        **_adoption(counts, applicable="adoption_rate" not in not_applicable),
        **_ratings(detail),
        **_likeness(detail),
        **_gating(rollup_queries.totals(tallies, GATING_COLUMNS)),
    }
    return {
        "window": view.window,
        "tier": view.tier,
        "include_synthetic": view.include_synthetic,
        "since": None if since_hour is None else rollup_schema.hour_start(since_hour).isoformat(),
        "until": now.isoformat(),
        **figures,
        "by_model": _by_model(counts, details, tallies, models),
        "failures_by_code": _codes(counts, "failed"),
        "rejections_by_code": _codes(counts, "rejected"),
        "targets": {
            target.key: target.check(figures[target.key], not_applicable=not_applicable.get(target.key))
            for target in TARGETS
        },
        "definitions": DEFINITIONS,
    }


def summary(database: Database, view: View = View(), *, now: datetime | None = None) -> dict[str, Any]:
    """The headline figures of a view, with each target's value and whether it is met."""
    now = now or utcnow()
    with database.session() as session:
        models = catalogue(session)
        return summary_in(session, view, models, scope_for(view, models, now), now=now)


def summary_in(
    session: Session, view: View, models: Mapping[str, AIModel], scope: Scope, *, now: datetime
) -> dict[str, Any]:
    """`summary` within a transaction that has read the catalogue and the view's scope already (the dashboard's)."""
    counts = rollup_queries.aggregate(session, scope, by=("model_key", "mode", "status", "error_code"), sums=COUNT_SUMS)
    turned = turned_away.total(session, since_hour=scope.since_hour)
    completed = replace(scope, statuses=("completed",))
    details = rollup_queries.aggregate(session, completed, by=("model_key",), sums=DETAIL_SUMS)
    tallied = replace(scope, statuses=TALLIED_STATUSES)
    tallies = rollup_queries.aggregate(session, tallied, by=("model_key",), sums=GATING_COLUMNS)
    return {
        **_summarise(counts, details, tallies, models, view=view, since_hour=scope.since_hour, now=now),
        "turned_away": turned,
    }

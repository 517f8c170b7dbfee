"""Monitoring figures at their edges: targets at their thresholds, the first hour of each window,
period and bucket boundaries, filters and orderings, each checked on fixed data."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Any

import pytest

from photomaker.monitoring import dashboard, histogram, metrics, targets, views
from photomaker.startup.records import seed_models
from photomaker.store import AIModel, Database, rollup_queries, rollup_schema, rollups, users
from tests.helpers import add_finished
from tests.known_history import BASIC, ENTERPRISE, NOW, PRO, TEXT

pytestmark = pytest.mark.both_databases  # the store's own behaviour: on SQLite and PostgreSQL

HOUR = rollup_schema.epoch_hour(NOW)
"""The epoch hour that holds NOW (which is half past it)."""


@pytest.fixture
def seeded(database: Database) -> Database:
    """A database with the model catalogue and no generations."""
    seed_models(database)
    return database


def _count(database: Database, *rows: dict[str, Any]) -> None:
    """Count finished generations straight into the rollups (all that metrics reads), in one transaction."""
    defaults = {
        "model_key": PRO,
        "mode": "photo",
        "status": "completed",
        "engine": "preview",
        "error_code": None,
        "processing_ms": None,
        "credits_charged": 0,
        "rating": None,
        "likeness": None,
        **dict.fromkeys(rollup_schema.GATING_COLUMNS),
    }
    with database.session() as session:
        rollups.add_many(session, [{**defaults, **row} for row in rows])


def _at(hour: int, **fields: Any) -> dict[str, Any]:
    """A finished generation created at the very start of an epoch hour."""
    return {"created_at": rollup_schema.hour_start(hour), **fields}


# Targets and how figures read


@pytest.mark.parametrize("target", targets.TARGETS, ids=lambda target: target.key)
def test_a_target_exactly_at_its_threshold_is_met_only_when_inclusive_and_a_hair_past_it_is(
    target: targets.Target,
) -> None:
    better, worse = (math.inf, -math.inf) if target.above else (-math.inf, math.inf)
    assert target.check(target.threshold) == {
        "value": target.threshold,
        "target": target.threshold,
        "comparison": target.comparison,
        "met": target.inclusive,
    }
    assert target.check(math.nextafter(target.threshold, better))["met"] is True
    assert target.check(math.nextafter(target.threshold, worse))["met"] is False


def test_only_looking_like_the_person_is_an_at_least_target() -> None:
    assert {target.key: target.comparison for target in targets.TARGETS if target.inclusive} == {
        "likeness_ok_rate": ">="
    }
    assert targets.target_text(next(t for t in targets.TARGETS if t.inclusive)) == ">= 90.0%"
    at_most = targets.Target("x_s", "x", 10, above=False, inclusive=True)
    assert (at_most.comparison, at_most.check(10)["met"], at_most.check(10.5)["met"]) == ("<=", True, False)


@pytest.mark.parametrize("target", targets.TARGETS, ids=lambda target: target.key)
def test_a_target_without_a_value_has_no_verdict(target: targets.Target) -> None:
    assert target.check(None) == {
        "value": None,
        "target": target.threshold,
        "comparison": target.comparison,
        "met": None,
    }


def test_rates_and_ratings_must_rise_above_their_targets_and_times_stay_below() -> None:
    assert {target.key: target.comparison[0] for target in targets.TARGETS} == {
        target.key: "<" if target.key.endswith("_s") else ">" for target in targets.TARGETS
    }


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("success_rate", 0.8, "80.0%"),
        ("adoption_rate", 0.7554, "75.5%"),
        ("avg_processing_s", 75.04, "75.0 s"),
        ("p95_processing_s", 135, "135.0 s"),
        ("p50_processing_s", 0.352, "0.35 s"),
        ("avg_processing_s", 9.994, "9.99 s"),
        ("avg_processing_s", 9.996, "10.0 s"),
        ("avg_processing_s", 10, "10.0 s"),
        ("avg_rating", 4, "4.00 / 5"),
        ("avg_rating", 4.125, "4.12 / 5"),
        ("credits_spent", 12345, "12,345"),
        ("total", 6, "6"),
        ("likeness_ok_rate", 0.9, "90.0%"),
        ("likeness_p50", 0.775, "78%"),
        ("avg_likeness", 0.5, "50%"),
        ("likeness_p50", None, "n/a"),
        ("success_rate", None, "n/a"),
        ("p95_processing_s", None, "n/a"),
        ("avg_rating", None, "n/a"),
        ("total", None, "n/a"),
    ],
)
def test_display_reads_rates_in_percent_times_in_seconds_and_ratings_out_of_5(
    key: str, value: float | None, shown: str
) -> None:
    assert targets.display(key, value) == shown


@pytest.mark.parametrize("target", targets.TARGETS, ids=lambda target: target.key)
def test_target_text_reads_the_comparison_and_the_threshold_in_the_figure_s_unit(target: targets.Target) -> None:
    if target.key.endswith("_rate"):
        threshold = f"{target.threshold * 100:.1f}%"
    elif target.key.endswith("_s"):
        threshold = f"{target.threshold:.1f} s"
    else:
        threshold = f"{target.threshold:.2f} / 5"
    assert targets.target_text(target) == f"{target.comparison} {threshold}"


def test_each_window_label_names_the_window_s_length() -> None:
    assert list(views.WINDOW_LABELS) == list(views.WINDOWS)
    for window, hours in views.WINDOWS.items():
        label = views.WINDOW_LABELS[window]
        if hours is None:
            assert label == "all time"
            continue
        found = re.fullmatch(r"last (\d+) (hours|days)", label)
        assert found is not None, label
        assert int(found[1]) * (1 if found[2] == "hours" else 24) == hours


# Windows and periods


def test_charts_over_time_show_hours_for_a_day_six_hours_for_a_week_and_days_beyond() -> None:
    """The resolution the rollups are built for (hours, grouped by six hours or by day)."""
    assert views.PERIOD_HOURS == {"24h": 1, "7d": 6, "30d": 24, "all": 24}
    for window, hours in views.WINDOWS.items():
        assert 24 % views.PERIOD_HOURS[window] == 0  # periods never straddle midnight UTC
        assert hours is None or hours % views.PERIOD_HOURS[window] == 0


def test_a_window_counts_its_first_hour_and_not_the_hour_before(seeded: Database) -> None:
    with seeded.session() as session:
        user_id = users.get_or_create_user(session, "ops", starting_credits=0).id
    finite = {window: hours for window, hours in views.WINDOWS.items() if hours is not None}
    for hours in finite.values():
        first = rollup_schema.hour_start(HOUR - hours)
        for created in (first, first - timedelta(seconds=1)):
            add_finished(seeded, user_id, model_key=PRO, mode="photo", status="completed", created_at=created)
    for window, hours in views.WINDOWS.items():
        board = dashboard.read(seeded, views.View(window=window), now=NOW)
        found = metrics.summary(seeded, views.View(window=window), now=NOW)
        assert found == board.summary
        assert found["until"] == NOW.isoformat()
        if hours is None:
            assert found["total"] == 2 * len(finite)
            assert found["since"] is None
            continue
        first = rollup_schema.hour_start(HOUR - hours)
        # its own first-hour generation, and both generations of each shorter window
        assert found["total"] == 1 + 2 * sum(1 for other in finite.values() if other < hours), window
        assert found["since"] == first.isoformat()
        assert board.span == (first, NOW)
        # the first point is the period that holds the first hour (periods start at multiples of their length)
        period = views.PERIOD_HOURS[window]
        assert board.success[0].start == rollup_schema.hour_start(HOUR - hours - (HOUR - hours) % period)


def test_all_time_spans_from_its_first_point_or_one_period_back_when_empty(seeded: Database) -> None:
    view = views.View(window="all")
    period = views.PERIOD_HOURS["all"]
    assert dashboard.read(seeded, view, now=NOW).span == (NOW - timedelta(hours=period), NOW)
    oldest = HOUR - 40 * 24 - 5
    _count(
        seeded,
        _at(oldest - 3 * period, status="rejected", error_code="NO_FACE"),  # refused: on no chart over time
        _at(oldest, status="failed", error_code="GENERATION_TIMEOUT"),
        _at(HOUR - 2, processing_ms=30_000),
    )
    board = dashboard.read(seeded, view, now=NOW)
    first = rollup_schema.hour_start(oldest - oldest % period)
    assert board.span == (first, NOW)
    assert board.success[0].start == first


def test_points_start_at_period_boundaries(seeded: Database) -> None:
    # one tier per window, each read through its tier filter, so that one window's rows stay out of another's
    models = dict(zip(views.WINDOWS, (BASIC, PRO, ENTERPRISE, TEXT), strict=True))
    for window, model_key in models.items():
        period = views.PERIOD_HOURS[window]
        start = HOUR - HOUR % period  # the period that holds now
        mode = "text" if model_key == TEXT else "photo"
        _count(
            seeded,
            _at(start - period, model_key=model_key, mode=mode, processing_ms=100_000),  # the period before
            {  # the last second of the period before
                "created_at": rollup_schema.hour_start(start) - timedelta(seconds=1),
                "model_key": model_key,
                "mode": mode,
                "status": "failed",
            },
            _at(start, model_key=model_key, mode=mode, processing_ms=130_000),  # the first hour of this period
            _at(start, model_key=model_key, mode=mode, status="rejected"),  # refused: not on the charts over time
        )
    for window, model_key in models.items():
        period = views.PERIOD_HOURS[window]
        start = HOUR - HOUR % period
        with seeded.session() as session:
            tier = views.catalogue(session)[model_key].tier
        board = dashboard.read(seeded, views.View(window=window, tier=tier), now=NOW)
        assert board.period_hours == period
        before, current = rollup_schema.hour_start(start - period), rollup_schema.hour_start(start)
        assert board.success == [
            dashboard.SuccessPoint(start=before, completed=1, failed=1),
            dashboard.SuccessPoint(start=current, completed=1, failed=0),
        ], window
        assert [point.rate for point in board.success] == [0.5, 1.0]
        # a lone time per period: its p50 and p95 are that time, kept by the rollups' fastest and slowest
        assert board.latency == {
            tier: [
                dashboard.LatencyPoint(start=before, completed=1, p50_s=100.0, p95_s=100.0),
                dashboard.LatencyPoint(start=current, completed=1, p50_s=130.0, p95_s=130.0),
            ]
        }, window


def test_the_summary_reads_no_series_over_time(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The API and Prometheus read the summary often: it must not pay for the charts' queries."""
    groupings: list[tuple[str, ...]] = []
    aggregate = rollup_queries.aggregate

    def spy(session: Any, scope: rollup_queries.Scope, **options: Any) -> list[dict[str, Any]]:
        groupings.append(tuple(options["by"]))
        return aggregate(session, scope, **options)

    monkeypatch.setattr(rollup_queries, "aggregate", spy)
    metrics.summary(database, views.View(window="24h"), now=NOW)
    assert groupings and not [by for by in groupings if "period" in by]
    groupings.clear()
    dashboard.read(database, views.View(window="24h"), now=NOW)
    assert [by for by in groupings if "period" in by] == [("period", "status"), ("period", "model_key", "engine")]


# Percentiles, models and tiers


def test_latency_per_tier_per_period_and_figures_per_model(seeded: Database) -> None:
    with seeded.session() as session:
        session.get(AIModel, views.catalogue(session)[ENTERPRISE].id).enabled = False  # retired from the picker
    hour = HOUR - 2
    # 11 times: p50 is rank 6 (5 when rounded down), p95 rank 11 (10 when rounded down, or for p90)
    pro_times = (50, 50, 50, 50, 50, 100, 100, 100, 130, 130, 200)
    _count(
        seeded,
        *(_at(hour, processing_ms=seconds * 1000) for seconds in pro_times),
        _at(hour + 1, processing_ms=histogram.LATENCY_BOUNDS_MS[-1] + 1),  # in the open-ended bucket
        _at(hour, model_key=BASIC, processing_ms=60_000),
        _at(hour, model_key=ENTERPRISE, processing_ms=150_000),
        # keys no longer in the catalogue; the rollups list them completed first, so not in name order
        _at(hour, model_key="retired:zeta", processing_ms=10_000),
        _at(hour, model_key="retired:mid", mode="text", processing_ms=10_000),
        _at(hour, model_key="retired:alpha", mode="text", status="failed", error_code="BACKEND_UNAVAILABLE"),
    )
    board = dashboard.read(seeded, views.View(window="24h"), now=NOW)
    assert list(board.latency) == ["basic", "pro", "enterprise", "unknown"]  # catalogue order, then unknown
    at, next_hour = rollup_schema.hour_start(hour), rollup_schema.hour_start(hour + 1)
    slowest = histogram.LATENCY_BOUNDS_MS[-1] / 1000 + 0.001
    assert board.latency["pro"] == [
        # p50: the 1st of 3 in (90, 105] s; p95: the one in (180, 240] s, the slowest, 200 s
        dashboard.LatencyPoint(start=at, completed=11, p50_s=pytest.approx(90 + 15 * 1 / 3), p95_s=200.0),
        # in the open-ended bucket, and the only time: read exactly, not as "600 s or more"
        dashboard.LatencyPoint(start=next_hour, completed=1, p50_s=slowest, p95_s=slowest),
    ]
    assert board.latency["basic"] == [dashboard.LatencyPoint(start=at, completed=1, p50_s=60.0, p95_s=60.0)]
    # two retired keys summed into one tier, their extremes combined: 2 times of 10 s
    assert board.latency["unknown"] == [dashboard.LatencyPoint(start=at, completed=2, p50_s=10.0, p95_s=10.0)]

    by_model = board.summary["by_model"]
    assert list(by_model) == [BASIC, PRO, ENTERPRISE, "retired:alpha", "retired:mid", "retired:zeta"]
    with seeded.session() as session:
        catalogue = views.catalogue(session)
    assert {key: (row["name"], row["tier"], row["mode"]) for key, row in by_model.items()} == {
        BASIC: (catalogue[BASIC].name, "basic", "photo"),
        PRO: (catalogue[PRO].name, "pro", "photo"),
        ENTERPRISE: (catalogue[ENTERPRISE].name, "enterprise", "photo"),
        "retired:alpha": ("retired:alpha", "unknown", "text"),
        "retired:mid": ("retired:mid", "unknown", "text"),
        "retired:zeta": ("retired:zeta", "unknown", "photo"),
    }
    pro = by_model[PRO]
    assert (pro["completed"], pro["failed"], pro["success_rate"]) == (12, 0, 1.0)
    assert pro["avg_processing_s"] == pytest.approx((sum(pro_times) + slowest) / 12)
    assert pro["p50_processing_s"] == pytest.approx(90 + 15 * 1 / 3)  # rank 6 of 12
    assert pro["p95_processing_s"] == slowest  # rank 12 of 12, the slowest
    assert (by_model[BASIC]["avg_processing_s"], by_model[BASIC]["p95_processing_s"]) == (60.0, 60.0)
    alpha = by_model["retired:alpha"]
    assert (alpha["failed"], alpha["success_rate"], alpha["avg_processing_s"]) == (1, 0.0, None)
    assert views.tiers(seeded) == ["all", "basic", "pro", "enterprise", "text"]  # disabled tiers still listed


def test_codes_are_ordered_by_count_then_code_and_only_completed_credits_count(seeded: Database) -> None:
    hour = HOUR - 1
    _count(
        seeded,
        _at(hour, model_key=BASIC, credits_charged=18, processing_ms=60_000),
        _at(hour, credits_charged=25, processing_ms=100_000),
        _at(hour, credits_charged=25, processing_ms=100_000),
        # failures were charged, then refunded
        *(
            _at(hour, model_key=key, status="failed", error_code=code, credits_charged=25)
            for key, code in (
                (BASIC, "GENERATION_TIMEOUT"),
                (BASIC, "RATE_LIMIT_EXCEEDED"),
                (PRO, "AUTH_FAILED"),
                (PRO, "GENERATION_TIMEOUT"),
            )
        ),
        *(
            _at(hour, model_key=key, status="rejected", error_code=code)
            for key, code in ((BASIC, "NO_FACE"), (BASIC, "PHOTO_TOO_LARGE"), (PRO, "INVALID_PHOTO"), (PRO, "NO_FACE"))
        ),
    )
    found = metrics.summary(seeded, views.View(window="24h"), now=NOW)
    assert list(found["failures_by_code"].items()) == [
        ("GENERATION_TIMEOUT", 2),
        ("AUTH_FAILED", 1),
        ("RATE_LIMIT_EXCEEDED", 1),
    ]
    assert list(found["rejections_by_code"].items()) == [("NO_FACE", 2), ("INVALID_PHOTO", 1), ("PHOTO_TOO_LARGE", 1)]
    assert {key: found[key] for key in ("total", "completed", "failed", "rejected")} == {
        "total": 11,
        "completed": 3,
        "failed": 4,
        "rejected": 4,
    }
    assert found["success_rate"] == 3 / 7  # the 4 refusals do not lower it
    assert found["credits_spent"] == 18 + 25 + 25
    assert found["completed_by_mode"] == {"photo": 3}


def test_figures_exactly_at_their_targets_are_met_only_by_at_least_targets(seeded: Database) -> None:
    thresholds = {target.key: target.threshold for target in targets.TARGETS}
    # one time for both time targets, on a bucket bound so that p95 can read exactly it
    assert thresholds["avg_processing_s"] == thresholds["p95_processing_s"]
    at = round(thresholds["p95_processing_s"] * 1000)
    assert at / 1000 in histogram.LATENCY.bounds
    below, above = at - 10_000, at + 10_000
    hour = HOUR - 3
    _count(
        seeded,
        # 190 completed and 10 failed: 95% success; 57 of the 190 from photos: 30% adoption; rated 4 and 5: 4.5;
        # 9 of 10 scored images look like the person: 90% (an image with no face does not count)
        _at(hour, processing_ms=at, rating=4, likeness=[0.8] * 9 + [0.3, None]),
        _at(hour, processing_ms=at, rating=5),
        *(_at(hour, processing_ms=at) for _ in range(55)),
        # 181 of 190 (p95's rank, ceil(0.95 * 190)) at most the bound and 9 above it; the average exactly on it
        *(_at(hour, model_key=TEXT, mode="text", processing_ms=ms) for ms in [at] * 115 + [below] * 9 + [above] * 9),
        *(_at(hour, status="failed", error_code="GENERATION_TIMEOUT") for _ in range(10)),
    )
    assert thresholds["likeness_ok_rate"] == 0.9
    found = metrics.summary(seeded, views.View(window="24h"), now=NOW)
    assert found["targets"] == {
        target.key: {
            "value": target.threshold,
            "target": target.threshold,
            "comparison": target.comparison,
            "met": target.inclusive,
        }
        for target in targets.TARGETS
    }


# Likeness


def test_how_each_image_counts(seeded: Database) -> None:
    hour = HOUR - 1
    _count(
        seeded,
        # on the threshold (the same person), a thousandth below it, the extremes, and no face found
        _at(hour, likeness=[0.5, 0.499, 1.0]),
        _at(hour, likeness=[0.0, None]),
        _at(hour, likeness=None),  # made before likeness was measured: counts in neither
        _at(hour, model_key=TEXT, mode="text"),  # never scored: not a missing face
        _at(hour, model_key=BASIC, likeness=[0.9]),
    )
    with seeded.session() as session:
        rows = rollup_queries.aggregate(
            session, rollup_queries.Scope(), by=("model_key",), sums=rollup_schema.LIKENESS_COLUMNS
        )
    pro = next(row for row in rows if row["model_key"] == PRO)
    counted = {name: count for name, count in pro.items() if name != "model_key" and count}
    assert counted == {
        "likeness_scored": 4,
        "likeness_ok": 2,
        "likeness_sum_milli": 500 + 499 + 1000,
        "likeness_no_face": 1,
        "likeness_le_005": 1,
        "likeness_le_050": 2,
        "likeness_le_100": 1,
    }
    text = next(row for row in rows if row["model_key"] == TEXT)
    assert not any(count for name, count in text.items() if name != "model_key")  # its image added nothing
    found = metrics.summary(seeded, views.View(window="24h"), now=NOW)
    assert (found["avatars_scored"], found["avatars_without_face"], found["likeness_ok_rate"]) == (5, 1, 3 / 5)
    assert found["avg_likeness"] == pytest.approx((0.5 + 0.499 + 1.0 + 0.9) / 5)
    assert found["likeness_p50"] == 0.5  # rank 3 of 0/0.499/0.5/0.9/1.0: the 2nd of 2 in (0.45, 0.50]
    assert found["by_model"][BASIC]["likeness_p50"] == 0.9


def test_likeness_lines_per_tier_and_engine_in_catalogue_order(seeded: Database) -> None:
    start = HOUR - HOUR % views.PERIOD_HOURS["7d"]
    before = start - views.PERIOD_HOURS["7d"]
    _count(
        seeded,
        _at(start, model_key="retired:old", likeness=[0.7]),
        _at(start, engine="space", likeness=[0.6, 0.4]),
        _at(before, engine="space", likeness=[0.3]),
        _at(start, likeness=[0.8]),
        _at(start, model_key=BASIC, engine="space", likeness=[0.55]),
        _at(start, model_key=ENTERPRISE, likeness=[None]),  # no face: no line
    )
    board = dashboard.read(seeded, views.View(window="7d"), now=NOW)
    assert list(board.likeness) == [("basic", "space"), ("pro", "preview"), ("pro", "space"), ("unknown", "preview")]
    assert board.likeness["pro", "space"] == [
        dashboard.LikenessPoint(start=rollup_schema.hour_start(before), scored=1, mean=0.3, ok_rate=0.0),
        dashboard.LikenessPoint(start=rollup_schema.hour_start(start), scored=2, mean=0.5, ok_rate=0.5),
    ]
    assert board.likeness["unknown", "preview"] == [
        dashboard.LikenessPoint(start=rollup_schema.hour_start(start), scored=1, mean=0.7, ok_rate=1.0)
    ]
    one_tier = dashboard.read(seeded, views.View(window="7d", tier="pro"), now=NOW)
    assert list(one_tier.likeness) == [("pro", "preview"), ("pro", "space")]

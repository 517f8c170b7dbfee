"""Dashboard figures from the rollups for a known history, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from sqlmodel import col, select

from photomaker import metrics
from photomaker.errors import RefusedError
from photomaker.store import Database, Generation, generations
from photomaker.store.rollups import rollup_table
from tests.known_history import NOW, PRO, make_known_history


@pytest.fixture
def history(database: Database) -> Database:
    make_known_history(database)
    return database


def test_summary_of_the_last_24_hours(history: Database) -> None:
    found = metrics.summary(history, metrics.View(window="24h"), now=NOW)
    expected = {
        "window": "24h",
        "tier": "all",
        "total": 6,
        "completed": 4,
        "failed": 1,
        "rejected": 1,
        "success_rate": 0.8,
        "avg_processing_s": 75.0,
        "p50_processing_s": 60.0,  # the 2nd of 10/60/100/130 s: the (45, 60] bucket's top
        "p95_processing_s": 135.0,  # the 4th, 130 s: the (120, 135] bucket's top
        "adoption_rate": 0.75,
        "avg_rating": 4.0,
        "ratings": 3,
        "rating_distribution": {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1},
        "credits_spent": 103,
        "failures_by_code": {"GENERATION_TIMEOUT": 1},
        "rejections_by_code": {"NO_FACE": 1},
        "since": "2025-06-14T12:00:00+00:00",
    }
    assert {key: found[key] for key in expected} == expected
    assert {key: (target["value"], target["met"]) for key, target in found["targets"].items()} == {
        "success_rate": (0.8, False),
        "avg_processing_s": (75.0, True),
        "p95_processing_s": (135.0, False),
        "adoption_rate": (0.75, True),
        "avg_rating": (4.0, False),
    }
    pro = found["by_model"][PRO]
    assert (pro["tier"], pro["mode"], pro["completed"], pro["failed"], pro["credits_spent"]) == (
        "pro",
        "photo",
        2,
        1,
        75,
    )
    assert list(found["by_model"]) == [
        "avatar-creator:photomaker-basic",
        "avatar-creator:photomaker-pro",
        "text-to-image:flux-schnell",
    ]


@pytest.mark.parametrize(
    ("view", "total"),
    [
        (metrics.View(window="7d"), 7),
        (metrics.View(window="7d", include_synthetic=False), 6),
        (metrics.View(window="30d", tier="enterprise"), 1),
        (metrics.View(window="all"), 8),
        (metrics.View(window="all", tier="basic"), 3),
        (metrics.View(window="24h", tier="pro"), 3),
    ],
)
def test_windows_tiers_and_synthetic_rows(history: Database, view: metrics.View, total: int) -> None:
    assert metrics.summary(history, view, now=NOW)["total"] == total


def test_adoption_compares_modes_across_all_tiers_only(history: Database) -> None:
    one_tier = metrics.summary(history, metrics.View(window="24h", tier="pro"), now=NOW)
    assert one_tier["adoption_rate"] is None and one_tier["targets"]["adoption_rate"]["met"] is None
    assert one_tier["completed_by_mode"] == {"photo": 2}


@pytest.mark.parametrize(
    ("window", "tier", "message"), [("1y", "all", "Unknown window"), ("7d", "gold", "Unknown tier")]
)
def test_an_unknown_window_or_tier_is_refused_with_the_choices(
    history: Database, window: str, tier: str, message: str
) -> None:
    with pytest.raises(RefusedError, match=message) as caught:
        metrics.summary(history, metrics.View(window=window, tier=tier), now=NOW)
    assert caught.value.code == "INVALID_PARAMS"
    assert "24h" in caught.value.message or "enterprise" in caught.value.message


def test_an_empty_database_has_no_figures_and_no_verdicts(database: Database) -> None:
    found = metrics.summary(database)
    assert found["total"] == 0
    assert found["success_rate"] is None and found["p95_processing_s"] is None and found["avg_rating"] is None
    assert all(target["met"] is None for target in found["targets"].values())
    board = metrics.dashboard(database, metrics.View(window="all"))
    assert board.success == [] and board.latency == {}


def test_series_over_time(history: Database) -> None:
    board = metrics.dashboard(history, metrics.View(window="24h"), now=NOW)
    assert board.period_hours == 1
    assert [(point.start.hour, point.completed, point.failed) for point in board.success] == [
        (6, 1, 0),
        (7, 1, 0),
        (8, 0, 1),
        (9, 1, 0),
        (10, 1, 0),
    ]
    assert set(board.latency) == {"basic", "pro", "text"}
    assert [(point.completed, point.p95_s) for point in board.latency["pro"]] == [(1, 135.0), (1, 105.0)]


def test_rollups_missing_from_an_older_database_are_built_once(history: Database) -> None:
    before = metrics.summary(history, metrics.View(window="all"), now=NOW)
    with history.session() as session:
        session.execute(delete(rollup_table))
    assert metrics.summary(history, metrics.View(window="all"), now=NOW)["total"] == 0
    metrics.rebuild_if_missing(history)
    assert metrics.summary(history, metrics.View(window="all"), now=NOW) == before


def test_a_rating_shows_in_satisfaction(history: Database) -> None:
    unrated_basic = select(Generation).where(
        Generation.status == "completed", col(Generation.rating).is_(None), Generation.engine == "preview"
    )
    with history.session() as session:
        unrated = session.exec(unrated_basic).one()
        generations.rate(session, unrated.id, user_id=unrated.user_id, stars=1)
    found = metrics.summary(history, metrics.View(window="24h"), now=NOW)
    assert (found["ratings"], found["avg_rating"]) == (4, pytest.approx(13 / 4))

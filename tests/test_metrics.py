"""Dashboard figures from the rollups for a known history, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete
from sqlmodel import col, select

from photomaker.core.errors import RefusedError
from photomaker.monitoring import dashboard, metrics, targets, views
from photomaker.startup.records import seed_models
from photomaker.store import Database, Generation, generations, rollup_rebuild, row_id, users
from photomaker.store.models import SYNTHETIC_ENGINE
from photomaker.store.rollup_schema import rollup_table
from tests.helpers import add_finished, snapshot
from tests.known_history import BASIC, ENGINE, NOW, PRO, ROWS, TEXT, make_known_history

pytestmark = pytest.mark.both_databases  # the store's own behaviour: on SQLite and PostgreSQL


@pytest.fixture
def history(database: Database) -> Database:
    make_known_history(database)
    return database


def test_summary_of_the_last_24_hours(history: Database) -> None:
    found = metrics.summary(history, views.View(window="24h"), now=NOW)
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
        "p95_processing_s": 130.0,  # the 4th, 130 s: in the (120, 135] bucket, and the slowest
        "adoption_rate": 0.75,
        "avg_rating": 4.0,
        "ratings": 3,
        "rating_distribution": {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1},
        "credits_spent": 103,
        "failures_by_code": {"GENERATION_TIMEOUT": 1},
        "rejections_by_code": {"NO_FACE": 1},
        "since": "2025-06-14T12:00:00+00:00",
        "until": NOW.isoformat(),
        "include_synthetic": True,
        "completed_by_mode": {"photo": 3, "text": 1},
        # 0.82 and 0.74 look like the person, 0.41 does not; the basic avatar had no face, the text one is not scored
        "avatars_scored": 3,
        "avatars_without_face": 1,
        "likeness_ok_rate": 2 / 3,
        "likeness_p50": 0.75,  # the 2nd of 0.41/0.74/0.82: the (0.70, 0.75] bucket's top
    }
    assert {key: found[key] for key in expected} == expected
    assert found["avg_likeness"] == pytest.approx((0.82 + 0.74 + 0.41) / 3)
    assert found["definitions"] == targets.DEFINITIONS
    assert {key: (target["value"], target["met"]) for key, target in found["targets"].items()} == {
        "success_rate": (0.8, False),
        "avg_processing_s": (75.0, True),
        "p95_processing_s": (130.0, False),
        "adoption_rate": (0.75, True),
        "avg_rating": (4.0, False),
        "likeness_ok_rate": (2 / 3, False),
    }
    assert found["targets"]["likeness_ok_rate"]["comparison"] == ">="
    pro = found["by_model"][PRO]
    assert (pro["name"], pro["tier"], pro["mode"], pro["completed"], pro["failed"], pro["credits_spent"]) == (
        "PhotoMaker V2 Pro",
        "pro",
        "photo",
        2,
        1,
        75,
    )
    # its own completed times (100 and 130 s) and ratings (5 and 4), not the whole window's; p50 reads the top of
    # 100 s's bucket, (90, 105], and p95 its own slowest time, not the top of (120, 135]
    assert (pro["avg_processing_s"], pro["p50_processing_s"], pro["p95_processing_s"]) == (115.0, 105.0, 130.0)
    assert (pro["avg_rating"], pro["ratings"], pro["success_rate"]) == (4.5, 2, 2 / 3)
    assert (pro["avatars_scored"], pro["likeness_ok_rate"], pro["avatars_without_face"]) == (3, 2 / 3, 0)
    basic, text = found["by_model"][BASIC], found["by_model"][TEXT]
    assert (basic["avatars_scored"], basic["avatars_without_face"], basic["likeness_ok_rate"]) == (0, 1, None)
    assert (text["avatars_scored"], text["avatars_without_face"], text["likeness_p50"]) == (0, 0, None)
    assert list(found["by_model"]) == [
        "avatar-creator:photomaker-basic",
        "avatar-creator:photomaker-pro",
        "text-to-image:flux-schnell",
    ]


TALLY_KEYS = (
    "avatars_asked",
    "avatars_kept",
    "avatars_made",
    "avatars_alike_first_try",
    "first_try_alike_rate",
    "kept_rate",
    "tries_per_kept_avatar",
)
NO_TALLY = (0, 0, 0, 0, None, None, None)


def _tally(figures: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(figures[key] for key in TALLY_KEYS)


def test_the_likeness_check_before_and_after_it(history: Database) -> None:
    """Asked, kept, made, alike at the first try; first-try rate, kept rate, tries per kept avatar (see ROWS)."""
    for view, expected in [
        (views.View(window="24h"), (3, 2, 3, 1, 1 / 3, 2 / 3, 1.5)),
        (views.View(window="24h", tier="pro"), (2, 1, 2, 0, 0.0, 0.5, 2.0)),
        (views.View(window="24h", tier="basic"), (1, 1, 1, 1, 1.0, 1.0, 1.0)),  # no face found: kept at once
        (views.View(window="7d"), (5, 3, 6, 2, 0.4, 0.6, 2.0)),
        (views.View(window="7d", include_synthetic=False), (3, 2, 3, 1, 1 / 3, 2 / 3, 1.5)),
        (views.View(window="all"), (9, 3, 10, 2, 2 / 9, 1 / 3, 10 / 3)),
        # no photo to avatar generation with a tally: the text tier's is not counted, enterprise has none in a day
        (views.View(window="24h", tier="text"), NO_TALLY),
        (views.View(window="24h", tier="enterprise"), NO_TALLY),
    ]:
        assert _tally(metrics.summary(history, view, now=NOW)) == expected, view
    by_model = metrics.summary(history, views.View(window="24h"), now=NOW)["by_model"]
    assert {key: _tally(model) for key, model in by_model.items()} == {
        BASIC: (1, 1, 1, 1, 1.0, 1.0, 1.0),
        PRO: (2, 1, 2, 0, 0.0, 0.5, 2.0),  # the generation made before packs counts in neither
        TEXT: NO_TALLY,
    }


def test_a_window_that_kept_no_avatar_has_rates_of_0_and_no_tries_per_kept_avatar(database: Database) -> None:
    seed_models(database)
    with database.session() as session:
        user_id = row_id(users.get_or_create_user(session, "ops", starting_credits=0))
    tally = {"images_asked": 2, "images_kept": 0, "candidates": 4, "alike_first_try": 0}
    add_finished(database, user_id, model_key=PRO, mode="photo", status="failed", error_code="NOT_ALIKE", **tally)
    assert _tally(metrics.summary(database, views.View(window="24h"))) == (2, 0, 4, 0, 0.0, 0.0, None)


def test_windows_tiers_and_synthetic_rows(history: Database) -> None:
    for view, total in [
        (views.View(window="7d"), 7),
        (views.View(window="7d", include_synthetic=False), 6),
        (views.View(window="30d", tier="enterprise"), 1),
        (views.View(window="all"), 8),
        (views.View(window="all", tier="basic"), 3),
        (views.View(window="24h", tier="pro"), 3),
    ]:
        assert metrics.summary(history, view, now=NOW)["total"] == total, view


def test_adoption_compares_modes_across_all_tiers_only_and_says_so(history: Database) -> None:
    one_tier = metrics.summary(history, views.View(window="24h", tier="pro"), now=NOW)
    assert one_tier["adoption_rate"] is None
    assert one_tier["targets"]["adoption_rate"] == {
        "value": None,
        "target": 0.30,
        "comparison": ">",
        "met": None,
        "not_applicable": "one tier has one mode: choose All tiers",
    }
    assert one_tier["completed_by_mode"] == {"photo": 2}
    assert [key for key, checked in one_tier["targets"].items() if "not_applicable" in checked] == ["adoption_rate"]
    every_tier = metrics.summary(history, views.View(window="24h"), now=NOW)
    assert not [key for key, checked in every_tier["targets"].items() if "not_applicable" in checked]
    empty_tier = metrics.summary(history, views.View(window="24h", tier="enterprise"), now=NOW)
    assert empty_tier["targets"]["adoption_rate"]["not_applicable"] == metrics.ONE_TIER_ADOPTION  # data or none


def test_an_unknown_window_or_tier_is_refused_with_the_choices(history: Database) -> None:
    windows = ", ".join(views.WINDOWS)
    tiers = ", ".join(views.tiers(history))  # all, then the catalogue's tiers
    assert tiers == "all, basic, pro, enterprise, text"
    for view, message in [
        (views.View(window="1y"), f"Unknown window '1y'; choose one of {windows}."),
        (views.View(window="7d", tier="gold"), f"Unknown tier 'gold'; choose {tiers}."),
    ]:
        with pytest.raises(RefusedError) as caught:
            metrics.summary(history, view, now=NOW)
        assert (caught.value.code, caught.value.message) == ("INVALID_PARAMS", message)


def test_each_tier_shows_only_its_own_models(history: Database) -> None:
    everything = metrics.summary(history, views.View(window="all"), now=NOW)
    totals = 0
    for tier in views.tiers(history)[1:]:
        found = metrics.summary(history, views.View(window="all", tier=tier), now=NOW)
        assert found["tier"] == tier
        assert list(found["by_model"]) == [key for key, row in everything["by_model"].items() if row["tier"] == tier]
        assert found["total"] == sum(row["total"] for row in found["by_model"].values())
        totals += found["total"]
    assert totals == everything["total"] == len(ROWS)


def test_demo_rows_are_left_out_on_request(history: Database) -> None:
    synthetic = [row for row in ROWS if row[ENGINE] == SYNTHETIC_ENGINE]
    assert synthetic  # the known history holds a synthetic generation
    found = metrics.summary(history, views.View(window="all", include_synthetic=False), now=NOW)
    assert found["include_synthetic"] is False
    assert found["total"] == len(ROWS) - len(synthetic)
    assert not {row[1] for row in synthetic} & set(found["by_model"])
    kept = metrics.summary(history, views.View(window="all", include_synthetic=True), now=NOW)
    assert (kept["include_synthetic"], kept["total"]) == (True, len(ROWS))


def test_an_empty_database_has_no_figures_and_no_verdicts(database: Database) -> None:
    found = metrics.summary(database)
    assert found["total"] == 0
    assert found["success_rate"] is None and found["p95_processing_s"] is None and found["avg_rating"] is None
    assert found["likeness_p50"] is None and found["likeness_ok_rate"] is None and found["avg_likeness"] is None
    assert (found["avatars_scored"], found["avatars_without_face"]) == (0, 0)
    assert _tally(found) == NO_TALLY
    assert all(target["met"] is None for target in found["targets"].values())
    board = dashboard.read(database, views.View(window="all"))
    assert board.success == [] and board.latency == {} and board.likeness == {}


def test_series_over_time(history: Database) -> None:
    board = dashboard.read(history, views.View(window="24h"), now=NOW)
    assert board.period_hours == 1
    assert [(point.start.hour, point.completed, point.failed) for point in board.success] == [
        (6, 1, 0),
        (7, 1, 0),
        (8, 0, 1),
        (9, 1, 0),
        (10, 1, 0),
    ]
    assert set(board.latency) == {"basic", "pro", "text"}
    assert [(point.completed, point.p95_s) for point in board.latency["pro"]] == [(1, 130.0), (1, 100.0)]
    assert board.likeness == {  # the basic avatar had no face and the text one is never scored: no line for them
        ("pro", "preview"): [
            dashboard.LikenessPoint(
                start=NOW.replace(minute=0) - timedelta(hours=3), scored=2, mean=0.575, ok_rate=0.5
            ),
            dashboard.LikenessPoint(start=NOW.replace(minute=0) - timedelta(hours=2), scored=1, mean=0.82, ok_rate=1.0),
        ]
    }
    week = dashboard.read(history, views.View(window="7d"), now=NOW).likeness
    assert list(week) == [("pro", "preview"), ("enterprise", "synthetic")]
    assert [(point.scored, point.mean) for point in week["enterprise", "synthetic"]] == [(1, 0.9)]


def test_rollups_are_rebuilt_from_the_rows_when_stale_or_missing_and_only_then(
    history: Database, caplog: pytest.LogCaptureFixture
) -> None:
    before = metrics.summary(history, views.View(window="all"), now=NOW)
    kept = snapshot(history)
    with caplog.at_level(logging.WARNING, logger="photomaker.monitoring.metrics"):
        rollup_rebuild.rebuild_if_stale(history)  # counted as the rows finished, but no layout recorded yet
        assert [record.getMessage() for record in caplog.records] == [
            f"rebuilt the monitoring rollups from {len(ROWS)} existing generations (no layout recorded)"
        ]
        caplog.clear()
        rollup_rebuild.rebuild_if_stale(history)  # current: nothing rebuilt, nothing said
        assert not caplog.records
        with history.session() as session:
            session.execute(delete(rollup_table))
        assert metrics.summary(history, views.View(window="all"), now=NOW)["total"] == 0
        rollup_rebuild.rebuild_if_stale(history)
    assert [record.getMessage() for record in caplog.records] == [
        f"rebuilt the monitoring rollups from {len(ROWS)} existing generations (missing)"
    ]
    assert metrics.summary(history, views.View(window="all"), now=NOW) == before
    assert snapshot(history) == kept
    with history.session() as session:
        session.execute(delete(rollup_table))
    assert rollup_rebuild.rebuild_now(history) == len(ROWS)  # every finished generation, recounted
    assert snapshot(history) == kept


def test_a_rating_shows_in_satisfaction(history: Database) -> None:
    unrated_basic = select(Generation).where(
        Generation.status == "completed", col(Generation.rating).is_(None), Generation.engine == "preview"
    )
    with history.session() as session:
        unrated = session.exec(unrated_basic).one()
        generations.rate(session, unrated.id, user_id=unrated.user_id, stars=1)
    found = metrics.summary(history, views.View(window="24h"), now=NOW)
    assert (found["ratings"], found["avg_rating"]) == (4, pytest.approx(13 / 4))

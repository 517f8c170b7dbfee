"""Hourly rollups: kept in step with the rows, equal to a rebuild, and equal to figures computed from raw rows.

Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from photomaker.errors import RefusedError
from photomaker.monitoring import histogram, metrics
from photomaker.runtime import seed_models
from photomaker.storage import SavedAvatar
from photomaker.store import Database, Generation, accounts, generations, rollups
from photomaker.store.rollups import rollup_table
from tests.helpers import add_finished, snapshot

NOW = datetime(2025, 6, 15, 12, 30, tzinfo=UTC)
MODELS = {
    "avatar-creator:photomaker-basic": ("photo", "basic"),
    "avatar-creator:photomaker-pro": ("photo", "pro"),
    "text-to-image:flux-schnell": ("text", "text"),
}


def _user(database: Database, name: str = "grace") -> int:
    with database.session() as session:
        return accounts.get_or_create_user(session, name, starting_credits=10_000).id


def _start(database: Database, user_id: int, *, model_key: str = "avatar-creator:photomaker-pro") -> int:
    with database.session() as session:
        draft = generations.Draft(
            user_id=user_id, model_key=model_key, mode=MODELS.get(model_key, ("photo",))[0], engine="preview"
        )
        return generations.start(session, draft, cost=25, rate_limit_per_min=10_000).id


def _complete(database: Database, generation_id: int, processing_ms: int) -> None:
    with database.session() as session:
        generations.complete(
            session,
            generation_id,
            avatars=[SavedAvatar("a.png", "a.webp", 64, 64)],
            seed=1,
            engine="preview",
            attempts=1,
            processing_ms=processing_ms,
            params={},
        )


def _rate(database: Database, generation_id: int, user_id: int, stars: int) -> int | None:
    with database.session() as session:
        return generations.rate(session, generation_id, user_id=user_id, stars=stars)


def _rollup_sums(database: Database) -> dict[str, int]:
    with database.session() as session:
        rows = rollups.aggregate(session, rollups.Scope(), by=(), sums=rollups.SUM_COLUMNS)
    return rows[0]


def test_each_final_status_is_counted_once_in_its_transaction(database: Database) -> None:
    user_id = _user(database)
    done = _start(database, user_id)
    _complete(database, done, 95_000)
    broken = _start(database, user_id)
    with database.session() as session:
        generations.fail(session, broken, code="BACKEND_UNAVAILABLE", message="down", processing_ms=3_000)
    with database.session() as session:
        assert generations.fail(session, broken, code="INTERNAL", message="again") == 0  # no second count
        draft = generations.Draft(
            user_id=user_id, model_key="avatar-creator:photomaker-pro", mode="photo", engine="preview"
        )
        generations.reject(session, draft, error=RefusedError("NO_FACE"))
    _start(database, user_id)  # still processing: not in the rollups
    sums = _rollup_sums(database)
    assert sums["generations"] == 3
    assert sums["latency_count"] == 2 and sums["latency_sum_ms"] == 98_000
    assert sums["credits"] == 50  # the raw charge of the completed and the failed row
    assert sums[histogram.COLUMNS[histogram.bucket_of(95_000)]] == 1
    with database.session() as session:
        by_status = rollups.aggregate(session, rollups.Scope(), by=("status", "error_code"), sums=("generations",))
    assert {(row["status"], row["error_code"]): row["generations"] for row in by_status} == {
        ("completed", ""): 1,
        ("failed", "BACKEND_UNAVAILABLE"): 1,
        ("rejected", "NO_FACE"): 1,
    }
    before = snapshot(database)
    with database.session() as session:
        assert rollups.rebuild(session) == 3
    assert snapshot(database) == before


def test_a_changed_rating_moves_between_star_columns(database: Database) -> None:
    user_id = _user(database)
    generation_id = _start(database, user_id)
    _complete(database, generation_id, 1_000)
    assert _rate(database, generation_id, user_id, 2) is None
    assert _rate(database, generation_id, user_id, 5) == 2
    assert _rate(database, generation_id, user_id, 5) == 5
    sums = _rollup_sums(database)
    assert [sums[f"rating_{stars}"] for stars in rollups.STARS] == [0, 0, 0, 0, 1]
    before = snapshot(database)
    with database.session() as session:
        rollups.rebuild(session)
    assert snapshot(database) == before


def test_rating_rules(database: Database) -> None:
    owner, other = _user(database, "owner"), _user(database, "other")
    generation_id = _start(database, owner)
    with pytest.raises(RefusedError, match="no avatars"):
        _rate(database, generation_id, owner, 4)  # still processing
    _complete(database, generation_id, 1_000)
    for stars in (0, 6):
        with pytest.raises(RefusedError, match="1 to 5 stars") as caught:
            _rate(database, generation_id, owner, stars)
        assert caught.value.code == "INVALID_PARAMS"
    with pytest.raises(RefusedError, match="not one of yours"):
        _rate(database, generation_id, other, 4)
    with pytest.raises(RefusedError, match="not one of yours"):
        _rate(database, generation_id + 1000, owner, 4)
    failed = _start(database, owner)
    with database.session() as session:
        generations.fail(session, failed, code="INTERNAL", message="x")
    with pytest.raises(RefusedError, match="no avatars"):
        _rate(database, failed, owner, 4)
    with database.session() as session:
        assert generations.get(session, generation_id).rating is None


def test_concurrent_finishes_and_ratings_lose_no_update(database: Database) -> None:
    """Threads finishing generations of the same model in the same hour all land in one rollup row."""
    user_ids = [_user(database, f"user{n}") for n in range(6)]
    errors: list[BaseException] = []

    def work(user_id: int) -> None:
        try:
            for n in range(5):
                generation_id = _start(database, user_id)
                _complete(database, generation_id, 1_000 * (n + 1))
                _rate(database, generation_id, user_id, 1 + n % 5)
                _rate(database, generation_id, user_id, 5)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(user_id,)) for user_id in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    sums = _rollup_sums(database)
    assert sums["generations"] == 30
    assert sums["latency_sum_ms"] == 6 * 15_000
    assert sums["rating_5"] == 30 and sum(sums[f"rating_{s}"] for s in rollups.STARS) == 30
    before = snapshot(database)
    with database.session() as session:
        rollups.rebuild(session)
    assert snapshot(database) == before


# --- rollups against raw rows, for random histories -------------------------------------------


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = []
    for _ in range(draw(st.integers(min_value=0, max_value=40))):
        model_key = draw(st.sampled_from(sorted(MODELS)))
        status = draw(st.sampled_from(["completed", "completed", "completed", "failed", "rejected"]))
        processing_ms = None
        if status == "completed" or (status == "failed" and draw(st.booleans())):
            processing_ms = draw(st.integers(min_value=0, max_value=800_000))
        rows.append(
            {
                "model_key": model_key,
                "mode": MODELS[model_key][0],
                "status": status,
                "engine": draw(st.sampled_from(["preview", "synthetic"])),
                "error_code": None
                if status == "completed"
                else draw(st.sampled_from(["NO_FACE", "INTERNAL", "GENERATION_TIMEOUT"])),
                "processing_ms": processing_ms,
                "credits_charged": 0 if status == "rejected" else draw(st.integers(min_value=1, max_value=140)),
                "created_at": NOW - timedelta(minutes=draw(st.integers(min_value=0, max_value=45 * 24 * 60))),
                "ratings": draw(st.lists(st.integers(min_value=1, max_value=5), max_size=2))
                if status == "completed"
                else [],
            }
        )
    return rows


def _load(database: Database, user_id: int, history: list[dict[str, Any]]) -> list[Generation]:
    """Write the rows as the lifecycle would (row, then its rollup, then each rating)."""
    with database.session() as session:
        session.execute(delete(rollup_table))
        session.execute(delete(Generation))
    saved = []
    for spec in history:
        fields = {key: value for key, value in spec.items() if key != "ratings"}
        generation_id = add_finished(database, user_id, **fields)
        for stars in spec["ratings"]:
            _rate(database, generation_id, user_id, stars)
        saved.append({**spec, "rating": spec["ratings"][-1] if spec["ratings"] else None})
    return saved


def _in_view(row: dict[str, Any], view: metrics.View) -> bool:
    hours = metrics.WINDOWS[view.window]
    if hours is not None and rollups.epoch_hour(row["created_at"]) < rollups.epoch_hour(NOW) - hours:
        return False
    if view.tier != "all" and MODELS[row["model_key"]][1] != view.tier:
        return False
    return view.include_synthetic or row["engine"] != "synthetic"


def _assert_within_bucket(estimate: float | None, times_ms: list[int], q: float) -> None:
    if not times_ms:
        assert estimate is None
        return
    exact = sorted(times_ms)[max(1, math.ceil(q * len(times_ms))) - 1]
    lower, upper = histogram.bucket_range_s(histogram.bucket_of(exact))
    assert lower <= estimate <= upper


def _check_view(database: Database, rows: list[dict[str, Any]], view: metrics.View) -> None:
    board = metrics.dashboard(database, view, now=NOW)
    found = board.summary
    seen = [row for row in rows if _in_view(row, view)]
    status = Counter(row["status"] for row in seen)
    completed = [row for row in seen if row["status"] == "completed"]
    times = [row["processing_ms"] for row in completed]
    rated = [row["rating"] for row in completed if row["rating"] is not None]
    assert (found["total"], found["completed"], found["failed"], found["rejected"]) == (
        len(seen),
        status["completed"],
        status["failed"],
        status["rejected"],
    )
    settled = status["completed"] + status["failed"]
    assert found["success_rate"] == (status["completed"] / settled if settled else None)
    assert found["credits_spent"] == sum(row["credits_charged"] for row in completed)
    assert found["avg_processing_s"] == (pytest.approx(sum(times) / len(times) / 1000) if times else None)
    _assert_within_bucket(found["p50_processing_s"], times, 0.50)
    _assert_within_bucket(found["p95_processing_s"], times, 0.95)
    photo = sum(1 for row in completed if row["mode"] == "photo")
    across_tiers = view.tier == "all" and completed
    assert found["adoption_rate"] == (photo / len(completed) if across_tiers else None)
    assert found["ratings"] == len(rated)
    assert found["avg_rating"] == (pytest.approx(sum(rated) / len(rated)) if rated else None)
    assert found["rating_distribution"] == {str(s): rated.count(s) for s in rollups.STARS}
    assert found["failures_by_code"] == dict(Counter(r["error_code"] for r in seen if r["status"] == "failed"))
    assert found["rejections_by_code"] == dict(Counter(r["error_code"] for r in seen if r["status"] == "rejected"))
    assert {key: model["total"] for key, model in found["by_model"].items()} == dict(
        Counter(row["model_key"] for row in seen)
    )
    period = board.period_hours * 3600
    per_period = Counter(
        (int(row["created_at"].timestamp()) // period, row["status"]) for row in seen if row["status"] != "rejected"
    )
    assert {
        (int(point.start.timestamp()) // period, name): count
        for point in board.success
        for name, count in (("completed", point.completed), ("failed", point.failed))
        if count
    } == dict(per_period)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories())
def test_rollup_figures_equal_figures_from_raw_rows(database: Database, history: list[dict[str, Any]]) -> None:
    seed_models(database)
    user_id = _user(database)
    rows = _load(database, user_id, history)
    incremental = snapshot(database)
    with database.session() as session:
        assert rollups.rebuild(session) == len(rows)
    assert snapshot(database) == incremental
    for view in (
        metrics.View(window="all"),
        metrics.View(window="24h"),
        metrics.View(window="7d", tier="pro"),
        metrics.View(window="30d", include_synthetic=False),
        metrics.View(window="all", tier="text", include_synthetic=False),
    ):
        _check_view(database, rows, view)

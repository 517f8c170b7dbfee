"""Hourly rollups: kept in step with the rows, equal to a rebuild, and equal to figures computed from raw rows.

Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlmodel import col

from photomaker.core.errors import RefusedError
from photomaker.faces.likeness import Likeness
from photomaker.images.avatar_files import SavedAvatar
from photomaker.monitoring import dashboard, histogram, metrics, views
from photomaker.startup.records import seed_models
from photomaker.store import (
    Avatar,
    Database,
    Generation,
    forgetting,
    generation_queries,
    generation_recovery,
    generations,
    rollup_queries,
    rollup_rebuild,
    rollup_schema,
    users,
)
from photomaker.store.models import generation_table, utcnow
from photomaker.store.rollup_schema import GATING_COLUMNS, rollup_table
from tests.helpers import add_finished, held, snapshot
from tests.migrations import move_to, tables

pytestmark = pytest.mark.both_databases  # the store's own behaviour: on SQLite and PostgreSQL

NOW = datetime(2025, 6, 15, 12, 30, tzinfo=UTC)
PRO = "avatar-creator:photomaker-pro"
MODELS = {
    "avatar-creator:photomaker-basic": ("photo", "basic"),
    "avatar-creator:photomaker-pro": ("photo", "pro"),
    "text-to-image:flux-schnell": ("text", "text"),
}


def _user(database: Database, name: str = "grace") -> int:
    with database.session() as session:
        return users.get_or_create_user(session, name, starting_credits=10_000).id


def _start(database: Database, user_id: int, *, model_key: str = PRO, images_asked: int | None = None) -> int:
    with database.session() as session:
        draft = generations.Draft(
            user_id=user_id,
            model_key=model_key,
            mode=MODELS.get(model_key, ("photo",))[0],
            engine="preview",
            images_asked=images_asked,
        )
        return generations.start(session, draft, cost=25, rate_limit_per_min=10_000, **held()).id


def _complete(
    database: Database, generation_id: int, processing_ms: int, *, likeness: Sequence[float | None] | None = None
) -> None:
    """Complete a generation with one avatar per `likeness` entry (one avatar, not scored, without any)."""
    with database.session() as session:
        generations.complete(
            session,
            generation_id,
            avatars=[SavedAvatar(f"{n}.png", f"{n}.webp", 64, 64) for n in range(len(likeness or [None]))],
            seed=1,
            engine="preview",
            attempts=1,
            processing_ms=processing_ms,
            params={},
            likeness=likeness,
        )


def _rate(database: Database, generation_id: int, user_id: int, stars: int) -> int | None:
    with database.session() as session:
        return generations.rate(session, generation_id, user_id=user_id, stars=stars)


def _rollup_sums(database: Database) -> dict[str, int]:
    with database.session() as session:
        rows = rollup_queries.aggregate(session, rollup_queries.Scope(), by=(), sums=rollup_schema.COLUMNS)
    return rows[0]


def _extremes(database: Database, **by: str) -> list[tuple[Any, ...]]:
    """Each rollup row's key values named in `by`, generations, fastest and slowest time, sorted."""
    names = (*by, "generations", rollup_schema.FASTEST_MS, rollup_schema.SLOWEST_MS)
    with database.session() as session:
        rows = session.execute(select(*(rollup_table.c[name] for name in names))).all()
    return sorted(tuple(row) for row in rows)


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
    assert sums[histogram.LATENCY.columns[histogram.LATENCY.bucket_of(95)]] == 1
    with database.session() as session:
        by_status = rollup_queries.aggregate(
            session, rollup_queries.Scope(), by=("status", "error_code"), sums=("generations",)
        )
    assert {(row["status"], row["error_code"]): row["generations"] for row in by_status} == {
        ("completed", ""): 1,
        ("failed", "BACKEND_UNAVAILABLE"): 1,
        ("rejected", "NO_FACE"): 1,
    }
    before = snapshot(database)
    with database.session() as session:
        assert rollup_rebuild.rebuild(session) == 3
    assert snapshot(database) == before


def test_a_completion_counts_its_images_likeness_in_the_same_transaction(database: Database) -> None:
    user_id = _user(database)
    _complete(database, _start(database, user_id), 1_000, likeness=[0.85, None, 0.45, 0.5])
    text = _start(database, user_id, model_key="text-to-image:flux-schnell")
    _complete(database, text, 1_000)  # a text image: never scored, not a missing face
    _complete(database, _start(database, user_id), 1_000)  # no likeness measured: counts in neither
    sums = _rollup_sums(database)
    assert {
        name: sums[name] for name in ("likeness_scored", "likeness_ok", "likeness_sum_milli", "likeness_no_face")
    } == {
        "likeness_scored": 3,
        "likeness_ok": 2,  # 0.85, and 0.5 exactly: the same person
        "likeness_sum_milli": 1_800,
        "likeness_no_face": 1,
    }
    assert {name: sums[name] for name in histogram.LIKENESS.columns if sums[name]} == {
        "likeness_le_045": 1,
        "likeness_le_050": 1,
        "likeness_le_085": 1,
    }
    broken = _start(database, user_id)
    with database.session() as session:
        generations.fail(session, broken, code="INTERNAL", message="x")
    assert _rollup_sums(database) == sums | {"generations": 4, "credits": 100}
    before = snapshot(database)
    with database.session() as session:
        assert rollup_rebuild.rebuild(session) == 4
    assert snapshot(database) == before


def _finish_with_tally(database: Database, generation_id: int, counts: generations.Counts, **outputs: Any) -> None:
    """Complete a generation with its tally (an avatar per image kept, and any other `outputs`), or fail it with
    `code`."""
    with database.session() as session:
        if code := outputs.pop("code", None):
            generations.fail(session, generation_id, code=code, message="x", processing_ms=500, counts=counts)
            return
        generations.complete(
            session,
            generation_id,
            avatars=[SavedAvatar(f"{n}.png", f"{n}.webp", 64, 64) for n in range(counts.images_kept)],
            counts=counts,
            seed=1,
            engine="preview",
            attempts=1,
            processing_ms=500,
            params={},
            **outputs,
        )


def test_the_likeness_check_s_tally_is_counted_as_each_generation_ends(database: Database) -> None:
    """Completed and failed Photo to Avatar generations add their images asked, kept, made and alike at the first
    try in the transaction that ends them. Refusals, Text to Image, rows made before packs, an abandoned row and a
    dead pack that recovery completes (no tally on either) add nothing. A rebuild gives the same."""
    seed_models(database)
    user_id = _user(database)
    pack = _start(database, user_id, images_asked=4)  # 3 kept, one unlike after its second try: refunded
    counts = generations.Counts(images_kept=3, candidates=6, alike_first_try=2)
    _finish_with_tally(database, pack, counts, likeness=[0.8, 0.7, None], refund=25, refund_note="1 did not look")
    unlike = _start(database, user_id, images_asked=2)  # none kept
    _finish_with_tally(database, unlike, generations.Counts(0, 4, 0), code="NOT_ALIKE")
    text = _start(database, user_id, model_key="text-to-image:flux-schnell", images_asked=1)
    _finish_with_tally(database, text, generations.Counts(1, 1, 0), likeness=None)
    _complete(database, _start(database, user_id), 1_000, likeness=[0.9])  # before packs: no counts at all
    abandoned = _start(database, user_id, images_asked=3)
    with database.session() as session:
        generations.fail(session, abandoned, code="INTERRUPTED", message="stopping")  # never made: no tally
        draft = generations.Draft(
            user_id=user_id, model_key="avatar-creator:photomaker-pro", mode="photo", engine="preview", images_asked=2
        )
        generations.reject(session, draft, error=RefusedError("NO_FACE"))
    dead = _start(database, user_id, images_asked=2)
    with database.session() as session:
        generations.add_avatars(session, dead, [SavedAvatar("d.png", "d.webp", 64, 64)], likeness=[0.9], style="Comic")
    with database.session() as session:
        assert generation_recovery.recover_dead(session, now=utcnow(), ended=lambda owner: True) == []
        assert (session.get(Generation, dead).status, session.get(Generation, dead).images_kept) == ("completed", 1)

    sums = _rollup_sums(database)
    assert sums["generations"] == 7
    assert {name: sums[name] for name in GATING_COLUMNS} == {
        "images_asked": 6,
        "images_kept": 3,
        "candidates": 10,
        "alike_first_try": 2,
    }
    found = metrics.summary(database, views.View(window="24h"))
    assert (found["first_try_alike_rate"], found["kept_rate"], found["tries_per_kept_avatar"]) == (2 / 6, 3 / 6, 10 / 3)
    before = snapshot(database)
    with database.session() as session:
        assert rollup_rebuild.rebuild(session) == 7
    assert snapshot(database) == before


def test_retention_and_a_user_s_deletion_change_no_rollup_and_a_rebuild_gives_the_same(database: Database) -> None:
    """Both delete avatar rows and keep the generation rows, which hold the likeness the rollups count."""
    user_id, other = _user(database), _user(database, "other")
    old, kept, theirs = _start(database, user_id), _start(database, user_id), _start(database, other)
    _complete(database, old, 1_000, likeness=[0.9, None])
    _complete(database, kept, 1_000, likeness=[0.3])
    _complete(database, theirs, 1_000, likeness=[0.7, 0.6])
    incremental = snapshot(database)
    with database.session() as session:
        session.get(Generation, old).completed_at = NOW - timedelta(days=90)
    with database.session() as session:
        assert [generation_id for _, generation_id in forgetting.forget_avatars(session, before=NOW)] == [old]
    with database.session() as session:
        assert forgetting.forget_user(session, user_id=other).avatars_deleted == 2
        assert session.execute(select(col(Avatar.generation_id))).scalars().all() == [kept]
        assert session.get(Generation, old).likeness == [0.9, None]
    assert snapshot(database) == incremental
    with database.session() as session:
        assert rollup_rebuild.rebuild(session) == 3
    assert snapshot(database) == incremental
    sums = _rollup_sums(database)
    assert (sums["likeness_scored"], sums["likeness_ok"], sums["likeness_no_face"]) == (4, 3, 1)


def test_a_database_from_before_likeness_gains_its_columns_at_zero(tmp_path: Path) -> None:
    """A rollup row of a database made before likeness (revision 0003, before Alembic) reads 0 scored avatars
    once upgraded: the columns revision 0004 adds start at their server default."""
    database = Database.connect(f"sqlite:///{tmp_path / 'old.db'}")
    move_to(database, "0003", pre_alembic=True)
    with database.engine.begin() as connection:
        old = tables(connection)[rollup_table.name]
        key = {"epoch_hour": 1, "model_key": "k", "mode": "photo", "status": "completed", "engine": "preview"}
        figures = {column.name: 1 for column in old.c if column.name not in rollup_schema.KEY and column.name != "id"}
        connection.execute(old.insert(), [figures | key | {"error_code": ""}])
    database.migrate()
    sums = _rollup_sums(database)
    assert (sums["generations"], sums["likeness_scored"], sums["likeness_no_face"]) == (1, 0, 0)
    assert all(sums[name] == 0 for name in histogram.LIKENESS.columns)
    database.dispose()


def test_a_changed_rating_moves_between_star_columns(database: Database) -> None:
    user_id = _user(database)
    generation_id = _start(database, user_id)
    _complete(database, generation_id, 1_000)
    assert _rate(database, generation_id, user_id, 2) is None
    assert _rate(database, generation_id, user_id, 5) == 2
    assert _rate(database, generation_id, user_id, 5) == 5
    sums = _rollup_sums(database)
    assert [sums[f"rating_{stars}"] for stars in rollup_schema.STARS] == [0, 0, 0, 0, 1]
    assert (sums["latency_min_ms"], sums["latency_max_ms"]) == (1_000, 1_000), "a rating moves no time"
    before = snapshot(database)
    with database.session() as session:
        rollup_rebuild.rebuild(session)
    assert snapshot(database) == before


def test_each_row_keeps_its_fastest_and_slowest_time_and_percentiles_stay_within_them(database: Database) -> None:
    """100 previews all taking 0.33-0.37 s: the histogram's bucket, (0.25, 0.5] s, alone would read a p50
    of 0.375 s, above every time seen and above the average."""
    user_id = _user(database)
    times = [330 + round(40 * n / 99) for n in range(100)]
    generation_ids = [_start(database, user_id) for _ in times]
    for generation_id, processing_ms in zip(generation_ids, times, strict=True):
        _complete(database, generation_id, processing_ms)
    _rate(database, generation_ids[0], user_id, 2)
    _rate(database, generation_ids[0], user_id, 5)  # a changed rating: the extremes stay
    with database.session() as session:
        generations.fail(session, _start(database, user_id), code="INTERNAL", message="x", processing_ms=5_000)
        draft = generations.Draft(
            user_id=user_id, model_key="avatar-creator:photomaker-pro", mode="photo", engine="preview"
        )
        generations.reject(session, draft, error=RefusedError("NO_FACE"))  # no time: no extremes
    assert _extremes(database, status="status") == [
        ("completed", 100, 330, 370),
        ("failed", 1, 5_000, 5_000),
        ("rejected", 1, None, None),
    ]
    found = metrics.summary(database, views.View(window="24h"))
    assert found["avg_processing_s"] == pytest.approx(sum(times) / 100 / 1000)
    assert 0.33 <= found["p50_processing_s"] <= found["p95_processing_s"] <= 0.37
    assert found["p50_processing_s"] == pytest.approx(0.35, abs=0.001)
    (model,) = found["by_model"].values()
    assert (model["p50_processing_s"], model["p95_processing_s"]) == (
        found["p50_processing_s"],
        found["p95_processing_s"],
    )
    (points,) = dashboard.read(database, views.View(window="24h")).latency.values()
    assert [(point.completed, point.p50_s, point.p95_s) for point in points] == [
        (100, found["p50_processing_s"], found["p95_processing_s"])
    ]
    before = snapshot(database)
    with database.session() as session:
        rollup_rebuild.rebuild(session)
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
        assert generation_queries.get(session, generation_id).rating is None


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
    assert sums["rating_5"] == 30 and sum(sums[f"rating_{s}"] for s in rollup_schema.STARS) == 30
    assert (sums["latency_min_ms"], sums["latency_max_ms"]) == (1_000, 5_000)
    before = snapshot(database)
    with database.session() as session:
        rollup_rebuild.rebuild(session)
    assert snapshot(database) == before


# --- rollups against raw rows, for random histories -------------------------------------------


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = []
    for _ in range(draw(st.integers(min_value=0, max_value=40))):
        model_key = draw(st.sampled_from(sorted(MODELS)))
        mode = MODELS[model_key][0]
        status = draw(st.sampled_from(["completed", "completed", "completed", "failed", "rejected"]))
        processing_ms = None
        if status == "completed" or (status == "failed" and draw(st.booleans())):
            processing_ms = draw(st.integers(min_value=0, max_value=800_000))
        likeness = draw(likeness_lists()) if status == "completed" and mode == "photo" else None
        created = NOW - timedelta(minutes=draw(st.integers(min_value=0, max_value=45 * 24 * 60)))
        rows.append(
            {
                "model_key": model_key,
                "mode": mode,
                "status": status,
                "engine": draw(st.sampled_from(["preview", "synthetic"])),
                "error_code": None
                if status == "completed"
                else draw(st.sampled_from(["NO_FACE", "INTERNAL", "GENERATION_TIMEOUT"])),
                "processing_ms": processing_ms,
                "credits_charged": 0 if status == "rejected" else draw(st.integers(min_value=1, max_value=140)),
                "created_at": created,
                "completed_at": created,
                "ratings": draw(st.lists(st.integers(min_value=1, max_value=5), max_size=2))
                if status == "completed"
                else [],
                "likeness": likeness,
                "avatars": len(likeness or [None]) if status == "completed" else 0,
                **(dict.fromkeys(GATING_COLUMNS) if status == "rejected" else draw(tallies())),
            }
        )
    return rows


def tallies() -> st.SearchStrategy[dict[str, int | None]]:
    """A finished row's likeness check tally as stored: all four counts, none (made before packs), or images asked
    and kept alone (a dead pack completed by recovery)."""
    count = st.integers(min_value=0, max_value=8)
    full = st.tuples(count, count, count, count).map(lambda counts: dict(zip(GATING_COLUMNS, counts, strict=True)))
    recovered = st.tuples(count, count, st.none(), st.none()).map(
        lambda counts: dict(zip(GATING_COLUMNS, counts, strict=True))
    )
    return st.one_of(full, st.just(dict.fromkeys(GATING_COLUMNS)), recovered)


def likeness_lists() -> st.SearchStrategy[list[float | None] | None]:
    """A completed Photo to Avatar row's likeness as stored: per image a score to three decimals (often on
    a bucket bound, the same-person threshold among them) or None (no face found); or None for the whole
    row, made before likeness was measured."""
    scores = st.one_of(
        st.sampled_from(histogram.LIKENESS.bounds), st.integers(min_value=0, max_value=1000).map(lambda n: n / 1000)
    )
    return st.one_of(st.none(), st.lists(st.one_of(st.none(), scores), min_size=1, max_size=4))


def _load(database: Database, user_id: int, history: list[dict[str, Any]]) -> None:
    """Write the rows as the lifecycle would (row and its avatars, then its rollup, then each rating)."""
    with database.session() as session:
        session.execute(delete(rollup_table))
        session.execute(delete(Avatar))
        session.execute(delete(Generation))
    for spec in history:
        fields = {key: value for key, value in spec.items() if key != "ratings"}
        generation_id = add_finished(database, user_id, **fields)
        for stars in spec["ratings"]:
            _rate(database, generation_id, user_id, stars)


def _raw_rows(database: Database) -> list[dict[str, Any]]:
    """The finished generation rows as stored, what every figure must agree with."""
    with database.session() as session:
        rows = session.execute(select(*(generation_table.c[name] for name in rollup_schema.SOURCE_FIELDS))).mappings()
        return [{**row, "created_at": _utc(row["created_at"])} for row in rows]


def _utc(moment: datetime) -> datetime:
    """SQLite gives naive UTC times back, PostgreSQL aware ones."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _in_view(row: dict[str, Any], view: views.View) -> bool:
    hours = views.WINDOWS[view.window]
    if hours is not None and rollup_schema.epoch_hour(row["created_at"]) < rollup_schema.epoch_hour(NOW) - hours:
        return False
    if view.tier != "all" and MODELS[row["model_key"]][1] != view.tier:
        return False
    return view.include_synthetic or row["engine"] != "synthetic"


def _assert_within_bucket(estimate: float | None, times_ms: list[int], q: float) -> None:
    if not times_ms:
        assert estimate is None
        return
    exact = sorted(times_ms)[max(1, math.ceil(q * len(times_ms))) - 1]
    lower, upper = histogram.LATENCY.bucket_range(histogram.LATENCY.bucket_of(exact / 1000))
    assert lower <= estimate <= upper


def _check_view(database: Database, rows: list[dict[str, Any]], view: views.View) -> None:
    board = dashboard.read(database, view, now=NOW)
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
    if times:
        assert min(times) / 1000 <= found["p50_processing_s"] <= found["p95_processing_s"] <= max(times) / 1000
    photo = sum(1 for row in completed if row["mode"] == "photo")
    across_tiers = view.tier == "all" and completed
    assert found["adoption_rate"] == (photo / len(completed) if across_tiers else None)
    assert found["ratings"] == len(rated)
    assert found["avg_rating"] == (pytest.approx(sum(rated) / len(rated)) if rated else None)
    assert found["rating_distribution"] == {str(s): rated.count(s) for s in rollup_schema.STARS}
    assert found["failures_by_code"] == dict(Counter(r["error_code"] for r in seen if r["status"] == "failed"))
    assert found["rejections_by_code"] == dict(Counter(r["error_code"] for r in seen if r["status"] == "rejected"))
    assert {key: model["total"] for key, model in found["by_model"].items()} == dict(
        Counter(row["model_key"] for row in seen)
    )
    _check_likeness(board, seen)
    _check_tally(found, seen)
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


def _check_likeness(board: dashboard.Dashboard, seen: list[dict[str, Any]]) -> None:
    """The likeness figures against the rows' likeness lists: counts and means exactly, p50 within a bucket."""
    images = [score for row in seen for score in row["likeness"] or ()]
    scored = [score for score in images if score is not None]
    found = board.summary
    assert (found["avatars_scored"], found["avatars_without_face"]) == (len(scored), len(images) - len(scored))
    alike = sum(1 for score in scored if Likeness(score).ok)
    assert found["likeness_ok_rate"] == (alike / len(scored) if scored else None)
    mean = sum(scored) / len(scored) if scored else None
    assert found["avg_likeness"] == (None if mean is None else pytest.approx(mean))
    if not scored:
        assert found["likeness_p50"] is None
    else:
        exact = sorted(scored)[math.ceil(0.5 * len(scored)) - 1]
        lower, upper = histogram.LIKENESS.bucket_range(histogram.LIKENESS.bucket_of(exact))
        assert lower <= found["likeness_p50"] <= upper
    per_model = Counter(row["model_key"] for row in seen for score in row["likeness"] or () if score is not None)
    by_model = {key: model["avatars_scored"] for key, model in found["by_model"].items() if model["avatars_scored"]}
    assert by_model == dict(per_model)
    period = board.period_hours * 3600
    lines: dict[tuple[str, str, int], list[float]] = {}
    for row in seen:
        for score in row["likeness"] or ():
            if score is not None:
                key = (MODELS[row["model_key"]][1], row["engine"], int(row["created_at"].timestamp()) // period)
                lines.setdefault(key, []).append(score)
    assert {
        (tier, engine, int(point.start.timestamp()) // period): (point.scored, point.ok_rate, point.mean)
        for (tier, engine), points in board.likeness.items()
        for point in points
    } == {
        key: (
            len(scores),
            sum(Likeness(score).ok for score in scores) / len(scores),
            pytest.approx(sum(scores) / len(scores)),
        )
        for key, scores in lines.items()
    }


def _tally(rows: list[dict[str, Any]]) -> tuple[Any, ...]:
    """Images asked, made, kept and alike at the first try over the rows that count (Photo to Avatar, completed or
    failed, every count on the row), then the first-try and kept rates and the tries per kept avatar."""
    counted = [
        row
        for row in rows
        if row["mode"] == "photo"
        and row["status"] in ("completed", "failed")
        and None not in (row[name] for name in GATING_COLUMNS)
    ]
    asked, kept, made, alike = (sum(row[name] for row in counted) for name in GATING_COLUMNS)
    return (
        asked,
        made,
        kept,
        alike,
        alike / asked if asked else None,
        kept / asked if asked else None,
        made / kept if kept else None,
    )


def _check_tally(found: dict[str, Any], seen: list[dict[str, Any]]) -> None:
    """The likeness check's figures against the rows' counts, overall and per model."""
    assert tuple(found[key] for key in metrics.GATING_FIGURES) == _tally(seen)
    for key, model in found["by_model"].items():
        assert tuple(model[name] for name in metrics.GATING_FIGURES) == _tally(
            [row for row in seen if row["model_key"] == key]
        )


VIEWS = (
    views.View(window="all"),
    views.View(window="24h"),
    views.View(window="7d", tier="pro"),
    views.View(window="30d", include_synthetic=False),
    views.View(window="all", tier="text", include_synthetic=False),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories())
def test_rollup_figures_equal_figures_from_raw_rows(database: Database, history: list[dict[str, Any]]) -> None:
    """Incremental rollups equal a rebuild and the figures computed from the raw generation rows, and stay
    so after retention and a user's deletion have removed every avatar row."""
    seed_models(database)
    user_id = _user(database)
    _load(database, user_id, history)
    incremental = snapshot(database)
    with database.session() as session:
        assert rollup_rebuild.rebuild(session) == len(history)
    assert snapshot(database) == incremental
    rows = _raw_rows(database)
    for view in VIEWS:
        _check_view(database, rows, view)
    with database.session() as session:
        forgetting.forget_avatars(session, before=NOW - timedelta(days=10))
        forgetting.forget_user(session, user_id=user_id)
        assert session.execute(select(col(Avatar.id))).first() is None
    assert snapshot(database) == incremental
    with database.session() as session:
        rollup_rebuild.rebuild(session)
    assert snapshot(database) == incremental
    assert _raw_rows(database) == rows

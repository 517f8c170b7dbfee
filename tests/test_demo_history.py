"""Demo history: synthetic rows through the store, the rollups a rebuild would give, and deletion."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from photomaker.monitoring import dashboard, demo_history, metrics, views
from photomaker.startup.records import seed_models
from photomaker.store import Avatar, Database, Generation, rollup_rebuild, users
from tests.helpers import add_finished, snapshot
from tests.known_history import NOW, PRO


@pytest.mark.both_databases
def test_fill_hide_and_delete(database: Database) -> None:
    seed_models(database)
    with database.session() as session:
        owner = users.get_or_create_user(session, "real", starting_credits=0).id
    add_finished(database, owner, model_key=PRO, mode="photo", status="completed", processing_ms=80_000, created_at=NOW)
    assert demo_history.fill(database, days=3, per_day=60, seed=7, now=NOW) == 180

    with database.session() as session:
        rows = session.exec(select(Generation).where(Generation.engine == "synthetic")).all()
    assert len(rows) == 180
    assert all(NOW - timedelta(days=3) <= row.created_at < NOW for row in rows)
    assert {row.status for row in rows} <= {"completed", "failed", "rejected"}
    assert all((row.processing_ms is None) == (row.status == "rejected") for row in rows)
    assert all(row.rating is None for row in rows if row.status != "completed")
    assert {row.mode for row in rows} == {"photo", "text"}

    bulk = snapshot(database)
    with database.session() as session:
        assert rollup_rebuild.rebuild(session) == 181
    assert snapshot(database) == bulk, "bulk rollups equal the rebuild"

    everything = metrics.summary(database, views.View(window="7d"), now=NOW)
    real_only = metrics.summary(database, views.View(window="7d", include_synthetic=False), now=NOW)
    assert everything["total"] == 181
    assert (real_only["total"], real_only["completed"], real_only["avg_processing_s"]) == (1, 1, 80.0)

    assert demo_history.clear(database) == 180
    assert metrics.summary(database, views.View(window="7d"), now=NOW) == real_only | {"include_synthetic": True}
    after = snapshot(database)
    with database.session() as session:
        rollup_rebuild.rebuild(session)
    assert snapshot(database) == after


@pytest.mark.both_databases
def test_the_same_seed_gives_the_same_history(database: Database) -> None:
    seed_models(database)
    demo_history.fill(database, days=2, per_day=25, seed=3, now=NOW)
    first = metrics.summary(database, views.View(window="all"), now=NOW)
    demo_history.clear(database)
    demo_history.fill(database, days=2, per_day=25, seed=3, now=NOW)
    assert metrics.summary(database, views.View(window="all"), now=NOW) == first


def test_demo_images_mostly_look_like_the_person_better_on_dearer_tiers(database: Database) -> None:
    seed_models(database)
    demo_history.fill(database, days=4, per_day=100, seed=11, now=NOW)
    with database.session() as session:
        rows = session.exec(select(Generation)).all()
    scored_rows = [row for row in rows if row.likeness is not None]
    assert scored_rows and all(row.status == "completed" and row.mode == "photo" for row in scored_rows)
    assert all(row.likeness is not None for row in rows if row.status == "completed" and row.mode == "photo")
    assert all(len(row.likeness) == row.images_kept for row in scored_rows)  # the images kept, only
    images = [score for row in scored_rows for score in row.likeness]
    assert all(score is None or (0 <= score <= 1 and round(score, 3) == score) for score in images)
    found = metrics.summary(database, views.View(window="7d"), now=NOW)
    assert found["avatars_scored"] + found["avatars_without_face"] == len(images)
    assert 0 < found["avatars_without_face"] < 0.1 * len(images)
    assert 0.97 < found["likeness_ok_rate"] < 1  # the check keeps alike images, bar requests with it off
    assert 0.6 < found["likeness_p50"] < 0.8
    by_tier = {
        tier: metrics.summary(database, views.View(window="7d", tier=tier), now=NOW)["avg_likeness"]
        for tier in ("basic", "pro", "enterprise")
    }
    assert by_tier["basic"] < by_tier["pro"] < by_tier["enterprise"]
    assert set(dashboard.read(database, views.View(window="7d"), now=NOW).likeness) == {
        ("basic", "synthetic"),
        ("pro", "synthetic"),
        ("enterprise", "synthetic"),
    }
    with database.session() as session:
        assert session.exec(select(Avatar)).all() == [], "demo history has no avatar rows"


def test_demo_requests_are_tallied_as_the_likeness_check_would(database: Database) -> None:
    """Each image made once, and once more when the check is on and it does not look like the person; one still
    unlike is not kept, and a request that keeps none fails with NOT_ALIKE."""
    seed_models(database)
    demo_history.fill(database, days=4, per_day=100, seed=11, now=NOW)
    with database.session() as session:
        rows = session.exec(select(Generation)).all()
    for row in rows:
        tally = (row.images_asked, row.images_kept, row.candidates, row.alike_first_try)
        if row.status == "rejected":
            assert tally == (None, None, None, None)
            continue
        asked, kept, made, alike = tally
        assert asked == row.params["num_images"]
        if row.mode == "text":
            assert tally == ((asked, asked, asked, 0) if row.status == "completed" else (asked, 0, 0, 0))
        elif row.status == "completed" or row.error_code == "NOT_ALIKE":
            assert kept == len(row.likeness or [])
            checked = made == 2 * asked - alike and alike <= kept <= asked
            assert checked or (made, kept) == (asked, asked), "with the check off, every image made is kept"
        else:
            assert tally == (asked, 0, 0, 0), "an engine failure made no image"
    assert any(row.error_code == "NOT_ALIKE" for row in rows)
    found = metrics.summary(database, views.View(window="7d"), now=NOW)
    assert found["avatars_asked"] == sum(row.images_asked or 0 for row in rows if row.mode == "photo")
    assert 0.85 < found["first_try_alike_rate"] < found["kept_rate"] < 1
    assert 1 < found["tries_per_kept_avatar"] < 1.15
    first_try = {
        tier: metrics.summary(database, views.View(window="7d", tier=tier), now=NOW)["first_try_alike_rate"]
        for tier in ("basic", "pro", "enterprise")
    }
    assert first_try["basic"] < first_try["pro"] < first_try["enterprise"]

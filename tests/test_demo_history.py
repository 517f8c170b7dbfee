"""Demo history: synthetic rows through the store, the rollups a rebuild would give, and deletion."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from photomaker.monitoring import demo_history, metrics
from photomaker.runtime import seed_models
from photomaker.store import Database, Generation, accounts, rollups
from tests.helpers import add_finished, snapshot
from tests.known_history import NOW, PRO


def test_fill_hide_and_delete(database: Database) -> None:
    seed_models(database)
    with database.session() as session:
        owner = accounts.get_or_create_user(session, "real", starting_credits=0).id
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
        assert rollups.rebuild(session) == 181
    assert snapshot(database) == bulk, "bulk rollups equal the rebuild"

    everything = metrics.summary(database, metrics.View(window="7d"), now=NOW)
    real_only = metrics.summary(database, metrics.View(window="7d", include_synthetic=False), now=NOW)
    assert everything["total"] == 181
    assert (real_only["total"], real_only["completed"], real_only["avg_processing_s"]) == (1, 1, 80.0)

    assert demo_history.clear(database) == 180
    assert metrics.summary(database, metrics.View(window="7d"), now=NOW) == real_only | {"include_synthetic": True}
    after = snapshot(database)
    with database.session() as session:
        rollups.rebuild(session)
    assert snapshot(database) == after


def test_the_same_seed_gives_the_same_history(database: Database) -> None:
    seed_models(database)
    demo_history.fill(database, days=2, per_day=25, seed=3, now=NOW)
    first = metrics.summary(database, metrics.View(window="all"), now=NOW)
    demo_history.clear(database)
    demo_history.fill(database, days=2, per_day=25, seed=3, now=NOW)
    assert metrics.summary(database, metrics.View(window="all"), now=NOW) == first

"""Generations as jobs: charged before `start_*` returns, made in the background, their progress known while
they run, their lease held while they wait, the engine's limit kept across every surface, and the queued
ones refunded when the app stops."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from photomaker.core.errors import RefusedError
from photomaker.core.settings import Settings
from photomaker.generation.jobs import Jobs
from photomaker.generation.service import WAITING_FOR_TURN
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.startup.runtime import Runtime, start_runtime
from photomaker.store import Generation
from tests.helpers import GatedEngine

FIXTURES = Path(__file__).parent / "fixtures"
VALUES = {"prompt": "a headshot", "tier": "basic"}


@pytest.fixture
def engine() -> GatedEngine:
    return GatedEngine()


@pytest.fixture
def app(tmp_path: Path, engine: GatedEngine) -> Iterator[Runtime]:
    settings = Settings(
        data_dir=tmp_path / "data",
        user_rate_limit_per_min=100,
        hf_token=None,
        remote_concurrency=1,
        generation_lease_s=0.3,
    )
    runtime = start_runtime(settings)
    runtime.service.engine = engine
    yield runtime
    engine.gate.set()
    runtime.close()


def status(runtime: Runtime, generation_id: int) -> Generation:
    with runtime.database.reading() as session:
        found = session.get(Generation, generation_id)
    assert found is not None
    return found


def credits(runtime: Runtime) -> int:
    return runtime.accounts.account("local").credits


def photos() -> list[PhotoUpload]:
    return [PhotoUpload.from_path(FIXTURES / "astronaut.png")]


def until(condition: object, *, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_job_is_charged_when_accepted_and_made_in_the_background(app: Runtime, engine: GatedEngine) -> None:
    jobs = Jobs(app.service, workers=2)
    before = credits(app)
    generation_id = jobs.start("local", VALUES, uploads=photos())
    assert status(app, generation_id).status == "processing"
    assert credits(app) < before
    assert engine.started.acquire(timeout=10)
    until(lambda: jobs.progress(generation_id) is not None and jobs.progress(generation_id).message == "Painting")
    asyncio.run(jobs.wait(generation_id, timeout_s=0.05))
    assert status(app, generation_id).status == "processing", "wait gives up after its timeout"
    engine.gate.set()
    asyncio.run(jobs.wait(generation_id, timeout_s=10))
    assert status(app, generation_id).status == "completed"
    assert jobs.progress(generation_id) is None
    jobs.close()


def test_a_refusal_is_raised_before_anything_is_charged(app: Runtime) -> None:
    jobs = Jobs(app.service, workers=1)
    before = credits(app)
    with pytest.raises(RefusedError) as refused:
        jobs.start("local", VALUES, uploads=[PhotoUpload.from_path(FIXTURES / "chelsea.png")])
    assert refused.value.code == "NO_FACE" and credits(app) == before
    jobs.close()


def test_the_engine_limit_holds_across_surfaces_and_waiting_jobs_keep_their_lease(
    app: Runtime, engine: GatedEngine
) -> None:
    jobs = Jobs(app.service, workers=2)
    first = jobs.start("local", VALUES, uploads=photos())
    assert engine.started.acquire(timeout=10)
    second = jobs.start("local", VALUES, uploads=photos())
    until(lambda: jobs.progress(second) is not None and "before yours" in jobs.progress(second).message)
    time.sleep(1.0)  # three leases long: a job waiting for its turn is not taken for dead
    assert app.service.leases.recover() == []
    assert not engine.started.acquire(timeout=0.2), "the engine's limit (1) is kept"
    engine.gate.set()
    for generation_id in (first, second):
        asyncio.run(jobs.wait(generation_id, timeout_s=10))
        assert status(app, generation_id).status == "completed"
    jobs.close()


def test_stopping_refunds_the_queued_jobs_and_finishes_the_running_one(app: Runtime, engine: GatedEngine) -> None:
    jobs = Jobs(app.service, workers=1)
    before = credits(app)
    running = jobs.start("local", VALUES, uploads=photos())
    assert engine.started.acquire(timeout=10)
    queued = jobs.start("local", VALUES, uploads=photos())
    assert jobs.progress(queued).message == WAITING_FOR_TURN
    closing = threading.Thread(target=jobs.close)
    closing.start()
    until(lambda: status(app, queued).status == "failed")
    assert status(app, queued).error_code == "INTERRUPTED"
    engine.gate.set()
    closing.join(10)
    assert status(app, running).status == "completed"
    assert credits(app) == before - status(app, running).credits_charged
    with pytest.raises(Exception) as stopped:
        jobs.start("local", VALUES, uploads=photos())
    assert getattr(stopped.value, "code", None) == "INTERRUPTED"
    assert credits(app) == before - status(app, running).credits_charged, "a job after the stop is refunded"

"""benchmarks/pack.py times what it says of one job through `jobs.run` (the engine's calls, the likeness, the
saving, the silences of its progress) and leaves the runtime as it found it."""

from __future__ import annotations

import pytest

from benchmarks.pack import one_run
from photomaker.faces import matching
from photomaker.startup.runtime import Runtime


def test_one_run_times_the_engine_the_likeness_the_saving_and_the_progress(runtime: Runtime) -> None:
    engine, measure = runtime.service.engine, matching.measure
    values = {"prompt": "a portrait", "tier": "basic", "styles": ["Cinematic", "Enhance"], "images_per_style": 1}
    run = one_run(runtime, values, pack=True)
    assert run.kept == 2 and len(run.engine) == len(run.requests) == len(run.likeness) >= 2
    assert len(run.saving) == 2, "one saving per style"
    assert 0 < sum(run.engine) + sum(run.likeness) + sum(run.saving) < run.total
    assert sum(run.silences) == pytest.approx(run.total) and len(run.silences) > 6
    assert runtime.service.engine is engine and matching.measure is measure and "_keep" not in vars(runtime.service)

"""A 12-avatar Pro pack on the preview engine against the engine's own time, and how long progress stays silent.

Runs, through `runtime.jobs.run` as every surface does, a Pro pack of the Professional preset x 3 (12 avatars at
1024 px, only those that look like the person kept) and an Enterprise x4 generation (4 avatars at 1536 px). The
engine is wrapped to time its own `generate` calls; the likeness (`matching.measure`) and the saving of each
group (the service's `_keep`: waiting for the encodings, writing the files, adding the rows) are timed where the
service calls them. Each progress message a surface sees is timed too: the longest silence is the longest time
between two of them, from the call to the outcome (the aim: at most 2 s). Prints JSON, medians over `ROUNDS`
runs after one to warm up, each run with a seed of its own:

- `total_s`: the whole job, from `jobs.run` to its outcome;
- `engine_s`: the sum of the engine's own calls within it (second tries included), and `ratio` = total / engine
  (the aim for the pack: at most 1.5);
- `engine_alone_s`: the same engine calls made again one after the other with nothing else running, and
  `ratio_to_engine_alone`;
- `stages_ms`: the median engine call, likeness measurement (of one call's images) and saving (of one group);
- `longest_silence_s` (over all runs) and its median over the runs; `load_average` before and after, as the
  machine is shared.

    python -m benchmarks.pack
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from photomaker.core.settings import Settings
from photomaker.engines.base import Engine, GenerationRequest, GenerationResult, ProgressFn, no_progress
from photomaker.faces import matching
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.startup.runtime import Runtime, start_runtime

ROOT = Path(__file__).parents[1]
PHOTO = ROOT / "tests" / "fixtures" / "astronaut.png"
ROUNDS = 5
PROMPT = "a professional headshot"
RUNS: dict[str, tuple[dict[str, Any], bool]] = {
    "pro_pack_12": ({"prompt": PROMPT, "tier": "pro", "preset": "Professional", "images_per_style": 3}, True),
    "enterprise_x4": ({"prompt": PROMPT, "tier": "enterprise", "num_images": 4}, False),
}
"""Each run's request, and whether it is a pack."""

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Timed:
    """How long each call of a wrapped function took, in seconds."""

    seconds: list[float] = field(default_factory=list)

    def wrap(self, function: F) -> F:
        def timed(*arguments: Any, **keywords: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*arguments, **keywords)
            finally:
                self.seconds.append(time.perf_counter() - start)

        return timed  # type: ignore[return-value]


class TimedEngine:
    """The runtime's engine, its `generate` calls timed and their requests kept (to make them again alone)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.name = engine.name
        self.preview = engine.preview
        self.timed = Timed()
        self.requests: list[GenerationRequest] = []
        self.generate = self.timed.wrap(self._generate)

    def _generate(self, request: GenerationRequest, progress: ProgressFn) -> GenerationResult:
        self.requests.append(request)
        return self.engine.generate(request, progress)

    def check(self) -> None:
        self.engine.check()


@dataclass(frozen=True)
class Measured:
    """One run's figures, in seconds."""

    total: float
    engine: list[float]
    likeness: list[float]
    saving: list[float]
    silences: list[float]
    requests: list[GenerationRequest]
    kept: int


def one_run(runtime: Runtime, values: Mapping[str, Any], *, pack: bool) -> Measured:
    """A job through `runtime.jobs.run`, timed: its engine calls, likeness, saving and the gaps of its progress."""
    service = runtime.service
    engine, likeness, saving = TimedEngine(service.engine), Timed(), Timed()
    plain_measure, plain_keep = matching.measure, service._keep
    service.engine = engine
    matching.measure, service._keep = likeness.wrap(plain_measure), saving.wrap(plain_keep)  # type: ignore[method-assign]
    marks: list[float] = []
    try:
        start = time.perf_counter()
        outcome = runtime.jobs.run(
            "bench",
            values,
            uploads=[PhotoUpload.from_path(PHOTO)],
            pack=pack,
            progress=lambda fraction, message: marks.append(time.perf_counter()),
        )
        end = time.perf_counter()
    finally:
        service.engine = engine.engine
        matching.measure = plain_measure
        del service._keep  # the class's own again
    return Measured(
        total=end - start,
        engine=engine.timed.seconds,
        likeness=likeness.seconds,
        saving=saving.seconds,
        silences=[later - earlier for earlier, later in itertools.pairwise([start, *marks, end])],
        requests=engine.requests,
        kept=outcome.details.images_kept,
    )


def engine_alone(engine: Engine, requests: Sequence[GenerationRequest]) -> float:
    """A run's engine calls made again, one after the other, with nothing else running."""
    start = time.perf_counter()
    for request in requests:
        engine.generate(request, no_progress)
    return time.perf_counter() - start


def _median(values: Sequence[float], *, scale: float = 1.0, digits: int = 3) -> float:
    return round(statistics.median(values) * scale, digits)


def figures(runtime: Runtime, values: Mapping[str, Any], *, pack: bool) -> dict[str, object]:
    """A run's medians over `ROUNDS`, after one to warm up."""
    one_run(runtime, {**values, "seed": 0}, pack=pack)
    runs = [one_run(runtime, {**values, "seed": seed}, pack=pack) for seed in range(1, ROUNDS + 1)]
    alone = [engine_alone(runtime.service.engine, run.requests) for run in runs]
    return {
        "total_s": _median([run.total for run in runs]),
        "engine_s": _median([sum(run.engine) for run in runs]),
        "ratio": _median([run.total / sum(run.engine) for run in runs], digits=2),
        "engine_alone_s": _median(alone),
        "ratio_to_engine_alone": _median([run.total / seconds for run, seconds in zip(runs, alone, strict=True)]),
        "engine_calls": [len(run.engine) for run in runs],
        "kept": [run.kept for run in runs],
        "stages_ms": {
            "engine_call": _median([s for run in runs for s in run.engine], scale=1000, digits=0),
            "likeness": _median([s for run in runs for s in run.likeness], scale=1000, digits=0),
            "saving": _median([s for run in runs for s in run.saving], scale=1000, digits=0),
        },
        "longest_silence_s": round(max(max(run.silences) for run in runs), 2),
        "longest_silence_median_s": _median([max(run.silences) for run in runs], digits=2),
    }


def main() -> None:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(
            data_dir=Path(data), photomaker_engine="preview", starting_credits=1_000_000, user_rate_limit_per_min=10**6
        )
        runtime = start_runtime(settings)
        try:
            report: dict[str, object] = {
                name: figures(runtime, values, pack=pack) for name, (values, pack) in RUNS.items()
            }
        finally:
            runtime.close()
    report |= {
        "rounds": ROUNDS,
        "cores": os.cpu_count(),
        "load_average": {
            "before": [round(load, 2) for load in load_before],
            "after": [round(load, 2) for load in os.getloadavg()],
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

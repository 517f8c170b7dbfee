"""How long a generation is expected to take, and how long is left of one that runs.

The catalogue's `eta_min_s`-`eta_max_s` time one image of a tier made by PhotoMaker V2 on a remote GPU; an engine
whose registry entry knows better (the preview engine takes seconds) says so in `seconds_per_image`. The page's
tier labels and its progress both read `seconds_each`, so what the page promises and what it counts down agree.
"""

from __future__ import annotations

from photomaker.engines.base import Engine
from photomaker.engines.registry import entry_of
from photomaker.store import AIModel


def seconds_each(engine: Engine, model: AIModel) -> tuple[int, int]:
    """The shortest and longest an image of `model` takes on `engine`, in seconds."""
    entry = entry_of(engine)
    own = entry.seconds_per_image if entry else None
    return own or (model.eta_min_s, model.eta_max_s)


def seconds_left(*, elapsed_s: float, done: int, total: int, expected_each_s: float) -> float:
    """What is left of a generation of `total` images with `done` made after `elapsed_s`: the expected time of
    each until the first is made, then the pace measured so far. Never below zero."""
    if done <= 0:
        return max(0.0, expected_each_s * total - elapsed_s)
    return max(0.0, elapsed_s / done * (total - done))

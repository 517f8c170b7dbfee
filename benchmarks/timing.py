"""How the benchmarks time a call: the median of several runs after one to warm up."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def median_ms(run: Callable[..., object], *arguments: Any, rounds: int) -> float:
    """The median time of `run(*arguments)` in milliseconds, after a first run that warms caches and connections."""
    run(*arguments)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run(*arguments)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 1)

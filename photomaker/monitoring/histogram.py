"""The fixed latency histogram shared by the rollups, the dashboard and Prometheus.

Generation times run from about a second (preview engine) to ten minutes (a slow tier that
retries), with the targets at 120 s; the bounds are finest there. Bucket `i` counts times
`t` with `BOUNDS_MS[i-1] < t <= BOUNDS_MS[i]` (Prometheus' `le`); the last bucket has no
upper bound. Percentiles read from it are exact to within one bucket.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from itertools import accumulate

BOUNDS_S: tuple[int, ...] = (1, 2, 5, 10, 20, 30, 45, 60, 75, 90, 105, 120, 135, 150, 180, 240, 300, 420, 600)
BOUNDS_MS: tuple[int, ...] = tuple(bound * 1000 for bound in BOUNDS_S)
BUCKETS = len(BOUNDS_S) + 1
COLUMNS: tuple[str, ...] = (*(f"le_{bound}s" for bound in BOUNDS_S), "le_inf")
"""The rollup table's column for each bucket, in order."""


def bucket_of(milliseconds: int) -> int:
    """The index of the bucket that counts this time."""
    return bisect_left(BOUNDS_MS, milliseconds)


def bucket_range_s(index: int) -> tuple[float, float]:
    """A bucket's (lower, upper] bounds in seconds; the last one's upper bound is infinity."""
    lower = 0.0 if index == 0 else float(BOUNDS_S[index - 1])
    upper = float(BOUNDS_S[index]) if index < len(BOUNDS_S) else math.inf
    return lower, upper


def quantile_s(counts: Sequence[int], q: float) -> float | None:
    """The q-quantile in seconds (nearest rank, interpolated inside its bucket); None when empty.

    A quantile in the open-ended last bucket is reported as the largest bound: "600 s or more".
    """
    cumulative = list(accumulate(counts))
    if not cumulative or cumulative[-1] == 0:
        return None
    rank = max(1, math.ceil(q * cumulative[-1]))
    index = bisect_left(cumulative, rank)
    lower, upper = bucket_range_s(index)
    if math.isinf(upper):
        return lower
    before = cumulative[index] - counts[index]
    return lower + (upper - lower) * (rank - before) / counts[index]

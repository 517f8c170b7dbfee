"""The fixed histograms shared by the rollups, the dashboard and Prometheus: generation time and likeness.

A histogram is a tuple of upper bounds: bucket `i` counts values `v` with `bounds[i-1] < v <= bounds[i]`
(Prometheus' `le`), the first bucket from 0. An open-ended histogram has one more bucket, above its
last bound, with no upper bound; a closed one refuses values above its last bound. Percentiles read
from one are exact to within one bucket. The bounds never change once rollups count into them:
each bucket is a column of the rollup table.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise


@dataclass(frozen=True)
class Histogram:
    """Fixed buckets over values from 0 up, each counted in its own rollup column."""

    bounds: tuple[float, ...]
    """The buckets' upper bounds, increasing, in the unit the figures are read in (seconds, a score)."""
    columns: tuple[str, ...]
    """The rollup table's column for each bucket, in order."""
    open_ended: bool

    def __post_init__(self) -> None:
        if len(self.columns) != len(self.bounds) + self.open_ended:
            raise ValueError("a histogram has one column per bound, and one more when open-ended")
        if any(lower >= upper for lower, upper in pairwise((0, *self.bounds))):
            raise ValueError("a histogram's bounds must rise from above 0")

    @property
    def buckets(self) -> int:
        return len(self.columns)

    def bucket_of(self, value: float) -> int:
        """The index of the bucket that counts this value."""
        index = bisect_left(self.bounds, value)
        if index == len(self.bounds) and not self.open_ended:
            raise ValueError(f"{value} is above this histogram's last bound, {self.bounds[-1]}")
        return index

    def bucket_range(self, index: int) -> tuple[float, float]:
        """A bucket's (lower, upper] bounds; an open-ended histogram's last one has infinity above."""
        lower = 0.0 if index == 0 else float(self.bounds[index - 1])
        upper = float(self.bounds[index]) if index < len(self.bounds) else math.inf
        return lower, upper

    def quantile(self, counts: Sequence[int], q: float) -> float | None:
        """The q-quantile (nearest rank, interpolated inside its bucket); None when empty.

        A quantile in the open-ended last bucket is reported as the largest bound: "that or more".
        """
        cumulative = list(accumulate(counts))
        if not cumulative or cumulative[-1] == 0:
            return None
        rank = max(1, math.ceil(q * cumulative[-1]))
        index = bisect_left(cumulative, rank)
        lower, upper = self.bucket_range(index)
        if math.isinf(upper):
            return lower
        share = (rank - cumulative[index] + counts[index]) / counts[index]
        # Never past the bucket's top, whatever the rounding of bounds such as 0.15 - 0.1.
        return min(upper, lower + (upper - lower) * share)


LATENCY_BOUNDS_S: tuple[int, ...] = (1, 2, 5, 10, 20, 30, 45, 60, 75, 90, 105, 120, 135, 150, 180, 240, 300, 420, 600)
LATENCY = Histogram(
    bounds=tuple(float(bound) for bound in LATENCY_BOUNDS_S),
    columns=(*(f"le_{bound}s" for bound in LATENCY_BOUNDS_S), "le_inf"),
    open_ended=True,
)
"""Generation time in seconds. Times run from about a second (preview engine) to ten minutes (a
slow tier that retries), with the targets at 120 s; the bounds are finest there."""

LIKENESS_PERCENTS: tuple[int, ...] = tuple(range(5, 101, 5))
LIKENESS = Histogram(
    bounds=tuple(percent / 100 for percent in LIKENESS_PERCENTS),
    columns=tuple(f"likeness_le_{percent:03d}" for percent in LIKENESS_PERCENTS),
    open_ended=False,
)
"""An avatar's likeness score, 0 to 1 (`photomaker.likeness`), in 20 buckets of 0.05: its median is
exact to within 0.05, and the same-person threshold (0.5) is a bound, so no bucket straddles it."""

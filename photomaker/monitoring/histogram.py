"""The fixed histograms shared by the rollups, the dashboard and Prometheus: generation time and likeness.

A histogram is a tuple of upper bounds: bucket `i` counts values `v` with `bounds[i-1] < v <= bounds[i]`
(Prometheus' `le`), the first bucket from 0. An open-ended histogram has one more bucket, above its
last bound, with no upper bound; a closed one refuses values above its last bound. Percentiles read
from one are exact to within one bucket, and never outside the smallest and largest values seen when
those are known. Each bucket is a column of the rollup table: rollups counted with other bounds are
rebuilt on start (`rollup_schema.LAYOUT`).
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

    def quantile(
        self, counts: Sequence[int], q: float, *, lowest: float | None = None, highest: float | None = None
    ) -> float | None:
        """The q-quantile (nearest rank, interpolated inside its bucket); None when empty.

        With the `lowest` and `highest` values seen, the interpolation runs between them where they fall
        inside the bucket, so a quantile never reads below the fastest or above the slowest value, and
        the open-ended last bucket interpolates up to `highest`. Without `highest`, a quantile there is
        reported as the largest bound: "that or more".
        """
        cumulative = list(accumulate(counts))
        if not cumulative or cumulative[-1] == 0:
            return None
        rank = max(1, math.ceil(q * cumulative[-1]))
        index = bisect_left(cumulative, rank)
        floor = -math.inf if lowest is None else lowest
        ceiling = math.inf if highest is None else highest
        lower, upper = self.bucket_range(index)
        lower, upper = max(lower, floor), min(upper, ceiling)
        if math.isinf(upper):
            return lower
        # Extremes that disagree with the counts never make the bucket run backwards.
        upper = max(lower, upper)
        share = (rank - cumulative[index] + counts[index]) / counts[index]
        # Never past the bucket's top, whatever the rounding of bounds such as 0.15 - 0.1.
        estimate = min(upper, lower + (upper - lower) * share)
        return min(ceiling, max(floor, estimate))


LATENCY_BOUNDS_MS: tuple[int, ...] = (
    *(100, 250, 500, 750, 1_000, 1_500, 2_000, 3_000, 4_000, 5_000, 6_000, 8_000, 10_000, 15_000, 20_000, 30_000),
    *(45_000, 60_000, 75_000, 90_000, 105_000, 120_000, 135_000, 150_000, 180_000, 240_000, 300_000, 420_000, 600_000),
)
LATENCY = Histogram(
    bounds=tuple(bound / 1000 for bound in LATENCY_BOUNDS_MS),
    columns=(*(f"le_{bound}ms" for bound in LATENCY_BOUNDS_MS), "le_inf"),
    open_ended=True,
)
"""Generation time in seconds, its columns named in milliseconds (`le_250ms`). Times run from a tenth
of a second (the preview engine, text on a fast GPU) through a few seconds (a GPU engine) to ten
minutes (a slow tier that retries), with the targets at 120 s: buckets are at most a quarter second
wide up to 1 s, half a second up to 2 s, two seconds up to 10 s, and 15 s from 30 s to 150 s. A
time in whole milliseconds divided by 1000 is the same float as its bound when equal to it, so a
time on a bound counts below it."""

LIKENESS_PERCENTS: tuple[int, ...] = tuple(range(5, 101, 5))
LIKENESS = Histogram(
    bounds=tuple(percent / 100 for percent in LIKENESS_PERCENTS),
    columns=tuple(f"likeness_le_{percent:03d}" for percent in LIKENESS_PERCENTS),
    open_ended=False,
)
"""An avatar's likeness score, 0 to 1 (`photomaker.faces.likeness`), in 20 buckets of 0.05: its median is
exact to within 0.05, and the same-person threshold (0.5) is a bound, so no bucket straddles it."""

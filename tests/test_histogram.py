"""The fixed latency histogram: bucket edges and percentiles within one bucket."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from photomaker import histogram


def test_bounds_are_inclusive_upper_edges_like_prometheus_le() -> None:
    assert histogram.bucket_of(0) == 0
    assert histogram.bucket_of(1000) == 0
    assert histogram.bucket_of(1001) == 1
    assert histogram.bucket_of(120_000) == histogram.BOUNDS_S.index(120)
    assert histogram.bucket_of(600_000) == len(histogram.BOUNDS_S) - 1
    assert histogram.bucket_of(600_001) == len(histogram.BOUNDS_S)
    assert len(histogram.COLUMNS) == histogram.BUCKETS
    assert histogram.bucket_range_s(histogram.BUCKETS - 1) == (600.0, math.inf)


def test_quantile_of_nothing_is_none() -> None:
    assert histogram.quantile_s([0] * histogram.BUCKETS, 0.5) is None
    assert histogram.quantile_s([], 0.5) is None


def test_quantile_interpolates_inside_the_bucket() -> None:
    counts = [0] * histogram.BUCKETS
    counts[histogram.bucket_of(100_000)] = 4  # four times in (90, 105] s
    assert histogram.quantile_s(counts, 0.5) == pytest.approx(90 + 15 * 2 / 4)
    assert histogram.quantile_s(counts, 1.0) == pytest.approx(105)


@given(st.lists(st.integers(min_value=0, max_value=900_000), min_size=1, max_size=300), st.sampled_from([0.5, 0.95]))
def test_quantile_is_within_the_bucket_of_the_exact_value(times_ms: list[int], q: float) -> None:
    counts = [0] * histogram.BUCKETS
    for value in times_ms:
        counts[histogram.bucket_of(value)] += 1
    exact = sorted(times_ms)[max(1, math.ceil(q * len(times_ms))) - 1]
    lower, upper = histogram.bucket_range_s(histogram.bucket_of(exact))
    estimate = histogram.quantile_s(counts, q)
    assert lower <= estimate <= upper

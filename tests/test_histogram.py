"""The fixed latency histogram: bucket edges and percentiles within one bucket."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from photomaker.monitoring import histogram


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


def _counts(*times_s: float) -> list[int]:
    """A histogram of these times (in seconds), built the way the rollups build it."""
    counts = [0] * histogram.BUCKETS
    for seconds in times_s:
        counts[histogram.bucket_of(round(seconds * 1000))] += 1
    return counts


@pytest.mark.parametrize("index", range(len(histogram.BOUNDS_MS)))
def test_a_time_exactly_on_a_bound_is_counted_below_it_and_one_ms_more_above_it(index: int) -> None:
    bound = histogram.BOUNDS_MS[index]
    assert histogram.bucket_of(bound) == index
    assert histogram.bucket_of(bound - 1) == index
    assert histogram.bucket_of(bound + 1) == index + 1


def test_the_buckets_tile_the_time_line_from_zero_up() -> None:
    ranges = [histogram.bucket_range_s(index) for index in range(histogram.BUCKETS)]
    assert ranges[0][0] == 0.0
    assert [upper for _, upper in ranges] == [*map(float, histogram.BOUNDS_S), math.inf]
    assert all(lower == previous_upper for (_, previous_upper), (lower, _) in itertools.pairwise(ranges))


@pytest.mark.parametrize("index", range(len(histogram.BOUNDS_MS)))
def test_the_quantile_of_a_time_on_a_bound_is_that_bound_and_one_ms_more_reads_the_next_bucket(index: int) -> None:
    on_bound = [0] * histogram.BUCKETS
    on_bound[histogram.bucket_of(histogram.BOUNDS_MS[index])] = 1
    past_bound = [0] * histogram.BUCKETS
    past_bound[histogram.bucket_of(histogram.BOUNDS_MS[index] + 1)] = 1
    assert histogram.quantile_s(on_bound, 0.5) == histogram.BOUNDS_S[index]
    # the next bucket's top, or for the last bound the open-ended bucket, read as its lower bound
    expected = histogram.BOUNDS_S[min(index + 1, len(histogram.BOUNDS_S) - 1)]
    assert histogram.quantile_s(past_bound, 0.5) == expected


def test_the_open_ended_last_bucket_reads_as_its_lower_bound() -> None:
    counts = [0] * histogram.BUCKETS
    counts[-1] = 3
    largest = float(histogram.BOUNDS_S[-1])
    assert histogram.bucket_of(histogram.BOUNDS_MS[-1] + 1) == histogram.BUCKETS - 1
    assert histogram.quantile_s(counts, 0.5) == largest
    assert histogram.quantile_s(counts, 0.95) == largest
    # a p95 in the last bucket while the p50 is below it
    below = _counts(*[100] * 19, 700)
    assert histogram.quantile_s(below, 0.95) == pytest.approx(105.0)  # rank 19 of 20: still the (90, 105] bucket
    below[-1] += 1
    assert histogram.quantile_s(below, 0.95) == largest  # rank 20 of 21: the 600 s or more bucket


def test_a_single_time_has_quantiles() -> None:
    one = _counts(50)  # the (45, 60] bucket
    assert histogram.quantile_s(one, 0.5) == 60.0
    assert histogram.quantile_s(one, 0.95) == 60.0
    assert histogram.quantile_s(one, 0.0) == 60.0  # the rank is at least 1


def test_p50_and_p95_of_known_counts() -> None:
    # 10 times in (45, 60] s, 9 in (105, 120] s, 1 in (120, 135] s
    counts = _counts(*[50] * 10, *[110] * 9, 130)
    assert histogram.quantile_s(counts, 0.5) == pytest.approx(60.0)  # rank 10: the top of (45, 60]
    assert histogram.quantile_s(counts, 0.95) == pytest.approx(120.0)  # rank 19: the top of (105, 120]
    assert histogram.quantile_s(counts, 1.0) == pytest.approx(135.0)


def test_quantiles_interpolate_above_the_times_before_their_bucket() -> None:
    counts = _counts(1.5, 1.5, 100, 100, 100, 100)  # 2 in (1, 2] s, 4 in (90, 105] s
    assert histogram.quantile_s(counts, 0.5) == pytest.approx(90 + 15 * 1 / 4)  # rank 3, the 1st of 4 in the bucket
    assert histogram.quantile_s(counts, 0.95) == pytest.approx(105.0)  # rank 6, the 4th of 4
    assert histogram.quantile_s(counts, 0.3) == pytest.approx(2.0)  # rank 2, the 2nd of 2 in (1, 2]


@pytest.mark.parametrize(
    ("times_s", "q", "expected"),
    [
        # 7 times, p50 rank ceil(3.5) = 4 (floor: 3, in (45, 60] or lower in (90, 105])
        ((50, 50, 100, 100, 100, 130, 130), 0.5, 90 + 15 * 2 / 3),
        # 7 times, p95 rank ceil(6.65) = 7 (floor: 6, half way up (120, 135])
        ((50, 50, 100, 100, 100, 130, 130), 0.95, 135.0),
        # 5 times, p50 rank ceil(2.5) = 3: (90, 105] (floor and round half to even: 2, in (45, 60])
        ((50, 50, 100, 130, 130), 0.5, 105.0),
        # 2 times, p95 rank ceil(1.9) = 2: the slower one's bucket (floor: the faster one's)
        ((50, 130), 0.95, 135.0),
        # 2 times, p50 rank 1: the faster one's bucket
        ((50, 130), 0.5, 60.0),
    ],
)
def test_the_rank_is_rounded_up(times_s: tuple[float, ...], q: float, expected: float) -> None:
    assert histogram.quantile_s(_counts(*times_s), q) == pytest.approx(expected)

"""The fixed histograms: bucket edges and percentiles within one bucket (and within the values seen), for
generation time and likeness."""

from __future__ import annotations

import itertools
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from photomaker.monitoring import histogram
from photomaker.monitoring.histogram import LATENCY, LIKENESS, Histogram


def _ms(milliseconds: int) -> int:
    """The latency bucket of a time in whole milliseconds, as the rollups count it."""
    return LATENCY.bucket_of(milliseconds / 1000)


BOUNDS_MS = histogram.LATENCY_BOUNDS_MS


def test_latency_bounds_are_inclusive_upper_edges_like_prometheus_le() -> None:
    assert _ms(0) == 0
    assert _ms(100) == 0
    assert _ms(101) == 1
    assert _ms(1000) == BOUNDS_MS.index(1000)
    assert _ms(120_000) == BOUNDS_MS.index(120_000)
    assert _ms(600_000) == len(BOUNDS_MS) - 1
    assert _ms(600_001) == len(BOUNDS_MS)
    assert LATENCY.buckets == len(LATENCY.columns) == len(BOUNDS_MS) + 1
    assert LATENCY.bucket_range(LATENCY.buckets - 1) == (600.0, math.inf)
    assert (LATENCY.columns[0], LATENCY.columns[1], LATENCY.columns[-1]) == ("le_100ms", "le_250ms", "le_inf")


def test_latency_buckets_are_fine_for_sub_second_and_few_second_times() -> None:
    """A preview (a third of a second) and a GPU engine (2.6-6 s) are told apart, up to ten minutes."""
    widths = {upper: upper - lower for lower, upper in itertools.pairwise((0, *BOUNDS_MS))}
    assert max(width for upper, width in widths.items() if upper <= 1000) == 250
    assert max(width for upper, width in widths.items() if 1000 < upper <= 2000) == 500
    assert max(width for upper, width in widths.items() if 2000 < upper <= 10_000) == 2000
    assert max(width for upper, width in widths.items() if 30_000 < upper <= 150_000) == 15_000
    assert (BOUNDS_MS[0], BOUNDS_MS[-1]) == (100, 600_000)
    assert {LATENCY.bucket_of(seconds) for seconds in (2.6, 3.5, 4.5, 5.5)} == set(range(_ms(2600), _ms(5500) + 1))


def test_latency_columns_are_plain_sql_identifiers_named_after_their_bound_in_ms() -> None:
    assert all(re.fullmatch(r"le_[0-9]+ms", column) for column in LATENCY.columns[:-1])
    assert [int(column[3:-2]) for column in LATENCY.columns[:-1]] == list(BOUNDS_MS)
    assert all(bound == ms / 1000 for bound, ms in zip(LATENCY.bounds, BOUNDS_MS, strict=True))


def test_likeness_has_20_closed_buckets_of_0_05_with_the_threshold_on_a_bound() -> None:
    assert LIKENESS.buckets == len(LIKENESS.columns) == 20
    assert LIKENESS.bounds[0] == 0.05 and LIKENESS.bounds[-1] == 1.0
    assert 0.5 in LIKENESS.bounds
    assert all(math.isclose(upper - lower, 0.05) for lower, upper in itertools.pairwise(LIKENESS.bounds))
    assert (LIKENESS.columns[0], LIKENESS.columns[9], LIKENESS.columns[-1]) == (
        "likeness_le_005",
        "likeness_le_050",
        "likeness_le_100",
    )
    assert not set(LIKENESS.columns) & set(LATENCY.columns)


@pytest.mark.parametrize("index", range(20))
def test_a_score_on_a_bound_is_counted_below_it_and_a_thousandth_more_above_it(index: int) -> None:
    bound = LIKENESS.bounds[index]
    assert LIKENESS.bucket_of(round(bound, 3)) == index  # as a stored score, rounded to three decimals
    assert LIKENESS.bucket_of(round(bound - 0.001, 3)) == index
    if index < 19:
        assert LIKENESS.bucket_of(round(bound + 0.001, 3)) == index + 1


def test_a_closed_histogram_refuses_a_value_above_its_last_bound() -> None:
    assert LIKENESS.bucket_of(0.0) == 0
    assert LIKENESS.bucket_of(1.0) == 19
    with pytest.raises(ValueError, match=r"above this histogram's last bound, 1\.0"):
        LIKENESS.bucket_of(1.001)
    assert LIKENESS.bucket_range(19) == (0.95, 1.0)


def test_a_histogram_needs_a_column_per_bucket_and_rising_bounds() -> None:
    with pytest.raises(ValueError, match="one column per bound"):
        Histogram(bounds=(1.0, 2.0), columns=("a", "b"), open_ended=True)
    with pytest.raises(ValueError, match="one column per bound"):
        Histogram(bounds=(1.0, 2.0), columns=("a",), open_ended=False)
    for bounds in ((2.0, 1.0), (1.0, 1.0), (0.0, 1.0)):
        with pytest.raises(ValueError, match="must rise from above 0"):
            Histogram(bounds=bounds, columns=("a", "b"), open_ended=False)
    shape = Histogram(bounds=(1.0, 2.0), columns=("a", "b"), open_ended=False)
    assert (shape.buckets, shape.quantile([1, 1], 1.0)) == (2, 2.0)


def test_quantile_of_nothing_is_none() -> None:
    for shape in (LATENCY, LIKENESS):
        assert shape.quantile([0] * shape.buckets, 0.5) is None
        assert shape.quantile([], 0.5) is None


def test_quantile_interpolates_inside_the_bucket() -> None:
    counts = [0] * LATENCY.buckets
    counts[_ms(100_000)] = 4  # four times in (90, 105] s
    assert LATENCY.quantile(counts, 0.5) == pytest.approx(90 + 15 * 2 / 4)
    assert LATENCY.quantile(counts, 1.0) == pytest.approx(105)
    scores = [0] * LIKENESS.buckets
    scores[LIKENESS.bucket_of(0.72)] = 4  # four scores in (0.70, 0.75]
    assert LIKENESS.quantile(scores, 0.5) == pytest.approx(0.70 + 0.05 * 2 / 4)


@given(st.lists(st.integers(min_value=0, max_value=900_000), min_size=1, max_size=300), st.sampled_from([0.5, 0.95]))
def test_quantile_is_within_the_bucket_of_the_exact_value(times_ms: list[int], q: float) -> None:
    counts = [0] * LATENCY.buckets
    for value in times_ms:
        counts[_ms(value)] += 1
    exact = sorted(times_ms)[max(1, math.ceil(q * len(times_ms))) - 1]
    lower, upper = LATENCY.bucket_range(_ms(exact))
    estimate = LATENCY.quantile(counts, q)
    assert lower <= estimate <= upper


@given(st.lists(st.integers(min_value=0, max_value=1000).map(lambda n: n / 1000), min_size=1, max_size=300))
def test_the_likeness_median_is_within_the_bucket_of_the_exact_median(scores: list[float]) -> None:
    counts = [0] * LIKENESS.buckets
    for score in scores:
        counts[LIKENESS.bucket_of(score)] += 1
    exact = sorted(scores)[max(1, math.ceil(0.5 * len(scores))) - 1]
    lower, upper = LIKENESS.bucket_range(LIKENESS.bucket_of(exact))
    assert lower <= LIKENESS.quantile(counts, 0.5) <= upper


def _counts(*times_s: float) -> list[int]:
    """A histogram of these times (in seconds), built the way the rollups build it."""
    counts = [0] * LATENCY.buckets
    for seconds in times_s:
        counts[_ms(round(seconds * 1000))] += 1
    return counts


@pytest.mark.parametrize("index", range(len(BOUNDS_MS)))
def test_a_time_exactly_on_a_bound_is_counted_below_it_and_one_ms_more_above_it(index: int) -> None:
    bound = BOUNDS_MS[index]
    assert _ms(bound) == index
    assert _ms(bound - 1) == index
    assert _ms(bound + 1) == index + 1


def test_the_buckets_tile_the_line_from_zero_up() -> None:
    for shape, top in ((LATENCY, [math.inf]), (LIKENESS, [])):
        ranges = [shape.bucket_range(index) for index in range(shape.buckets)]
        assert ranges[0][0] == 0.0
        assert [upper for _, upper in ranges] == [*shape.bounds, *top]
        assert all(lower == previous_upper for (_, previous_upper), (lower, _) in itertools.pairwise(ranges))


@pytest.mark.parametrize("index", range(len(BOUNDS_MS)))
def test_the_quantile_of_a_time_on_a_bound_is_that_bound_and_one_ms_more_reads_the_next_bucket(index: int) -> None:
    bound_ms = BOUNDS_MS[index]
    on_bound = [0] * LATENCY.buckets
    on_bound[_ms(bound_ms)] = 1
    past_bound = [0] * LATENCY.buckets
    past_bound[_ms(bound_ms + 1)] = 1
    assert LATENCY.quantile(on_bound, 0.5) == bound_ms / 1000
    # the next bucket's top, or for the last bound the open-ended bucket, read as its lower bound
    expected = BOUNDS_MS[min(index + 1, len(BOUNDS_MS) - 1)] / 1000
    assert LATENCY.quantile(past_bound, 0.5) == expected
    # knowing the one time seen, both read exactly it
    past = (bound_ms + 1) / 1000
    assert LATENCY.quantile(on_bound, 0.5, lowest=bound_ms / 1000, highest=bound_ms / 1000) == bound_ms / 1000
    assert LATENCY.quantile(past_bound, 0.5, lowest=past, highest=past) == past


def test_the_open_ended_last_bucket_reads_as_its_lower_bound() -> None:
    counts = [0] * LATENCY.buckets
    counts[-1] = 3
    largest = BOUNDS_MS[-1] / 1000
    assert _ms(BOUNDS_MS[-1] + 1) == LATENCY.buckets - 1
    assert LATENCY.quantile(counts, 0.5) == largest
    assert LATENCY.quantile(counts, 0.95) == largest
    # with the slowest time known, it interpolates up to it: 610, ?, 700 s, the 2nd of 3
    assert LATENCY.quantile(counts, 0.5, lowest=610, highest=700) == pytest.approx(610 + 90 * 2 / 3)
    assert LATENCY.quantile(counts, 1.0, lowest=610, highest=700) == 700
    assert LATENCY.quantile(counts, 0.5, lowest=650) == 650  # "that or more", from the fastest
    # a p95 in the last bucket while the p50 is below it
    below = _counts(*[100] * 19, 700)
    assert LATENCY.quantile(below, 0.95) == pytest.approx(105.0)  # rank 19 of 20: still the (90, 105] bucket
    below[-1] += 1
    assert LATENCY.quantile(below, 0.95) == largest  # rank 20 of 21: the 600 s or more bucket


def test_a_closed_histogram_s_last_bucket_interpolates_up_to_its_bound() -> None:
    counts = [0] * LIKENESS.buckets
    counts[-1] = 2
    assert LIKENESS.quantile(counts, 0.5) == pytest.approx(0.975)
    assert LIKENESS.quantile(counts, 1.0) == 1.0


def test_a_single_time_has_quantiles() -> None:
    one = _counts(50)  # the (45, 60] bucket
    assert LATENCY.quantile(one, 0.5) == 60.0
    assert LATENCY.quantile(one, 0.95) == 60.0
    assert LATENCY.quantile(one, 0.0) == 60.0  # the rank is at least 1
    assert [LATENCY.quantile(one, q, lowest=50, highest=50) for q in (0.0, 0.5, 0.95)] == [50, 50, 50]


def test_quantiles_of_a_hundred_previews_stay_within_their_times() -> None:
    """The figure found in a browser: previews all taking 0.33-0.37 s read a p50 above the average."""
    times = [0.33 + 0.04 * n / 99 for n in range(100)]
    counts = _counts(*times)
    assert LATENCY.quantile(counts, 0.5) > 0.37  # the bucket alone, (0.25, 0.5], says no better
    seen = {"lowest": min(times), "highest": max(times)}
    p50, p95 = LATENCY.quantile(counts, 0.5, **seen), LATENCY.quantile(counts, 0.95, **seen)
    assert 0.33 <= p50 <= p95 <= 0.37
    assert p50 == pytest.approx(0.35, abs=0.001) and p95 == pytest.approx(0.368, abs=0.001)


def test_p50_and_p95_of_known_counts() -> None:
    # 10 times in (45, 60] s, 9 in (105, 120] s, 1 in (120, 135] s
    counts = _counts(*[50] * 10, *[110] * 9, 130)
    assert LATENCY.quantile(counts, 0.5) == pytest.approx(60.0)  # rank 10: the top of (45, 60]
    assert LATENCY.quantile(counts, 0.95) == pytest.approx(120.0)  # rank 19: the top of (105, 120]
    assert LATENCY.quantile(counts, 1.0) == pytest.approx(135.0)


def test_quantiles_interpolate_above_the_times_before_their_bucket() -> None:
    counts = _counts(1.8, 1.8, 100, 100, 100, 100)  # 2 in (1.5, 2] s, 4 in (90, 105] s
    assert LATENCY.quantile(counts, 0.5) == pytest.approx(90 + 15 * 1 / 4)  # rank 3, the 1st of 4 in the bucket
    assert LATENCY.quantile(counts, 0.95) == pytest.approx(105.0)  # rank 6, the 4th of 4
    assert LATENCY.quantile(counts, 0.3) == pytest.approx(2.0)  # rank 2, the 2nd of 2 in (1.5, 2]
    # the fastest and slowest times narrow only their own buckets
    seen = {"lowest": 1.8, "highest": 100}
    assert LATENCY.quantile(counts, 0.5, **seen) == pytest.approx(90 + 10 * 1 / 4)  # in (90, 100]
    assert LATENCY.quantile(counts, 0.3, **seen) == pytest.approx(2.0)
    assert LATENCY.quantile(counts, 0.1, **seen) == pytest.approx(1.8 + 0.2 / 2)  # rank 1 of 2 in (1.8, 2]


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
    assert LATENCY.quantile(_counts(*times_s), q) == pytest.approx(expected)


def _seen(times_ms: list[int]) -> tuple[list[int], dict[str, float]]:
    """The histogram of these times and their extremes, as the rollups keep them."""
    counts = [0] * LATENCY.buckets
    for value in times_ms:
        counts[_ms(value)] += 1
    return counts, {"lowest": min(times_ms) / 1000, "highest": max(times_ms) / 1000}


QS = st.lists(st.floats(min_value=0, max_value=1), min_size=2, max_size=8).map(sorted)


@given(st.lists(st.integers(min_value=0, max_value=900_000), min_size=1, max_size=300), QS)
def test_quantiles_lie_within_the_times_seen_and_rise_with_q(times_ms: list[int], qs: list[float]) -> None:
    counts, seen = _seen(times_ms)
    found = [LATENCY.quantile(counts, q, **seen) for q in qs]
    assert all(seen["lowest"] <= value <= seen["highest"] for value in found)
    assert found == sorted(found)
    for q, value in zip(qs, found, strict=True):  # and still within the bucket of the exact value
        exact = sorted(times_ms)[max(1, math.ceil(q * len(times_ms))) - 1]
        lower, upper = LATENCY.bucket_range(_ms(exact))
        assert lower <= value <= upper


@given(
    st.lists(st.integers(min_value=0, max_value=50), min_size=LATENCY.buckets, max_size=LATENCY.buckets),
    st.floats(min_value=0, max_value=900),
    st.floats(min_value=0, max_value=900),
    QS,
)
def test_extremes_that_disagree_with_the_counts_still_bound_the_quantiles(
    counts: list[int], first: float, second: float, qs: list[float]
) -> None:
    """Whatever the extremes given, a quantile never leaves them and never falls as q rises."""
    lowest, highest = min(first, second), max(first, second)
    found = [LATENCY.quantile(counts, q, lowest=lowest, highest=highest) for q in qs]
    if not any(counts):
        assert found == [None] * len(qs)
        return
    assert all(value is not None and lowest <= value <= highest for value in found)
    assert found == sorted(found)

"""The `/metrics` page: Prometheus text read from the rollups at scrape time.

Counting from the database rather than in process memory means the page agrees with the
dashboard, survives restarts, and is the same whichever worker or replica answers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from itertools import accumulate

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString

from photomaker.monitoring import histogram
from photomaker.store import Database, rollups
from photomaker.store.rollups import RATING_COLUMNS, STARS, Scope

CONTENT_TYPE = CONTENT_TYPE_LATEST
LABELS = ("model_key", "mode", "status", "engine", "error_code")
LATENCY_LABELS = ("model_key", "mode", "status", "engine")
SUMS = ("generations", "credits", "latency_count", "latency_sum_ms", *RATING_COLUMNS, *histogram.COLUMNS)


class RollupCollector(Collector):
    """Generation counters, a latency histogram, credits and ratings, all time, from the rollups."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self) -> Iterator[Metric]:
        with self.database.session() as session:
            rows = rollups.aggregate(session, Scope(), by=LABELS, sums=SUMS)
        generations = CounterMetricFamily(
            "photomaker_generations",
            "Finished generations by model key, mode, final status, engine and error code.",
            labels=LABELS,
        )
        credits = CounterMetricFamily(
            "photomaker_credits_spent",
            "Credits charged for completed generations.",
            labels=("model_key", "mode", "engine"),
        )
        ratings = GaugeMetricFamily(
            "photomaker_rated_generations",
            "Generations whose current rating has this many stars (a gauge: changing a rating moves it).",
            labels=("model_key", "mode", "engine", "stars"),
        )
        buckets: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0] * histogram.BUCKETS)
        sums_ms: dict[tuple[str, ...], int] = defaultdict(int)
        for row in rows:
            generations.add_metric([row[label] for label in LABELS], row["generations"])
            model = [row["model_key"], row["mode"], row["engine"]]
            if row["status"] == "completed":
                credits.add_metric(model, row["credits"])
                for stars in STARS:
                    if row[f"rating_{stars}"]:
                        ratings.add_metric([*model, str(stars)], row[f"rating_{stars}"])
            key = tuple(row[label] for label in LATENCY_LABELS)
            for index, name in enumerate(histogram.COLUMNS):
                buckets[key][index] += row[name]
            sums_ms[key] += row["latency_sum_ms"]
        yield generations
        yield credits
        yield ratings
        yield _latency_family(buckets, sums_ms)


def _latency_family(
    buckets: dict[tuple[str, ...], list[int]], sums_ms: dict[tuple[str, ...], int]
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(
        "photomaker_generation_duration_seconds",
        "Processing time of finished generations (refusals have none).",
        labels=LATENCY_LABELS,
    )
    bounds = (*(floatToGoString(float(bound)) for bound in histogram.BOUNDS_S), "+Inf")
    for labels, counts in buckets.items():
        if any(counts):
            cumulative = list(zip(bounds, accumulate(counts), strict=True))
            family.add_metric(list(labels), cumulative, sum_value=sums_ms[labels] / 1000)
    return family


def registry_for(database: Database) -> CollectorRegistry:
    """A registry holding only our collector (nothing process-local that would differ between workers)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RollupCollector(database))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The page's body in the Prometheus text format."""
    return generate_latest(registry)

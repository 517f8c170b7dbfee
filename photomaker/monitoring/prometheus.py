"""The `/metrics` page: Prometheus text read from the rollups at scrape time.

Counting from the database rather than in process memory means the page agrees with the
dashboard, survives restarts, and is the same whichever worker or replica answers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString

from photomaker.faces.likeness import ALIKE_SCORE
from photomaker.monitoring import histogram
from photomaker.monitoring.histogram import Histogram
from photomaker.store import Database, rollup_queries, turned_away
from photomaker.store.rollup_queries import Scope
from photomaker.store.rollup_schema import GATING_COLUMNS, LIKENESS_COLUMNS, RATING_COLUMNS, STARS

CONTENT_TYPE = CONTENT_TYPE_LATEST
LABELS = ("model_key", "mode", "status", "engine", "error_code")
LATENCY_LABELS = ("model_key", "mode", "status", "engine")
MODEL_LABELS = ("model_key", "mode", "engine")
SUMS = (
    "generations",
    "credits",
    "latency_count",
    "latency_sum_ms",
    *RATING_COLUMNS,
    *histogram.LATENCY.columns,
    *LIKENESS_COLUMNS,
    *GATING_COLUMNS,
)
TALLY_COUNTERS: dict[str, tuple[str, str]] = {
    "images_asked": (
        "photomaker_avatars_asked",
        "Photo to Avatar images asked for, in generations that completed or failed with the likeness check's tally.",
    ),
    "candidates": (
        "photomaker_avatars_made",
        "Photo to Avatar images the engine made for those, second tries for a likeness included.",
    ),
    "images_kept": (
        "photomaker_avatars_kept",
        "Photo to Avatar images kept and paid for (the rest were refunded); kept / asked is the kept rate.",
    ),
    "alike_first_try": (
        "photomaker_avatars_alike_first_try",
        "Photo to Avatar images alike (or with no face found) at their first try; / asked is the first-try rate.",
    ),
}
"""The likeness check's tally: each rollup sum and its counter's name and help. made / kept is the tries per kept
avatar (`monitoring.targets.DEFINITIONS` says which generations count)."""


class _Histograms:
    """One histogram's bucket counts and sum per label values, summed over rollup rows."""

    def __init__(self, shape: Histogram, labels: tuple[str, ...], *, sum_column: str, per_unit: int) -> None:
        self.shape, self.labels, self.sum_column, self.per_unit = shape, labels, sum_column, per_unit
        self.counts: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0] * shape.buckets)
        self.sums: dict[tuple[str, ...], int] = defaultdict(int)

    def add(self, row: dict[str, Any]) -> None:
        key = tuple(row[label] for label in self.labels)
        for index, name in enumerate(self.shape.columns):
            self.counts[key][index] += row[name]
        self.sums[key] += row[self.sum_column]

    def family(self, name: str, documentation: str) -> HistogramMetricFamily:
        """In Prometheus' form: cumulative `le` buckets ending at `+Inf` (a closed histogram's total), and the sum."""
        family = HistogramMetricFamily(name, documentation, labels=self.labels)
        edges = [*(floatToGoString(bound) for bound in self.shape.bounds), "+Inf"]
        for labels, counts in self.counts.items():
            if any(counts):
                cumulative = list(accumulate(counts))
                if not self.shape.open_ended:
                    cumulative.append(cumulative[-1])
                family.add_metric(
                    list(labels), list(zip(edges, cumulative, strict=True)), sum_value=self.sums[labels] / self.per_unit
                )
        return family


class _CompletedFigures:
    """Credits, star ratings and likeness verdicts of completed generations, per model key, mode and engine."""

    def __init__(self) -> None:
        self.credits = CounterMetricFamily(
            "photomaker_credits_spent",
            "Credits charged for completed generations.",
            labels=MODEL_LABELS,
        )
        self.ratings = GaugeMetricFamily(
            "photomaker_rated_generations",
            "Generations whose current rating has this many stars (a gauge: changing a rating moves it).",
            labels=(*MODEL_LABELS, "stars"),
        )
        self.alike = CounterMetricFamily(
            "photomaker_avatars_likeness_ok",
            "Scored avatars that look like the person in the photos (the face model's same-person threshold).",
            labels=MODEL_LABELS,
        )
        self.faceless = CounterMetricFamily(
            "photomaker_avatars_without_face",
            "Photo to Avatar avatars in which no face could be found, so not scored for likeness.",
            labels=MODEL_LABELS,
        )

    def add(self, row: dict[str, Any]) -> None:
        if row["status"] != "completed":
            return
        model = [row[label] for label in MODEL_LABELS]
        self.credits.add_metric(model, row["credits"])
        for stars in STARS:
            if row[f"rating_{stars}"]:
                self.ratings.add_metric([*model, str(stars)], row[f"rating_{stars}"])
        if row["likeness_scored"]:
            self.alike.add_metric(model, row["likeness_ok"])
        if row["likeness_no_face"]:
            self.faceless.add_metric(model, row["likeness_no_face"])


class _Tallies:
    """The likeness check's counters, per model key, mode and engine, over completed and failed generations (the
    only rows whose rollups hold a tally)."""

    def __init__(self) -> None:
        self.sums: dict[tuple[str, ...], dict[str, int]] = defaultdict(lambda: dict.fromkeys(GATING_COLUMNS, 0))

    def add(self, row: dict[str, Any]) -> None:
        if row["images_asked"]:
            found = self.sums[tuple(row[label] for label in MODEL_LABELS)]
            for name in GATING_COLUMNS:
                found[name] += row[name]

    def families(self) -> Iterator[CounterMetricFamily]:
        for column, (name, documentation) in TALLY_COUNTERS.items():
            family = CounterMetricFamily(name, documentation, labels=MODEL_LABELS)
            for labels, found in self.sums.items():
                family.add_metric(list(labels), found[column])
            yield family


class RollupCollector(Collector):
    """Generation counters, latency and likeness histograms, credits, ratings and the likeness check's tally, all
    time, from the rollups."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self) -> Iterator[Metric]:
        with self.database.session() as session:
            rows = rollup_queries.aggregate(session, Scope(), by=LABELS, sums=SUMS)
            turned = turned_away.total(session, since_hour=None)
        generations = CounterMetricFamily(
            "photomaker_generations",
            "Finished generations by model key, mode, final status, engine and error code.",
            labels=LABELS,
        )
        completed = _CompletedFigures()
        tallies = _Tallies()
        latency = _Histograms(histogram.LATENCY, LATENCY_LABELS, sum_column="latency_sum_ms", per_unit=1000)
        likeness = _Histograms(histogram.LIKENESS, MODEL_LABELS, sum_column="likeness_sum_milli", per_unit=1000)
        for row in rows:
            generations.add_metric([row[label] for label in LABELS], row["generations"])
            completed.add(row)
            latency.add(row)
            likeness.add(row)
            tallies.add(row)
        yield generations
        yield completed.credits
        yield completed.ratings
        yield latency.family(
            "photomaker_generation_duration_seconds", "Processing time of finished generations (refusals have none)."
        )
        yield likeness.family(
            "photomaker_avatar_likeness",
            f"Likeness of each scored avatar to the person in its photos, 0 to 1 (the same person from {ALIKE_SCORE}).",
        )
        yield completed.alike
        yield completed.faceless
        yield from tallies.families()
        yield CounterMetricFamily(
            "photomaker_requests_turned_away",
            "Requests turned away unread for too many refusals that minute (per user or address; no row each).",
            value=turned,
        )


def registry_for(database: Database) -> CollectorRegistry:
    """A registry holding only our collector (nothing process-local that would differ between workers)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RollupCollector(database))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The page's body in the Prometheus text format."""
    return generate_latest(registry)

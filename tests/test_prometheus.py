"""The Prometheus exposition: valid text format, the rollups' counts, all time."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from photomaker import prometheus
from photomaker.store import Database
from tests.known_history import PRO, make_known_history


def _samples(database: Database) -> dict[str, list]:
    text = prometheus.exposition(prometheus.registry_for(database)).decode()
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def test_counters_and_histogram_agree_with_the_history(database: Database) -> None:
    make_known_history(database)
    families = _samples(database)
    generations = families["photomaker_generations"]
    assert sum(sample.value for sample in generations) == 8
    failed = {s.labels["error_code"]: s.value for s in generations if s.labels["status"] == "failed"}
    assert failed == {"GENERATION_TIMEOUT": 1, "BACKEND_UNAVAILABLE": 1}
    assert {s.labels["engine"] for s in generations} == {"preview", "synthetic"}

    durations = families["photomaker_generation_duration_seconds"]
    pro_completed = {"model_key": PRO, "mode": "photo", "status": "completed", "engine": "preview"}
    buckets = {
        s.labels["le"]: s.value
        for s in durations
        if s.name.endswith("_bucket") and {k: s.labels[k] for k in pro_completed} == pro_completed
    }
    assert buckets["90.0"] == 0 and buckets["105.0"] == 1 and buckets["135.0"] == 2 and buckets["+Inf"] == 2
    total = next(
        s.value
        for s in durations
        if s.name.endswith("_sum") and s.labels["model_key"] == PRO and s.labels["status"] == "completed"
    )
    assert total == 230.0

    assert sum(s.value for s in families["photomaker_credits_spent"]) == 103 + 35
    assert sorted((s.labels["stars"], s.value) for s in families["photomaker_ratings"]) == [
        ("3", 1),
        ("4", 1),
        ("5", 1),
    ]


def test_an_empty_database_is_still_valid_exposition(database: Database) -> None:
    families = _samples(database)
    assert families["photomaker_generations"] == []

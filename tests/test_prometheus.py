"""The Prometheus exposition: valid text format, the rollups' counts, all time."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from photomaker.monitoring import histogram, prometheus
from photomaker.store import Database, generations
from tests.helpers import add_finished
from tests.known_history import BASIC, ENTERPRISE, PRO, make_known_history

pytestmark = pytest.mark.both_databases  # the store's own behaviour: on SQLite and PostgreSQL


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
    assert list(buckets)[:6] == ["0.1", "0.25", "0.5", "0.75", "1.0", "1.5"]  # sub-second and few-second buckets
    assert list(buckets) == [*(str(bound) for bound in histogram.LATENCY.bounds), "+Inf"]
    total = next(
        s.value
        for s in durations
        if s.name.endswith("_sum") and s.labels["model_key"] == PRO and s.labels["status"] == "completed"
    )
    assert total == 230.0

    assert sum(s.value for s in families["photomaker_credits_spent"]) == 103 + 35
    assert sorted((s.labels["stars"], s.value) for s in families["photomaker_rated_generations"]) == [
        ("3", 1),
        ("4", 1),
        ("5", 1),
    ]


def test_the_likeness_histogram_and_counts_per_model_and_engine(database: Database) -> None:
    make_known_history(database)
    text = prometheus.exposition(prometheus.registry_for(database)).decode()
    assert "# TYPE photomaker_avatar_likeness histogram" in text
    assert "# TYPE photomaker_avatars_likeness_ok_total counter" in text
    families = _samples(database)
    likeness = families["photomaker_avatar_likeness"]
    pro = {"model_key": PRO, "mode": "photo", "engine": "preview"}
    buckets = {
        s.labels["le"]: s.value
        for s in likeness
        if s.name.endswith("_bucket") and s.labels == {**pro, "le": s.labels["le"]}
    }
    assert list(buckets) == [*(str(bound) for bound in histogram.LIKENESS.bounds), "+Inf"]
    assert (buckets["0.4"], buckets["0.45"], buckets["0.7"], buckets["0.75"], buckets["0.8"], buckets["0.85"]) == (
        0,
        1,
        1,
        2,
        2,
        3,
    )
    assert buckets["1.0"] == buckets["+Inf"] == 3
    totals = {
        (s.name, s.labels["model_key"], s.labels["engine"]): s.value for s in likeness if not s.name.endswith("_bucket")
    }
    assert totals == {
        ("photomaker_avatar_likeness_count", PRO, "preview"): 3,
        ("photomaker_avatar_likeness_sum", PRO, "preview"): pytest.approx(0.82 + 0.74 + 0.41),
        ("photomaker_avatar_likeness_count", ENTERPRISE, "synthetic"): 1,
        ("photomaker_avatar_likeness_sum", ENTERPRISE, "synthetic"): pytest.approx(0.9),
    }
    alike = {(s.labels["model_key"], s.labels["engine"]): s.value for s in families["photomaker_avatars_likeness_ok"]}
    assert alike == {(PRO, "preview"): 2, (ENTERPRISE, "synthetic"): 1}
    faceless = {s.labels["model_key"]: s.value for s in families["photomaker_avatars_without_face"]}
    assert faceless == {BASIC: 1}  # the text avatar is never scored, so never counted as faceless


def test_the_likeness_check_s_counters_per_model_and_engine(database: Database) -> None:
    """Completed and failed Photo to Avatar generations with a tally (see ROWS): the text one and the one made
    before packs are not counted."""
    make_known_history(database)
    text = prometheus.exposition(prometheus.registry_for(database)).decode()
    families = _samples(database)
    found = {}
    for name in ("asked", "made", "kept", "alike_first_try"):
        family = f"photomaker_avatars_{name}"
        assert f"# TYPE {family}_total counter" in text
        assert f"# HELP {family}_total Photo to Avatar images " in text
        assert {s.name for s in families[family]} == {f"{family}_total"}
        found[name] = {(s.labels["model_key"], s.labels["mode"], s.labels["engine"]): s.value for s in families[family]}
    pro, basic, enterprise = (PRO, "photo", "preview"), (BASIC, "photo", "preview"), (ENTERPRISE, "photo", "synthetic")
    assert found == {
        "asked": {pro: 2, basic: 5, enterprise: 2},
        "made": {pro: 2, basic: 5, enterprise: 3},
        "kept": {pro: 1, basic: 1, enterprise: 1},
        "alike_first_try": {pro: 0, basic: 1, enterprise: 1},
    }


def test_a_preview_s_third_of_a_second_is_counted_in_its_own_bucket(database: Database) -> None:
    user_id = make_known_history(database)
    add_finished(database, user_id, model_key=BASIC, mode="photo", status="completed", processing_ms=350)
    durations = _samples(database)["photomaker_generation_duration_seconds"]
    basic = {
        s.labels["le"]: s.value
        for s in durations
        if s.name.endswith("_bucket") and s.labels["model_key"] == BASIC and s.labels["status"] == "completed"
    }
    assert (basic["0.25"], basic["0.5"], basic["1.0"], basic["60.0"], basic["+Inf"]) == (0, 1, 1, 2, 2)


def test_an_empty_database_is_still_valid_exposition(database: Database) -> None:
    families = _samples(database)
    assert families["photomaker_generations"] == []
    assert families["photomaker_avatar_likeness"] == [] and families["photomaker_avatars_without_face"] == []
    assert families["photomaker_avatars_asked"] == [] and families["photomaker_avatars_kept"] == []


def test_a_changed_rating_moves_between_stars_as_a_gauge(database: Database) -> None:
    user_id = make_known_history(database)
    generation_id = add_finished(
        database, user_id, model_key=PRO, mode="photo", status="completed", processing_ms=1000, credits_charged=25
    )
    for stars in (4, 2):
        with database.session() as session:
            generations.rate(session, generation_id, user_id=user_id, stars=stars)
    text = prometheus.exposition(prometheus.registry_for(database)).decode()
    assert "# TYPE photomaker_rated_generations gauge" in text
    families = _samples(database)
    by_stars = {s.labels["stars"]: s.value for s in families["photomaker_rated_generations"]}
    assert by_stars == {"2": 1, "3": 1, "4": 1, "5": 1}

"""After real preview generations, a refusal and a rating: the tab's figures, /metrics_summary,
/metrics and the CLI all report the same, and /rate_generation rates only your own."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from prometheus_client.parser import text_string_to_metric_families

from photomaker.cli.main import main
from photomaker.generation.packs import TRIES
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.monitoring import dashboard, views
from tests.ui.conftest import ServedApp

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _generate(app: ServedApp, tier: str, num_images: int) -> dict:
    _, details = app.client().predict(
        photos=[handle_file(FIXTURES / "astronaut.png")],
        prompt="a headshot",
        tier=tier,
        num_images=num_images,
        api_name="/generate_avatar",
    )
    return details


def _without_clock(summary: dict) -> dict:
    return {key: value for key, value in summary.items() if key != "until"}


def test_api_names_and_defaults(served_app: ServedApp) -> None:
    info = served_app.client().view_api(return_format="dict", print_info=False)["named_endpoints"]
    summary = {p["parameter_name"]: p.get("parameter_default") for p in info["/metrics_summary"]["parameters"]}
    assert summary == {"window": "7d", "tier": "all", "include_synthetic": True}
    rate = [p["parameter_name"] for p in info["/rate_generation"]["parameters"]]
    assert rate == ["generation_id", "stars"]


def test_everything_reports_the_same_figures(
    served_app: ServedApp, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    basic = _generate(served_app, "basic", 1)
    pro = _generate(served_app, "pro", 2)
    with pytest.raises(AppError, match=r"\[NO_FACE\]"):
        served_app.client().predict(
            photos=[handle_file(FIXTURES / "chelsea.png")], prompt="a headshot", api_name="/generate_avatar"
        )
    rated = served_app.client().predict(generation_id=pro["generation_id"], stars=4, api_name="/rate_generation")
    assert rated == {"generation_id": pro["generation_id"], "stars": 4, "previous_stars": None}
    rated = served_app.client().predict(generation_id=pro["generation_id"], stars=5, api_name="/rate_generation")
    assert rated["previous_stars"] == 4

    summary = served_app.client().predict(window="24h", api_name="/metrics_summary")
    expected = {
        "total": 3,
        "completed": 2,
        "failed": 0,
        "rejected": 1,
        "success_rate": 1.0,
        "adoption_rate": 1.0,
        "avg_rating": 5.0,
        "ratings": 1,
        "credits_spent": 18 + 50,
        "failures_by_code": {},
        "rejections_by_code": {"NO_FACE": 1},
    }
    assert {key: summary[key] for key in expected} == expected
    assert summary["avg_processing_s"] == pytest.approx((basic["processing_ms"] + pro["processing_ms"]) / 2000)
    assert summary["p95_processing_s"] is not None
    assert summary["targets"]["success_rate"] == {"value": 1.0, "target": 0.95, "comparison": ">", "met": True}
    assert summary["targets"]["avg_rating"]["met"] is True
    assert set(summary["by_model"]) == {"avatar-creator:photomaker-basic", "avatar-creator:photomaker-pro"}
    assert summary["by_model"]["avatar-creator:photomaker-basic"]["rejected"] == 0  # the refusal was a pro request
    # each of the 3 avatars scored against the photo, or counted as having no face; as the details said
    scores = [score for details in (basic, pro) for score in details["likeness"]]
    verdicts = [verdict for details in (basic, pro) for verdict in details["likeness_ok"] if verdict is not None]
    scored = [score for score in scores if score is not None]
    assert len(scores) == 3
    assert (summary["avatars_scored"], summary["avatars_without_face"]) == (len(scored), 3 - len(scored))
    assert summary["likeness_ok_rate"] == (sum(verdicts) / len(verdicts) if verdicts else None)
    assert summary["targets"]["likeness_ok_rate"]["value"] == summary["likeness_ok_rate"]
    assert summary["avg_likeness"] == (pytest.approx(sum(scored) / len(scored)) if scored else None)
    assert (summary["likeness_p50"] is None) == (not scored)

    # the likeness check: 3 images asked, those kept as the details said, each made once or twice
    kept = basic["images_kept"] + pro["images_kept"]
    assert (summary["avatars_asked"], summary["avatars_kept"], summary["kept_rate"]) == (3, kept, kept / 3)
    assert 3 <= summary["avatars_made"] <= 3 * TRIES
    assert summary["tries_per_kept_avatar"] == summary["avatars_made"] / kept
    assert summary["first_try_alike_rate"] == summary["avatars_alike_first_try"] / 3 <= summary["kept_rate"]

    board = dashboard.read(served_app.runtime.database, views.View(window="24h"))
    assert _without_clock(board.summary) == _without_clock(summary)

    scrape = httpx.get(served_app.url + "metrics", timeout=10)
    assert scrape.status_code == 200 and scrape.headers["content-type"].startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(scrape.text)}
    counts = {
        (s.labels["model_key"].rsplit("-", 1)[-1], s.labels["status"], s.labels["error_code"]): s.value
        for s in families["photomaker_generations"].samples
    }
    assert counts == {("basic", "completed", ""): 1, ("pro", "completed", ""): 1, ("pro", "rejected", "NO_FACE"): 1}
    durations = [s for s in families["photomaker_generation_duration_seconds"].samples if s.name.endswith("_count")]
    assert sum(s.value for s in durations) == 2
    assert sum(s.value for s in families["photomaker_rated_generations"].samples) == 1
    likeness = [s for s in families["photomaker_avatar_likeness"].samples if s.name.endswith("_count")]
    assert sum(s.value for s in likeness) == summary["avatars_scored"]
    for name, key in (("asked", "avatars_asked"), ("made", "avatars_made"), ("kept", "avatars_kept")):
        assert sum(s.value for s in families[f"photomaker_avatars_{name}"].samples) == summary[key]

    monkeypatch.setenv("DATA_DIR", str(served_app.runtime.settings.data_dir))
    capsys.readouterr()
    assert main(["stats", "--window", "24h", "--json"]) == 0
    assert _without_clock(json.loads(capsys.readouterr().out)) == _without_clock(summary)


def test_rate_generation_refuses_someone_elses(served_app: ServedApp) -> None:
    theirs = served_app.runtime.service.generate_avatar(
        "someone-else",
        [PhotoUpload.from_path(FIXTURES / "astronaut.png")],
        {"prompt": "a headshot", "tier": "basic"},
    )
    with pytest.raises(AppError, match=r"not one of yours.*\[NOT_FOUND\]"):
        served_app.client().predict(generation_id=theirs.generation_id, stars=5, api_name="/rate_generation")
    with pytest.raises(AppError, match=r"Rating must be between 1 and 5; you gave 9\. \[INVALID_PARAMS\]"):
        served_app.client().predict(generation_id=theirs.generation_id, stars=9, api_name="/rate_generation")


def test_metrics_summary_refuses_an_unknown_window(served_app: ServedApp) -> None:
    with pytest.raises(AppError, match=r"Unknown window '2w'.*\[INVALID_PARAMS\]"):
        served_app.client().predict(window="2w", api_name="/metrics_summary")

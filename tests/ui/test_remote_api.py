"""The API with the remote engines: the app served on 127.0.0.1, its endpoints on the fake HF server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image
from pydantic import SecretStr

from photomaker.core.settings import Settings
from stand_ins.engine_inputs import FAKE_TOKEN
from stand_ins.inference_server import Answer, FakeInferenceServer
from stand_ins.serving import ServedApp, serve

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer() as server:
        yield server


@pytest.fixture(scope="module")
def remote_app(tmp_path_factory: pytest.TempPathFactory, fake_server: FakeInferenceServer) -> Iterator[ServedApp]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("remote") / "data",
        user_rate_limit_per_min=100,
        hf_token=SecretStr(FAKE_TOKEN),
        photomaker_endpoint_url=fake_server.url,
        text_to_image_endpoint_url=fake_server.url,
        retry_backoff_s=0,
    )
    with serve(settings) as app:
        yield app


def _balance(app: ServedApp) -> int:
    return app.client().predict(api_name="/account")["credits"]


def test_generate_from_text_is_in_the_api(remote_app: ServedApp) -> None:
    info = remote_app.client().view_api(return_format="dict", print_info=False)["named_endpoints"]
    parameters = {p["parameter_name"]: p.get("parameter_default") for p in info["/generate_from_text"]["parameters"]}
    assert parameters == {
        "prompt": None,
        "model": None,
        "width": 1024,
        "height": 1024,
        "negative_prompt": "",
        "num_images": 1,
        "seed": -1,
        "project": "My avatars",
    }


def test_generate_from_text(remote_app: ServedApp, fake_server: FakeInferenceServer) -> None:
    before = _balance(remote_app)
    fake_server.script(Answer.image(width=1024, height=1024), Answer.image(width=1024, height=1024))
    files, details = remote_app.client().predict(
        prompt="a lighthouse at dusk, oil painting", num_images=2, seed=9, api_name="/generate_from_text"
    )
    assert len(files) == 2
    with Image.open(files[0]) as image:
        assert image.size == (1024, 1024)
    expected = {
        "status": "completed",
        "mode": "text",
        "engine": "text-endpoint",
        "preview": False,
        "model_key": "text-to-image:flux-schnell",
        "credits_charged": 20,
        "credits_remaining": before - 20,
        "seed": 9,
        "attempts": 1,
    }
    assert {key: details[key] for key in expected} == expected
    assert fake_server.posts()[-1].json["inputs"] == "a lighthouse at dusk, oil painting"
    assert _balance(remote_app) == before - 20


def test_same_details_as_generate_avatar(remote_app: ServedApp) -> None:
    client = remote_app.client()
    _, text_details = client.predict(prompt="a red fox", api_name="/generate_from_text")
    _, photo_details = client.predict(
        photos=[handle_file(FIXTURES / "astronaut.png")], prompt="a headshot", tier="basic", api_name="/generate_avatar"
    )
    assert set(text_details) == set(photo_details)
    assert (photo_details["engine"], photo_details["preview"], photo_details["width"]) == ("endpoint", False, 512)


def test_an_endpoint_that_returns_another_persons_face_is_flagged_and_counted(
    remote_app: ServedApp, fake_server: FakeInferenceServer
) -> None:
    client = remote_app.client()
    fake_server.script(Answer.image_file(FIXTURES / "astronaut.png"))
    _, details = client.predict(
        photos=[handle_file(FIXTURES / "newton-1689.jpg"), handle_file(FIXTURES / "newton-1702.jpg")],
        prompt="a headshot",
        tier="basic",
        only_alike=False,
        api_name="/generate_avatar",
    )
    assert details["likeness_ok"] == [False] and details["likeness"][0] < 0.5
    assert details["notes"] == ["Image 1 may not look like you: try a lower style strength."]
    summary = client.predict(window="24h", tier="all", include_synthetic=False, api_name="/metrics_summary")
    assert summary["likeness_ok_rate"] < 1 and summary["likeness_p50"] is not None


def test_a_rejected_request_fails_at_once_and_refunds(remote_app: ServedApp, fake_server: FakeInferenceServer) -> None:
    before = _balance(remote_app)
    fake_server.script(Answer.error(400, f"bad request from {FAKE_TOKEN}"))
    posts = len(fake_server.posts())
    with pytest.raises(AppError) as caught:
        remote_app.client().predict(
            photos=[handle_file(FIXTURES / "astronaut.png")], prompt="a headshot", api_name="/generate_avatar"
        )
    assert "[BAD_REQUEST]" in str(caught.value) and "refunded" in str(caught.value)
    assert FAKE_TOKEN not in str(caught.value)
    assert len(fake_server.posts()) == posts + 1, "not retried"
    assert _balance(remote_app) == before


def test_the_page_names_the_engine_and_hides_the_token(remote_app: ServedApp) -> None:
    page = httpx.get(remote_app.url, timeout=10).text
    config = httpx.get(remote_app.url + "config", timeout=10).text
    assert "Engine: endpoint" in config and "Text to Image: `text-endpoint`" in config
    assert FAKE_TOKEN not in page and FAKE_TOKEN not in config

"""The public API through gradio_client against the app served on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from stand_ins.serving import ServedApp

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _balance(app: ServedApp) -> int:
    return app.client().predict(api_name="/account")["credits"]


def test_page_is_served(served_app: ServedApp) -> None:
    page = httpx.get(served_app.url, timeout=10)
    assert page.status_code == 200
    assert "PhotoMaker Studio" in page.text


def test_api_names_and_parameters_are_the_contract(served_app: ServedApp) -> None:
    info = served_app.client().view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/generate_avatar", "/account"} <= set(info)
    parameters = {p["parameter_name"]: p.get("parameter_default") for p in info["/generate_avatar"]["parameters"]}
    assert list(parameters) == [
        "photos",
        "prompt",
        "tier",
        "style",
        "style_strength",
        "subject",
        "negative_prompt",
        "num_images",
        "seed",
        "steps",
        "guidance_scale",
        "project",
        "only_alike",
    ]
    assert parameters["tier"] == "pro" and parameters["num_images"] == 1 and parameters["seed"] == -1
    assert parameters["only_alike"] is True
    assert parameters["style"] == "Photographic (Default)" and parameters["project"] == "My avatars"


def test_account(served_app: ServedApp) -> None:
    account = served_app.client().predict(api_name="/account")
    assert account["username"] == "local"
    assert account["is_admin"] is True, "off a Space the one local user is also the operator"
    assert isinstance(account["credits"], int)


def test_generate_avatar_with_a_real_face(served_app: ServedApp, upload_dir: Path) -> None:
    before = _balance(served_app)
    files, details = served_app.client().predict(
        photos=[handle_file(FIXTURES / "astronaut.png")],
        prompt="a professional headshot of a woman, studio lighting",
        tier="pro",
        num_images=2,
        style="Comic book",
        api_name="/generate_avatar",
    )
    assert len(files) == 2
    for path in files:
        with Image.open(path) as image:
            assert image.size == (1024, 1024)
    expected = {
        "status": "completed",
        "engine": "preview",
        "preview": True,
        "model_key": "avatar-creator:photomaker-pro",
        "tier": "pro",
        "width": 1024,
        "height": 1024,
        "credits_charged": 50,
        "credits_remaining": before - 50,
        "attempts": 1,
        "style": "Comic book",
    }
    assert {key: details[key] for key in expected} == expected
    assert details["likeness_ok"] == [True, True], "one entry per image"
    assert all(0.5 < score <= 1 for score in details["likeness"])
    for key in ("generation_id", "prompt", "negative_prompt", "seed", "processing_ms"):
        assert details[key] is not None
    assert "a woman img" in details["prompt"]
    assert _balance(served_app) == before - 50
    assert not list(upload_dir.rglob("astronaut.png")), "uploaded photos are deleted after the request"


def _text_jpg(tmp_path: Path) -> Path:
    path = tmp_path / "letter.jpg"
    path.write_text("Dear PhotoMaker, this is not a photo.")
    return path


CASES = {
    "cat": (lambda tmp: [FIXTURES / "chelsea.png"], "a headshot", "NO_FACE", "chelsea.png"),
    "text-as-jpg": (lambda tmp: [_text_jpg(tmp)], "a headshot", "INVALID_PHOTO", "letter.jpg"),
    "two-people": (
        lambda tmp: [FIXTURES / "astronaut.png", FIXTURES / "camera.png"],
        "a headshot",
        "DIFFERENT_PEOPLE",
        "camera.png does not show the same person as astronaut.png",
    ),
    "five-photos": (lambda tmp: [FIXTURES / "astronaut.png"] * 5, "a headshot", "TOO_MANY_PHOTOS", "at most 4"),
    "two-img": (lambda tmp: [FIXTURES / "astronaut.png"], "a woman img and a man img", "INVALID_PROMPT", "2 times"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_requests_get_a_clear_message_and_cost_nothing(served_app: ServedApp, tmp_path: Path, case: str) -> None:
    make_photos, prompt, code, mention = CASES[case]
    before = _balance(served_app)
    with pytest.raises(AppError) as caught:
        served_app.client().predict(
            photos=[handle_file(p) for p in make_photos(tmp_path)], prompt=prompt, api_name="/generate_avatar"
        )
    assert f"[{code}]" in str(caught.value)
    assert mention in str(caught.value)
    assert _balance(served_app) == before
    # The app keeps serving.
    assert served_app.client().predict(api_name="/account")["credits"] == before


def test_text_to_image_is_off_offline(served_app: ServedApp) -> None:
    before = _balance(served_app)
    with pytest.raises(AppError) as caught:
        served_app.client().predict(prompt="a lighthouse", api_name="/generate_from_text")
    assert "[NOT_OFFERED]" in str(caught.value) and "HF_TOKEN" in str(caught.value)
    assert _balance(served_app) == before


def test_the_page_says_results_are_previews(served_app: ServedApp) -> None:
    config = httpx.get(served_app.url + "config", timeout=10).text
    assert "Preview engine (offline)" in config and "Text to Image is off" in config

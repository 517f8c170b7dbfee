"""The `space` engine against a local Gradio app with the PhotoMaker-V2 Space's `/generate_image`."""

from __future__ import annotations

import re
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import gradio as gr
import pytest
from gradio.context import LocalContext
from gradio_client import Client
from gradio_client.exceptions import AppError
from gradio_client.utils import ProgressUnit, Status, StatusUpdate

from photomaker.core.errors import BackendError
from photomaker.engines.base import GenerationRequest, GenerationResult
from photomaker.engines.retry import RetryPolicy
from photomaker.engines.space import SpaceEngine, describe, space_arguments
from photomaker.generation.prompts import CLASS_WORDS, STYLES
from stand_ins.engine_inputs import FAKE_TOKEN, located_face, request_for
from stand_ins.inference_server import FakeInferenceServer
from tests.fakes.space_app import SPACE_STYLES, FakeSpace

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _engine(space: FakeSpace | str, policy: RetryPolicy, downloads: Path, *, timeout_s: float = 30) -> SpaceEngine:
    url = space if isinstance(space, str) else space.url
    return SpaceEngine(
        space=url, token=FAKE_TOKEN, timeout_s=timeout_s, policy=policy, downloads=downloads, poll_s=0.05
    )


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    return tmp_path / "downloads"


@pytest.fixture
def engine(fake_space: FakeSpace, policy: RetryPolicy, downloads: Path) -> SpaceEngine:
    return _engine(fake_space, policy, downloads)


def _generate(engine: SpaceEngine, request: GenerationRequest, messages: list[str] | None = None) -> GenerationResult:
    seen = [] if messages is None else messages
    return engine.generate(request, lambda fraction, message: seen.append(message))


def test_the_space_gets_exactly_what_it_expects(engine: SpaceEngine, fake_space: FakeSpace) -> None:
    one = request_for(FIXTURES / "astronaut.png", style="Disney Character", strength=40, side=1024, num_images=2)
    request = replace(one, photos=(*one.photos, located_face(FIXTURES / "camera.png")))
    result = _generate(engine, request)
    call = fake_space.calls[-1]
    arguments = call.arguments
    words = re.findall(r"\w+", arguments["prompt"])
    assert words.count("img") == 1
    assert words[words.index("img") - 1] in CLASS_WORDS, "img right after the class word"
    assert arguments["prompt"] == request.prompt, "the Space applies the style itself"
    assert arguments["negative_prompt"] == request.negative_prompt
    assert arguments["style_name"] == "Disney Charactor"
    assert arguments["aspect_ratio_name"] == "Instagram (1:1)"
    assert 15 <= arguments["style_strength_ratio"] <= 50
    assert arguments["style_strength_ratio"] == 29 == result.effective_params["style_strength_ratio"]
    assert (arguments["num_outputs"], arguments["seed"], arguments["num_steps"], arguments["guidance_scale"]) == (
        2,
        42,
        50,
        7.5,
    )
    assert (arguments["use_doodle"], arguments["sketch_image"]) == (False, None)
    assert len(arguments["upload_images"]) == 2, "every photo is uploaded"
    assert call.photo_sizes == [photo.photo.image.size for photo in request.photos]
    assert call.authorization == f"Bearer {FAKE_TOKEN}"
    assert (result.engine, result.attempts, len(result.images)) == ("space", 1, 2)


def test_without_a_token_of_our_own_none_is_sent(
    fake_space: FakeSpace, policy: RetryPolicy, downloads: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_from_the_environment_must_not_leak")
    engine = SpaceEngine(
        space=fake_space.url, token=None, timeout_s=30, policy=policy, downloads=downloads, poll_s=0.05
    )
    _generate(engine, request_for(FIXTURES / "astronaut.png"))
    assert fake_space.calls[-1].authorization is None


def _as_visitor(engine: SpaceEngine, request: GenerationRequest, ip_token: str | None) -> GenerationResult:
    """Generate as our app does in a Gradio event: in a worker thread whose context holds the visitor's request."""

    def event() -> GenerationResult:
        LocalContext.request.set(gr.Request(headers={"x-ip-token": ip_token} if ip_token else {}))
        return _generate(engine, request)

    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(event).result()


@pytest.fixture
def zero_gpu_engine(engine: SpaceEngine) -> SpaceEngine:
    """The engine, its client taken for a Space's as in production: gradio_client sends x-ip-token to Spaces only."""
    engine.client().space_id = "TencentARC/PhotoMaker-V2"
    return engine


def test_each_visitor_s_gpu_token_goes_with_their_call_only(
    zero_gpu_engine: SpaceEngine, fake_space: FakeSpace
) -> None:
    request = request_for(FIXTURES / "astronaut.png")
    visitors = ["token-of-visitor-a", "token-of-visitor-b", None]
    left_on_the_client = []
    for ip_token in visitors:
        _as_visitor(zero_gpu_engine, request, ip_token)
        left_on_the_client.append(zero_gpu_engine.client().headers.get("x-ip-token"))
    assert [call.ip_token for call in fake_space.calls[-len(visitors) :]] == visitors
    assert left_on_the_client == [None] * len(visitors)


def test_visitors_at_the_same_time_each_send_their_own_token(
    zero_gpu_engine: SpaceEngine, fake_space: FakeSpace
) -> None:
    tokens = {seed: f"token-of-visitor-{seed}" for seed in range(1, 5)}

    def visit(seed: int) -> GenerationResult:
        return _as_visitor(zero_gpu_engine, request_for(FIXTURES / "astronaut.png", seed=seed), tokens[seed])

    with ThreadPoolExecutor(max_workers=len(tokens)) as visitors:
        list(visitors.map(visit, tokens))
    seen = {call.arguments["seed"]: call.ip_token for call in fake_space.calls[-len(tokens) :]}
    assert seen == tokens
    assert "x-ip-token" not in zero_gpu_engine.client().headers


@pytest.mark.parametrize(("strength", "ratio"), [(0, 15), (25, 24), (50, 32), (100, 50)])
def test_style_strength_is_mapped_into_15_to_50(
    engine: SpaceEngine, fake_space: FakeSpace, strength: int, ratio: int
) -> None:
    _generate(engine, request_for(FIXTURES / "astronaut.png", strength=strength))
    assert fake_space.calls[-1].arguments["style_strength_ratio"] == ratio


def test_every_style_we_offer_is_one_the_space_knows() -> None:
    assert {style.space_name for style in STYLES} == set(SPACE_STYLES)


def test_downloads_go_to_the_apps_folder_and_are_deleted_once_read(engine: SpaceEngine, downloads: Path) -> None:
    before = set(Path(tempfile.gettempdir()).glob("photomaker-space-*"))
    result = _generate(engine, request_for(FIXTURES / "astronaut.png", num_images=2))
    assert len(result.images) == 2
    assert downloads.is_dir() and downloads.stat().st_mode & 0o777 == 0o700
    assert [path for path in downloads.rglob("*") if path.is_file()] == [], "every image was deleted once read"
    assert set(Path(tempfile.gettempdir()).glob("photomaker-space-*")) == before, "no folder left in /tmp"


@pytest.mark.parametrize(("side", "upscaled"), [(512, False), (1024, False), (1536, True)])
def test_outputs_are_resized_to_the_tier(engine: SpaceEngine, side: int, upscaled: bool) -> None:
    result = _generate(engine, request_for(FIXTURES / "astronaut.png", side=side))
    assert result.images[0].size == (side, side)
    assert (result.effective_params["backend_size"], result.effective_params["upscaled"]) == ("1024x1024", upscaled)


def test_the_client_is_created_once_and_reused(engine: SpaceEngine) -> None:
    request = request_for(FIXTURES / "astronaut.png")
    _generate(engine, request)
    client = engine.client()
    _generate(engine, request)
    assert engine.client() is client


def test_no_face_on_the_space_fails_at_once(engine: SpaceEngine, fake_space: FakeSpace, waits: list[float]) -> None:
    fake_space.fail_next("No face detected, please update the input face image(s)")
    with pytest.raises(BackendError) as caught:
        _generate(engine, request_for(FIXTURES / "astronaut.png"))
    assert (caught.value.code, caught.value.attempts, waits) == ("NO_FACE", 1, [])
    assert "refunded" in caught.value.message


def test_gpu_quota_waits_as_long_as_the_space_says(
    engine: SpaceEngine, fake_space: FakeSpace, waits: list[float]
) -> None:
    fake_space.fail_next(
        "You have exceeded your GPU quota (60s requested vs. 30s left). Sign-up on Hugging Face to get more quotas "
        "or retry in 0:00:25."
    )
    messages: list[str] = []
    result = _generate(engine, request_for(FIXTURES / "astronaut.png"), messages)
    assert (result.attempts, waits) == (2, [25])
    assert "The image service is busy, retrying in 25 s (attempt 2 of 4)" in messages


def test_no_gpu_free_is_retried_with_backoff(engine: SpaceEngine, fake_space: FakeSpace, waits: list[float]) -> None:
    fake_space.fail_next("No GPU was available after 60s. Retry later", "GPU task aborted")
    assert _generate(engine, request_for(FIXTURES / "astronaut.png")).attempts == 3
    assert 2 <= waits[0] <= 4 and 4 <= waits[1] <= 6


@pytest.fixture
def slow_space() -> Iterator[FakeSpace]:
    space = FakeSpace(delay_s=1.0, concurrency=1).start()
    yield space
    space.close()


def test_a_space_that_takes_too_long_times_out(slow_space: FakeSpace, waits: list[float], downloads: Path) -> None:
    engine = _engine(slow_space, RetryPolicy(max_attempts=1, sleep=waits.append), downloads, timeout_s=0.3)
    with pytest.raises(BackendError) as caught:
        _generate(engine, request_for(FIXTURES / "astronaut.png"))
    assert (caught.value.code, caught.value.attempts) == ("GENERATION_TIMEOUT", 1)


def test_the_queue_position_is_shown(slow_space: FakeSpace, policy: RetryPolicy, downloads: Path) -> None:
    engine = _engine(slow_space, policy, downloads)
    request = request_for(FIXTURES / "astronaut.png")
    engine.client()
    first = threading.Thread(target=_generate, args=(engine, request))
    first.start()
    while not slow_space.calls:
        threading.Event().wait(0.02)
    messages: list[str] = []
    _generate(engine, request, messages)
    first.join()
    assert any(message.startswith("Waiting in the PhotoMaker Space's queue: position 1") for message in messages)


def test_a_space_that_is_not_there(policy: RetryPolicy, waits: list[float], downloads: Path) -> None:
    with FakeInferenceServer() as server:
        url = server.url
    engine = _engine(url, policy, downloads)
    with pytest.raises(BackendError) as caught:
        engine.check()
    assert caught.value.code == "BACKEND_UNAVAILABLE"
    with pytest.raises(BackendError) as caught:
        _generate(engine, request_for(FIXTURES / "astronaut.png"))
    assert (caught.value.code, caught.value.attempts, len(waits)) == ("BACKEND_UNAVAILABLE", 4, 3)


def test_an_address_that_is_not_a_gradio_app(
    fake_server: FakeInferenceServer, policy: RetryPolicy, downloads: Path
) -> None:
    fake_server.health_status = 404
    with pytest.raises(BackendError) as caught:
        _engine(fake_server.url, policy, downloads).check()
    assert caught.value.code == "BACKEND_UNAVAILABLE" and "cannot be used" in caught.value.message


def _status(code: Status, **fields: object) -> StatusUpdate:
    values = {"rank": None, "queue_size": None, "eta": None, "success": None, "progress_data": None}
    return StatusUpdate(code=code, time=datetime.now(), **{**values, **fields})


def test_describe_a_job_status() -> None:
    assert describe(_status(Status.IN_QUEUE, rank=2, queue_size=9, eta=41.6)) == (
        0.05,
        "Waiting in the PhotoMaker Space's queue: position 3 of 9, about 42 s",
    )
    step = ProgressUnit(index=20, length=50, unit="steps", progress=None, desc=None)
    assert describe(_status(Status.PROGRESS, progress_data=[step])) == (0.4, "PhotoMaker is generating: 20 of 50 steps")
    assert describe(_status(Status.PROCESSING)) == (0.1, "PhotoMaker is generating")


@pytest.mark.parametrize(("field", "value"), [("style_name", "Disney Character"), ("style_strength_ratio", 60)])
def test_the_fake_space_refuses_what_the_real_one_refuses(fake_space: FakeSpace, field: str, value: object) -> None:
    request = request_for(FIXTURES / "astronaut.png")
    photo = FIXTURES / "astronaut.png"
    arguments = {**space_arguments(request, [photo]), field: value}
    with pytest.raises(AppError):
        Client(fake_space.url, verbose=False).predict(**arguments, api_name="/generate_image")

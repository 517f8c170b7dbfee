"""The `endpoint` and text engines through the real InferenceClient against the fake HF server."""

from __future__ import annotations

import base64
import io
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from pydantic import SecretStr

from photomaker.core.errors import BackendError
from photomaker.core.settings import Settings
from photomaker.engines.base import GenerationRequest, GenerationResult
from photomaker.engines.inference import InferenceEngine
from photomaker.engines.retry import RetryPolicy
from stand_ins.engine_inputs import FAKE_TOKEN, request_for, text_request
from stand_ins.inference_server import Answer, FakeInferenceServer

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _endpoint(server: FakeInferenceServer, policy: RetryPolicy, *, token: str | None = FAKE_TOKEN) -> InferenceEngine:
    return InferenceEngine(name="endpoint", target=server.url, token=token, timeout_s=5, policy=policy)


def _generate(
    engine: InferenceEngine, request: GenerationRequest, messages: list[str] | None = None
) -> GenerationResult:
    seen = [] if messages is None else messages
    return engine.generate(request, lambda fraction, message: seen.append(message))


def test_the_endpoint_contract(fake_server: FakeInferenceServer, policy: RetryPolicy) -> None:
    request = request_for(FIXTURES / "astronaut.png", style="Disney Character", strength=40, side=512)
    result = _generate(_endpoint(fake_server, policy), request)
    assert (result.engine, result.attempts, result.preview) == ("endpoint", 1, False)
    (post,) = fake_server.posts()
    assert post.headers["authorization"] == f"Bearer {FAKE_TOKEN}"
    assert post.headers["content-type"] == "application/json" and post.headers["accept"] == "image/png"
    body = post.json
    assert set(body) == {"inputs", "parameters"}
    parameters = body["parameters"]
    assert set(parameters) == {
        "prompt",
        "negative_prompt",
        "num_inference_steps",
        "guidance_scale",
        "target_size",
        "input_id_images",
        "style_strength_ratio",
        "style_name",
        "seed",
    }
    assert parameters["prompt"] == request.styled_prompt and "a person img" in parameters["prompt"]
    assert parameters["negative_prompt"] == request.styled_negative_prompt
    assert parameters["target_size"] == {"width": 512, "height": 512}
    assert (parameters["num_inference_steps"], parameters["guidance_scale"], parameters["seed"]) == (50, 7.5, 42)
    assert parameters["style_name"] == "Disney Charactor"
    assert parameters["style_strength_ratio"] == 29 == result.effective_params["style_strength_ratio"]
    first = Image.open(io.BytesIO(base64.b64decode(body["inputs"])))
    assert first.format == "JPEG" and first.size == request.photos[0].photo.image.size
    assert [base64.b64decode(item) for item in parameters["input_id_images"]] == [base64.b64decode(body["inputs"])]


def test_every_photo_is_sent(fake_server: FakeInferenceServer, policy: RetryPolicy) -> None:
    one = request_for(FIXTURES / "astronaut.png")
    two = request_for(FIXTURES / "astronaut.png", side=1024)
    request = replace(one, photos=one.photos + two.photos)
    _generate(_endpoint(fake_server, policy), request)
    assert len(fake_server.posts()[0].json["parameters"]["input_id_images"]) == 2


def test_several_images_are_several_calls_with_counting_seeds(
    fake_server: FakeInferenceServer, policy: RetryPolicy
) -> None:
    result = _generate(_endpoint(fake_server, policy), request_for(FIXTURES / "astronaut.png", num_images=3))
    assert [post.json["parameters"]["seed"] for post in fake_server.posts()] == [42, 43, 44]
    assert (len(result.images), result.attempts, result.seed) == (3, 1, 42)


@pytest.mark.parametrize(
    ("backend_side", "tier_side", "upscaled"), [(1024, 512, False), (1024, 1536, True), (512, 512, False)]
)
def test_outputs_are_resized_to_the_tier(
    fake_server: FakeInferenceServer, policy: RetryPolicy, backend_side: int, tier_side: int, upscaled: bool
) -> None:
    fake_server.default = Answer.image(width=backend_side, height=backend_side)
    result = _generate(_endpoint(fake_server, policy), request_for(FIXTURES / "astronaut.png", side=tier_side))
    assert result.images[0].size == (tier_side, tier_side)
    assert result.effective_params["upscaled"] is upscaled
    assert result.effective_params["backend_size"] == f"{backend_side}x{backend_side}"


def test_503_twice_then_an_image_takes_three_attempts(
    fake_server: FakeInferenceServer, policy: RetryPolicy, waits: list[float]
) -> None:
    fake_server.script(Answer.loading(20), Answer.loading(20))
    messages: list[str] = []
    result = _generate(_endpoint(fake_server, policy), request_for(FIXTURES / "astronaut.png"), messages)
    assert (result.attempts, waits, len(fake_server.posts())) == (3, [20, 20], 3)
    assert "The model is loading, retrying in 20 s (attempt 2 of 4)" in messages


@pytest.mark.parametrize(("header", "wait"), [("7", 7.0), (None, 60.0)])
def test_429_waits_retry_after(
    fake_server: FakeInferenceServer, policy: RetryPolicy, waits: list[float], header: str | None, wait: float
) -> None:
    fake_server.script(Answer.rate_limited(header))
    assert _generate(_endpoint(fake_server, policy), request_for(FIXTURES / "astronaut.png")).attempts == 2
    assert waits == [wait]


def test_500_is_retried_with_backoff(fake_server: FakeInferenceServer, policy: RetryPolicy, waits: list[float]) -> None:
    fake_server.script(Answer.error(500))
    assert _generate(_endpoint(fake_server, policy), request_for(FIXTURES / "astronaut.png")).attempts == 2
    assert 2 <= waits[0] <= 4


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (Answer.error(400, "guidance_scale is out of range"), "BAD_REQUEST"),
        (Answer.error(422, "unprocessable"), "BAD_REQUEST"),
        (Answer.error(401, "Invalid credentials in Authorization header"), "AUTH_FAILED"),
        (Answer.error(403, "forbidden"), "AUTH_FAILED"),
        (Answer.not_an_image(), "BAD_RESPONSE"),
    ],
)
def test_what_cannot_succeed_fails_at_once(
    fake_server: FakeInferenceServer, policy: RetryPolicy, waits: list[float], answer: Answer, code: str
) -> None:
    fake_server.script(answer)
    with pytest.raises(BackendError) as caught:
        _generate(_endpoint(fake_server, policy), request_for(FIXTURES / "astronaut.png"))
    assert (caught.value.code, caught.value.attempts, waits, len(fake_server.posts())) == (code, 1, [], 1)


def test_a_slow_answer_times_out_and_is_retried(fake_server: FakeInferenceServer, policy: RetryPolicy) -> None:
    fake_server.script(Answer.image(delay_s=1.5))
    engine = InferenceEngine(name="endpoint", target=fake_server.url, token=FAKE_TOKEN, timeout_s=0.5, policy=policy)
    assert _generate(engine, request_for(FIXTURES / "astronaut.png")).attempts == 2


def test_always_slow_gives_generation_timeout(fake_server: FakeInferenceServer, waits: list[float]) -> None:
    fake_server.default = Answer.image(delay_s=1.5)
    policy = RetryPolicy(max_attempts=2, sleep=waits.append)
    engine = InferenceEngine(name="endpoint", target=fake_server.url, token=FAKE_TOKEN, timeout_s=0.3, policy=policy)
    with pytest.raises(BackendError) as caught:
        _generate(engine, request_for(FIXTURES / "astronaut.png"))
    assert (caught.value.code, caught.value.attempts, len(waits)) == ("GENERATION_TIMEOUT", 2, 1)


def test_nothing_listening_is_backend_unavailable(policy: RetryPolicy) -> None:
    with FakeInferenceServer() as server:
        url = server.url
    engine = InferenceEngine(name="endpoint", target=url, token=FAKE_TOKEN, timeout_s=2, policy=policy)
    with pytest.raises(BackendError) as caught:
        _generate(engine, request_for(FIXTURES / "astronaut.png"))
    assert (caught.value.code, caught.value.attempts) == ("BACKEND_UNAVAILABLE", 4)


def test_without_a_token_of_our_own_none_is_sent(
    fake_server: FakeInferenceServer, policy: RetryPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_from_the_environment_must_not_leak")
    _generate(_endpoint(fake_server, policy, token=None), request_for(FIXTURES / "astronaut.png"))
    assert "authorization" not in fake_server.posts()[0].headers


def test_text_to_image_on_a_dedicated_endpoint(fake_server: FakeInferenceServer, policy: RetryPolicy) -> None:
    settings = Settings(text_to_image_endpoint_url=fake_server.url, hf_token=SecretStr(FAKE_TOKEN))
    engine = InferenceEngine.for_text(settings, policy=policy)
    fake_server.default = Answer.image(width=768, height=512)
    result = _generate(engine, text_request(prompt="a lighthouse at dusk", width=768, height=512, num_images=2))
    assert engine.name == "text-endpoint" and [image.size for image in result.images] == [(768, 512)] * 2
    first, second = (post.json for post in fake_server.posts())
    assert first["inputs"] == "a lighthouse at dusk"
    assert {key: first["parameters"][key] for key in ("width", "height", "num_inference_steps", "seed")} == {
        "width": 768,
        "height": 512,
        "num_inference_steps": 4,
        "seed": 7,
    }
    assert first["parameters"]["guidance_scale"] == 0.0 and second["parameters"]["seed"] == 8
    assert fake_server.posts()[0].headers["authorization"] == f"Bearer {FAKE_TOKEN}"


def test_text_model_on_inference_providers_is_named() -> None:
    engine = InferenceEngine.for_text(Settings(hf_token=SecretStr(FAKE_TOKEN)))
    assert (engine.name, engine.target) == ("inference-providers", "black-forest-labs/FLUX.1-schnell")


def test_check(fake_server: FakeInferenceServer, policy: RetryPolicy) -> None:
    engine = _endpoint(fake_server, policy)
    engine.check()
    assert fake_server.received[-1].headers["authorization"] == f"Bearer {FAKE_TOKEN}"
    fake_server.health_status = 401
    with pytest.raises(BackendError) as caught:
        engine.check()
    assert caught.value.code == "AUTH_FAILED"
    fake_server.health_status = 405  # an endpoint that only takes POST is fine
    engine.check()

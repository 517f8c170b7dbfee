"""The Inference Endpoints handler behind `serve.py`, driven end to end by our own `endpoint` engine (tiny weights)."""

from __future__ import annotations

import base64
import importlib
import io
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image
from pydantic import SecretStr

from photomaker.core.errors import BackendError
from photomaker.core.settings import Settings
from photomaker.engines.base import GenerationRequest, GenerationResult, no_progress
from photomaker.engines.inference import InferenceEngine
from photomaker.engines.local import loader
from photomaker.engines.local.loader import UNKNOWN_WAIT_S
from photomaker.engines.retry import RetryPolicy
from stand_ins.engine_inputs import FAKE_TOKEN, request_for
from tests.local.conftest import bright_photo, dark_photo

sys.path.insert(0, str(Path(__file__).parents[2] / "deploy" / "endpoint"))
handler = importlib.import_module("handler")
serve = importlib.import_module("serve")

FIXTURES = Path(__file__).parents[1] / "fixtures"
SIDE = 64


@contextmanager
def serving(endpoint_handler: Any, *, token: str | None) -> Iterator[str]:
    """`serve.py`'s server for the handler on a free loopback port, for as long as the block runs."""
    server = serve.make_server(endpoint_handler, host="127.0.0.1", port=0, token=token)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def url(tiny_model_dir: Path) -> Iterator[str]:
    """The tiny model loaded as Inference Endpoints loads it (in `__init__`), served with a token."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCAL_ALLOW_CPU", "1")
        with serving(handler.EndpointHandler(str(tiny_model_dir)), token=FAKE_TOKEN) as address:
            yield address


def engine(address: str, *, attempts: int = 2, sleep: Callable[[float], None] = lambda _: None) -> InferenceEngine:
    """Our `endpoint` engine for `address`; its retries wait for nothing unless `sleep` does."""
    settings = Settings(photomaker_endpoint_url=address, hf_token=SecretStr(FAKE_TOKEN), retry_max_attempts=attempts)
    return InferenceEngine.for_endpoint(settings, policy=RetryPolicy.from_settings(settings, sleep=sleep))


def request(*photos: Image.Image, seed: int = 42, num_images: int = 1, steps: int = 2) -> GenerationRequest:
    """A request as the service builds it, with `photos` (bright ones have a face for the tiny detector)."""
    built = request_for(FIXTURES / "astronaut.png", side=SIDE, seed=seed, num_images=num_images)
    located = built.photos[0]
    faces = tuple(replace(located, photo=replace(located.photo, image=photo)) for photo in photos or (bright_photo(),))
    return replace(built, steps=steps, photos=faces)


def generate(address: str, generation: GenerationRequest) -> GenerationResult:
    return engine(address).generate(generation, no_progress)


def pixels(result: GenerationResult) -> list[np.ndarray]:
    return [np.asarray(image) for image in result.images]


def jpeg(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return base64.b64encode(buffer.getvalue()).decode()


def body(**parameters: Any) -> dict[str, Any]:
    """A raw request body in the contract's field names, with `parameters` changed (None leaves one out)."""
    photo = jpeg(bright_photo())
    values = {
        handler.PROMPT: "a photo of a woman img",
        handler.NEGATIVE_PROMPT: "blurry",
        handler.STEPS: 2,
        handler.GUIDANCE_SCALE: 5.0,
        handler.TARGET_SIZE: {"width": SIDE, "height": SIDE},
        handler.ID_IMAGES: [photo],
        handler.STYLE_STRENGTH_RATIO: 20,
        "style_name": "Photographic (Default)",
        handler.SEED: 1,
    }
    values.update(parameters)
    return {handler.INPUTS: photo, handler.PARAMETERS: {k: v for k, v in values.items() if v is not None}}


def post(address: str, payload: Any, *, token: str | None = FAKE_TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(address, json=payload, headers=headers, timeout=60)


def test_images_come_back_at_the_size_asked_the_same_for_the_same_seed(url: str) -> None:
    one = generate(url, request(seed=42))
    two = generate(url, request(seed=42, num_images=2))
    next_seed = generate(url, request(seed=43))

    assert (one.engine, one.attempts, len(one.images), len(two.images)) == ("endpoint", 1, 1, 2)
    assert one.effective_params["backend_size"] == f"{SIDE}x{SIDE}" and one.effective_params["upscaled"] is False
    assert all(image.size == (SIDE, SIDE) for image in [*one.images, *two.images])
    assert np.array_equal(pixels(one)[0], pixels(two)[0])
    assert not np.array_equal(pixels(two)[0], pixels(two)[1])
    assert np.array_equal(pixels(two)[1], pixels(next_seed)[0])  # the second call of two has the next seed


def test_a_photo_without_a_face_is_refused_and_the_server_keeps_serving(url: str) -> None:
    with pytest.raises(BackendError) as caught:
        generate(url, request(dark_photo()))

    assert (caught.value.code, caught.value.attempts) == ("BAD_REQUEST", 1)  # our transport reads 422 as BAD_REQUEST
    answer = post(url, body(**{handler.ID_IMAGES: [jpeg(bright_photo()), jpeg(dark_photo())]}))
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"  # the bright photo is used
    refused = post(url, body(**{handler.ID_IMAGES: [jpeg(dark_photo())]}))
    assert refused.status_code == 422 and "face" in refused.json()["error"]
    assert len(generate(url, request()).images) == 1


def test_parameters_the_handler_rejects_fail_at_once_as_bad_request(url: str) -> None:
    with pytest.raises(BackendError) as caught:
        generate(url, request(steps=0))

    assert (caught.value.code, caught.value.attempts) == ("BAD_REQUEST", 1)


@pytest.mark.parametrize(
    ("parameters", "named"),
    [
        ({handler.STEPS: 0}, handler.STEPS),
        ({handler.STEPS: 2.5}, handler.STEPS),
        ({handler.GUIDANCE_SCALE: "high"}, handler.GUIDANCE_SCALE),
        ({handler.PROMPT: "a photo of a woman"}, "trigger word 'img'"),
        ({handler.PROMPT: "x " * 80 + "a woman img"}, "Shorten the text before"),
        ({handler.PROMPT: None}, handler.PROMPT),
        ({handler.TARGET_SIZE: {"width": 60, "height": SIDE}}, "width"),
        ({handler.TARGET_SIZE: None}, handler.TARGET_SIZE),
        ({handler.STYLE_STRENGTH_RATIO: 51}, handler.STYLE_STRENGTH_RATIO),
        ({handler.SEED: -1}, handler.SEED),
        ({handler.SEED: None}, handler.SEED),
        ({handler.ID_IMAGES: ["bm90IGEgcGhvdG8="]}, f"{handler.ID_IMAGES}[0]"),
        ({handler.ID_IMAGES: []}, handler.ID_IMAGES),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(url: str, parameters: dict[str, Any], named: str) -> None:
    answer = post(url, body(**parameters))

    assert answer.status_code == 400 and named in answer.json()["error"]


def test_a_body_that_is_not_the_contract_is_a_400(url: str) -> None:
    not_json = httpx.post(url, content=b"{", headers={"Authorization": f"Bearer {FAKE_TOKEN}"})
    assert not_json.status_code == 400 and "JSON" in not_json.json()["error"]
    assert post(url, [1, 2]).status_code == 400
    assert post(url, {handler.INPUTS: jpeg(bright_photo())}).status_code == 400


def test_the_token_is_required_and_the_engines_check_passes_with_it(url: str) -> None:
    assert post(url, body(), token=None).status_code == 401
    assert post(url, body(), token="hf_wrong").status_code == 401
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": f"Bearer {FAKE_TOKEN}"}).json() == {"status": "ok"}
    engine(url).check()


def test_an_incomplete_model_dir_fails_the_handler_at_start_naming_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_ALLOW_CPU", "1")
    (tmp_path / "photomaker-v2.bin").write_bytes(b"")

    with pytest.raises(BackendError, match=r"model_index\.json"):
        handler.EndpointHandler(str(tmp_path))


def test_while_the_model_loads_the_engine_waits_the_estimated_time_then_gets_its_image(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_ALLOW_CPU", "1")
    loaded = threading.Event()
    real_load = loader.load_pipeline
    monkeypatch.setattr(loader, "load_pipeline", lambda *args: loaded.wait(30) and real_load(*args))
    endpoint_handler = handler.EndpointHandler(str(tiny_model_dir), wait=False)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        loaded.set()
        endpoint_handler.model.wait(30)

    try:
        with serving(endpoint_handler, token=FAKE_TOKEN) as address:
            loading = httpx.get(f"{address}/health")  # a platform's health check sends no token
            engine(address).check()
            with pytest.raises(BackendError) as caught:
                engine(address, attempts=1).generate(request(), no_progress)
            result = engine(address, sleep=sleep).generate(request(), no_progress)
            ready = httpx.get(f"{address}/health")
    finally:
        loaded.set()

    assert (caught.value.code, caught.value.retryable, caught.value.retry_after) == (
        "MODEL_LOADING",
        True,
        UNKNOWN_WAIT_S,
    )
    assert (result.attempts, waits, len(result.images)) == (2, [UNKNOWN_WAIT_S], 1)
    assert (loading.status_code, loading.json()["status"]) == (503, "loading")
    assert (ready.status_code, ready.json()["status"]) == (200, "ready")

"""The endpoint contract's one module: what the `endpoint` engine sends keeps within what a server accepts, and
the module stays importable where deploy/endpoint runs (no dlib, gradio or torch)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from photomaker.engines import endpoint_contract as contract
from photomaker.engines.base import MAX_SEED
from photomaker.engines.inference import InferenceEngine
from photomaker.engines.retry import RetryPolicy
from photomaker.generation.catalogue import load_seed_models, style_strength_ratio
from photomaker.generation.params import PhotoParams, bounds
from photomaker.images.uploaded_photos import MAX_PHOTOS
from stand_ins.engine_inputs import FAKE_TOKEN, request_for
from stand_ins.inference_server import FakeInferenceServer

FIXTURES = Path(__file__).parents[1] / "fixtures"
PARAMETER_NAMES = {
    contract.PROMPT,
    contract.NEGATIVE_PROMPT,
    contract.STEPS,
    contract.GUIDANCE_SCALE,
    contract.TARGET_SIZE,
    contract.ID_IMAGES,
    contract.STYLE_STRENGTH_RATIO,
    contract.STYLE_NAME,
    contract.SEED,
}


def within(value: float, limits: tuple[float, float]) -> bool:
    return limits[0] <= value <= limits[1]


def test_the_engine_sends_the_contracts_names(fake_server: FakeInferenceServer, policy: RetryPolicy) -> None:
    engine = InferenceEngine(name="endpoint", target=fake_server.url, token=FAKE_TOKEN, timeout_s=5, policy=policy)
    engine.generate(request_for(FIXTURES / "astronaut.png"), lambda fraction, message: None)

    (post,) = fake_server.posts()
    assert set(post.json) == {contract.INPUTS, contract.PARAMETERS}
    assert set(post.json[contract.PARAMETERS]) == PARAMETER_NAMES
    assert set(post.json[contract.PARAMETERS][contract.TARGET_SIZE]) == {contract.WIDTH, contract.HEIGHT}


def test_whatever_the_app_asks_for_keeps_within_the_contracts_bounds() -> None:
    photo_models = [model for model in load_seed_models() if model.mode == "photo"]

    assert photo_models
    for model in photo_models:
        assert within(model.width, contract.SIDE_RANGE) and model.width % contract.SIDE_MULTIPLE == 0
        assert within(model.height, contract.SIDE_RANGE) and model.height % contract.SIDE_MULTIPLE == 0
        assert within(model.steps, contract.STEPS_RANGE) and within(model.guidance_scale, contract.GUIDANCE_RANGE)
    assert all(within(value, contract.STEPS_RANGE) for value in bounds(PhotoParams, "steps"))
    assert all(within(value, contract.GUIDANCE_RANGE) for value in bounds(PhotoParams, "guidance_scale"))
    assert all(within(style_strength_ratio(value), contract.STYLE_STRENGTH_RATIO_RANGE) for value in (0, 100))
    assert within(MAX_SEED, contract.SEED_RANGE) and contract.MAX_ID_IMAGES == MAX_PHOTOS


def test_the_contract_needs_nothing_the_endpoints_environment_lacks() -> None:
    code = (
        "import sys; import photomaker.engines.endpoint_contract; "
        "print(' '.join(name for name in ('dlib', 'gradio', 'gradio_client', 'torch') if name in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)

    assert done.stdout.strip() == ""

"""A whole generation through the service against the fake HF server: outcome, attempts, code, credits."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlmodel import select

from photomaker.core.errors import BackendError, PhotoMakerError, RefusedError
from photomaker.engines.inference import InferenceEngine
from photomaker.engines.preview.engine import PreviewEngine
from photomaker.engines.retry import RetryPolicy
from photomaker.generation.service import GenerationService
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.startup.runtime import Runtime
from photomaker.store import CreditTransaction, Generation
from stand_ins.engine_inputs import FAKE_TOKEN
from stand_ins.inference_server import Answer, FakeInferenceServer
from tests.helpers import accounts_of, gallery_of

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fake_server() -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer() as server:
        yield server


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def service(runtime: Runtime, fake_server: FakeInferenceServer, waits: list[float]) -> GenerationService:
    """The runtime's books with the endpoint and text engines on the fake server, never really sleeping."""
    settings = runtime.settings.model_copy(
        update={
            "photomaker_endpoint_url": fake_server.url,
            "text_to_image_endpoint_url": fake_server.url,
            "hf_token": SecretStr(FAKE_TOKEN),
            "inference_timeout_s": 0.5,
        }
    )
    policy = RetryPolicy(max_attempts=3, max_total_wait_s=120, sleep=waits.append)
    return GenerationService(
        settings=settings,
        database=runtime.database,
        engine=InferenceEngine.for_endpoint(settings, policy=policy),
        text_engine=InferenceEngine.for_text(settings, policy=policy),
        storage=runtime.service.storage,
    )


def _photo_params(**options: object) -> tuple[list[PhotoUpload], dict[str, object]]:
    """The photos and fields of a request, as `generate_avatar` takes them after the username."""
    fields: dict[str, object] = {"prompt": "a professional headshot", "tier": "pro", "seed": 5}
    return [PhotoUpload.from_path(FIXTURES / "astronaut.png")], {**fields, **options}


def _rows(service: GenerationService) -> list[Generation]:
    with service.database.session() as session:
        return list(session.exec(select(Generation).order_by(Generation.id)).all())


def _ledger(service: GenerationService, generation_id: int) -> list[tuple[str, int]]:
    with service.database.session() as session:
        rows = session.exec(select(CreditTransaction).where(CreditTransaction.generation_id == generation_id)).all()
    return sorted((row.kind, row.delta) for row in rows)


CASES = {
    "image": ([], None, "completed", None, 1),
    "503-twice-then-image": ([Answer.loading(20), Answer.loading(20)], None, "completed", None, 3),
    "429-then-image": ([Answer.rate_limited("5")], None, "completed", None, 2),
    "400": ([Answer.error(400, "bad guidance")], None, "failed", "BAD_REQUEST", 1),
    "401": ([Answer.error(401, "Invalid credentials")], None, "failed", "AUTH_FAILED", 1),
    "500-always": ([], Answer.error(500), "failed", "BACKEND_UNAVAILABLE", 3),
    "slow-always": ([], Answer.image(delay_s=1.2), "failed", "GENERATION_TIMEOUT", 3),
    "not-an-image": ([Answer.not_an_image()], None, "failed", "BAD_RESPONSE", 1),
    "loading-for-too-long": ([Answer.loading(600)], None, "failed", "MODEL_LOADING", 1),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_answer_through_the_service(
    service: GenerationService, fake_server: FakeInferenceServer, case: str
) -> None:
    script, default, status, code, attempts = CASES[case]
    fake_server.script(*script)
    if default is not None:
        fake_server.default = default
    before = accounts_of(service).account("local").credits
    if status == "completed":
        outcome = service.generate_avatar("local", *_photo_params(num_images=2))
        assert (outcome.details.engine, outcome.details.preview, outcome.details.attempts) == (
            "endpoint",
            False,
            attempts,
        )
        assert accounts_of(service).account("local").credits == before - 50
        assert all(path.exists() for path in outcome.images)
    else:
        with pytest.raises(BackendError) as caught:
            service.generate_avatar("local", *_photo_params(num_images=2))
        assert (caught.value.code, caught.value.attempts) == (code, attempts)
        assert "refunded" in caught.value.message.lower()
        assert accounts_of(service).account("local").credits == before, "refunded"
    (row,) = _rows(service)
    assert (row.status, row.error_code, row.attempts, row.engine) == (status, code, attempts, "endpoint")
    expected = [("charge", -50)] + ([("refund", 50)] if status == "failed" else [])
    assert _ledger(service, row.id) == sorted(expected), "charged once, refunded at most once"
    if status == "failed":
        assert not list(service.storage.root.rglob(f"g{row.id}/*"))


def test_the_token_never_shows(
    service: GenerationService, fake_server: FakeInferenceServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_server.script(Answer.error(400, f"token {FAKE_TOKEN} may not use this model"))
    with pytest.raises(PhotoMakerError) as caught:
        service.generate_avatar("local", *_photo_params())
    (row,) = _rows(service)
    assert fake_server.posts()[0].headers["authorization"] == f"Bearer {FAKE_TOKEN}", "it was sent"
    for text in (str(caught.value), caught.value.message, row.error_message or "", str(row.params), caplog.text):
        assert FAKE_TOKEN not in text
    assert "may not use this model" in caplog.text, "the server's words are logged for operators"


def test_text_to_image(service: GenerationService, fake_server: FakeInferenceServer) -> None:
    fake_server.default = Answer.image(width=768, height=512)
    outcome = service.generate_from_text(
        "local", dict(prompt="a lighthouse at dusk", width=768, height=512, num_images=2, seed=11)
    )
    details = outcome.details.model_dump()
    assert (details["mode"], details["model_key"], details["tier"], details["engine"]) == (
        "text",
        "text-to-image:flux-schnell",
        "text",
        "text-endpoint",
    )
    assert (details["credits_charged"], details["width"], details["height"], details["seed"]) == (20, 768, 512, 11)
    assert (details["steps"], details["guidance_scale"], details["prompt"]) == (4, 0.0, "a lighthouse at dusk")
    (row,) = _rows(service)
    assert (row.mode, row.photo_count, row.status) == ("text", 0, "completed")
    assert fake_server.posts()[0].json["inputs"] == "a lighthouse at dusk"
    assert gallery_of(service).history("local")[0].caption.endswith("Text to Image")


@pytest.mark.parametrize(
    ("params", "mention"),
    [
        (dict(prompt=""), "Write a prompt"),
        (dict(prompt="a cat", width=100), "Width must be between 256 and 2048"),
        (dict(prompt="a cat", height=1020), "multiple of 8"),
        (dict(prompt="a cat", num_images=5), "Number of images"),
        (dict(prompt="a cat", model="text-to-image:nope"), "text-to-image:flux-schnell"),
    ],
)
def test_text_refusals_cost_nothing(service: GenerationService, params: dict[str, object], mention: str) -> None:
    with pytest.raises(RefusedError) as caught:
        service.generate_from_text("local", params)
    assert mention in caught.value.message
    assert accounts_of(service).account("local").credits == 250
    (row,) = _rows(service)
    assert (row.status, row.mode) == ("rejected", "text")


def test_text_mode_is_off_without_a_token_or_endpoint(runtime: Runtime) -> None:
    assert runtime.service.text_engine is None
    with pytest.raises(RefusedError) as caught:
        runtime.service.generate_from_text("local", dict(prompt="a lighthouse"))
    assert caught.value.code == "NOT_OFFERED" and "HF_TOKEN" in caught.value.message
    assert runtime.accounts.account("local").credits == 250
    (row,) = _rows(runtime.service)
    assert (row.status, row.engine) == ("rejected", "none")


def test_photo_preview_and_remote_text_side_by_side(runtime: Runtime, service: GenerationService) -> None:
    mixed = GenerationService(
        settings=service.settings,
        database=service.database,
        engine=PreviewEngine(),
        text_engine=service.text_engine,
        storage=service.storage,
    )
    assert mixed.generate_avatar("local", *_photo_params(tier="basic")).details.engine == "preview"
    assert mixed.generate_from_text("local", dict(prompt="a cat")).details.engine == "text-endpoint"

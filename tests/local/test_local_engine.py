"""The local engine through the service: deterministic avatars, photos its face model misses left out,
one generation on the GPU at a time; and how it is chosen, placed and run on ZeroGPU."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from sqlmodel import select

from photomaker.core.errors import BackendError, RefusedError
from photomaker.core.settings import Settings
from photomaker.engines import registry
from photomaker.engines.local import hardware
from photomaker.engines.local.engine import LocalEngine
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.startup.runtime import Runtime, start_runtime
from photomaker.store import AIModel, Generation

FIXTURES = Path(__file__).parents[1] / "fixtures"
ASTRONAUT = FIXTURES / "astronaut.png"


@pytest.fixture(scope="module")
def local_runtime(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """An app on the local engine with tiny weights, every photo tier at 64 px and 2 steps."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("local-app"),
        photomaker_engine="local",
        local_model_dir=tiny_model_dir,
        local_allow_cpu=True,
        user_rate_limit_per_min=1000,
        starting_credits=10_000,
        hf_token=None,
    )
    runtime = start_runtime(settings)
    engine = runtime.service.engine
    assert isinstance(engine, LocalEngine)
    assert engine.model.wait(120).state == "ready"
    with runtime.database.session() as session:
        for model in session.exec(select(AIModel).where(AIModel.mode == "photo")):
            model.width = model.height = 64
            model.steps = 2
            session.add(model)
    yield runtime
    runtime.close()


def _avatars(runtime: Runtime, *photos: Path, **fields: Any) -> tuple[list[np.ndarray], Generation]:
    values = {"prompt": "a professional headshot", "tier": "pro", **fields}
    outcome = runtime.service.generate_avatar("local", [PhotoUpload.from_path(path) for path in photos], values)
    with runtime.database.reading() as session:
        row = session.get(Generation, outcome.generation_id)
    assert row is not None
    return [np.asarray(Image.open(path).convert("RGB")) for path in outcome.images], row


@pytest.mark.parametrize("count", [1, 4])
def test_the_same_seed_makes_the_same_avatars(local_runtime: Runtime, count: int) -> None:
    first, row = _avatars(local_runtime, ASTRONAUT, num_images=count, seed=5)
    again, _ = _avatars(local_runtime, ASTRONAUT, num_images=count, seed=5)
    other, _ = _avatars(local_runtime, ASTRONAUT, num_images=count, seed=6)

    assert row.engine == "local" and row.status == "completed" and not row.preview
    assert len(first) == count and all(image.shape == (64, 64, 3) for image in first)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not any(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_a_photo_its_face_model_misses_is_left_out_and_said(local_runtime: Runtime, tmp_path: Path) -> None:
    dark = tmp_path / "dark.png"
    Image.eval(Image.open(ASTRONAUT).convert("RGB"), lambda value: value * 3 // 10).save(dark)

    outcome = local_runtime.service.generate_avatar(
        "local",
        [PhotoUpload.from_path(ASTRONAUT), PhotoUpload.from_path(dark)],
        {"prompt": "a headshot", "tier": "pro"},
    )

    assert "dark.png: the engine's face model found no face in it, so it was left out." in outcome.details.notes
    assert outcome.details.status == "completed"


def test_no_photo_with_a_face_for_its_face_model_is_refused_before_any_charge(
    local_runtime: Runtime, tmp_path: Path
) -> None:
    dark = tmp_path / "dark.png"
    Image.eval(Image.open(ASTRONAUT).convert("RGB"), lambda value: value * 3 // 10).save(dark)
    credits = local_runtime.accounts.account("local").credits

    with pytest.raises(RefusedError) as refused:
        local_runtime.service.generate_avatar(
            "local", [PhotoUpload.from_path(dark)], {"prompt": "a headshot", "tier": "pro"}
        )

    assert refused.value.code == "NO_FACE"
    assert local_runtime.accounts.account("local").credits == credits
    with local_runtime.database.reading() as session:
        last = session.exec(select(Generation).order_by(Generation.id.desc())).first()  # type: ignore[union-attr]
    assert last is not None and last.status == "rejected" and last.error_code == "NO_FACE"


def test_words_past_the_77_tokens_are_named_in_the_notes(local_runtime: Runtime) -> None:
    outcome = local_runtime.service.generate_avatar(
        "local",
        [PhotoUpload.from_path(ASTRONAUT)],
        {"prompt": "a woman " + "x " * 73 + "of a headshot", "tier": "pro", "style": "(No style)"},
    )

    (note,) = [note for note in outcome.details.notes if "tokens" in note]
    assert note == "The prompt is over 77 tokens; these words were not used: x of a headshot."


def test_a_trigger_word_past_the_limit_is_refused_before_any_charge(local_runtime: Runtime) -> None:
    credits = local_runtime.accounts.account("local").credits

    with pytest.raises(RefusedError) as refused:
        local_runtime.service.generate_avatar(
            "local", [PhotoUpload.from_path(ASTRONAUT)], {"prompt": "x " * 75 + "of a woman", "tier": "pro"}
        )

    assert refused.value.code == "INVALID_PROMPT" and "Shorten the text before 'img'" in refused.value.message
    assert local_runtime.accounts.account("local").credits == credits
    with local_runtime.database.reading() as session:
        last = session.exec(select(Generation).order_by(Generation.id.desc())).first()  # type: ignore[union-attr]
    assert last is not None and (last.status, last.error_code) == ("rejected", "INVALID_PROMPT")


def test_the_local_engine_runs_one_generation_at_a_time(local_runtime: Runtime) -> None:
    assert registry.concurrency_limit(local_runtime.service.engine, local_runtime.settings) == 1


def test_a_cpu_is_refused_with_a_clear_message_unless_allowed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    with pytest.raises(ValueError, match=r"needs an NVIDIA GPU with CUDA.*LOCAL_ALLOW_CPU=1"):
        registry.create_engine(Settings(data_dir=tmp_path, photomaker_engine="local"))
    assert hardware.placement(Settings(data_dir=tmp_path, local_allow_cpu=True)).dtype == torch.float32


def test_auto_picks_the_local_engine_first_on_a_cuda_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, photomaker_endpoint_url="http://127.0.0.1:9/", hf_token=None)
    assert registry.resolve_engine_name(settings) == "endpoint"

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)

    assert registry.resolve_engine_name(settings) == "local"


def test_a_missing_model_folder_says_what_it_must_hold(tmp_path: Path) -> None:
    engine = registry.create_engine(
        Settings(data_dir=tmp_path, photomaker_engine="local", local_model_dir=tmp_path / "none", local_allow_cpu=True)
    )
    assert isinstance(engine, LocalEngine)
    status = engine.model.wait(30)

    assert status.state == "failed" and "photomaker-v2.bin" in status.message
    with pytest.raises(BackendError, match="LOCAL_MODEL_DIR lacks"):
        engine.check()


def test_zerogpu_borrows_the_gpu_for_the_requests_size(monkeypatch: pytest.MonkeyPatch) -> None:
    borrowed: list[int] = []

    def gpu(*, duration: Any) -> Any:
        def wrap(run: Any) -> Any:
            def call(*args: Any) -> Any:
                borrowed.append(duration(*args))
                return run(*args)

            return call

        return wrap

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=gpu))
    monkeypatch.setattr(hardware.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")

    run = hardware.on_gpu(
        lambda steps, side: "images",
        duration=lambda steps, side: hardware.gpu_duration_s(steps=steps, width=side, height=side, num_images=1),
    )

    assert run(50, 1024) == "images" and run(50, 512) == "images"
    assert borrowed[0] > borrowed[1] >= hardware.ZEROGPU_FIXED_S
    assert hardware.gpu_duration_s(steps=50, width=1536, height=1536, num_images=4) < hardware.ZEROGPU_MAX_S
    assert hardware.gpu_duration_s(steps=1000, width=1536, height=1536, num_images=4) == hardware.ZEROGPU_MAX_S


def test_zerogpus_quota_refusal_is_a_rate_limit_with_when_to_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    def gpu(*, duration: Any) -> Any:
        def wrap(run: Any) -> Any:
            def call(*args: Any) -> Any:
                raise RuntimeError(
                    "You have exceeded your GPU quota (60s requested vs. 12s left). Try again in 0:04:10"
                )

            return call

        return wrap

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=gpu))
    monkeypatch.setattr(hardware.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setenv("SPACES_ZERO_GPU", "1")

    with pytest.raises(BackendError) as refused:
        hardware.on_gpu(lambda: None, duration=lambda: 60)()

    assert refused.value.code == "RATE_LIMIT_EXCEEDED" and refused.value.retry_after == 250
    assert hardware.quota_error(RuntimeError("CUDA out of memory")) is None

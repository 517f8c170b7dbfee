"""Memory and devices, as far as a CPU can show them: the VAE decodes in one pass while the batch fits and
slices or tiles when it would not; LOCAL_OFFLOAD places the ID encoder and the face models like the rest;
the face models say loudly when CUDA was asked for and the CPU runs; the CLIP processor is PIL's."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import transformers
from diffusers import StableDiffusionXLPipeline
from PIL import Image
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

from photomaker.core.settings import Settings
from photomaker.engines.local import hardware, memory, weights
from photomaker.engines.local.engine import LocalEngine
from photomaker.engines.local.face_embedding import BuffaloEmbedder, fallback_warning
from photomaker.engines.local.hardware import Placement
from photomaker.engines.local.loader import LocalModel, load_pipeline
from photomaker.engines.local.pipeline import PhotoMakerPipeline
from photomaker.ui import _engine_lines
from stand_ins.tiny_faces import write_tiny_face_models
from tests.local.conftest import bright_photo
from tests.local.test_pipeline import generate

SIDE = 64
ONE_IMAGE = memory.decode_bytes(width=SIDE, height=SIDE, element_bytes=4)
CUDA_FIRST = ("CUDAExecutionProvider", "CPUExecutionProvider")


def just(images: int) -> int:
    """The least free memory in which `images` images decode in one pass."""
    return math.ceil(images * ONE_IMAGE / memory.DECODE_MARGIN)


@pytest.mark.parametrize(
    ("free", "plan"),
    [(None, "batch"), (just(4), "batch"), (just(4) - 1, "slices"), (just(1), "slices"), (just(1) - 1, "tiles")],
)
def test_four_images_decode_in_one_pass_only_while_they_fit(free: int | None, plan: str) -> None:
    assert memory.decode_plan(images=4, width=SIDE, height=SIDE, element_bytes=4, free_bytes=free) == plan


def test_four_1536_px_images_need_more_than_a_24_gb_gpu_has_in_one_pass() -> None:
    one = memory.decode_bytes(width=1536, height=1536, element_bytes=2)

    assert 3.5e9 < one < 3.7e9  # per image, bf16: what benchmarks/peak_memory.py traces
    assert memory.decode_plan(images=4, width=1536, height=1536, element_bytes=2, free_bytes=10**10) == "slices"


def test_an_fp16_vae_is_planned_at_float32_as_diffusers_upcasts_it(tiny_pipeline: PhotoMakerPipeline) -> None:
    vae = tiny_pipeline.sdxl.vae
    assert memory.vae_element_bytes(vae) == 4  # float32 here
    half = type(vae).from_config({**vae.config, "force_upcast": True}).to(torch.float16)
    assert memory.vae_element_bytes(half) == 4
    assert memory.vae_element_bytes(half.to(torch.bfloat16)) == 2


@pytest.mark.parametrize(("free", "batches", "tiling"), [(None, [4], False), (3 * ONE_IMAGE, [1, 1, 1, 1], False)])
def test_the_vae_slices_only_when_the_batch_would_not_fit(
    tiny_pipeline: PhotoMakerPipeline,
    monkeypatch: pytest.MonkeyPatch,
    free: int | None,
    batches: list[int],
    tiling: bool,
) -> None:
    vae = tiny_pipeline.sdxl.vae
    seen: list[int] = []
    decode = vae._decode
    monkeypatch.setattr(
        vae, "_decode", lambda z, *args, **kwargs: seen.append(z.shape[0]) or decode(z, *args, **kwargs)
    )
    monkeypatch.setattr(memory, "free_bytes", lambda device: free)

    images = generate(tiny_pipeline, num_images=4)
    monkeypatch.setattr(memory, "free_bytes", lambda device: None)
    in_one_pass = generate(tiny_pipeline, num_images=4)

    assert seen[: len(batches)] == batches and vae.use_tiling is tiling
    # The same pixels, up to rounding: a convolution over one image may sum in another order than over four.
    differences = [
        np.abs(np.asarray(a, dtype=int) - np.asarray(b, dtype=int)) for a, b in zip(images, in_one_pass, strict=True)
    ]
    assert max(int(d.max()) for d in differences) <= 1 and sum(int((d > 0).sum()) for d in differences) <= 16


def test_an_image_that_alone_would_not_fit_is_decoded_in_tiles(
    tiny_pipeline: PhotoMakerPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory, "free_bytes", lambda device: ONE_IMAGE // 2)
    tiled: list[bool] = []
    decode = tiny_pipeline.sdxl.vae.decode
    monkeypatch.setattr(
        tiny_pipeline.sdxl.vae,
        "decode",
        lambda *a, **k: tiled.append(tiny_pipeline.sdxl.vae.use_tiling) or decode(*a, **k),
    )

    generate(tiny_pipeline)

    assert tiled == [True]
    monkeypatch.setattr(memory, "free_bytes", lambda device: None)
    generate(tiny_pipeline)
    assert tiled == [True, False]


def test_offloading_keeps_the_id_encoder_in_cpu_memory_between_its_turns(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offloaded: list[torch.device] = []
    monkeypatch.setattr(
        StableDiffusionXLPipeline, "enable_model_cpu_offload", lambda self, device: offloaded.append(device)
    )
    pipeline = load_pipeline(
        weights.from_dir(tiny_model_dir),
        Placement(torch.device("cpu"), torch.float32, offload=True, onnx_providers=("CPUExecutionProvider",)),
    )
    moves: list[tuple[Any, ...]] = []
    to = torch.nn.Module.to

    def spy(module: torch.nn.Module, *args: Any, **kwargs: Any) -> Any:
        if module is pipeline.id_encoder:
            moves.append(args)
        return to(module, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Module, "to", spy)
    generate(pipeline)

    assert offloaded == [torch.device("cpu")] and pipeline.offload_id_encoder
    assert moves == [(pipeline.device,), ("cpu",)]  # to the GPU for its turn, then back


def test_offloading_runs_the_face_models_on_the_cpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    monkeypatch.setattr("onnxruntime.get_available_providers", lambda: list(CUDA_FIRST))

    on_gpu = hardware.placement(Settings(data_dir=tmp_path))
    offloaded = hardware.placement(Settings(data_dir=tmp_path, local_offload=True))

    assert on_gpu.onnx_providers == CUDA_FIRST
    assert offloaded.onnx_providers == ("CPUExecutionProvider",) and offloaded.offload


def test_face_models_that_fall_back_to_the_cpu_say_so_in_the_log_and_on_the_page(
    tmp_path: Path, tiny_pipeline: PhotoMakerPipeline, caplog: pytest.LogCaptureFixture
) -> None:
    write_tiny_face_models(tmp_path)

    fallen = BuffaloEmbedder.from_dir(tmp_path, providers=CUDA_FIRST)  # this onnxruntime has no CUDA

    assert fallen.warning is not None and "run on the CPU" in fallen.warning
    assert any(record.levelname == "ERROR" and "run on the CPU" in record.message for record in caplog.records)
    assert BuffaloEmbedder.from_dir(tmp_path).warning is None
    assert fallback_warning(CUDA_FIRST, [list(CUDA_FIRST), list(CUDA_FIRST)]) is None
    engine = LocalEngine(
        LocalModel(lambda report: PhotoMakerPipeline(tiny_pipeline.sdxl, tiny_pipeline.id_encoder, fallen))
    )
    assert engine.model.wait(10).state == "ready"
    assert f"⚠️ **{fallen.warning}**" in _engine_lines(engine)


def test_the_id_photos_are_resized_by_pil_as_the_reference_processor_does(tiny_pipeline: PhotoMakerPipeline) -> None:
    photo = bright_photo(3, size=(96, 140))
    side = tiny_pipeline.id_encoder.config.image_size

    pixels = tiny_pipeline.id_processor([photo], return_tensors="pt").pixel_values[0].numpy()

    resized = photo.resize((side, int(140 * side / 96)), Image.Resampling.BICUBIC)  # the long side rounded down
    top = (resized.height - side) // 2
    crop = np.asarray(resized.crop((0, top, side, top + side)), dtype=np.float32) / 255
    mean, std = np.array(CLIPImageProcessorPil.image_mean), np.array(CLIPImageProcessorPil.image_std)
    assert isinstance(tiny_pipeline.id_processor, CLIPImageProcessorPil)
    np.testing.assert_allclose(pixels, ((crop - mean) / std).transpose(2, 0, 1), atol=1e-5)


class TorchvisionBackend:
    """Stands for the processor `transformers.CLIPImageProcessor` names where torchvision is installed."""

    def __init__(self, **options: Any) -> None:
        raise AssertionError("the torchvision backend was taken")


def test_the_processor_stays_pils_where_transformers_would_take_torchvisions(
    tiny_pipeline: PhotoMakerPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = bright_photo(4)
    before = tiny_pipeline.id_processor([photo], return_tensors="pt").pixel_values
    monkeypatch.setattr(transformers, "CLIPImageProcessor", TorchvisionBackend)

    rebuilt = PhotoMakerPipeline(tiny_pipeline.sdxl, tiny_pipeline.id_encoder, tiny_pipeline.faces)

    assert rebuilt.id_processor.backend == "pil"
    assert torch.equal(rebuilt.id_processor([photo], return_tensors="pt").pixel_values, before)

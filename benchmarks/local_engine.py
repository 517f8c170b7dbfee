"""The local engine on a GPU: seconds per avatar for each tier, against bare SDXL on the same GPU.

Builds the full-size pipeline with random weights (SDXL's and PhotoMaker V2's real sizes; nothing is
downloaded) and prints JSON:
- `tiers`: per photo tier (from `seeds/models.json`: size, steps, guidance) and image count (1 and 4),
  `photomaker_s` (faces, identity encoder and the batch, median of `--rounds`), `sdxl_s` (diffusers'
  SDXL pipeline alone, same size, steps, guidance and batch) and `overhead` (photomaker_s / sdxl_s - 1);
  the aim is at most 0.25 for Pro;
- `peak_gpu_memory_gb`, `device`, `dtype`, and `face_embedder`: InsightFace's buffalo_l when `--faces-dir`
  holds its two ONNX files (onnxruntime on the GPU where onnxruntime-gpu is installed), else the tiny
  stand-ins of the tests, which time our code around the face model but not the model.

    python -m benchmarks.local_engine [--rounds 3] [--faces-dir ~/buffalo_l]
    python -m benchmarks.local_engine --tiny   # tiny weights on the CPU: checks the script, times nothing real
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from PIL import Image

from photomaker.engines.local.face_embedding import BuffaloEmbedder
from photomaker.engines.local.id_encoder import build_id_encoder
from photomaker.engines.local.pipeline import PhotoMakerPipeline
from photomaker.engines.local.random_weights import TINY_ENCODER, random_sdxl
from photomaker.engines.local.tiny_faces import write_tiny_face_models
from photomaker.model_specs import load_seed_models, style_strength_ratio

ROOT = Path(__file__).parents[1]
PHOTO = ROOT / "tests" / "fixtures" / "astronaut.png"
PROMPT = "cinematic photo a woman img, a professional headshot . 35mm photograph, film, bokeh"
NEGATIVE = "drawing, painting, crayon, sketch, graphite, impressionist, noisy, blurry"
COUNTS = (1, 4)


def _seconds(run: Callable[[], object], *, rounds: int, cuda: bool) -> float:
    times = []
    for _ in range(rounds):
        if cuda:
            torch.cuda.synchronize()
        started = time.perf_counter()
        run()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def _pipeline(*, tiny: bool, device: torch.device, dtype: torch.dtype, faces_dir: Path | None) -> PhotoMakerPipeline:
    with torch.device(device):
        sdxl = random_sdxl("tiny" if tiny else "full")
        encoder = build_id_encoder(device, shape=TINY_ENCODER) if tiny else build_id_encoder(device)
    for parameter in encoder.parameters():
        torch.nn.init.normal_(parameter, std=0.02)
    sdxl.to(device=device, dtype=dtype)
    encoder.to(device=device, dtype=dtype)
    if faces_dir is None:
        faces_dir = Path(tempfile.mkdtemp(prefix="stand-in-faces-"))
        write_tiny_face_models(faces_dir)
    providers = (
        ("CUDAExecutionProvider", "CPUExecutionProvider") if device.type == "cuda" else ("CPUExecutionProvider",)
    )
    sdxl.set_progress_bar_config(disable=True)
    return PhotoMakerPipeline(sdxl, encoder, BuffaloEmbedder.from_dir(faces_dir, providers=providers))


def _time_tier(
    pipeline: PhotoMakerPipeline,
    photo: Image.Image,
    *,
    side: int,
    steps: int,
    guidance: float,
    ratio: int,
    count: int,
    rounds: int,
) -> dict[str, object]:
    """Our pipeline (faces, identity, batch) and bare SDXL at one tier's settings, each warmed up once."""

    def ours() -> None:
        pipeline.generate(
            pipeline.identity([photo]),
            prompt=PROMPT,
            negative_prompt=NEGATIVE,
            width=side,
            height=side,
            num_images=count,
            steps=steps,
            guidance_scale=guidance,
            style_strength_ratio=ratio,
            seed=42,
        )

    def bare() -> None:
        pipeline.sdxl(
            prompt=PROMPT.replace(" img", ""),
            negative_prompt=NEGATIVE,
            width=side,
            height=side,
            num_inference_steps=steps,
            guidance_scale=guidance,
            num_images_per_prompt=count,
        )

    ours()  # warm-up: kernels, allocator
    bare()
    cuda = pipeline.device.type == "cuda"
    photomaker_s = _seconds(ours, rounds=rounds, cuda=cuda)
    sdxl_s = _seconds(bare, rounds=rounds, cuda=cuda)
    return {
        "size": f"{side}x{side}",
        "steps": steps,
        "photomaker_s": photomaker_s,
        "sdxl_s": sdxl_s,
        "overhead": round(photomaker_s / sdxl_s - 1, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--faces-dir", type=Path, default=None, help="a folder with det_10g.onnx and w600k_r50.onnx")
    parser.add_argument("--tiny", action="store_true", help="tiny weights at 64 px and 2 steps on the CPU")
    args = parser.parse_args()
    if not args.tiny and not torch.cuda.is_available():
        raise SystemExit("This benchmark needs a CUDA GPU (or --tiny for a check of the script on the CPU).")
    device = torch.device("cpu" if args.tiny else "cuda")
    dtype = torch.float32 if args.tiny else (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
    pipeline = _pipeline(tiny=args.tiny, device=device, dtype=dtype, faces_dir=args.faces_dir)
    photo = Image.open(PHOTO).convert("RGB")
    tiers: dict[str, dict[str, dict[str, object]]] = {}
    for model in (model for model in load_seed_models() if model.mode == "photo"):
        side, steps = (64, 2) if args.tiny else (model.width, model.steps)
        tiers[model.tier] = {
            str(count): _time_tier(
                pipeline,
                photo,
                side=side,
                steps=steps,
                guidance=model.guidance_scale,
                ratio=style_strength_ratio(model.default_style_strength),
                count=count,
                rounds=args.rounds,
            )
            for count in COUNTS
        }
    peak = torch.cuda.max_memory_allocated() / 1e9 if device.type == "cuda" else None
    print(
        json.dumps(
            {
                "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
                "dtype": str(dtype).removeprefix("torch."),
                "weights": "tiny random" if args.tiny else "random, full size",
                "face_embedder": "buffalo_l" if args.faces_dir else "tiny stand-in",
                "tiers": tiers,
                "peak_gpu_memory_gb": round(peak, 2) if peak is not None else None,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

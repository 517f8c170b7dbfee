"""The local engine on a GPU: seconds per avatar for each tier against bare SDXL on the same GPU, the
avatars' likeness, peak memory, and whether a fixed tiny request still gives its stored image.

Builds the full-size pipeline with random weights (SDXL's and PhotoMaker V2's real sizes; nothing is
downloaded), or loads real ones from `--model-dir` (the `LOCAL_MODEL_DIR` layout), and prints JSON:
- `tiers`: per photo tier (from `seeds/models.json`: size, steps, guidance) and image count (1 and 4),
  `photomaker_s` (faces, identity encoder and the batch, median of `--rounds`), `sdxl_s` (diffusers'
  SDXL pipeline alone, same size, steps, guidance and batch) and `overhead` (photomaker_s / sdxl_s - 1);
  the aim is at most 0.25 for Pro; `likeness`: each avatar's score against the photo (dlib, as the app
  measures it; null where no face is found, as with random weights) and `peak_gpu_memory_gb` (measured);
- `reference`: the fixed tiny request (tiny seeded weights through the engine's own loader, float32) on this
  device, against the image stored for this kind of device in `benchmarks/reference/`: `identical` and
  `max_difference` (0-255). `--save-reference` stores this run's image there (commit it: a GPU's is not there
  yet, and the same seed gives other noise on a GPU than on a CPU);
- `device`, `dtype`, and `face_embedder`: InsightFace's buffalo_l when `--faces-dir` holds its two ONNX files
  (onnxruntime on the GPU where onnxruntime-gpu is installed), else the tiny stand-ins of stand_ins/, which time
  our code around the face model but not the model.

    python -m benchmarks.local_engine [--rounds 3] [--faces-dir ~/buffalo_l] [--model-dir DIR] [--save-reference]
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

import numpy as np
import torch
from PIL import Image

from photomaker.core.settings import Settings
from photomaker.engines.local import weights
from photomaker.engines.local.face_embedding import BuffaloEmbedder
from photomaker.engines.local.hardware import Placement
from photomaker.engines.local.id_encoder import build_id_encoder
from photomaker.engines.local.loader import load_pipeline
from photomaker.engines.local.pipeline import PhotoMakerPipeline
from photomaker.faces import analysis as faces
from photomaker.faces import matching as face_match
from photomaker.generation.catalogue import load_seed_models, style_strength_ratio
from photomaker.images import uploaded_photos as photos
from photomaker.images.decode_budget import DecodeBudget
from stand_ins.random_weights import TINY_ENCODER, random_sdxl, write_model_dir
from stand_ins.tiny_faces import write_tiny_face_models

ROOT = Path(__file__).parents[1]
PHOTO = ROOT / "tests" / "fixtures" / "astronaut.png"
PROMPT = "cinematic photo a woman img, a professional headshot . 35mm photograph, film, bokeh"
NEGATIVE = "drawing, painting, crayon, sketch, graphite, impressionist, noisy, blurry"
COUNTS = (1, 4)
REFERENCE_DIR = Path(__file__).with_name("reference")
TINY_REQUEST = {
    "prompt": "a photo of a woman img",
    "negative_prompt": "blurry",
    "width": 64,
    "height": 64,
    "num_images": 1,
    "steps": 2,
    "guidance_scale": 5.0,
    "style_strength_ratio": 20,
    "seed": 42,
}
"""The fixed tiny request whose image is stored, one per kind of device."""


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


def _pipeline(
    *, tiny: bool, device: torch.device, dtype: torch.dtype, faces_dir: Path | None, model_dir: Path | None
) -> PhotoMakerPipeline:
    providers = (
        ("CUDAExecutionProvider", "CPUExecutionProvider") if device.type == "cuda" else ("CPUExecutionProvider",)
    )
    if model_dir is not None:
        return load_pipeline(
            weights.from_dir(model_dir), Placement(device, dtype, offload=False, onnx_providers=providers)
        )
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
    sdxl.set_progress_bar_config(disable=True)
    return PhotoMakerPipeline(sdxl, encoder, BuffaloEmbedder.from_dir(faces_dir, providers=providers))


def _reference(device: torch.device, photo: Image.Image, *, save: bool) -> dict[str, object]:
    """The fixed tiny request on `device` against its stored image (or stored as it, with `save`)."""
    with tempfile.TemporaryDirectory(prefix="tiny-photomaker-") as folder:
        files = weights.from_dir(write_model_dir(Path(folder), size="tiny"))
        pipeline = load_pipeline(
            files, Placement(device, torch.float32, offload=False, onnx_providers=("CPUExecutionProvider",))
        )
        pipeline.sdxl.set_progress_bar_config(disable=True)
        (image,) = pipeline.generate(pipeline.identity([photo]), **TINY_REQUEST)  # type: ignore[arg-type]
    stored = REFERENCE_DIR / f"tiny_request_{device.type}.png"
    if save:
        REFERENCE_DIR.mkdir(exist_ok=True)
        image.save(stored)
    if not stored.is_file():
        return {"stored": None, "identical": None, "max_difference": None}
    difference = np.abs(np.asarray(image, dtype=int) - np.asarray(Image.open(stored).convert("RGB"), dtype=int))
    return {
        "stored": str(stored.relative_to(ROOT)),
        "identical": not difference.any(),
        "max_difference": int(difference.max()),
    }


def _likeness(images: list[Image.Image], person: np.ndarray) -> list[float | None]:
    return [None if score is None else round(score, 3) for score in face_match.measure(images, person)]


def _time_tier(
    pipeline: PhotoMakerPipeline,
    photo: Image.Image,
    person: np.ndarray,
    *,
    side: int,
    steps: int,
    guidance: float,
    ratio: int,
    count: int,
    rounds: int,
) -> dict[str, object]:
    """Our pipeline (faces, identity, batch) and bare SDXL at one tier's settings, each warmed up once; the
    likeness of our last images."""
    made: list[Image.Image] = []

    def ours() -> None:
        made[:] = pipeline.generate(
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
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    photomaker_s = _seconds(ours, rounds=rounds, cuda=cuda)
    peak = torch.cuda.max_memory_allocated() / 1e9 if cuda else None
    sdxl_s = _seconds(bare, rounds=rounds, cuda=cuda)
    return {
        "size": f"{side}x{side}",
        "steps": steps,
        "photomaker_s": photomaker_s,
        "sdxl_s": sdxl_s,
        "overhead": round(photomaker_s / sdxl_s - 1, 3),
        "likeness": _likeness(made, person),
        "peak_gpu_memory_gb": round(peak, 2) if peak is not None else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--faces-dir", type=Path, default=None, help="a folder with det_10g.onnx and w600k_r50.onnx")
    parser.add_argument("--model-dir", type=Path, default=None, help="real weights in the LOCAL_MODEL_DIR layout")
    parser.add_argument("--tiny", action="store_true", help="tiny weights at 64 px and 2 steps on the CPU")
    parser.add_argument("--save-reference", action="store_true", help="store the tiny request's image on this device")
    args = parser.parse_args()
    if not args.tiny and not torch.cuda.is_available():
        raise SystemExit("This benchmark needs a CUDA GPU (or --tiny for a check of the script on the CPU).")
    device = torch.device("cpu" if args.tiny else "cuda")
    dtype = torch.float32 if args.tiny else (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
    pipeline = _pipeline(tiny=args.tiny, device=device, dtype=dtype, faces_dir=args.faces_dir, model_dir=args.model_dir)
    photo = Image.open(PHOTO).convert("RGB")
    person = face_match.reference(
        faces.locate_all(
            photos.prepare(
                [photos.PhotoUpload.from_path(PHOTO)],
                max_bytes=PHOTO.stat().st_size,
                budget=DecodeBudget(Settings().decode_budget_bytes),
            )
        )
    )
    tiers: dict[str, dict[str, dict[str, object]]] = {}
    for model in (model for model in load_seed_models() if model.mode == "photo"):
        side, steps = (64, 2) if args.tiny else (model.width, model.steps)
        tiers[model.tier] = {
            str(count): _time_tier(
                pipeline,
                photo,
                person,
                side=side,
                steps=steps,
                guidance=model.guidance_scale,
                ratio=style_strength_ratio(model.default_style_strength),
                count=count,
                rounds=args.rounds,
            )
            for count in COUNTS
        }
    print(
        json.dumps(
            {
                "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
                "dtype": str(dtype).removeprefix("torch."),
                "weights": str(args.model_dir)
                if args.model_dir
                else ("tiny random" if args.tiny else "random, full size"),
                "face_embedder": "buffalo_l" if args.faces_dir else "tiny stand-in",
                "tiers": tiers,
                "reference": {"device": device.type, **_reference(device, photo, save=args.save_reference)},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

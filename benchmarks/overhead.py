"""What the app adds around a remote call: a whole generation through the service against the bare call.

The fake HF server answers at once with a 1024x1024 PNG of a face (the astronaut, enlarged), so
what is left is our own work: photo checks, face detection, the database transaction, the retry
wrapper, decoding, resizing, measuring the avatar's likeness and saving. Prints JSON: medians of
both, their difference, where the difference goes, and the likeness check of one 1024 px image
alone (the issue's budget: 150 ms on two cores).

    python -m benchmarks.overhead
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from huggingface_hub import InferenceClient
from PIL import Image
from pydantic import SecretStr

from benchmarks.timing import median_ms
from photomaker.core.settings import Settings
from photomaker.engines.inference import encode_photo
from photomaker.faces import matching as face_match
from photomaker.faces.analysis import locate
from photomaker.images.decode_budget import DecodeBudget
from photomaker.images.uploaded_photos import PhotoUpload, prepare_one
from photomaker.startup.runtime import start_runtime
from stand_ins.engine_inputs import FAKE_TOKEN
from stand_ins.inference_server import Answer, FakeInferenceServer

ROOT = Path(__file__).parents[1]
PHOTO = ROOT / "tests" / "fixtures" / "astronaut.png"
ROUNDS = 20
PHASES = {
    "Checking your photos": "checks",
    "Finding your face": "faces",
    "Reserving": "charge",
    "Generating image": "remote call",
    "Checking the likeness": "likeness",
    "Saving your avatars": "save",
    "Done": "done",
}


def phases_ms(run: Callable[[Callable[[float, str], None]], object]) -> dict[str, float]:
    """Median time of each step of a generation, from when its progress message appears."""
    samples: dict[str, list[float]] = {}
    for _ in range(ROUNDS):
        marks: list[tuple[str, float]] = []

        def progress(fraction: float, message: str, marks: list[tuple[str, float]] = marks) -> None:
            name = next((phase for prefix, phase in PHASES.items() if message.startswith(prefix)), None)
            if name and name not in (mark for mark, _ in marks):
                marks.append((name, time.perf_counter()))

        start = time.perf_counter()
        run(progress)
        previous = ("prepare request", start)
        for mark in marks:
            samples.setdefault(previous[0], []).append(mark[1] - previous[1])
            previous = mark
    return {name: round(statistics.median(values) * 1000, 1) for name, values in samples.items() if name != "done"}


def main() -> None:
    with tempfile.TemporaryDirectory() as data:
        avatar_face = Path(data) / "avatar.png"
        with Image.open(PHOTO) as image:
            image.convert("RGB").resize((1024, 1024), Image.Resampling.LANCZOS).save(avatar_face)
        with FakeInferenceServer(default=Answer.image_file(avatar_face)) as server:
            report = measure(server, Path(data) / "app", Image.open(avatar_face))
    print(json.dumps(report, indent=2))


def measure(server: FakeInferenceServer, data: Path, avatar_face: Image.Image) -> dict[str, object]:
    """Every figure of the report, against `server`, with the app's data in `data`."""
    settings = Settings(
        data_dir=data,
        photomaker_endpoint_url=server.url,
        text_to_image_endpoint_url=server.url,
        hf_token=SecretStr(FAKE_TOKEN),
        starting_credits=1_000_000,
        user_rate_limit_per_min=1_000_000,
    )
    runtime = start_runtime(settings)
    for check in runtime.health:
        check.wait(10)
    service = runtime.service
    photo = PhotoUpload.from_path(PHOTO)
    avatar = ([photo], {"prompt": "a professional headshot", "tier": "pro", "seed": 1})
    text = dict(prompt="a lighthouse at dusk", seed=1)

    client = InferenceClient(base_url=server.url, token=FAKE_TOKEN)
    located = locate(
        prepare_one(photo, max_bytes=settings.max_photo_bytes, budget=DecodeBudget(settings.decode_budget_bytes))
    )
    jpeg = encode_photo(located)
    parameters = {"prompt": "a person img, a professional headshot", "target_size": {"width": 1024, "height": 1024}}

    bare_photo = median_ms(lambda: client.image_to_image(jpeg, **parameters).load(), rounds=ROUNDS)
    whole_photo = median_ms(lambda: service.generate_avatar("bench", *avatar), rounds=ROUNDS)
    bare_text = median_ms(
        lambda: client.text_to_image("a lighthouse at dusk", width=1024, height=1024).load(), rounds=ROUNDS
    )
    whole_text = median_ms(lambda: service.generate_from_text("bench", text), rounds=ROUNDS)
    breakdown = phases_ms(lambda progress: service.generate_avatar("bench", *avatar, progress=progress))
    person = face_match.reference([located])
    likeness_one = median_ms(lambda: face_match.measure([avatar_face], person), rounds=ROUNDS)
    runtime.database.dispose()
    return {
        "rounds": ROUNDS,
        "answer": "1024x1024 PNG of a face, at once",
        "photo_to_avatar": {
            "bare_inference_client_ms": bare_photo,
            "whole_generation_ms": whole_photo,
            "overhead_ms": round(whole_photo - bare_photo, 1),
            "steps_ms": breakdown,
        },
        "likeness_per_1024px_image_ms": likeness_one,
        "text_to_image": {
            "bare_inference_client_ms": bare_text,
            "whole_generation_ms": whole_text,
            "overhead_ms": round(whole_text - bare_text, 1),
        },
    }


if __name__ == "__main__":
    main()

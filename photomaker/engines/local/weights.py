"""Where the local engine's weights come from, and how much is left to fetch.

Either `LOCAL_MODEL_DIR`, a folder laid out as `MODEL_DIR_LAYOUT` says, or the Hugging Face cache:
the base model (`LOCAL_BASE_MODEL`, its fp16 files where it has them), `photomaker-v2.bin` and
InsightFace's `buffalo_l` detector and recognizer, each downloaded once. `HF_HUB_OFFLINE=1` makes
the hub read the cache only (huggingface_hub honours it itself).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huggingface_hub import hf_hub_download, snapshot_download
from huggingface_hub.file_download import DryRunFileInfo
from tqdm.auto import tqdm

from photomaker.core.errors import BackendError
from photomaker.engines.local.face_embedding import FACE_MODEL_FILES
from photomaker.engines.local.id_encoder import FULL_SIZE, IdEncoderShape

BASE_DIR = "base"
CHECKPOINT_FILE = "photomaker-v2.bin"
SHAPE_FILE = "id_encoder.json"
FACES_DIR = "buffalo_l"
MODEL_DIR_LAYOUT = (
    f"{BASE_DIR}/ (a diffusers SDXL folder), {CHECKPOINT_FILE}, {FACES_DIR}/{FACE_MODEL_FILES[0]} "
    f"and {FACES_DIR}/{FACE_MODEL_FILES[1]}"
)
PHOTOMAKER_REPO = "TencentARC/PhotoMaker-V2"
FACES_REPO = "public-data/insightface"
FACES_SUBFOLDER = "models/buffalo_l"
BASE_PATTERNS = ["*.json", "*.txt", "*.fp16.safetensors"]
"""The base model's configs, tokenizers and half-precision weights: about 7 GB of SDXL's 13."""
FULL_PATTERNS = ["*.json", "*.txt", "*.safetensors"]
"""For a base model without fp16 files."""


@dataclass(frozen=True)
class ModelFiles:
    """Every file the pipeline loads, on disk."""

    base: Path
    checkpoint: Path
    faces: Path
    shape: IdEncoderShape = FULL_SIZE
    variant: str | None = "fp16"


@dataclass(frozen=True)
class Fetching:
    """A progress report: what is being fetched, and how many bytes of how many are done."""

    what: str
    done_bytes: int
    total_bytes: int
    started: float


Report = Callable[[Fetching], None]


def from_dir(directory: Path) -> ModelFiles:
    """The files in a `LOCAL_MODEL_DIR`; a clear error naming what is missing."""
    files = ModelFiles(
        base=directory / BASE_DIR,
        checkpoint=directory / CHECKPOINT_FILE,
        faces=directory / FACES_DIR,
        variant=None,
    )
    needed = [files.base / "model_index.json", files.checkpoint, *(files.faces / name for name in FACE_MODEL_FILES)]
    missing = [str(path) for path in needed if not path.is_file()]
    if missing:
        raise BackendError(
            "BACKEND_UNAVAILABLE",
            f"LOCAL_MODEL_DIR lacks {', '.join(missing)}; it must hold {MODEL_DIR_LAYOUT}.",
            retryable=False,
        )
    shape_file = directory / SHAPE_FILE
    shape = IdEncoderShape(**json.loads(shape_file.read_text())) if shape_file.is_file() else FULL_SIZE
    return ModelFiles(base=files.base, checkpoint=files.checkpoint, faces=files.faces, shape=shape, variant=None)


class _Tally:
    """Bytes fetched across downloads, reported as they arrive (huggingface_hub reports through tqdm)."""

    def __init__(self, report: Report, *, total_bytes: int) -> None:
        self.report = report
        self.total_bytes = total_bytes
        self.done_bytes = 0
        self.what = ""
        self.started = time.monotonic()
        self.lock = threading.Lock()

    def add(self, count: int) -> None:
        with self.lock:
            self.done_bytes += count
            self.report(Fetching(self.what, self.done_bytes, self.total_bytes, self.started))

    def progress_class(self) -> type[tqdm]:
        tally = self

        class Counting(tqdm):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **{**kwargs, "disable": True})

            def update(self, n: float | None = 1) -> bool | None:
                if self.unit == "B":
                    tally.add(int(n or 0))
                return None

        return Counting


def download(base_model: str, *, report: Report) -> ModelFiles:
    """The weights from the Hugging Face cache, fetching what is not there yet, one file at a time."""
    try:
        plan = _plan(base_model)
    except Exception:  # offline, or the hub unreachable: read the cache, which says what is missing if anything is
        return _cached(base_model)
    tally = _Tally(report, total_bytes=sum(info.file_size or 0 for _, _, info in plan if info.will_download))
    fetched: list[Path] = []
    for label, repo, info in plan:
        tally.what = label
        tally.add(0)
        fetched.append(Path(hf_hub_download(repo, info.filename, tqdm_class=tally.progress_class())))
    base_files = [path for path, (_, repo, _) in zip(fetched, plan, strict=True) if repo == base_model]
    index = next(path for path in base_files if path.name == "model_index.json")
    variant = "fp16" if any(path.name.endswith(".fp16.safetensors") for path in base_files) else None
    return ModelFiles(base=index.parent, checkpoint=fetched[-3], faces=fetched[-1].parent, variant=variant)


def _plan(base_model: str) -> list[tuple[str, str, DryRunFileInfo]]:
    """Every file to read, with what to call it while it downloads: the base model's fp16 files where it has them."""
    base = snapshot_download(base_model, allow_patterns=BASE_PATTERNS, dry_run=True)
    if not any(info.filename.endswith(".safetensors") for info in base):
        base = snapshot_download(base_model, allow_patterns=FULL_PATTERNS, dry_run=True)
    return [
        *((f"the base model {base_model}", base_model, info) for info in base),
        ("PhotoMaker V2", PHOTOMAKER_REPO, hf_hub_download(PHOTOMAKER_REPO, CHECKPOINT_FILE, dry_run=True)),
        *(
            (
                "InsightFace buffalo_l",
                FACES_REPO,
                hf_hub_download(FACES_REPO, f"{FACES_SUBFOLDER}/{name}", dry_run=True),
            )
            for name in FACE_MODEL_FILES
        ),
    ]


def _cached(base_model: str) -> ModelFiles:
    """The weights from the cache alone (HF_HUB_OFFLINE=1 or no network)."""
    try:
        base = Path(snapshot_download(base_model, allow_patterns=BASE_PATTERNS, local_files_only=True))
        checkpoint = Path(hf_hub_download(PHOTOMAKER_REPO, CHECKPOINT_FILE, local_files_only=True))
        faces = [
            Path(hf_hub_download(FACES_REPO, f"{FACES_SUBFOLDER}/{name}", local_files_only=True))
            for name in FACE_MODEL_FILES
        ]
    except Exception as exc:
        raise BackendError(
            "BACKEND_UNAVAILABLE",
            f"The local engine's weights are not in the Hugging Face cache and cannot be downloaded ({exc}). "
            f"Start once with network access, or set LOCAL_MODEL_DIR to a folder holding {MODEL_DIR_LAYOUT}.",
            retryable=False,
        ) from exc
    variant = "fp16" if any(base.rglob("*.fp16.safetensors")) else None
    return ModelFiles(base=base, checkpoint=checkpoint, faces=faces[0].parent, variant=variant)

"""Loading the local engine in the background, and telling how far it got.

The app serves at once; the weights are fetched (once, into the Hugging Face cache) and loaded onto
the GPU in a thread. Until they are, a generation is refused before any charge with `MODEL_LOADING`
and how long to wait, and the page shows what is loading, how many GB, and roughly how long is left.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import torch
from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline

from photomaker.core.errors import BackendError, RefusedError
from photomaker.engines.loading import LoadStatus, try_again_in
from photomaker.engines.local import weights
from photomaker.engines.local.face_embedding import BuffaloEmbedder
from photomaker.engines.local.hardware import Placement
from photomaker.engines.local.id_encoder import load_id_encoder
from photomaker.engines.local.pipeline import PhotoMakerPipeline

log = logging.getLogger(__name__)

LOAD_BYTES_PER_S = 1.0e9
"""Roughly how fast weights on disk become weights on the GPU, for the time left once downloads are done."""
UNKNOWN_WAIT_S = 60.0

Loader = Callable[[weights.Report], PhotoMakerPipeline]


def load_pipeline(files: weights.ModelFiles, placement: Placement) -> PhotoMakerPipeline:
    """PhotoMaker V2 from `files`: the base model with the LoRA fused, the ID encoder, the face embedder."""
    sdxl = StableDiffusionXLPipeline.from_pretrained(
        files.base, torch_dtype=placement.dtype, variant=files.variant, use_safetensors=True
    )
    sdxl.scheduler = EulerDiscreteScheduler.from_config(sdxl.scheduler.config)
    if not placement.offload:
        sdxl.to(placement.device)  # the LoRA is fused where it runs, as the Space fuses it: the GPU's rounding
    checkpoint = torch.load(files.checkpoint, map_location="cpu", weights_only=True)
    if sorted(checkpoint) != ["id_encoder", "lora_weights"]:
        raise BackendError(
            "BACKEND_UNAVAILABLE", f"{files.checkpoint} is not a PhotoMaker V2 checkpoint.", retryable=False
        )
    sdxl.load_lora_weights(checkpoint["lora_weights"], adapter_name="photomaker")
    sdxl.fuse_lora()
    sdxl.unload_lora_weights()
    encoder_device = torch.device("cpu") if placement.offload else placement.device
    encoder = load_id_encoder(checkpoint["id_encoder"], shape=files.shape, device=encoder_device, dtype=placement.dtype)
    if placement.offload:
        sdxl.enable_model_cpu_offload(device=placement.device)
    faces = BuffaloEmbedder.from_dir(files.faces, providers=placement.onnx_providers)
    return PhotoMakerPipeline(sdxl, encoder, faces, offload_id_encoder=placement.offload)


def loader_for(model_dir: Path | None, placement: Placement, *, base_model: str) -> Loader:
    """How to load PhotoMaker V2: from the weights in `model_dir` when given, else from the hub (`base_model` and
    PhotoMaker V2's checkpoint, downloaded once into its cache)."""

    def load(report: weights.Report) -> PhotoMakerPipeline:
        files = weights.from_dir(model_dir) if model_dir else weights.download(base_model, report=report)
        return load_pipeline(files, placement)

    return load


class LocalModel:
    """The pipeline, loading in a background thread from the moment `start` is called."""

    def __init__(self, load: Loader) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pipeline: PhotoMakerPipeline | None = None
        self._error: Exception | None = None
        self._fetching: weights.Fetching | None = None
        self._started = time.monotonic()

    def start(self) -> None:
        """Begin loading (once)."""
        with self._lock:
            if self._thread is None:
                self._started = time.monotonic()
                self._thread = threading.Thread(target=self._run, name="local-engine-load", daemon=True)
                self._thread.start()

    def wait(self, timeout_s: float | None = None) -> LoadStatus:
        """Block until loaded or failed (or `timeout_s`), then say where it stands."""
        self.start()
        assert self._thread is not None
        self._thread.join(timeout_s)
        return self.status()

    def _run(self) -> None:
        try:
            pipeline = self._load(self._report)
        except Exception as exc:
            log.exception("the local engine failed to load")
            with self._lock:
                self._error = exc
            return
        with self._lock:
            self._pipeline = pipeline
        log.info("the local engine is ready after %.1f s", time.monotonic() - self._started)

    def _report(self, fetching: weights.Fetching) -> None:
        with self._lock:
            self._fetching = fetching

    def status(self) -> LoadStatus:
        with self._lock:
            pipeline, error, fetching = self._pipeline, self._error, self._fetching
        if pipeline is not None:
            return LoadStatus("ready", "PhotoMaker V2 is loaded and ready.", warning=pipeline.faces.warning)
        if error is not None:
            return LoadStatus("failed", f"PhotoMaker V2 could not be loaded: {_reason(error)}")
        if fetching is None or fetching.total_bytes == 0 or fetching.done_bytes >= fetching.total_bytes:
            return LoadStatus("loading", "Loading PhotoMaker V2 onto the GPU.", wait_s=self._load_wait_s(fetching))
        elapsed = max(time.monotonic() - fetching.started, 1e-3)
        speed = fetching.done_bytes / elapsed
        left = fetching.total_bytes - fetching.done_bytes
        wait_s = left / speed + self._load_wait_s(fetching) if speed > 0 else None
        return LoadStatus(
            "loading",
            f"Downloading {fetching.what}: {fetching.done_bytes / 1e9:.1f} of {fetching.total_bytes / 1e9:.1f} GB.",
            wait_s=wait_s,
        )

    @staticmethod
    def _load_wait_s(fetching: weights.Fetching | None) -> float:
        total = fetching.total_bytes if fetching is not None else 0
        return total / LOAD_BYTES_PER_S + 10 if total else UNKNOWN_WAIT_S

    def pipeline(self) -> PhotoMakerPipeline:
        """The loaded pipeline; refused `MODEL_LOADING` (nothing charged) while it loads."""
        status = self.status()
        if self._pipeline is not None:
            return self._pipeline
        if status.state == "failed":
            raise BackendError("BACKEND_UNAVAILABLE", status.message, retryable=False)
        raise RefusedError(
            "MODEL_LOADING", f"{status.message} {try_again_in(status.wait_s)}", retry_after=status.wait_s
        )


def _reason(error: Exception) -> str:
    return str(error) or type(error).__name__

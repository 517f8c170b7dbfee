"""The `space` engine: the public PhotoMaker V2 Space (`/generate_image`) through gradio_client.

It sends exactly what the Space takes: the prompt before any style (the Space applies the style
itself, named as the Space spells it), the square aspect preset, our style strength mapped into
the Space's 15-50, and every photo uploaded. The Space answers at 1024x1024; outputs are resized
to the tier. One client, created on first use and shared by all generations; while a job waits,
the progress bar shows the queue position the Space reports. A visitor's ZeroGPU token goes with
that visitor's job alone, never onto the shared client (see `SharedClient`).
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import threading
import time
from concurrent.futures import wait
from pathlib import Path
from typing import Any

from gradio_client import Client, handle_file
from gradio_client.utils import Status, StatusUpdate
from PIL import Image

from photomaker.core.errors import BackendError
from photomaker.core.settings import Settings
from photomaker.engines import transport
from photomaker.engines.base import GenerationRequest, GenerationResult, ProgressFn, fit_to_size
from photomaker.engines.retry import Retrier, RetryPolicy
from photomaker.generation.catalogue import SQUARE_ASPECT
from photomaker.images.avatar_files import private_folder

log = logging.getLogger(__name__)

ENDPOINT = "/generate_image"
POLL_S = 0.5
DOODLE_OFF = {"use_doodle": False, "sketch_image": None}
ADAPTER_DEFAULTS = {"adapter_conditioning_scale": 0.7, "adapter_conditioning_factor": 0.8}
"""The Space's own defaults; its T2I adapter is only used with a doodle, which we never send."""


class SharedClient(Client):
    """A gradio_client `Client` that keeps no visitor's ZeroGPU token, so that it can be shared.

    Called inside a Gradio event (ours are), `Client.send_data` asks `add_zero_gpu_headers` for the
    headers of a job, and that writes the event's visitor's `x-ip-token` into `self.headers` itself:
    every later request of the client (other visitors' jobs, uploads, downloads) would carry it,
    charging their GPU time to that visitor. Here it goes into a copy made for that one job.
    """

    def add_zero_gpu_headers(self, headers: dict[str, str]) -> dict[str, str]:
        return super().add_zero_gpu_headers(dict(headers))


def space_arguments(request: GenerationRequest, photos: list[Path]) -> dict[str, Any]:
    """The keyword arguments of the Space's `/generate_image` for one request."""
    return {
        "upload_images": [handle_file(str(path)) for path in photos],
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt,
        "aspect_ratio_name": SQUARE_ASPECT,
        "style_name": request.style.space_name,
        "num_steps": request.steps,
        "style_strength_ratio": request.style_strength_ratio,
        "num_outputs": request.num_images,
        "guidance_scale": request.guidance_scale,
        "seed": request.seed,
        **DOODLE_OFF,
        **ADAPTER_DEFAULTS,
    }


def describe(status: StatusUpdate) -> tuple[float, str]:
    """What a job's status means for the user: the queue position, or how far the generation is."""
    if status.code == Status.IN_QUEUE and status.rank is not None:
        where = f"{status.rank + 1} of {status.queue_size}" if status.queue_size else f"{status.rank + 1}"
        eta = f", about {status.eta:.0f} s" if status.eta else ""
        return 0.05, f"Waiting in the PhotoMaker Space's queue: position {where}{eta}"
    unit = (status.progress_data or [None])[-1]
    if unit is not None and unit.index is not None and unit.length:
        return unit.index / unit.length, f"PhotoMaker is generating: {unit.index} of {unit.length} {unit.unit or ''}"
    return 0.1, "PhotoMaker is generating"


def gallery_images(outputs: Any, *, expected: int) -> list[Image.Image]:
    """The images of the Space's answer (a gallery of `{"image": path}` first), the downloads deleted."""
    gallery = outputs[0] if isinstance(outputs, tuple) else outputs
    items = gallery if isinstance(gallery, list) else []
    paths = [Path(item["image"]) for item in items if isinstance(item, dict) and isinstance(item.get("image"), str)]
    try:
        if len(paths) < expected:
            raise BackendError(
                "BAD_RESPONSE",
                f"The PhotoMaker Space sent back {len(paths)} of {expected} images; try again. Credits refunded.",
            )
        return [transport.load_image(path) for path in paths[:expected]]
    finally:
        for path in set(paths):
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # gradio_client's per-file folder, once empty


class SpaceEngine:
    """PhotoMaker V2 through its public Space."""

    name = "space"
    preview = False

    def __init__(
        self,
        *,
        space: str,
        token: str | None,
        timeout_s: float,
        policy: RetryPolicy,
        downloads: Path,
        poll_s: float = POLL_S,
    ) -> None:
        self.space = space
        self.token = token
        self.timeout_s = timeout_s
        self.policy = policy
        self.downloads = downloads
        self.poll_s = poll_s
        self._client: Client | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, policy: RetryPolicy | None = None) -> SpaceEngine:
        return cls(
            space=settings.photomaker_space,
            token=settings.token,
            timeout_s=settings.space_timeout_s,
            policy=policy or RetryPolicy.from_settings(settings),
            downloads=settings.downloads_dir,
        )

    def client(self) -> Client:
        """The shared client, connected on first use (a failed connection is tried again next time)."""
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            return self._client

    def _connect(self) -> Client:
        """A new client (called under the lock); its downloads go to a private folder of the app's, emptied as read."""
        private_folder(self.downloads)
        try:
            # `False`, not None, without a token of our own: None would send HF_TOKEN or the saved login.
            token: str | bool = self.token or False
            return SharedClient(
                self.space, token=token, verbose=False, download_files=str(self.downloads), analytics_enabled=False
            )
        except ValueError as error:
            # gradio_client's word for a Space that is missing, paused, broken or not a Gradio app.
            log.warning(
                "the PhotoMaker Space %s cannot be used: %s", self.space, transport.redact(str(error), self.token)
            )
            raise BackendError(
                "BACKEND_UNAVAILABLE",
                f"The PhotoMaker Space {self.space} cannot be used right now; try again later. Credits refunded.",
            ) from error

    def check(self) -> None:
        """Connect now, so that a bad token or an unknown Space shows up at start."""
        with transport.translated(backend=self.name, secret=self.token):
            self.client()

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> GenerationResult:
        retrier = Retrier(self.policy, backend=self.name, progress=progress, secret=self.token)
        with tempfile.TemporaryDirectory(prefix="photomaker-upload-") as folder:
            photos = []
            for index, photo in enumerate(request.photos, start=1):
                path = Path(folder) / f"photo-{index}.jpg"
                photo.photo.image.save(path, "JPEG", quality=95)
                photos.append(path)
            arguments = space_arguments(request, photos)
            images = retrier.call(lambda: gallery_images(self._run(arguments, progress), expected=request.num_images))
        fitted, upscaled = fit_to_size(images, width=request.width, height=request.height)
        progress(1.0, "Images received")
        return GenerationResult(
            images=fitted,
            seed=request.seed,
            engine=self.name,
            attempts=retrier.attempts,
            effective_params={
                "space": self.space,
                "space_style_name": request.style.space_name,
                "aspect_ratio_name": SQUARE_ASPECT,
                "style_strength_ratio": request.style_strength_ratio,
                "backend_size": f"{images[0].width}x{images[0].height}",
                "upscaled": upscaled,
            },
        )

    def _run(self, arguments: dict[str, Any], progress: ProgressFn) -> Any:
        """One job on the Space, waited for with a deadline while its status is reported."""
        job = self.client().submit(**arguments, api_name=ENDPOINT)
        deadline = time.monotonic() + self.timeout_s
        shown = None
        while not wait([job], timeout=self.poll_s).done:
            if time.monotonic() > deadline:
                job.cancel()
                raise TimeoutError(f"the Space did not answer within {self.timeout_s:g} s")
            update = describe(job.status())
            if update != shown:
                progress(*update)
                shown = update
        return job.result()

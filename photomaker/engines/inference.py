"""`huggingface_hub.InferenceClient` engines: the PhotoMaker `endpoint` and text to image.

Photo mode calls `image_to_image` on a dedicated PhotoMaker V2 endpoint
(`PHOTOMAKER_ENDPOINT_URL`) with the JSON contract documented in docs/engines.md (its names in
`endpoint_contract`, shared with deploy/endpoint's handler); text mode calls `text_to_image` on HF
Inference Providers (`TEXT_TO_IMAGE_MODEL`) or on a dedicated endpoint (`TEXT_TO_IMAGE_ENDPOINT_URL`).
The token is always explicit: left to itself, InferenceClient sends HF_TOKEN or the saved login to
whatever address it is given. Each call makes one image, so several images are several calls, the
seed counting up from the request's.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from functools import partial
from typing import Any

from huggingface_hub import ImageToImageTargetSize, InferenceClient, whoami
from huggingface_hub.utils import get_session
from PIL import Image

from photomaker.core.settings import Settings
from photomaker.engines import endpoint_contract as contract
from photomaker.engines import transport
from photomaker.engines.base import MAX_SEED, GenerationRequest, GenerationResult, ProgressFn, fit_to_size
from photomaker.engines.retry import Retrier, RetryPolicy
from photomaker.faces.analysis import FacePhoto

CHECK_TIMEOUT_S = 10.0


def encode_photo(photo: FacePhoto) -> bytes:
    """A prepared photo as JPEG bytes (InferenceClient takes bytes, not PIL images)."""
    buffer = io.BytesIO()
    photo.photo.image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


class InferenceEngine:
    """One InferenceClient target: a URL (dedicated endpoint) or a model id (HF Inference Providers)."""

    preview = False

    def __init__(self, *, name: str, target: str, token: str | None, timeout_s: float, policy: RetryPolicy) -> None:
        self.name = name
        self.target = target
        self.token = token
        self.policy = policy
        self.is_url = target.startswith(("http://", "https://"))
        # Without a token of our own, send none: `None` removes the header InferenceClient would fill in.
        no_auth = {"authorization": None}
        self.client = InferenceClient(
            model=None if self.is_url else target,
            base_url=target if self.is_url else None,
            token=token or None,
            timeout=timeout_s,
            headers=None if token else no_auth,  # type: ignore[arg-type]  # typed str-only; None drops the header
        )

    @classmethod
    def for_endpoint(cls, settings: Settings, *, policy: RetryPolicy | None = None) -> InferenceEngine:
        """The `endpoint` engine: PhotoMaker V2 on `PHOTOMAKER_ENDPOINT_URL`."""
        if not settings.photomaker_endpoint_url:
            raise ValueError("the endpoint engine needs PHOTOMAKER_ENDPOINT_URL")
        return cls(
            name="endpoint",
            target=settings.photomaker_endpoint_url,
            token=settings.token,
            timeout_s=settings.inference_timeout_s,
            policy=policy or RetryPolicy.from_settings(settings),
        )

    @classmethod
    def for_text(cls, settings: Settings, *, policy: RetryPolicy | None = None) -> InferenceEngine:
        """Text to image: `TEXT_TO_IMAGE_ENDPOINT_URL` when set, else `TEXT_TO_IMAGE_MODEL` on Inference Providers."""
        url = settings.text_to_image_endpoint_url
        return cls(
            name="text-endpoint" if url else "inference-providers",
            target=url or settings.text_to_image_model,
            token=settings.token,
            timeout_s=settings.inference_timeout_s,
            policy=policy or RetryPolicy.from_settings(settings),
        )

    def check(self) -> None:
        """A dedicated endpoint must answer without refusing the token; for Providers, the token must be valid."""
        with transport.translated(backend=self.name, secret=self.token):
            if not self.is_url:
                whoami(token=self.token)
                return
            headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
            response = get_session().get(self.target, headers=headers, timeout=CHECK_TIMEOUT_S)
            if response.status_code in (401, 403, 404):
                raise transport.from_status(response)

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> GenerationResult:
        retrier = Retrier(self.policy, backend=self.name, progress=progress, secret=self.token)
        make = self._photo_call(request) if request.mode == "photo" else self._text_call(request)
        images = []
        for index in range(request.num_images):
            progress(index / request.num_images, f"Generating image {index + 1} of {request.num_images}")
            seed = (request.seed + index) % (MAX_SEED + 1)
            images.append(retrier.call(partial(make, seed), fraction=index / request.num_images))
        progress(1.0, "Images received")
        fitted, upscaled = fit_to_size(images, width=request.width, height=request.height)
        effective = {"backend_size": f"{images[0].width}x{images[0].height}", "upscaled": upscaled}
        if request.mode == "photo":
            effective["style_strength_ratio"] = request.style_strength_ratio
        elif not self.is_url:
            effective["text_model"] = self.target
        return GenerationResult(
            images=fitted,
            seed=request.seed,
            engine=self.name,
            attempts=retrier.attempts,
            effective_params=effective,
        )

    def _photo_call(self, request: GenerationRequest) -> Callable[[int], Image.Image]:
        """One `image_to_image` call per seed, with the photos encoded once for all of them.

        InferenceClient puts the first photo in `inputs` and every keyword in `parameters`: the contract's names.
        """
        photos = [encode_photo(photo) for photo in request.photos]
        parameters: dict[str, Any] = {
            contract.PROMPT: request.styled_prompt,
            contract.NEGATIVE_PROMPT: request.styled_negative_prompt,
            contract.STEPS: request.steps,
            contract.GUIDANCE_SCALE: request.guidance_scale,
            contract.TARGET_SIZE: ImageToImageTargetSize(width=request.width, height=request.height),
            contract.ID_IMAGES: [base64.b64encode(photo).decode() for photo in photos],
            contract.STYLE_STRENGTH_RATIO: request.style_strength_ratio,
            contract.STYLE_NAME: request.style.space_name,
        }

        def call(seed: int) -> Image.Image:
            return transport.load_image(self.client.image_to_image(photos[0], **{**parameters, contract.SEED: seed}))

        return call

    def _text_call(self, request: GenerationRequest) -> Callable[[int], Image.Image]:
        """One `text_to_image` call per seed."""

        def call(seed: int) -> Image.Image:
            image = self.client.text_to_image(
                request.styled_prompt,
                seed=seed,
                negative_prompt=request.styled_negative_prompt or None,
                width=request.width,
                height=request.height,
                num_inference_steps=request.steps,
                guidance_scale=request.guidance_scale,
            )
            return transport.load_image(image)

        return call

"""The `local` engine: PhotoMaker V2 on this machine's GPU, one generation at a time.

Its model loads in the background from the moment the engine is made. `admit` runs before any
charge: it refuses `MODEL_LOADING` while the model loads, drops the photos in which InsightFace finds no
face (refusing `NO_FACE` when none is left), and refuses a prompt whose trigger word the text encoders'
77 tokens would cut (`INVALID_PROMPT`), so that a request it cannot serve costs nothing. Words past the
77 tokens are said in the generation's notes.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import replace

import numpy as np
from PIL import Image

from photomaker.core.errors import RefusedError
from photomaker.core.plurals import counted
from photomaker.core.settings import Settings
from photomaker.engines.base import Admission, GenerationRequest, GenerationResult, ProgressFn
from photomaker.engines.loading import LoadStatus
from photomaker.engines.local.hardware import gpu_duration_s, on_gpu, placement
from photomaker.engines.local.loader import LocalModel, loader_for
from photomaker.engines.local.pipeline import FaceEmbeddings, PhotoMakerPipeline, identity_of, merge_step
from photomaker.generation.prompt_fit import TokenCount

EMBEDDINGS_KEPT = 32
"""Face embeddings kept by photo, so that `generate` reuses what `admit` found."""


class LocalEngine:
    """PhotoMaker V2 in this process."""

    name = "local"
    preview = False

    def __init__(self, model: LocalModel) -> None:
        self.model = model
        self._embeddings: OrderedDict[bytes, np.ndarray | None] = OrderedDict()
        self._embeddings_lock = threading.Lock()
        self._images = on_gpu(self._make_images, duration=self._gpu_duration_s)
        model.start()

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalEngine:
        """The engine for these settings; refuses a machine without CUDA unless `LOCAL_ALLOW_CPU=1`."""
        load = loader_for(settings.local_model_dir, placement(settings), base_model=settings.local_base_model)
        return cls(LocalModel(load))

    def status(self) -> LoadStatus:
        return self.model.status()

    def wait(self, timeout_s: float | None = None) -> LoadStatus:
        return self.model.wait(timeout_s)

    def check(self) -> None:
        """Raises once loading has failed; loading itself is not waited for."""
        if self.model.status().state == "failed":
            self.model.pipeline()

    def admit(self, request: GenerationRequest) -> Admission:
        """The request with only the photos InsightFace finds a face in, and notes of what was left out; refused
        while loading, with no face, or with the trigger word past the text encoders' length."""
        pipeline = self.model.pipeline()
        identity = self._identity(pipeline, request)
        kept = {id(image) for image in identity.photos}
        photos = tuple(photo for photo in request.photos if id(photo.photo.image) in kept)
        fit = pipeline.fit(request.styled_prompt, photos=len(photos))
        if fit.refusal is not None:
            raise RefusedError("INVALID_PROMPT", fit.refusal)
        notes = [
            f"{photo.photo.name}: the engine's face model found no face in it, so it was left out."
            for photo in request.photos
            if id(photo.photo.image) not in kept
        ]
        if fit.unused:
            notes.append(
                f"The prompt is over {fit.limit} tokens; these words were not used: {pipeline.unused_words(fit)}."
            )
        return Admission(replace(request, photos=photos), tuple(notes))

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> GenerationResult:
        pipeline = self.model.pipeline()
        identity = self._identity(pipeline, request)
        progress(0.0, f"Generating with {counted(len(identity.photos), 'photo')}")
        images = self._images(pipeline, identity, request, progress)
        return GenerationResult(
            images=images,
            seed=request.seed,
            engine=self.name,
            effective_params={
                "style_strength_ratio": request.style_strength_ratio,
                "merge_step": merge_step(request.style_strength_ratio, request.steps),
                "photos_used": len(identity.photos),
            },
        )

    def count_tokens(self, prompt: str, *, photos: int) -> TokenCount | None:
        """How `prompt` fits with the model's tokenizer, once it is loaded."""
        if self.model.status().state != "ready":
            return None
        pipeline = self.model.pipeline()
        fit = pipeline.fit(prompt, photos=photos)
        return TokenCount(
            tokens=fit.tokens,
            limit=fit.limit,
            unused_words=pipeline.unused_words(fit) if fit.unused else "",
            refusal=fit.refusal,
            estimated=False,
        )

    def _identity(self, pipeline: PhotoMakerPipeline, request: GenerationRequest) -> FaceEmbeddings:
        """`pipeline.identity` of the request's photos, reusing embeddings already found for the same pixels."""
        images = [photo.photo.image for photo in request.photos]
        keys = [
            hashlib.blake2b(image.tobytes(), digest_size=16).digest() + repr(image.size).encode() for image in images
        ]
        with self._embeddings_lock:
            known = {key: self._embeddings[key] for key in keys if key in self._embeddings}
        found = [
            known[key] if key in known else pipeline.faces.embed(image) for key, image in zip(keys, images, strict=True)
        ]
        with self._embeddings_lock:
            for key, embedding in zip(keys, found, strict=True):
                self._embeddings[key] = embedding
                self._embeddings.move_to_end(key)
            while len(self._embeddings) > EMBEDDINGS_KEPT:
                self._embeddings.popitem(last=False)
        return identity_of(images, found)

    @staticmethod
    def _gpu_duration_s(
        pipeline: PhotoMakerPipeline, identity: FaceEmbeddings, request: GenerationRequest, progress: ProgressFn
    ) -> int:
        return gpu_duration_s(
            steps=request.steps, width=request.width, height=request.height, num_images=request.num_images
        )

    @staticmethod
    def _make_images(
        pipeline: PhotoMakerPipeline, identity: FaceEmbeddings, request: GenerationRequest, progress: ProgressFn
    ) -> list[Image.Image]:
        return pipeline.generate(
            identity,
            prompt=request.styled_prompt,
            negative_prompt=request.styled_negative_prompt,
            width=request.width,
            height=request.height,
            num_images=request.num_images,
            steps=request.steps,
            guidance_scale=request.guidance_scale,
            style_strength_ratio=request.style_strength_ratio,
            seed=request.seed,
            on_step=lambda done, steps: progress(done / steps, f"Step {done} of {steps}"),
        )

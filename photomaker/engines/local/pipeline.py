"""PhotoMaker V2 generation on diffusers' SDXL pipeline: the same code for the engine and the endpoint handler.

The prompt is encoded twice: as written without the trigger word (the text-only prompt) and with
the class word repeated for the identity, which the ID encoder fuses with the photos. The first
`merge_step` steps follow the text-only prompt so that the style sets the composition; from there
the identity takes over, swapped in by `callback_on_step_end` (as TencentARC's pipeline does in its
own loop). A request's images are one batch, from one generator seeded on the pipeline's device as the
Space seeds its own: the same seed gives the same images. They are decoded in one VAE pass, as the Space
decodes them, unless they would not fit in the GPU's free memory (`memory`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch
from diffusers import StableDiffusionXLPipeline
from PIL import Image
from torch import nn
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

from photomaker.core.errors import RefusedError
from photomaker.engines.local import memory
from photomaker.engines.local.face_embedding import FaceEmbedder
from photomaker.engines.local.id_encoder import PhotoMakerIdEncoder
from photomaker.engines.local.trigger import TRIGGER_WORD, prompt_fit, triggered, without_trigger
from photomaker.generation.prompt_fit import PromptFit

log = logging.getLogger(__name__)

MAX_MERGE_STEP = 30

StepFn = Callable[[int, int], None]
"""Told after each denoising step: steps done, steps in all."""


def merge_step(style_strength_ratio: float, steps: int) -> int:
    """The last step that follows the text-only prompt; the identity is used after it."""
    return min(MAX_MERGE_STEP, int(style_strength_ratio / 100 * steps))


@dataclass(frozen=True)
class FaceEmbeddings:
    """The photos a face was found in, with their face embeddings, in the same order."""

    photos: tuple[Image.Image, ...]
    embeddings: tuple[np.ndarray, ...]


NO_FACE_FOUND = (
    "PhotoMaker's face model found no face in your photos; upload a clear, well-lit photo of one person "
    "facing the camera."
)


def identity_of(photos: Sequence[Image.Image], embeddings: Sequence[np.ndarray | None]) -> FaceEmbeddings:
    """The photos a face was found in (`embeddings` holds None for the others); refused `NO_FACE` if none."""
    pairs = [(photo, embedding) for photo, embedding in zip(photos, embeddings, strict=True) if embedding is not None]
    if not pairs:
        raise RefusedError("NO_FACE", NO_FACE_FOUND)
    return FaceEmbeddings(tuple(photo for photo, _ in pairs), tuple(embedding for _, embedding in pairs))


@dataclass(frozen=True)
class Embeds:
    """A prompt's token embeddings and its pooled embedding."""

    tokens: torch.Tensor
    pooled: torch.Tensor

    def batch(self, count: int) -> Embeds:
        return Embeds(self.tokens.repeat(count, 1, 1), self.pooled.repeat(count, 1))


class PhotoMakerPipeline:
    """SDXL with PhotoMaker V2's LoRA fused, its ID encoder and a face embedder."""

    def __init__(
        self,
        sdxl: StableDiffusionXLPipeline,
        id_encoder: PhotoMakerIdEncoder,
        faces: FaceEmbedder,
        *,
        offload_id_encoder: bool = False,
    ) -> None:
        """`offload_id_encoder`: the encoder waits in CPU memory and goes to the GPU for its turn, as diffusers'
        model offload does with the rest."""
        self.sdxl = sdxl
        self.id_encoder = id_encoder
        self.faces = faces
        self.offload_id_encoder = offload_id_encoder
        size = cast(int, id_encoder.config.image_size)
        # PIL's resampling, as the reference's processor: `CLIPImageProcessor` takes torchvision's where it is
        # installed (as on GPU images), which gives other pixels.
        self.id_processor = CLIPImageProcessorPil(
            size={"shortest_edge": size}, crop_size={"height": size, "width": size}
        )
        for tokenizer in (sdxl.tokenizer, sdxl.tokenizer_2):
            tokenizer.add_tokens([TRIGGER_WORD], special_tokens=True)

    @property
    def device(self) -> torch.device:
        return self.sdxl._execution_device

    def identity(self, photos: Sequence[Image.Image]) -> FaceEmbeddings:
        """The photos with a face, and their embeddings; refused `NO_FACE` when none has one."""
        return identity_of(photos, [self.faces.embed(photo) for photo in photos])

    def generate(
        self,
        identity: FaceEmbeddings,
        *,
        prompt: str,
        negative_prompt: str,
        width: int,
        height: int,
        num_images: int,
        steps: int,
        guidance_scale: float,
        style_strength_ratio: float,
        seed: int,
        on_step: StepFn | None = None,
    ) -> list[Image.Image]:
        """`num_images` images of `identity` in one batch; the same arguments give the same images."""
        with torch.inference_mode():
            tokenizers = (self.sdxl.tokenizer, self.sdxl.tokenizer_2)
            copies = self._copies(len(identity.photos))
            tokens = [triggered(tokenizer, prompt, copies=copies) for tokenizer in tokenizers]
            text_only_prompt = without_trigger(self.sdxl.tokenizer, prompt)
            text_only = self._encode([self._ids(tokenizer, text_only_prompt) for tokenizer in tokenizers])
            with_class = self._encode([token.with_identity for token in tokens])
            negative = self._encode([self._ids(tokenizer, negative_prompt) for tokenizer in tokenizers])
            with_identity = Embeds(self._fuse(identity, with_class.tokens, tokens[1].class_mask), with_class.pooled)
            swap_after = merge_step(style_strength_ratio, steps)

            def on_step_end(
                pipe: StableDiffusionXLPipeline, index: int, _t: Any, values: dict[str, Any]
            ) -> dict[str, Any]:
                if on_step is not None:
                    on_step(index + 1, steps)
                if index != swap_after:
                    return {}
                positive = with_identity.batch(num_images)
                if not pipe.do_classifier_free_guidance:
                    return {"prompt_embeds": positive.tokens, "add_text_embeds": positive.pooled}
                unconditional = negative.batch(num_images)
                return {
                    "prompt_embeds": torch.cat([unconditional.tokens, positive.tokens]),
                    "add_text_embeds": torch.cat([unconditional.pooled, positive.pooled]),
                }

            self._plan_decode(images=num_images, width=width, height=height)
            output = self.sdxl(
                prompt_embeds=text_only.tokens,
                pooled_prompt_embeds=text_only.pooled,
                negative_prompt_embeds=negative.tokens,
                negative_pooled_prompt_embeds=negative.pooled,
                num_images_per_prompt=num_images,
                width=width,
                height=height,
                num_inference_steps=steps,
                guidance_scale=guidance_scale,
                generator=torch.Generator(self.device).manual_seed(seed),  # the device's, as the Space's
                callback_on_step_end=on_step_end,
                callback_on_step_end_tensor_inputs=["prompt_embeds", "add_text_embeds"],
                output_type="pil",
            )
        return list(output.images)

    @staticmethod
    def _ids(tokenizer: Any, text: str) -> list[int]:
        return list(
            tokenizer(text, padding="max_length", max_length=tokenizer.model_max_length, truncation=True).input_ids
        )

    def _copies(self, photos: int) -> int:
        return photos * self.id_encoder.shape.tokens_per_photo

    def fit(self, prompt: str, *, photos: int) -> PromptFit:
        """How `prompt` fits the text encoders with the identity of `photos` photos (both tokenizers cut alike)."""
        return prompt_fit(self.sdxl.tokenizer, prompt, copies=self._copies(photos))

    def unused_words(self, fit: PromptFit) -> str:
        """The words of `fit.unused`, as the tokenizer spells them."""
        return str(self.sdxl.tokenizer.decode(fit.unused))

    def _encode(self, ids: Sequence[list[int]]) -> Embeds:
        """Both text encoders' penultimate hidden states side by side, and the second one's pooled output."""
        hidden = []
        pooled = torch.empty(0)
        for encoder, encoder_ids in zip((self.sdxl.text_encoder, self.sdxl.text_encoder_2), ids, strict=True):
            output = encoder(torch.tensor([encoder_ids], device=self.device), output_hidden_states=True)
            hidden.append(output.hidden_states[-2])
            pooled = output[0]
        return Embeds(torch.cat(hidden, dim=-1), pooled)

    def _plan_decode(self, *, images: int, width: int, height: int) -> None:
        """One VAE pass for every image, as the Space decodes, unless they would not fit in the free memory."""
        vae = self.sdxl.vae
        plan = memory.decode_plan(
            images=images,
            width=width,
            height=height,
            element_bytes=memory.vae_element_bytes(vae),
            free_bytes=memory.free_bytes(self.device),
        )
        if plan == "batch":
            vae.disable_slicing()
        else:
            vae.enable_slicing()
        if plan == "tiles":
            vae.enable_tiling()
        else:
            vae.disable_tiling()
        if plan != "batch":
            log.info("decoding %d images of %dx%d in %s: one pass would not fit", images, width, height, plan)

    def _fuse(self, identity: FaceEmbeddings, prompt_embeds: torch.Tensor, class_mask: list[bool]) -> torch.Tensor:
        """The class word's copies replaced by the identity, through the ID encoder (on the GPU for its turn only
        when offloading)."""
        parameter = next(self.id_encoder.parameters())
        pixels = self.id_processor(list(identity.photos), return_tensors="pt").pixel_values
        embeddings = torch.from_numpy(np.stack(identity.embeddings))
        if self.offload_id_encoder:
            nn.Module.to(self.id_encoder, self.device)  # transformers' `to` is typed for its own models
        try:
            return self.id_encoder(
                pixels.to(self.device, parameter.dtype),
                embeddings.to(self.device, parameter.dtype),
                prompt_embeds,
                torch.tensor([class_mask], device=self.device),
            )
        finally:
            if self.offload_id_encoder:
                nn.Module.to(self.id_encoder, "cpu")

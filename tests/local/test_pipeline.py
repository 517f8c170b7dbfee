"""The PhotoMaker V2 pipeline on tiny random weights: one batch, the identity merged after the merge step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from diffusers import UNet2DConditionModel

from photomaker.core.errors import RefusedError
from photomaker.engines.local import weights
from photomaker.engines.local.pipeline import PhotoMakerPipeline, merge_step
from tests.local.conftest import bright_photo, dark_photo

PROMPT = "a photo of a woman img, smiling"


def generate(pipeline: PhotoMakerPipeline, *, photos: int = 1, **overrides: Any) -> list[np.ndarray]:
    identity = pipeline.identity([bright_photo(index) for index in range(photos)])
    arguments = {
        "prompt": PROMPT,
        "negative_prompt": "blurry",
        "width": 64,
        "height": 64,
        "num_images": 1,
        "steps": 2,
        "guidance_scale": 5.0,
        "style_strength_ratio": 20,
        "seed": 7,
    }
    images = pipeline.generate(identity, **{**arguments, **overrides})
    return [np.asarray(image) for image in images]


def test_merge_step_is_the_style_strengths_share_of_the_steps_at_most_30() -> None:
    assert merge_step(20, 50) == 10
    assert merge_step(50, 7) == 3
    assert merge_step(50, 100) == 30
    assert merge_step(15, 2) == 0


@pytest.mark.parametrize("count", [1, 4])
def test_the_same_seed_gives_the_same_images_in_one_batch(tiny_pipeline: PhotoMakerPipeline, count: int) -> None:
    calls: list[int] = []
    hook = tiny_pipeline.sdxl.unet.register_forward_pre_hook(lambda module, args: calls.append(args[0].shape[0]))
    try:
        first = generate(tiny_pipeline, num_images=count, seed=11)
    finally:
        hook.remove()
    again = generate(tiny_pipeline, num_images=count, seed=11)
    other = generate(tiny_pipeline, num_images=count, seed=12)

    assert len(first) == count and all(image.shape == (64, 64, 3) for image in first)
    assert calls == [2 * count, 2 * count]  # two steps, each one batch of every image with and without guidance
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not any(np.array_equal(a, b) for a, b in zip(first, other, strict=True))
    if count > 1:
        assert not np.array_equal(first[0], first[1])


def test_the_identity_replaces_the_text_only_prompt_after_the_merge_step(tiny_pipeline: PhotoMakerPipeline) -> None:
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []

    def record(module: Any, args: Any, kwargs: dict[str, Any]) -> None:
        seen.append((kwargs["encoder_hidden_states"].clone(), kwargs["added_cond_kwargs"]["text_embeds"].clone()))

    hook = tiny_pipeline.sdxl.unet.register_forward_pre_hook(record, with_kwargs=True)
    try:
        generate(tiny_pipeline, photos=2, steps=6, style_strength_ratio=50)  # merge step 3: steps 0-3 text only
    finally:
        hook.remove()

    tokens = [embeds for embeds, _ in seen]
    pooled = [embeds for _, embeds in seen]
    assert len(seen) == 6
    assert all(torch.equal(tokens[0], tokens[step]) for step in range(1, 4))
    assert torch.equal(tokens[4], tokens[5]) and torch.equal(pooled[4], pooled[5])
    assert not torch.equal(tokens[3][1], tokens[4][1]) and not torch.equal(pooled[3][1], pooled[4][1])
    assert torch.equal(tokens[3][0], tokens[4][0])  # the unconditional half never changes


def test_more_photos_change_the_identity(tiny_pipeline: PhotoMakerPipeline) -> None:
    one = generate(tiny_pipeline, photos=1, style_strength_ratio=15, steps=3)
    three = generate(tiny_pipeline, photos=3, style_strength_ratio=15, steps=3)

    assert not np.array_equal(one[0], three[0])


def test_photos_without_a_face_are_left_out_and_none_is_refused(tiny_pipeline: PhotoMakerPipeline) -> None:
    bright, dark = bright_photo(1), dark_photo(2)

    identity = tiny_pipeline.identity([dark, bright, dark_photo(3)])

    assert identity.photos == (bright,)
    assert len(identity.embeddings) == 1 and identity.embeddings[0].shape == (512,)
    with pytest.raises(RefusedError) as refused:
        tiny_pipeline.identity([dark])
    assert refused.value.code == "NO_FACE"


def test_loading_fuses_the_checkpoints_lora_into_the_unets_attention(
    tiny_pipeline: PhotoMakerPipeline, tiny_model_dir: Path
) -> None:
    base = UNet2DConditionModel.from_pretrained(tiny_model_dir / weights.BASE_DIR / "unet").state_dict()
    fused = tiny_pipeline.sdxl.unet.state_dict()

    assert fused.keys() == base.keys()  # fused in place, no adapter layers left
    changed = {key for key in base if not torch.equal(base[key], fused[key])}
    assert changed and all(".attn" in key and key.endswith(".weight") for key in changed)
    assert "conv_in.weight" not in changed


def long_prompt(pipeline: PhotoMakerPipeline, count: int) -> str:
    """A prompt of `count` ids (start and end tokens included) with the trigger word near its start."""
    prompt = "a woman img" + " photo" * (count - 5)
    assert len(pipeline.sdxl.tokenizer.encode(prompt)) == count
    return prompt


@pytest.mark.parametrize(("photos", "end_at"), [(1, 76), (2, None)])
def test_a_79_token_prompt_reaches_the_text_encoders_as_the_reference_cuts_it(
    tiny_pipeline: PhotoMakerPipeline, photos: int, end_at: int | None
) -> None:
    seen: list[list[int]] = []
    hook = tiny_pipeline.sdxl.text_encoder_2.register_forward_pre_hook(
        lambda module, args: seen.append(args[0][0].tolist())
    )
    try:
        generate(tiny_pipeline, photos=photos, prompt=long_prompt(tiny_pipeline, 79))
    finally:
        hook.remove()

    end = tiny_pipeline.sdxl.tokenizer_2.eos_token_id
    text_only, with_identity, negative = seen
    # The text-only prompt and the negative one keep their end token at the last place, where the pooled
    # embedding is read; the prompt with the identity keeps it with one photo and, as in the reference,
    # loses it to the copies of the class word with two.
    assert len(text_only) == 77 and text_only[76] == end
    assert (with_identity.index(end) if end in with_identity else None) == end_at
    assert negative.index(end) < 77


def test_the_seed_drives_a_generator_on_the_pipelines_device(
    tiny_pipeline: PhotoMakerPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    devices: list[torch.device] = []
    prepare = tiny_pipeline.sdxl.prepare_latents

    def spy(*args: Any, **kwargs: Any) -> Any:
        devices.append(args[6].device)  # the generator, as the Space makes it: torch.Generator(device)
        return prepare(*args, **kwargs)

    monkeypatch.setattr(tiny_pipeline.sdxl, "prepare_latents", spy)
    generate(tiny_pipeline)

    assert devices == [tiny_pipeline.device]


def test_a_trigger_word_past_the_limit_is_refused_and_long_prompts_say_what_was_cut(
    tiny_pipeline: PhotoMakerPipeline,
) -> None:
    cut = tiny_pipeline.fit(long_prompt(tiny_pipeline, 79) + " of", photos=1)
    late = tiny_pipeline.fit("photo " * 74 + "a woman img", photos=1)

    assert (cut.tokens, cut.refusal) == (80, None)
    assert tiny_pipeline.unused_words(cut) == "photo photo of"
    assert late.refusal is not None and "comes at token 77" in late.refusal
    with pytest.raises(RefusedError) as refused:
        generate(tiny_pipeline, prompt="photo " * 74 + "a woman img")
    assert refused.value.code == "INVALID_PROMPT"

"""Pipelines with random weights, tiny or at full size: for tests and benchmarks, with nothing to download.

`tiny` is small enough to run a 64 px generation on a CPU in a second; `full` has SDXL's and
PhotoMaker V2's real sizes, for timing on a GPU. Both use a small tokenizer built here (the words of
our prompts' class words and the trigger), which tokenizes any prompt, byte by byte where it must.
`write_model_dir` saves one in the layout `LOCAL_MODEL_DIR` reads (`weights.MODEL_DIR_LAYOUT`).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Literal, cast

import torch
from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

from photomaker.engines.local import weights
from photomaker.engines.local.id_encoder import FULL_SIZE, IdEncoderShape, build_id_encoder
from stand_ins.tiny_faces import write_tiny_face_models

Size = Literal["tiny", "full"]

TINY_ENCODER = IdEncoderShape(
    vision={
        "hidden_size": 32,
        "intermediate_size": 37,
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "patch_size": 8,
        "image_size": 32,
        "projection_dim": 32,
    },
    cross_attention_dim=64,
    second_projection_dim=32,
    perceiver_depth=2,
    perceiver_head_dim=32,
)

_UNET: dict[str, dict[str, Any]] = {
    "tiny": {
        "block_out_channels": (32, 64),
        "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
        "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
        "attention_head_dim": (2, 4),
        "transformer_layers_per_block": (1, 2),
        "addition_time_embed_dim": 8,
        "projection_class_embeddings_input_dim": 80,
        "cross_attention_dim": 64,
        "norm_num_groups": 1,
        "sample_size": 32,
    },
    "full": {
        "block_out_channels": (320, 640, 1280),
        "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        "attention_head_dim": (5, 10, 20),
        "transformer_layers_per_block": (1, 2, 10),
        "addition_time_embed_dim": 256,
        "projection_class_embeddings_input_dim": 2816,
        "cross_attention_dim": 2048,
        "norm_num_groups": 32,
        "sample_size": 128,
    },
}
_VAE_CHANNELS = {"tiny": (32, 64), "full": (128, 256, 512, 512)}
_TEXT: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "tiny": (
        {"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4, "num_hidden_layers": 2},
        {"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4, "num_hidden_layers": 2},
    ),
    "full": (
        {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12, "num_hidden_layers": 12},
        {"hidden_size": 1280, "intermediate_size": 5120, "num_attention_heads": 20, "num_hidden_layers": 32},
    ),
}
_ENCODER = {"tiny": TINY_ENCODER, "full": FULL_SIZE}
WORDS = ("a", "an", "photo", "of", "portrait", "woman", "man", "girl", "boy", "person", "headshot")
"""Whole words in the small tokenizer (the class words of our prompts among them)."""


def _byte_chars() -> list[str]:
    """The 256 characters byte-level BPE spells bytes with (GPT-2's and CLIP's table)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    others = [byte for byte in range(256) if byte not in printable]
    return [chr(code) for code in printable] + [chr(256 + index) for index in range(len(others))]


def small_tokenizer() -> CLIPTokenizer:
    """A CLIP tokenizer over single bytes plus `WORDS`, ids below 1000."""
    chars = _byte_chars()
    vocab = ["<|startoftext|>", "<|endoftext|>", *chars, *(char + "</w>" for char in chars)]
    merges: list[tuple[str, str]] = []
    for word in sorted(WORDS, key=len, reverse=True):  # a longer word merges before the shorter ones inside it
        parts = [*word[:-1], word[-1] + "</w>"]
        while len(parts) > 1:
            merges.append((parts[0], parts[1]))
            parts = [parts[0] + parts[1], *parts[2:]]
            vocab.append(parts[0])
    vocab = list(dict.fromkeys(vocab))
    return CLIPTokenizer(
        vocab={token: index for index, token in enumerate(vocab)},
        merges=cast(list[str], list(dict.fromkeys(merges))),  # the tokenizers library takes pairs; typed as str
        model_max_length=77,
    )


def _text_config(size: Size, index: int) -> CLIPTextConfig:
    return CLIPTextConfig(
        **_TEXT[size][index],
        vocab_size=1000 if size == "tiny" else 49408,
        projection_dim=_TEXT[size][1]["hidden_size"],
        hidden_act="gelu",
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
    )


def random_sdxl(size: Size, *, seed: int = 0) -> StableDiffusionXLPipeline:
    """An SDXL pipeline of `size` with seeded random weights, in float32 (on the CPU, or on the device of a
    surrounding `with torch.device(...)`)."""
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        **_UNET[size],
        layers_per_block=2,
        in_channels=4,
        out_channels=4,
        use_linear_projection=True,
        addition_embed_type="text_time",
    )
    channels = _VAE_CHANNELS[size]
    vae = AutoencoderKL(
        block_out_channels=channels,
        down_block_types=("DownEncoderBlock2D",) * len(channels),
        up_block_types=("UpDecoderBlock2D",) * len(channels),
        latent_channels=4,
        norm_num_groups=32 if size == "full" else 1,
        layers_per_block=2 if size == "full" else 1,
    )
    with torch.device("cpu"):  # the scheduler's tables go through numpy, whatever device the models are built on
        scheduler = EulerDiscreteScheduler(
            beta_start=0.00085,
            beta_end=0.012,
            beta_schedule="scaled_linear",
            steps_offset=1,
            timestep_spacing="leading",
        )
    return StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=CLIPTextModel(_text_config(size, 0)),
        text_encoder_2=CLIPTextModelWithProjection(_text_config(size, 1)),
        tokenizer=small_tokenizer(),
        tokenizer_2=small_tokenizer(),
        unet=unet,
        scheduler=scheduler,
    )


def random_id_encoder_weights(size: Size, *, seed: int = 0) -> dict[str, torch.Tensor]:
    """A state dict for the ID encoder of `size`, seeded."""
    torch.manual_seed(seed)
    encoder = build_id_encoder("cpu", shape=_ENCODER[size])
    for parameter in encoder.parameters():
        torch.nn.init.normal_(parameter, std=0.02)
    return encoder.state_dict()


def random_lora(unet: UNet2DConditionModel, *, rank: int = 4, seed: int = 0) -> dict[str, torch.Tensor]:
    """LoRA weights for `unet`'s attention (left as it is), in the `unet.`-prefixed PEFT layout
    `load_lora_weights` reads."""
    from peft import LoraConfig, get_peft_model_state_dict

    torch.manual_seed(seed)
    config = LoraConfig(
        r=rank, lora_alpha=rank, target_modules=["to_q", "to_k", "to_v", "to_out.0"], init_lora_weights=False
    )
    adapted = copy.deepcopy(unet)
    adapted.add_adapter(config, adapter_name="random")
    return {f"unet.{key}": value for key, value in get_peft_model_state_dict(adapted, adapter_name="random").items()}


def write_model_dir(directory: Path, *, size: Size = "tiny", seed: int = 0) -> Path:
    """Random weights of `size` saved as `LOCAL_MODEL_DIR` expects them; returns `directory`."""
    sdxl = random_sdxl(size, seed=seed)
    checkpoint = {
        "id_encoder": random_id_encoder_weights(size, seed=seed),
        "lora_weights": random_lora(sdxl.unet, seed=seed),
    }
    sdxl.save_pretrained(directory / weights.BASE_DIR)
    torch.save(checkpoint, directory / weights.CHECKPOINT_FILE)
    if _ENCODER[size] != FULL_SIZE:
        (directory / weights.SHAPE_FILE).write_text(json.dumps(_ENCODER[size].as_json()))
    write_tiny_face_models(directory / weights.FACES_DIR)
    return directory

"""How a request's images are decoded within the GPU memory that is free.

The Space decodes a request's images in one VAE pass, and so do we while they fit: slicing or tiling gives
other pixels on a GPU. A pass needs `DECODE_ELEMENTS_PER_PIXEL` values per output pixel of every image, at
the VAE's precision (fp16 VAEs upcast to float32, as diffusers does for SDXL's). When a batch would not fit
in the free memory, the images are decoded one by one (slicing); when one image alone would not, in tiles.
"""

from __future__ import annotations

from typing import Literal

import torch

DecodePlan = Literal["batch", "slices", "tiles"]

DECODE_ELEMENTS_PER_PIXEL = 768
"""Peak live values of SDXL's VAE decoder per output pixel (computed: `benchmarks/peak_memory.py` traces it)."""
DECODE_MARGIN = 0.9
"""The share of the free memory a decode may plan on: the allocator's slack and cuDNN's workspaces need the rest."""


def decode_bytes(*, width: int, height: int, element_bytes: int) -> int:
    """The memory one image's decode needs at its peak."""
    return DECODE_ELEMENTS_PER_PIXEL * element_bytes * width * height


def decode_plan(*, images: int, width: int, height: int, element_bytes: int, free_bytes: int | None) -> DecodePlan:
    """One pass while the batch fits in `free_bytes` (None: no limit known, as on a CPU), else one image at a
    time, else tiles."""
    if free_bytes is None:
        return "batch"
    one = decode_bytes(width=width, height=height, element_bytes=element_bytes)
    budget = free_bytes * DECODE_MARGIN
    if images * one <= budget:
        return "batch"
    return "slices" if one <= budget else "tiles"


def free_bytes(device: torch.device) -> int | None:
    """What a decode on `device` may use: the GPU's free memory and what PyTorch holds unused; None on a CPU."""
    if device.type != "cuda":
        return None
    free, _total = torch.cuda.mem_get_info(device)
    return int(free + torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device))


def vae_element_bytes(vae: torch.nn.Module) -> int:
    """The bytes of one value in the VAE's decode: float32 for an fp16 VAE that diffusers upcasts."""
    dtype = next(vae.parameters()).dtype
    upcast = dtype == torch.float16 and bool(getattr(vae.config, "force_upcast", False))
    return 4 if upcast else torch.empty((), dtype=dtype).element_size()

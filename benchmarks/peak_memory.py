"""The GPU memory each photo tier needs, computed without a GPU: weights counted, activations traced.

The full-size models are built on PyTorch's "meta" device (shapes, no data, nothing computed) and run there
while every tensor an operation makes is counted from its creation until its last reference goes. Attention
is counted as a fused kernel keeps it (its output, no score matrix), as PyTorch's flash and memory-efficient
kernels do on a GPU. The figures are live tensors only: the caching allocator's slack and cuDNN's workspaces
come on top (a GB or so), and so does the CUDA context. Prints JSON:
- `weights_gb` by part, in bf16 (fp16 is the same size);
- per tier (from `seeds/models.json`), per image: `denoise_gb` (a UNet step with guidance: two rows per image)
  and `decode_gb` (the VAE decoder), and `peak_gb` for 1 and 4 images: the weights plus the larger of the two
  (the 4-image decode in one pass, as the Space does it, and sliced, as the local engine does when it must);
- `decode_elements_per_pixel`: the decoder's peak per output pixel, which `memory.DECODE_ELEMENTS_PER_PIXEL`
  must equal.

    python -m benchmarks.peak_memory
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch.nn import functional
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from photomaker.engines.local import memory
from photomaker.engines.local.id_encoder import build_id_encoder
from photomaker.generation.catalogue import load_seed_models
from stand_ins.random_weights import random_sdxl

DTYPE = torch.bfloat16
GB = 1e9
COUNTS = (1, 4)


class LiveBytes(TorchDispatchMode):
    """Counts the bytes of the tensors operations make while they are referenced, and the peak of that count."""

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self._references: dict[int, int] = {}
        self._sizes: dict[int, int] = {}

    def _made(self, tensor: torch.Tensor) -> None:
        storage = tensor.untyped_storage()
        key = storage._cdata
        if key not in self._references:
            self._references[key] = 0
            self._sizes[key] = storage.nbytes()
            self.live += storage.nbytes()
            self.peak = max(self.peak, self.live)
        self._references[key] += 1
        weakref.finalize(tensor, self._dropped, key)

    def _dropped(self, key: int) -> None:
        self._references[key] -= 1
        if self._references[key] == 0:
            del self._references[key]
            self.live -= self._sizes.pop(key)

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        given = {id(item) for item in tree_flatten((args, kwargs))[0] if isinstance(item, torch.Tensor)}
        for item in tree_flatten(out)[0]:
            if isinstance(item, torch.Tensor) and id(item) not in given:
                self._made(item)
        return out


def _fused_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
    """What a fused attention kernel leaves in memory: its output alone."""
    return query.new_empty((*query.shape[:-1], value.shape[-1]))


@contextmanager
def fused_attention() -> Iterator[None]:
    real = functional.scaled_dot_product_attention
    functional.scaled_dot_product_attention = _fused_attention
    try:
        yield
    finally:
        functional.scaled_dot_product_attention = real


def peak_bytes(run: Callable[[], object]) -> int:
    """The most bytes of tensors alive at once while `run` runs (its result dropped at once)."""
    counter = LiveBytes()
    with torch.inference_mode(), fused_attention(), counter:
        run()
    return counter.peak


def _meta(*shape: int) -> torch.Tensor:
    return torch.empty(shape, device="meta", dtype=DTYPE)


def main() -> None:
    with torch.device("meta"):
        sdxl = random_sdxl("full")
        encoder = build_id_encoder("meta")
    sdxl.to(dtype=DTYPE)
    parts = {
        "unet": sdxl.unet,
        "text_encoders": [sdxl.text_encoder, sdxl.text_encoder_2],
        "vae": sdxl.vae,
        "id_encoder": encoder,
    }
    element = torch.empty((), dtype=DTYPE).element_size()
    weights = {
        name: sum(p.numel() for module in (part if isinstance(part, list) else [part]) for p in module.parameters())
        * element
        for name, part in parts.items()
    }
    tiers: dict[str, Any] = {}
    decode_per_pixel = 0.0
    for model in (model for model in load_seed_models() if model.mode == "photo"):
        side, latent = model.width, model.width // 8

        def step(rows: int, latent: int = latent) -> None:
            sdxl.unet(
                _meta(rows, 4, latent, latent),
                torch.tensor(500.0, device="meta"),
                encoder_hidden_states=_meta(rows, 77, 2048),
                added_cond_kwargs={"text_embeds": _meta(rows, 1280), "time_ids": _meta(rows, 6)},
            )

        denoise = {count: peak_bytes(lambda count=count: step(2 * count)) for count in COUNTS}
        decode = peak_bytes(lambda latent=latent: sdxl.vae.decode(_meta(1, 4, latent, latent)))
        decode_per_pixel = decode / element / side**2
        total = sum(weights.values())
        tiers[model.tier] = {
            "size": f"{side}x{side}",
            "denoise_gb_per_image": round(denoise[1] / GB, 2),
            "decode_gb_per_image": round(decode / GB, 2),
            "peak_gb": {
                str(count): {
                    "one_pass": round((total + max(denoise[count], count * decode)) / GB, 1),
                    "sliced": round((total + max(denoise[count], decode)) / GB, 1),
                }
                for count in COUNTS
            },
        }
    print(
        json.dumps(
            {
                "computed": "live tensors traced on the meta device, bf16; add ~1-2 GB for CUDA's context and slack",
                "weights_gb": {name: round(size / GB, 2) for name, size in weights.items()},
                "tiers": tiers,
                "decode_elements_per_pixel": round(decode_per_pixel, 1),
                "decode_elements_per_pixel_in_code": memory.DECODE_ELEMENTS_PER_PIXEL,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

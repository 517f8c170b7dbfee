"""Where the local engine runs: the device, the precision, and ZeroGPU's borrowed GPU.

CUDA in bf16 where the GPU has it (Ampere and newer), else fp16; `LOCAL_OFFLOAD=1` keeps the models
in CPU memory and moves each to the GPU for its turn (diffusers' model CPU offload, and the same for the
ID encoder), with the face models on the CPU, for GPUs with less than about 12 GB. A CPU is refused
unless `LOCAL_ALLOW_CPU=1`: an avatar would take hours.
On a ZeroGPU Space (`SPACES_ZERO_GPU` set and `spaces` installed) each generation borrows a GPU for
a duration worked out from its size, and running out of the caller's quota is a rate limit.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import torch

from photomaker.core.errors import BackendError
from photomaker.core.settings import Settings

T = TypeVar("T")

CPU_REFUSED = (
    "The local engine needs an NVIDIA GPU with CUDA, and none is visible. Choose another engine "
    "(PHOTOMAKER_ENGINE=space, endpoint or preview), or set LOCAL_ALLOW_CPU=1 to run it on the CPU "
    "anyway (for tests with tiny weights; a real avatar would take hours)."
)
SECONDS_PER_STEP_1024 = 0.1
"""A denoising step of one 1024×1024 image with guidance on a ZeroGPU H200 slice, with room to spare."""
ZEROGPU_FIXED_S = 20
ZEROGPU_MAX_S = 300


@dataclass(frozen=True)
class Placement:
    """Where and how the models run."""

    device: torch.device
    dtype: torch.dtype
    offload: bool
    onnx_providers: tuple[str, ...]


def cuda_available() -> bool:
    return torch.cuda.is_available()


def placement(settings: Settings) -> Placement:
    """The GPU in its best half precision; the CPU in float32 only when allowed."""
    if not cuda_available():
        if not settings.local_allow_cpu:
            raise ValueError(CPU_REFUSED)
        return Placement(torch.device("cpu"), torch.float32, offload=False, onnx_providers=("CPUExecutionProvider",))
    dtype = torch.bfloat16 if on_zerogpu() or torch.cuda.is_bf16_supported() else torch.float16
    import onnxruntime

    # Offloading keeps the face models off the GPU too: they run once per photo, and CPU memory holds them.
    wanted = ("CPUExecutionProvider",) if settings.local_offload else ("CUDAExecutionProvider", "CPUExecutionProvider")
    providers = tuple(name for name in wanted if name in onnxruntime.get_available_providers())
    return Placement(torch.device("cuda"), dtype, offload=settings.local_offload, onnx_providers=providers)


def on_zerogpu() -> bool:
    """A ZeroGPU Space, with the `spaces` package to borrow its GPU."""
    return bool(os.environ.get("SPACES_ZERO_GPU")) and importlib.util.find_spec("spaces") is not None


def gpu_duration_s(*, steps: int, width: int, height: int, num_images: int) -> int:
    """How long to borrow a ZeroGPU GPU for one generation: its steps at its size, and a margin."""
    work = steps * SECONDS_PER_STEP_1024 * (width * height / 1024**2) * num_images
    return min(ZEROGPU_MAX_S, math.ceil(ZEROGPU_FIXED_S + 2 * work))


_TRY_AGAIN = re.compile(r"try again in (?:(\d+):)?(\d+):(\d+)", re.IGNORECASE)


def quota_error(error: Exception) -> BackendError | None:
    """ZeroGPU's refusal when the caller's GPU quota is spent, as our rate limit (with when to retry if it says)."""
    message = str(error)
    if "quota" not in message.lower():
        return None
    found = _TRY_AGAIN.search(message)
    retry_after = None
    if found:
        hours, minutes, seconds = (int(part or 0) for part in found.groups())
        retry_after = float(hours * 3600 + minutes * 60 + seconds)
    return BackendError(
        "RATE_LIMIT_EXCEEDED",
        "The ZeroGPU quota of this Space's visitors is used up for now; sign in or try again later. "
        "Your credits were refunded.",
        retryable=False,
        retry_after=retry_after,
    )


def on_gpu(run: Callable[..., T], *, duration: Callable[..., int]) -> Callable[..., T]:
    """`run` as is, or on ZeroGPU under `spaces.GPU` for `duration(*args)` seconds, its quota refusals translated."""
    if not on_zerogpu():
        return run
    import spaces  # only on ZeroGPU Spaces

    borrowed = spaces.GPU(duration=duration)(run)

    def translated(*args: Any, **kwargs: Any) -> T:
        try:
            return borrowed(*args, **kwargs)
        except Exception as exc:
            refusal = quota_error(exc)
            if refusal is None:
                raise
            raise refusal from exc

    return translated

"""Engines by name, and which ones the settings pick.

`PHOTOMAKER_ENGINE=auto` takes the best backend the configuration allows: PhotoMaker V2 on this
machine when it has a CUDA GPU and the `local` extra, else a dedicated endpoint when its URL is set,
else the public Space when there is a token, else the offline preview.
Text to Image needs Inference Providers (a token) or its own endpoint; offline it is off.
Nothing here touches the network: remote clients connect on first use or in `check()`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable

from photomaker.core.settings import Settings
from photomaker.engines.base import Engine
from photomaker.engines.inference import InferenceEngine
from photomaker.engines.preview import PreviewEngine
from photomaker.engines.space import SpaceEngine

EngineFactory = Callable[[Settings], Engine]


def _local_engine(settings: Settings) -> Engine:
    """PhotoMaker V2 on this machine (imports torch: only when chosen)."""
    from photomaker.engines.local.engine import LocalEngine

    return LocalEngine.from_settings(settings)


FACTORIES: dict[str, EngineFactory] = {
    "preview": lambda settings: PreviewEngine(),
    "space": SpaceEngine.from_settings,
    "endpoint": InferenceEngine.for_endpoint,
    "local": _local_engine,
}
LOCAL_GPU_TURNS = 1
"""Generations the local engine runs at once: one fills the GPU; the others queue."""


def local_available() -> bool:
    """The `local` extra is installed and a CUDA GPU is visible."""
    if not all(importlib.util.find_spec(name) for name in ("torch", "diffusers", "onnxruntime")):
        return False
    import torch

    return torch.cuda.is_available()


def resolve_engine_name(settings: Settings) -> str:
    """The engine `PHOTOMAKER_ENGINE` asks for; `auto`: local on a CUDA GPU with the extra installed, else the
    endpoint if its URL is set, else space with a token."""
    if settings.photomaker_engine != "auto":
        return settings.photomaker_engine
    if local_available():
        return "local"
    if settings.photomaker_endpoint_url:
        return "endpoint"
    return "space" if settings.token else "preview"


def create_engine(settings: Settings, *, name: str | None = None) -> Engine:
    """A new photo engine, by name or as the settings choose."""
    chosen = name or resolve_engine_name(settings)
    if chosen not in FACTORIES:
        raise ValueError(f"unknown engine {chosen!r}; known: {', '.join(FACTORIES)}")
    return FACTORIES[chosen](settings)


def create_text_engine(settings: Settings) -> Engine | None:
    """The Text to Image engine, or None when neither a text endpoint nor a token is configured."""
    if settings.text_to_image_endpoint_url or settings.token:
        return InferenceEngine.for_text(settings)
    return None


def concurrency_limit(engine: Engine, settings: Settings) -> int:
    """How many generations may run at once: the cores for the CPU-bound preview, one on the local GPU, many for
    remote engines."""
    if engine.name == "local":
        return LOCAL_GPU_TURNS
    return settings.preview_concurrency if engine.preview else settings.remote_concurrency


def generation_slots(engines: Iterable[Engine | None], settings: Settings) -> int:
    """How many generations may run at once across these engines: each engine's limit, once per engine name."""
    named = {engine.name: engine for engine in engines if engine is not None}
    return sum(concurrency_limit(engine, settings) for engine in named.values())

"""Engines by name, and which ones the settings pick.

`PHOTOMAKER_ENGINE=auto` takes the best backend the configuration allows: a dedicated endpoint
when its URL is set, else the public Space when there is a token, else the offline preview.
Text to Image needs Inference Providers (a token) or its own endpoint; offline it is off.
Nothing here touches the network: remote clients connect on first use or in `check()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from photomaker.engines.base import Engine
from photomaker.engines.inference import InferenceEngine
from photomaker.engines.preview import PreviewEngine
from photomaker.engines.space import SpaceEngine
from photomaker.settings import Settings

EngineFactory = Callable[[Settings], Engine]

FACTORIES: dict[str, EngineFactory] = {
    "preview": lambda settings: PreviewEngine(),
    "space": SpaceEngine.from_settings,
    "endpoint": InferenceEngine.for_endpoint,
}


def resolve_engine_name(settings: Settings) -> str:
    """The engine `PHOTOMAKER_ENGINE` asks for; `auto`: endpoint if its URL is set, else space with a token."""
    if settings.photomaker_engine != "auto":
        return settings.photomaker_engine
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
    """How many generations may run at once: the cores for the CPU-bound preview, many for remote engines."""
    return settings.preview_concurrency if engine.preview else settings.remote_concurrency


def generation_slots(engines: Iterable[Engine | None], settings: Settings) -> int:
    """How many generations may run at once across these engines: each engine's limit, once per engine name."""
    named = {engine.name: engine for engine in engines if engine is not None}
    return sum(concurrency_limit(engine, settings) for engine in named.values())

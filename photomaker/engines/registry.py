"""Engines by name, and which ones the settings pick; every photo engine's facts are its entry in `entries`.

`PHOTOMAKER_ENGINE=auto` takes the best backend the configuration allows: PhotoMaker V2 on this
machine when it has a CUDA GPU and the `local` extra, else a dedicated endpoint when its URL is set,
else the public Space when there is a token, else the offline preview (`entries.ENTRIES`' order).
Text to Image needs Inference Providers (a token) or its own endpoint; offline it is off.
Nothing here touches the network: remote clients connect on first use or in `check()`.
"""

from __future__ import annotations

from collections.abc import Iterable

from photomaker.core.settings import Settings
from photomaker.engines.base import Engine
from photomaker.engines.entries import AUTO, ENGINES, ENTRIES, EngineEntry
from photomaker.engines.inference import InferenceEngine


def resolve_engine_name(settings: Settings) -> str:
    """The engine `PHOTOMAKER_ENGINE` asks for; `auto`: the first entry whose `auto` accepts the settings."""
    if settings.photomaker_engine != AUTO:
        return settings.photomaker_engine
    return next(entry.name for entry in ENTRIES if entry.auto(settings))


def entry_of(engine: Engine) -> EngineEntry | None:
    """The registry's entry for `engine`; None for the Text to Image engines and the tests' own."""
    return ENGINES.get(engine.name)


def create_engine(settings: Settings, *, name: str | None = None) -> Engine:
    """A new photo engine, by name or as the settings choose."""
    chosen = name or resolve_engine_name(settings)
    if chosen not in ENGINES:
        raise ValueError(f"unknown engine {chosen!r}; known: {', '.join(ENGINES)}")
    return ENGINES[chosen].factory(settings)


def create_text_engine(settings: Settings) -> Engine | None:
    """The Text to Image engine, or None when neither a text endpoint nor a token is configured."""
    if settings.text_to_image_endpoint_url or settings.token:
        return InferenceEngine.for_text(settings)
    return None


def concurrency_limit(engine: Engine, settings: Settings) -> int:
    """How many generations may run at once: the entry's limit (the cores for the CPU-bound preview, one on the
    local GPU, many for remote engines); engines without one are remote (Text to Image)."""
    entry = entry_of(engine)
    return entry.concurrency(settings) if entry else settings.remote_concurrency


def generation_slots(engines: Iterable[Engine | None], settings: Settings) -> int:
    """How many generations may run at once across these engines: each engine's limit, once per engine name."""
    named = {engine.name: engine for engine in engines if engine is not None}
    return sum(concurrency_limit(engine, settings) for engine in named.values())

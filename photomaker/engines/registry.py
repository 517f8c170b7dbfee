"""Engines by name, and which one `PHOTOMAKER_ENGINE` picks."""

from __future__ import annotations

from collections.abc import Callable

from photomaker.engines.base import Engine
from photomaker.engines.preview import PreviewEngine
from photomaker.settings import Settings

EngineFactory = Callable[[Settings], Engine]

FACTORIES: dict[str, EngineFactory] = {
    "preview": lambda settings: PreviewEngine(),
}


def resolve_engine_name(settings: Settings) -> str:
    """The engine `PHOTOMAKER_ENGINE` asks for; `auto` is the offline preview engine."""
    return "preview" if settings.photomaker_engine == "auto" else settings.photomaker_engine


def create_engine(settings: Settings, *, name: str | None = None) -> Engine:
    """A new engine, by name or as the settings choose."""
    chosen = name or resolve_engine_name(settings)
    if chosen not in FACTORIES:
        raise ValueError(f"unknown engine {chosen!r}; known: {', '.join(FACTORIES)}")
    return FACTORIES[chosen](settings)

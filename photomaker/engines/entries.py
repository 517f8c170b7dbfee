"""Every photo engine's facts in one entry: its name, how to build it, what the page says of it, where photos go,
how many generations it runs at once, and when `PHOTOMAKER_ENGINE=auto` picks it.

Adding an engine is its module and one entry in `ENTRIES` (docs/adding-an-engine.md). The settings validate
`PHOTOMAKER_ENGINE` against these names, so this module must stay light: it imports no engine until one is built.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from photomaker.core.settings import Settings
    from photomaker.engines.base import Engine

AUTO = "auto"
"""The `PHOTOMAKER_ENGINE` that takes the first entry whose `auto` says yes."""
INSIGHTFACE_LICENCE = (
    "PhotoMaker V2's identity path uses [InsightFace](https://github.com/deepinsight/insightface)'s face models, "
    "licensed for non-commercial research only."
)
LOCAL_GPU_TURNS = 1
"""Generations the local engine runs at once: one fills the GPU; the others queue."""


@dataclass(frozen=True)
class EngineEntry:
    """One photo engine, as the registry builds it, the page describes it and the queue limits it."""

    name: str
    """`PHOTOMAKER_ENGINE`'s value, and the engine's own `name`."""
    factory: Callable[[Settings], Engine]
    """Builds the engine, importing its module only then (the local engine's imports torch)."""
    description: str
    """What makes the avatars, as the page says it after the engine's name."""
    photo_destination: str
    """Where users' photos are sent, completing "Your photos are sent to ..." on the page."""
    concurrency: Callable[[Settings], int]
    """How many of its generations may run at once."""
    auto: Callable[[Settings], bool]
    """Whether `auto` may pick it; entries are asked in `ENTRIES`' order."""
    licence_note: str | None = None
    """A licence the page must show while this engine makes the avatars."""
    seconds_per_image: tuple[int, int] | None = None
    """How long it takes for one image, where it knows better than the catalogue's tiers (which time PhotoMaker V2
    on a remote GPU): `generation.expected_time` reads it."""
    reads_prompt: bool = True
    """Whether the prompt's words shape its avatars; where they do not, the page says so by the prompt."""


def local_available() -> bool:
    """The `local` extra is installed and a CUDA GPU is visible."""
    if not all(importlib.util.find_spec(name) for name in ("torch", "diffusers", "onnxruntime")):
        return False
    import torch

    return torch.cuda.is_available()


def _local(settings: Settings) -> Engine:
    from photomaker.engines.local.engine import LocalEngine

    return LocalEngine.from_settings(settings)


def _endpoint(settings: Settings) -> Engine:
    from photomaker.engines.inference import InferenceEngine

    return InferenceEngine.for_endpoint(settings)


def _space(settings: Settings) -> Engine:
    from photomaker.engines.space import SpaceEngine

    return SpaceEngine.from_settings(settings)


def _preview(settings: Settings) -> Engine:
    from photomaker.engines.preview.engine import PreviewEngine

    return PreviewEngine()


def _remote(settings: Settings) -> int:
    """Remote generations mostly wait on the network."""
    return settings.remote_concurrency


ENTRIES = (
    EngineEntry(
        name="local",
        factory=_local,
        description="Avatars are made by PhotoMaker V2 on this machine's GPU.",
        photo_destination="nowhere: PhotoMaker V2 runs on this server itself",
        concurrency=lambda settings: LOCAL_GPU_TURNS,
        auto=lambda settings: local_available(),
        licence_note=INSIGHTFACE_LICENCE,
    ),
    EngineEntry(
        name="endpoint",
        factory=_endpoint,
        description="Avatars are made by PhotoMaker V2 on a dedicated PhotoMaker V2 endpoint.",
        photo_destination="this app's own PhotoMaker V2 endpoint",
        concurrency=_remote,
        auto=lambda settings: bool(settings.photomaker_endpoint_url),
        licence_note=INSIGHTFACE_LICENCE,
    ),
    EngineEntry(
        name="space",
        factory=_space,
        description="Avatars are made by PhotoMaker V2 on the public PhotoMaker V2 Space.",
        photo_destination="TencentARC's public PhotoMaker V2 Space on Hugging Face, a third party",
        concurrency=_remote,
        auto=lambda settings: bool(settings.token),
        licence_note=INSIGHTFACE_LICENCE,
    ),
    EngineEntry(
        name="preview",
        factory=_preview,
        description=(
            "Avatars are made on this computer from your own photo: framed as a headshot and styled, without "
            "PhotoMaker. Set `HF_TOKEN` to use real PhotoMaker V2."
        ),
        photo_destination="nowhere: the offline preview engine works on this server alone",
        concurrency=lambda settings: settings.preview_concurrency,  # CPU-bound: the cores
        auto=lambda settings: True,
        seconds_per_image=(1, 5),  # styling, likeness and PNG on two cores, 512 to 1536 px
        reads_prompt=False,  # it frames and styles the photo: "as a wizard" makes no wizard
    ),
)
"""Every photo engine, in the order `auto` prefers them."""
ENGINES = {entry.name: entry for entry in ENTRIES}
ENGINE_CHOICES = (AUTO, *ENGINES)
"""What `PHOTOMAKER_ENGINE` may say."""

"""The engine protocol: what every backend takes and gives back.

The service builds one `GenerationRequest` with everything already checked (photos with
their faces, final prompts, resolution, seed); an engine only generates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from PIL import Image, ImageOps

from photomaker.generation import catalogue
from photomaker.generation.catalogue import Mode
from photomaker.generation.prompt_fit import TokenCount
from photomaker.generation.prompts import BuiltPrompt, Style

if TYPE_CHECKING:
    from photomaker.faces.analysis import FacePhoto  # the face models: imported by those that make requests

MAX_SEED = 2**31 - 1
"""Seeds are 32-bit signed integers, as PhotoMaker's pipeline and the Space take them."""

ProgressFn = Callable[[float, str], None]
"""Reports progress: a fraction from 0 to 1 and one short sentence for the user."""


def no_progress(fraction: float, message: str) -> None:
    """A `ProgressFn` for callers that show no progress."""


@dataclass(frozen=True)
class GenerationRequest:
    """One generation, ready for an engine."""

    mode: Mode
    model_key: str
    prompt: str
    negative_prompt: str
    styled_prompt: str
    styled_negative_prompt: str
    style: Style
    style_strength: int
    width: int
    height: int
    num_images: int
    steps: int
    guidance_scale: float
    seed: int
    photos: tuple[FacePhoto, ...] = ()
    style_strength_ratio: int = field(init=False)
    """PhotoMaker's `style_strength_ratio` (15-50) for `style_strength`: worked out once here, so every engine
    sends and records the same number."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "style_strength_ratio", catalogue.style_strength_ratio(self.style_strength))

    @classmethod
    def from_prompts(cls, built: BuiltPrompt, **fields: Any) -> GenerationRequest:
        """A request carrying `built`'s four prompts (before and after the style) and `fields`."""
        return cls(
            prompt=built.prompt,
            negative_prompt=built.negative_prompt,
            styled_prompt=built.styled_prompt,
            styled_negative_prompt=built.styled_negative_prompt,
            **fields,
        )


@dataclass(frozen=True)
class GenerationResult:
    """What an engine made, and the parameters the backend actually used."""

    images: list[Image.Image]
    seed: int
    engine: str
    preview: bool = False
    attempts: int = 1
    effective_params: dict[str, Any] = field(default_factory=dict)


class Engine(Protocol):
    """A backend that turns a request into images. `preview` engines make stand-ins, not PhotoMaker output."""

    name: str
    preview: bool

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> GenerationResult: ...

    def check(self) -> None:
        """Raise a BackendError if the backend cannot be reached at all (run once, off the start-up path)."""
        ...


@dataclass(frozen=True)
class Admission:
    """A request as an engine will serve it, and what the user should know of what it changed."""

    request: GenerationRequest
    notes: tuple[str, ...] = ()


@runtime_checkable
class Admitting(Protocol):
    """An engine with its own checks of a request, run before the charge (a refusal there costs nothing)."""

    def admit(self, request: GenerationRequest) -> Admission:
        """The request as the engine will serve it (photos it cannot use left out); raises RefusedError."""
        ...


@runtime_checkable
class CountsTokens(Protocol):
    """An engine that counts a prompt's tokens with its model's own tokenizer (the page estimates otherwise)."""

    def count_tokens(self, prompt: str, *, photos: int) -> TokenCount | None:
        """How `prompt` (styled, with its trigger word) fits with `photos` photos; None until the model is loaded."""
        ...


def fit_to_size(images: list[Image.Image], *, width: int, height: int) -> tuple[list[Image.Image], bool]:
    """Backend outputs at the requested size (centre-cropped to its shape); True if any had to be enlarged."""
    upscaled = any(image.width < width or image.height < height for image in images)
    fitted = [
        image if image.size == (width, height) else ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)
        for image in images
    ]
    return fitted, upscaled

"""The API's docstrings, which Gradio shows on the API page and hands MCP clients as tool descriptions: what an
endpoint does and costs, then each parameter as the parameter models describe it (one source for both)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

from photomaker.generation.packs import PRESETS
from photomaker.generation.prompts import STYLES_BY_NAME

F = TypeVar("F", bound=Callable[..., object])

CHOICES = {
    "style": f"one of: {', '.join(STYLES_BY_NAME)}",
    "styles": f"each one of: {', '.join(STYLES_BY_NAME)}",
    "preset": "; ".join(f"{name}: {', '.join(styles)}" for name, styles in PRESETS.items()),
}
"""What a parameter takes, where its model's description does not list it."""
PHOTOS = "photos: 1-4 photos of the same person (PNG, JPEG or WebP)"
RETURNS = (
    "the avatars (PNG) and the generation's details: generation_id, credits_charged, credits_refunded, "
    "credits_remaining, images_kept, avatar_styles and likeness (0-1) and likeness_ok per avatar, notes"
)


def documented(
    summary: str, model: type[BaseModel], *, leading: tuple[str, ...] = (), returns: str
) -> Callable[[F], F]:
    """Give the endpoint the docstring `summary`, `Args:` (the `leading` lines, then each of `model`'s fields:
    its title, description and choices) and `Returns:`, in the form Gradio reads."""

    def document(fn: F) -> F:
        lines = [summary, "", "Args:", *(f"    {line}" for line in leading)]
        for name, field in model.model_fields.items():
            said = "; ".join(part for part in (field.title, field.description, CHOICES.get(name)) if part)
            lines.append(f"    {name}: {said}")
        fn.__doc__ = "\n".join([*lines, "", "Returns:", f"    {returns}"])
        return fn

    return document

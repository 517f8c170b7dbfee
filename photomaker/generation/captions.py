"""What an image made here is called under its thumbnail; the page also reads it out as the image's alt text."""

from __future__ import annotations

from photomaker.faces import likeness


def image_caption(
    *,
    mode: str,
    number: int,
    tier: str | None,
    style: str | None,
    preview: bool,
    score: float | None,
    count: int | None = None,
    generation_id: int | None = None,
) -> str:
    """`#12 · Avatar 2 of 4 · Photographic · Pro tier · preview · Likeness 93% ✓`: which image, its look, its likeness.

    `count` (how many the generation made) and `generation_id` are left out where the page says them already;
    a row saved before its tier was recorded has no tier to say.
    """
    kind = "Avatar" if mode == "photo" else "Image"
    parts = [] if generation_id is None else [f"#{generation_id}"]
    parts.append(f"{kind} {number}" + ("" if count is None else f" of {count}"))
    if mode == "photo":
        parts.append(style or "no style")
        if tier:
            parts.append(f"{tier.capitalize()} tier")
    else:
        parts.append("Text to Image")
    if preview:
        parts.append("preview")
    if mode == "photo":
        parts.append(likeness.label(score))
    return " · ".join(parts)

"""The small example of each style shown above the style picker: one WebP per style in `style_examples/`, made
by the preview engine from a fixture face (`stand_ins/style_examples.py`), sent inline with the page."""

from __future__ import annotations

import base64
import html
from functools import cache
from pathlib import Path

from photomaker.generation.prompts import STYLES
from photomaker.images.avatar_files import style_slug

EXAMPLES = Path(__file__).parent / "style_examples"


def example_path(style: str) -> Path:
    return EXAMPLES / f"{style_slug(style)}.webp"


@cache
def examples_html() -> str:
    """Every style's example with its name under it, in the styles' order (a grid that wraps on a phone)."""
    figures = []
    for style in STYLES:
        data = base64.b64encode(example_path(style.name).read_bytes()).decode("ascii")
        name = html.escape(style.name)
        figures.append(
            f'<figure><img src="data:image/webp;base64,{data}" alt="An avatar in the {name} style" '
            f'width="56" height="56"><figcaption>{name}</figcaption></figure>'
        )
    return f'<div class="style-examples">{"".join(figures)}</div>'

"""The style picker's examples: one small WebP per style, each still what the preview engine's styling of the
fixture face makes (`python -m stand_ins.style_examples` makes them again), and sent with the page."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from photomaker.generation.prompts import STYLES
from photomaker.ui.style_examples import EXAMPLES, example_path, examples_html
from stand_ins.style_examples import SIDE, render

MAX_BYTES = 4096
"""A few KB each: all of them travel with the page."""


def test_every_style_has_one_small_example_and_nothing_else_is_there() -> None:
    assert sorted(EXAMPLES.iterdir()) == sorted(example_path(style.name) for style in STYLES)
    for style in STYLES:
        path = example_path(style.name)
        assert path.stat().st_size <= MAX_BYTES, path.name
        with Image.open(path) as example:
            assert (example.format, example.size) == ("WEBP", (SIDE, SIDE))


@pytest.mark.parametrize("style", [style.name for style in STYLES])
def test_each_example_is_the_preview_engines_own_styling(style: str) -> None:
    with Image.open(example_path(style)) as committed:
        shown = np.asarray(committed.convert("RGB"), dtype=np.float32)
    made = np.asarray(render(style), dtype=np.float32)
    own = np.abs(shown - made).mean()
    assert own < 8, "made again, it looks the same (WebP loses a little)"
    for other in (other.name for other in STYLES if other.name != style):
        with Image.open(example_path(other)) as different:
            assert np.abs(np.asarray(different.convert("RGB"), dtype=np.float32) - made).mean() > 1.5 * own, other


def test_the_page_shows_each_example_named_with_alt_text() -> None:
    html = examples_html()
    assert html.count("<img ") == len(STYLES) and html.count("data:image/webp;base64,") == len(STYLES)
    for style in STYLES:
        assert f'alt="An avatar in the {style.name} style"' in html and f"<figcaption>{style.name}" in html

"""The page's example of each style (`photomaker/ui/style_examples/`): the preview engine's own styling of one
fixture face, made once at build time and committed. Run `python -m stand_ins.style_examples` after a style's look
changes; `tests/ui/test_style_examples.py` checks that the committed ones are still what this makes."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from photomaker.engines.base import no_progress
from photomaker.engines.preview.engine import PreviewEngine
from photomaker.generation.prompts import STYLES
from photomaker.ui.style_examples import EXAMPLES, example_path
from stand_ins.engine_inputs import request_for

FACE = Path(__file__).parents[1] / "tests" / "fixtures" / "astronaut.png"
"""A public-domain portrait (NASA's, as scikit-image ships it)."""
RENDER_SIDE = 320
"""The preview's size before it is cropped and shrunk: enough for each style's detail to show."""
SIDE = 112
"""An example's side in pixels: twice the size it is shown at, for sharp screens."""
CROP = (0.1, 0.04, 0.9, 0.84)
"""The square around the face that the example keeps (left, top, right, bottom as shares): the preview's badge,
in the bottom right corner, is left out."""


def render(style: str) -> Image.Image:
    """The example of `style`: the preview engine's avatar of the fixture face, cropped to the face and shrunk."""
    request = request_for(FACE, style=style, strength=50, side=RENDER_SIDE, seed=7)
    avatar = PreviewEngine().generate(request, no_progress).images[0]
    left, top, right, bottom = (share * RENDER_SIDE for share in CROP)
    return avatar.crop((left, top, right, bottom)).resize((SIDE, SIDE), Image.Resampling.LANCZOS)


def main() -> None:
    EXAMPLES.mkdir(exist_ok=True)
    for style in STYLES:
        path = example_path(style.name)
        render(style.name).save(path, "WEBP", quality=72, method=6)
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()

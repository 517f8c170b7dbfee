"""An image's caption, which the page also gives screen readers as its alt text."""

from __future__ import annotations

import pytest

from photomaker.generation.captions import image_caption


@pytest.mark.parametrize(
    ("shown", "said"),
    [
        (
            {"mode": "photo", "tier": "pro", "style": "Cinematic", "preview": True, "score": 0.93, "count": 4},
            "Avatar 2 of 4 · Cinematic · Pro tier · preview · Likeness 93% ✓",
        ),
        (
            {"mode": "photo", "tier": "basic", "style": "Comic book", "preview": False, "score": None},
            "#7 · Avatar 2 · Comic book · Basic tier · no face found",
        ),
        (
            {"mode": "photo", "tier": None, "style": None, "preview": False, "score": 0.3, "count": 2},
            "Avatar 2 of 2 · no style · Likeness 30%: may not look like you",
        ),
        (
            {"mode": "text", "tier": "text", "style": None, "preview": False, "score": None, "count": 3},
            "Image 2 of 3 · Text to Image",
        ),
    ],
    ids=["result", "history", "an old row", "text to image"],
)
def test_the_caption_says_which_image_its_look_and_its_likeness(shown: dict, said: str) -> None:
    generation = {} if "count" in shown else {"generation_id": 7}
    assert image_caption(number=2, **shown, **generation) == said

"""prompts: exactly one trigger word, right after the class word, inside the chosen style."""

from __future__ import annotations

import pytest

from photomaker.errors import RefusedError
from photomaker.prompts import DEFAULT_NEGATIVE, MAX_PROMPT_CHARS, STYLES, build, get_style, insert_trigger


@pytest.mark.parametrize(
    ("prompt", "subject", "expected"),
    [
        (
            "a professional headshot of a woman, studio lighting",
            "woman",
            "a professional headshot of a woman img, studio lighting",
        ),
        ("a woman img, studio lighting", "woman", "a woman img, studio lighting"),
        ("a man IMG in a suit", "man", "a man img in a suit"),
        ("a photo of img as a man in a suit", "man", "a photo of as a man img in a suit"),
        ("a professional headshot, studio lighting", "woman", "a woman img, a professional headshot, studio lighting"),
        ("portrait of a girl with freckles", "person", "portrait of a girl img with freckles"),
        ("img", "boy", "a boy img"),
        ("a photo of img in a suit", "man", "a photo of a man img in a suit"),
    ],
)
def test_trigger_word_goes_right_after_the_class_word(prompt: str, subject: str, expected: str) -> None:
    assert insert_trigger(prompt, subject=subject) == expected


def test_words_containing_img_are_not_triggers() -> None:
    assert insert_trigger("a man with imgur stickers", subject="man") == "a man img with imgur stickers"


def test_two_trigger_words_are_refused() -> None:
    with pytest.raises(RefusedError) as caught:
        build("a woman img and a man img")
    assert caught.value.code == "INVALID_PROMPT"
    assert "2 times" in caught.value.message


def test_trigger_word_in_negative_prompt_is_refused() -> None:
    with pytest.raises(RefusedError) as caught:
        build("a woman", negative_prompt="img, blurry")
    assert caught.value.code == "INVALID_PROMPT"
    assert "negative prompt" in caught.value.message


@pytest.mark.parametrize("prompt", ["", "   ", "\n"])
def test_empty_prompt_is_refused(prompt: str) -> None:
    with pytest.raises(RefusedError) as caught:
        build(prompt)
    assert caught.value.code == "INVALID_PROMPT"


def test_over_long_prompt_is_refused() -> None:
    with pytest.raises(RefusedError) as caught:
        build("a woman " * (MAX_PROMPT_CHARS // 8 + 1))
    assert caught.value.code == "INVALID_PROMPT"
    assert str(MAX_PROMPT_CHARS) in caught.value.message


def test_style_template_and_negatives_are_applied() -> None:
    built = build("a woman in a garden", style="Cinematic", negative_prompt="glasses")
    assert built.prompt == "a woman img in a garden"
    assert built.styled_prompt.startswith("cinematic still a woman img in a garden . emotional")
    assert built.negative_prompt == f"glasses, {DEFAULT_NEGATIVE}"
    assert built.styled_negative_prompt.startswith("anime, cartoon")
    assert built.styled_negative_prompt.endswith(built.negative_prompt)


def test_every_style_keeps_exactly_one_trigger() -> None:
    assert len(STYLES) == 11
    for style in STYLES:
        built = build("a man", style=style.name)
        assert built.styled_prompt.split().count("img") == 1, style.name


def test_disney_style_has_the_space_spelling() -> None:
    assert get_style("Disney Character").space_name == "Disney Charactor"
    assert get_style("Disney Charactor").name == "Disney Character"


def test_unknown_style_and_subject_are_refused() -> None:
    with pytest.raises(RefusedError) as caught:
        build("a man", style="Vaporwave")
    assert caught.value.code == "INVALID_PARAMS"
    with pytest.raises(RefusedError):
        build("a man", subject="dragon")  # type: ignore[arg-type]

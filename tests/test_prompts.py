"""prompts: exactly one trigger word, right after the class word, inside the chosen style."""

from __future__ import annotations

import pytest

from photomaker.core.errors import RefusedError
from photomaker.generation import prompts
from photomaker.generation.prompts import (
    CLASS_WORDS,
    DEFAULT_NEGATIVE,
    DEFAULT_STYLE,
    MAX_NEGATIVE_CHARS,
    MAX_PROMPT_CHARS,
    NO_STYLE,
    STYLES,
    SUBJECTS,
    TRIGGER,
    build,
    get_style,
    insert_trigger,
)


def _prompt_of(length: int) -> str:
    """A prompt of exactly `length` characters that names a woman."""
    prompt = "a woman " + "x" * (length - len("a woman "))
    assert len(prompt) == length
    return prompt


def _refused(prompt: str, **options: object) -> RefusedError:
    with pytest.raises(RefusedError) as caught:
        build(prompt, **options)  # type: ignore[arg-type]
    return caught.value


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
        ("img, a woman smiling", "person", "a woman img smiling"),
        ("img, X-ray portrait of a man", "person", "X-ray portrait of a man img"),
        ("img. A lady in red", "person", "A lady img in red"),
        ("a photo of img in a suit", "man", "a photo of a man img in a suit"),
        # Kept where it is: right after the last word before it, a class word, even with another one earlier.
        ("portrait of a man with a woman img", "person", "portrait of a man with a woman img"),
        ("portrait of a man with a Woman IMG", "person", "portrait of a man with a Woman img"),
        # Moved: removing it leaves no space before punctuation and no double space.
        ("a woman in a garden img, smiling", "person", "a woman img in a garden, smiling"),
        ("a woman in img  the rain", "person", "a woman img in the rain"),
        # Glued to the class word without a space: not in place, so it moves.
        ("a woman,img smiling", "person", "a woman img, smiling"),
        ("  a Lady in red  ", "person", "a Lady img in red"),
    ],
)
def test_trigger_word_goes_right_after_the_class_word(prompt: str, subject: str, expected: str) -> None:
    assert insert_trigger(prompt, subject=subject) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("mark", list(",.;:!?"))
def test_moving_the_trigger_leaves_no_space_before_punctuation(mark: str) -> None:
    assert insert_trigger(f"a woman in a garden img{mark} smiling") == f"a woman img in a garden{mark} smiling"


@pytest.mark.parametrize("word", sorted(CLASS_WORDS))
def test_every_class_word_takes_the_trigger(word: str) -> None:
    assert insert_trigger(f"portrait of a {word} smiling", subject="woman") == f"portrait of a {word} img smiling"


@pytest.mark.parametrize("word", ["child", "kid", "lady", "guy", "gentleman"])
def test_class_words_beyond_the_subjects_take_the_trigger(word: str) -> None:
    assert word not in SUBJECTS
    assert build(f"a {word} reading").prompt == f"a {word} img reading"


def test_the_subject_defaults_to_person() -> None:
    assert insert_trigger("smiling, studio lighting") == "a person img, smiling, studio lighting"
    assert build("smiling").prompt == "a person img, smiling"


def test_the_subject_is_used_when_the_prompt_names_nobody() -> None:
    assert build("smiling, studio lighting", subject="girl").prompt == "a girl img, smiling, studio lighting"


@pytest.mark.parametrize("prompt", ["", "   "])
def test_an_empty_prompt_becomes_just_the_subject(prompt: str) -> None:
    assert insert_trigger(prompt, subject="girl") == "a girl img"


def test_words_containing_img_are_not_triggers() -> None:
    assert insert_trigger("a man with imgur stickers", subject="man") == "a man img with imgur stickers"


@pytest.mark.parametrize("count", [2, 3])
def test_two_or_more_trigger_words_are_refused(count: int) -> None:
    error = _refused(" and ".join(["a woman img"] * count))
    assert error.code == "INVALID_PROMPT"
    assert error.message == (
        f"The prompt uses the trigger word '{TRIGGER}' {count} times; use it once, right after "
        f'the person ("a woman {TRIGGER}"), or leave it out and we add it.'
    )


@pytest.mark.parametrize("negative", ["img, blurry", "blurry, IMG"])
def test_trigger_word_in_negative_prompt_is_refused(negative: str) -> None:
    error = _refused("a woman", negative_prompt=negative)
    assert error.code == "INVALID_PROMPT"
    assert error.message == (
        f"Remove the trigger word '{TRIGGER}' from the negative prompt; it belongs only in the prompt."
    )


def test_words_containing_img_are_allowed_in_the_negative_prompt() -> None:
    assert build("a woman", negative_prompt="imgur logo").negative_prompt == f"imgur logo, {DEFAULT_NEGATIVE}"


@pytest.mark.parametrize("prompt", ["", "   ", "\n"])
def test_empty_prompt_is_refused(prompt: str) -> None:
    error = _refused(prompt)
    assert error.code == "INVALID_PROMPT"
    assert error.message == (
        'Write a prompt that describes the avatar you want, e.g. "a professional headshot, studio lighting".'
    )


# --- lengths ----------------------------------------------------------------------------------


def test_prompt_of_exactly_the_max_length_is_accepted() -> None:
    prompt = _prompt_of(MAX_PROMPT_CHARS)
    assert build(prompt).prompt == prompt.replace("a woman", "a woman img", 1)


def test_prompt_one_char_over_the_max_length_is_refused() -> None:
    error = _refused(_prompt_of(MAX_PROMPT_CHARS + 1))
    assert error.code == "INVALID_PROMPT"
    assert error.message == (
        f"The prompt is {MAX_PROMPT_CHARS + 1} characters long; shorten it to {MAX_PROMPT_CHARS} or fewer."
    )


def test_whitespace_around_the_prompt_does_not_count() -> None:
    prompt = _prompt_of(MAX_PROMPT_CHARS)
    assert build(f"  \n{prompt}\t  ").prompt == prompt.replace("a woman", "a woman img", 1)


def test_negative_prompt_of_exactly_the_max_length_is_accepted() -> None:
    negative = "x" * MAX_NEGATIVE_CHARS
    assert build("a woman", negative_prompt=f" \n{negative}  ").negative_prompt == f"{negative}, {DEFAULT_NEGATIVE}"


def test_negative_prompt_one_char_over_the_max_length_is_refused() -> None:
    error = _refused("a woman", negative_prompt="x" * (MAX_NEGATIVE_CHARS + 1))
    assert error.code == "INVALID_PROMPT"
    assert error.message == (
        f"The negative prompt is {MAX_NEGATIVE_CHARS + 1} characters long; shorten it to {MAX_NEGATIVE_CHARS} or fewer."
    )


def test_each_length_limit_applies_to_its_own_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prompts, "MAX_NEGATIVE_CHARS", 10)
    assert build(_prompt_of(MAX_PROMPT_CHARS), negative_prompt="x" * 10).negative_prompt.startswith("x" * 10 + ", ")
    error = _refused("a woman", negative_prompt="x" * 11)
    assert error.message == "The negative prompt is 11 characters long; shorten it to 10 or fewer."
    monkeypatch.undo()
    monkeypatch.setattr(prompts, "MAX_PROMPT_CHARS", 10)
    assert build("a woman", negative_prompt="x" * MAX_NEGATIVE_CHARS).prompt == "a woman img"
    assert _refused(_prompt_of(11)).message == "The prompt is 11 characters long; shorten it to 10 or fewer."


# --- negative prompt --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("negative", "expected"),
    [
        ("", DEFAULT_NEGATIVE),
        ("   ", DEFAULT_NEGATIVE),
        ("  glasses, hat ", f"glasses, hat, {DEFAULT_NEGATIVE}"),
    ],
)
def test_negative_prompt_is_joined_with_the_default(negative: str, expected: str) -> None:
    assert build("a woman", negative_prompt=negative).negative_prompt == expected


def test_no_negative_prompt_means_the_default_one() -> None:
    assert build("a woman").negative_prompt == DEFAULT_NEGATIVE


# --- styles -----------------------------------------------------------------------------------


def test_the_default_style_is_photographic() -> None:
    assert DEFAULT_STYLE == "Photographic (Default)"
    built = build("a woman in a garden")
    assert built.prompt == "a woman img in a garden"
    assert built.styled_prompt == (
        "cinematic photo a woman img in a garden . 35mm photograph, film, bokeh, professional, 4k, highly detailed"
    )
    assert built.styled_negative_prompt == (
        "drawing, painting, crayon, sketch, graphite, impressionist, noisy, blurry, soft, deformed, ugly "
        + DEFAULT_NEGATIVE
    )


def test_style_template_and_negatives_are_applied() -> None:
    built = build("a woman in a garden", style="Cinematic", negative_prompt="glasses")
    assert built.prompt == "a woman img in a garden"
    assert built.styled_prompt == (
        "cinematic still a woman img in a garden . emotional, harmonious, vignette, highly detailed, high budget, "
        "bokeh, cinemascope, moody, epic, gorgeous, film grain, grainy"
    )
    assert built.negative_prompt == f"glasses, {DEFAULT_NEGATIVE}"
    assert built.styled_negative_prompt == (
        "anime, cartoon, graphic, text, painting, crayon, graphite, abstract, glitch, deformed, mutated, ugly, "
        f"disfigured glasses, {DEFAULT_NEGATIVE}"
    )


def test_enhance_style_is_applied_exactly() -> None:
    built = build("a man", style="Enhance", negative_prompt="hat")
    assert built.styled_prompt == "breathtaking a man img . award-winning, professional, highly detailed"
    assert built.styled_negative_prompt == f"ugly, deformed, noisy, blurry, distorted, grainy hat, {DEFAULT_NEGATIVE}"


def test_no_style_leaves_the_prompts_as_they_are() -> None:
    built = build("a man in a suit", style=NO_STYLE)
    assert built.styled_prompt == built.prompt == "a man img in a suit"
    assert built.styled_negative_prompt == built.negative_prompt == DEFAULT_NEGATIVE


def test_every_style_wraps_the_prompt_and_adds_its_negative() -> None:
    assert len(STYLES) == 11
    for style in STYLES:
        built = build("a man", style=style.name, negative_prompt="hat")
        assert style.template.count("{prompt}") == 1, style.name
        before, after = style.template.split("{prompt}")
        assert built.styled_prompt == f"{before}a man img{after}", style.name
        assert built.styled_prompt.split().count("img") == 1, style.name
        expected_negative = f"hat, {DEFAULT_NEGATIVE}"
        assert built.styled_negative_prompt == (
            f"{style.negative} {expected_negative}" if style.negative else expected_negative
        ), style.name


def test_fantasy_art_keeps_the_spaces_two_spaces_before_the_prompt() -> None:
    # The Space's template says "concept art of  {prompt}"; one space less would be other tokens' positions.
    assert build("a man", style="Fantasy art").styled_prompt.startswith("ethereal fantasy concept art of  a man img .")


def test_without_trigger_the_prompt_is_left_as_written() -> None:
    built = build("  a woman in a garden  ", style=NO_STYLE, with_trigger=False)
    assert built.prompt == built.styled_prompt == "a woman in a garden"


def test_disney_style_has_the_space_spelling() -> None:
    assert get_style("Disney Character").space_name == "Disney Charactor"
    assert get_style("Disney Charactor").name == "Disney Character"
    built = build("a girl", style="Disney Charactor")
    assert built.styled_prompt == (
        "A Pixar animation character of a girl img . pixar-style, studio anime, Disney, high-quality"
    )


def test_every_style_is_found_by_both_spellings() -> None:
    for style in STYLES:
        assert get_style(style.name) is style
        assert get_style(style.space_name) is style


def test_unknown_style_is_refused() -> None:
    error = _refused("a man", style="Vaporwave")
    assert error.code == "INVALID_PARAMS"
    names = ", ".join(style.name for style in STYLES)
    assert error.message == f"Unknown style 'Vaporwave'; choose one of: {names}."


def test_unknown_subject_is_refused() -> None:
    error = _refused("a man", subject="dragon")
    assert error.code == "INVALID_PARAMS"
    assert error.message == "Unknown subject 'dragon'; choose one of: person, man, woman, boy, girl."

"""Prompts as PhotoMaker needs them: one trigger word `img` after a class word, in a style.

PhotoMaker V2 binds the identity of the uploaded photos to the token `img`, which must follow
a class word ("a woman img"). The style templates and negative prompts are the Space's own, character for
character (Fantasy art's two spaces included), and joined as the Space joins them: the style's negative prompt,
a space, then the negative prompt (the user's words, then the default one the Space's box holds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from photomaker.core.errors import RefusedError
from photomaker.core.safe_text import quoted

TRIGGER = "img"
MAX_PROMPT_CHARS = 400
MAX_NEGATIVE_CHARS = 400

Subject = Literal["person", "man", "woman", "boy", "girl"]
SUBJECTS: tuple[Subject, ...] = get_args(Subject)
CLASS_WORDS = frozenset({*SUBJECTS, "child", "kid", "lady", "guy", "gentleman"})

DEFAULT_NEGATIVE = (
    "nsfw, lowres, bad anatomy, bad hands, text, error, missing fingers, extra digit, fewer digits, "
    "cropped, worst quality, low quality, normal quality, jpeg artifacts, signature, watermark, "
    "username, blurry"
)


@dataclass(frozen=True)
class Style:
    """One PhotoMaker style: our display name, the Space's spelling, and its templates."""

    name: str
    space_name: str
    template: str
    negative: str


STYLES: tuple[Style, ...] = (
    Style(
        "Photographic (Default)",
        "Photographic (Default)",
        "cinematic photo {prompt} . 35mm photograph, film, bokeh, professional, 4k, highly detailed",
        "drawing, painting, crayon, sketch, graphite, impressionist, noisy, blurry, soft, deformed, ugly",
    ),
    Style(
        "Cinematic",
        "Cinematic",
        "cinematic still {prompt} . emotional, harmonious, vignette, highly detailed, high budget, bokeh, "
        "cinemascope, moody, epic, gorgeous, film grain, grainy",
        "anime, cartoon, graphic, text, painting, crayon, graphite, abstract, glitch, deformed, mutated, ugly, "
        "disfigured",
    ),
    Style(
        "Disney Character",
        "Disney Charactor",
        "A Pixar animation character of {prompt} . pixar-style, studio anime, Disney, high-quality",
        "lowres, bad anatomy, bad hands, text, bad eyes, bad arms, bad legs, error, missing fingers, extra digit, "
        "fewer digits, cropped, worst quality, low quality, normal quality, jpeg artifacts, signature, watermark, "
        "blurry, grayscale, noisy, sloppy, messy, grainy, highly detailed, ultra textured, photo",
    ),
    Style(
        "Digital Art",
        "Digital Art",
        "concept art {prompt} . digital artwork, illustrative, painterly, matte painting, highly detailed",
        "photo, photorealistic, realism, ugly",
    ),
    Style(
        "Fantasy art",
        "Fantasy art",
        "ethereal fantasy concept art of  {prompt} . magnificent, celestial, ethereal, painterly, epic, majestic, "
        "magical, fantasy art, cover art, dreamy",
        "photographic, realistic, realism, 35mm film, dslr, cropped, frame, text, deformed, glitch, noise, noisy, "
        "off-center, deformed, cross-eyed, closed eyes, bad anatomy, ugly, disfigured, sloppy, duplicate, mutated, "
        "black and white",
    ),
    Style(
        "Neonpunk",
        "Neonpunk",
        "neonpunk style {prompt} . cyberpunk, vaporwave, neon, vibes, vibrant, stunningly beautiful, crisp, "
        "detailed, sleek, ultramodern, magenta highlights, dark purple shadows, high contrast, cinematic, "
        "ultra detailed, intricate, professional",
        "painting, drawing, illustration, glitch, deformed, mutated, cross-eyed, ugly, disfigured",
    ),
    Style(
        "Enhance",
        "Enhance",
        "breathtaking {prompt} . award-winning, professional, highly detailed",
        "ugly, deformed, noisy, blurry, distorted, grainy",
    ),
    Style(
        "Comic book",
        "Comic book",
        "comic {prompt} . graphic illustration, comic art, graphic novel art, vibrant, highly detailed",
        "photograph, deformed, glitch, noisy, realistic, stock photo",
    ),
    Style(
        "Lowpoly",
        "Lowpoly",
        "low-poly style {prompt} . low-poly game art, polygon mesh, jagged, blocky, wireframe edges, "
        "centered composition",
        "noisy, sloppy, messy, grainy, highly detailed, ultra textured, photo",
    ),
    Style(
        "Line art",
        "Line art",
        "line art drawing {prompt} . professional, sleek, modern, minimalist, graphic, line art, vector graphics",
        "anime, photorealistic, 35mm film, deformed, glitch, blurry, noisy, off-center, deformed, cross-eyed, "
        "closed eyes, bad anatomy, ugly, disfigured, mutated, realism, realistic, impressionism, expressionism, "
        "oil, acrylic",
    ),
    Style("(No style)", "(No style)", "{prompt}", ""),
)
STYLES_BY_NAME: dict[str, Style] = {style.name: style for style in STYLES}
DEFAULT_STYLE = STYLES[0].name
NO_STYLE = "(No style)"

_TRIGGER_RE = re.compile(rf"\b{TRIGGER}\b", re.IGNORECASE)
_WORD_RE = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class BuiltPrompt:
    """The prompts before the style (what the Space takes; it applies the style itself) and after."""

    prompt: str
    negative_prompt: str
    styled_prompt: str
    styled_negative_prompt: str


def get_style(name: str) -> Style:
    """The style called `name` (our spelling or the Space's), or INVALID_PARAMS."""
    for style in STYLES:
        if name in (style.name, style.space_name):
            return style
    raise RefusedError("INVALID_PARAMS", f"Unknown style {quoted(name)}; choose one of: {', '.join(STYLES_BY_NAME)}.")


def _check_length(text: str, limit: int, what: str) -> None:
    if len(text) > limit:
        raise RefusedError(
            "INVALID_PROMPT", f"The {what} is {len(text)} characters long; shorten it to {limit} or fewer."
        )


def _remove_trigger(text: str) -> str:
    """The text without `img`, and without the space or punctuation it leaves behind."""
    without = _TRIGGER_RE.sub("", text)
    tidy = re.sub(r"\s{2,}", " ", re.sub(r"\s+([,.;:!?])", r"\1", without))
    return tidy.strip().lstrip(",.;:!? ")


def _class_word_end(text: str) -> int | None:
    """Where the first class word ends, so the trigger can go right after it."""
    for match in _WORD_RE.finditer(text):
        if match.group().lower() in CLASS_WORDS:
            return match.end()
    return None


def _trigger_is_placed(text: str) -> bool:
    match = _TRIGGER_RE.search(text)
    if match is None:
        return False
    before = _WORD_RE.findall(text[: match.start()])
    return bool(before) and before[-1].lower() in CLASS_WORDS and text[: match.start()].endswith(" ")


def insert_trigger(prompt: str, *, subject: Subject = "person") -> str:
    """Give `prompt` exactly one `img`, right after a class word.

    Kept when already right. Otherwise it goes after the first class word in the prompt; when
    the prompt names nobody, a misplaced `img` becomes "a woman img" where it stands, and a
    missing one is added in front ("a woman img, ..."). Two or more are refused.
    """
    text = prompt.strip()
    count = len(_TRIGGER_RE.findall(text))
    if count > 1:
        raise RefusedError(
            "INVALID_PROMPT",
            f"The prompt uses the trigger word '{TRIGGER}' {count} times; use it once, right after "
            f'the person ("a woman {TRIGGER}"), or leave it out and we add it.',
        )
    if count == 1 and _trigger_is_placed(text):
        return _TRIGGER_RE.sub(TRIGGER, text)
    without = _remove_trigger(text)
    end = _class_word_end(without)
    if end is not None:
        return f"{without[:end]} {TRIGGER}{without[end:]}"
    if count == 1:
        return _TRIGGER_RE.sub(f"a {subject} {TRIGGER}", text)
    return f"a {subject} {TRIGGER}, {text}" if text else f"a {subject} {TRIGGER}"


def build(
    prompt: str,
    *,
    style: str = DEFAULT_STYLE,
    subject: Subject = "person",
    negative_prompt: str = "",
    with_trigger: bool = True,
) -> BuiltPrompt:
    """The final prompt and negative prompt for one generation, or INVALID_PROMPT."""
    if not prompt or not prompt.strip():
        raise RefusedError(
            "INVALID_PROMPT",
            'Write a prompt that describes the avatar you want, e.g. "a professional headshot, studio lighting".',
        )
    if subject not in SUBJECTS:
        raise RefusedError(
            "INVALID_PARAMS", f"Unknown subject {quoted(subject)}; choose one of: {', '.join(SUBJECTS)}."
        )
    _check_length(prompt.strip(), MAX_PROMPT_CHARS, "prompt")
    _check_length(negative_prompt.strip(), MAX_NEGATIVE_CHARS, "negative prompt")
    if _TRIGGER_RE.search(negative_prompt):
        raise RefusedError(
            "INVALID_PROMPT",
            f"Remove the trigger word '{TRIGGER}' from the negative prompt; it belongs only in the prompt.",
        )
    chosen = get_style(style)
    text = insert_trigger(prompt, subject=subject) if with_trigger else prompt.strip()
    negative = ", ".join(part for part in (negative_prompt.strip(), DEFAULT_NEGATIVE) if part)
    return BuiltPrompt(
        prompt=text,
        negative_prompt=negative,
        styled_prompt=chosen.template.replace("{prompt}", text),
        # The Space's `n + ' ' + negative`; its leading space with no style is left out (the tokenizers strip it).
        styled_negative_prompt=" ".join(part for part in (chosen.negative, negative) if part),
    )

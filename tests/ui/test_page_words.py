"""What the page says matches what will run: the header, the mode, tier and text model labels, the prompt's help and a
generation's summary name the engine and its own time, and the preview engine is never passed off as PhotoMaker V2;
counts read in proper plurals; the examples fit whoever is in the photos; results download by style and number."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from photomaker.core.plurals import counted
from photomaker.engines.base import Engine
from photomaker.generation import prompts
from photomaker.generation.results import GenerationOutcome
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.startup.runtime import Runtime
from photomaker.store import AIModel
from photomaker.ui import engine_note, title_markdown
from photomaker.ui.cache import cache_dir, copies_of
from photomaker.ui.generate_results import shown_results
from photomaker.ui.generate_words import (
    PHOTO_MODE,
    PROMPT_EXAMPLES,
    TEXT_MODE,
    details_text,
    mode_help,
    prompt_help,
    result_captions,
    text_model_label,
    tier_help,
    tier_label,
)

FIXTURES = Path(__file__).parents[1] / "fixtures"
LEFT_OUT = "leaves your prompt's words out"


def engine_named(name: str, *, preview: bool = False) -> Engine:
    """An engine as the page's words see it: a name (its registry entry) and whether it makes previews."""
    return cast(Engine, SimpleNamespace(name=name, preview=preview))


def models(runtime: Runtime, mode: str) -> dict[str, AIModel]:
    return {model.tier: model for model in runtime.service.models(mode=mode)}


def made(runtime: Runtime, *, count: int, style: str = "Cinematic") -> GenerationOutcome:
    photo = PhotoUpload.from_path(FIXTURES / "astronaut.png")
    values = {"prompt": "as a wizard", "tier": "basic", "style": style, "num_images": count}
    return runtime.service.generate_avatar("local", [photo], values)


@pytest.mark.parametrize(
    ("number", "noun", "plural", "said"),
    [
        (0, "rating", None, "0 ratings"),
        (1, "rating", None, "1 rating"),
        (1, "second", None, "1 second"),
        (2, "try", "tries", "2 tries"),
        (1000, "avatar", None, "1,000 avatars"),
    ],
)
def test_counts_read_in_proper_plurals(number: int, noun: str, plural: str | None, said: str) -> None:
    assert counted(number, noun, plural=plural) == said


def test_the_preview_engine_is_named_with_its_seconds_and_never_as_photomaker(runtime: Runtime) -> None:
    engine = runtime.service.engine
    assert engine.name == "preview"
    title = title_markdown(engine)
    assert "offline previews, about 1-5 s per avatar, not by PhotoMaker V2" in title
    assert "with PhotoMaker V2" not in title and "not by PhotoMaker V2" in mode_help(engine)
    basic = models(runtime, "photo")["basic"]
    assert tier_label(basic, engine) == "Basic · 512×512 · 18 credits and about 1-5 s per image"
    assert tier_help(engine) == "Made by the preview engine; each tier's time is for one image."
    note = engine_note(runtime)
    assert "Preview engine (offline), about 1-5 s per avatar." in note and LEFT_OUT in note


def test_photomaker_engines_keep_the_catalogues_times_and_name(runtime: Runtime) -> None:
    space = engine_named("space")
    assert title_markdown(space).endswith("styled avatars with PhotoMaker V2.")
    assert mode_help(space).startswith("Avatars from your photos with PhotoMaker V2")
    photo, text = models(runtime, "photo"), models(runtime, "text")
    assert tier_label(photo["enterprise"], space) == "Enterprise · 1536×1536 · 35 credits and about 120-180 s per image"
    (flux,) = text.values()
    assert text_model_label(flux, engine_named("inference-providers")) == (
        "FLUX.1 schnell (Text to Image) · 10 credits and about 5-30 s per image"
    )
    assert text_model_label(flux, None) == "FLUX.1 schnell (Text to Image) · 10 credits per image", "the mode is off"


def test_the_prompt_box_says_when_its_words_are_left_out() -> None:
    preview, space = engine_named("preview", preview=True), engine_named("space")
    info, placeholder = prompt_help(PHOTO_MODE, preview)
    assert LEFT_OUT in info and '"as a wizard" makes no wizard' in info and placeholder
    assert "trigger word" in prompt_help(PHOTO_MODE, space)[0]
    assert prompt_help(TEXT_MODE, preview) == prompt_help(TEXT_MODE, space), "Text to Image reads its prompt"


@pytest.mark.parametrize("subject", prompts.SUBJECTS)
def test_each_example_prompt_fits_whoever_is_in_the_photos(subject: prompts.Subject) -> None:
    for example in PROMPT_EXAMPLES[PHOTO_MODE]:
        words = set(example.lower().replace(",", " ").split())
        assert not words & prompts.CLASS_WORDS and prompts.TRIGGER not in words, example
        assert prompts.build(example, subject=subject).prompt.startswith(f"a {subject} img"), example


def test_a_preview_summary_names_the_tier_counts_its_images_and_says_the_prompt_was_left_out(
    runtime: Runtime,
) -> None:
    one, two = details_text(made(runtime, count=1)), details_text(made(runtime, count=2))
    assert "· Basic tier · 512×512 · 1 image\n" in one and "· 2 images\n" in two
    assert "PhotoMaker V2" not in one and "image(s)" not in two
    assert "not PhotoMaker output" in one and LEFT_OUT in one and "engine `preview`" in one


def test_results_are_served_under_their_download_names(runtime: Runtime) -> None:
    outcome = made(runtime, count=2, style="Photographic (Default)")
    shown = shown_results(outcome)
    assert [Path(path).name for path, _ in shown] == ["photographic-default-1.png", "photographic-default-2.png"]
    assert [caption for _, caption in shown] == result_captions(outcome)
    for (path, _), original in zip(shown, outcome.images, strict=True):
        served = Path(path)
        assert served.is_relative_to(cache_dir()) and served.read_bytes() == original.read_bytes()
        assert not served.is_symlink()
        assert [served.parent] == copies_of([original]), "deleting the avatar withdraws this copy too"

"""The photo side of the Generate form: the photos, who is in them, and the styles to make (one style, or several
as a pack, with an example of each and named presets); and how the page's values become a request.

A request with one style is the single-style request it always was (`PhotoParams`); with several, a pack
(`PackParams`) of "images per style" avatars of each. A preset only fills in the styles: what is sent is the list
the user sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gradio as gr

from photomaker.core.settings import Settings
from photomaker.generation.packs import PRESETS
from photomaker.generation.params import PackParams, PhotoParams, label
from photomaker.generation.prompts import DEFAULT_STYLE, STYLES, SUBJECTS
from photomaker.startup.runtime import Runtime
from photomaker.ui.style_examples import examples_html

SHARED = tuple(name for name in PackParams.model_fields if name in PhotoParams.model_fields)
"""What a single-style request and a pack both take, as the form holds it."""
PAGE_FIELDS = (*SHARED, "styles", "num_images")
"""The form's values a Photo to Avatar request is made of (`num_images` is the images of each style)."""
PHOTOS_LABEL = {False: label(PhotoParams, "num_images"), True: label(PackParams, "images_per_style")}
"""The images slider's label, as one style or several are picked."""


def request_values(values: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """The request the page's values (`PAGE_FIELDS`) make, and whether it is a pack."""
    shared = {name: values[name] for name in SHARED}
    styles = list(values["styles"] or [])
    if len(styles) == 1:
        return {**shared, "style": styles[0], "num_images": values["num_images"]}, False
    return {**shared, "styles": styles, "images_per_style": values["num_images"]}, True


def preset_styles(preset: str | None) -> list[str] | None:
    """The styles a preset picks (None for none or an unknown one: the pick is left as it is)."""
    return list(PRESETS[preset]) if preset in PRESETS else None


def photos_hint(settings: Settings) -> str:
    """What the page takes, and how long it keeps the photos (`kept_photos`)."""
    return (
        f"JPEG, PNG or WebP, up to {settings.max_photo_mb:g} MB each. Your photos stay here for your next "
        f"generations, seen by you alone, until you forget them, close this tab or leave them unused for "
        f"{settings.kept_photos_minutes:g} minutes; then they are deleted."
    )


def build_photo_inputs(runtime: Runtime) -> dict[str, Any]:
    """The photos, who is in them, and the styles (with their examples and the presets)."""
    with gr.Column() as photo_inputs:
        photos = gr.Gallery(
            label="Your photos: 1 to 4 of the same person",
            type="filepath",
            interactive=True,
            columns=4,
            height="auto",
            object_fit="cover",
            elem_id="photos",
        )
        with gr.Row(equal_height=False):
            gr.Markdown(photos_hint(runtime.settings), elem_classes=["hint"], elem_id="photos-hint")
            forget_photos = gr.Button("Forget my photos", size="sm", scale=0, min_width=150, elem_id="forget-photos")
        subject = gr.Dropdown(
            list(SUBJECTS), value="person", label=label(PhotoParams, "subject"), min_width=180, elem_id="subject"
        )
        gr.HTML(examples_html(), elem_id="style-examples")
        with gr.Row():  # side by side on a laptop, one under the other on a phone
            styles = gr.Dropdown(
                [style.name for style in STYLES],
                value=[DEFAULT_STYLE],
                multiselect=True,
                label=label(PackParams, "styles"),
                info="Pick several for a pack: the same number of avatars of each, one upload, one charge.",
                scale=3,
                min_width=240,
                elem_id="styles",
            )
            preset = gr.Dropdown(
                list(PRESETS),
                value=None,
                label=label(PackParams, "preset"),
                info="Picks its styles for you.",
                scale=1,
                min_width=160,
                elem_id="preset",
            )
    return {
        "photo_inputs": photo_inputs,
        "photos": photos,
        "forget_photos": forget_photos,
        "subject": subject,
        "styles": styles,
        "preset": preset,
    }

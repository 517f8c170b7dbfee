"""The Generate tab's results side: the engine note, the results with their details and rating, the project's
history and the user's own data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from photomaker.generation.results import GenerationOutcome
from photomaker.images.avatar_files import download_names
from photomaker.startup.runtime import Runtime
from photomaker.ui.cache import served_copy
from photomaker.ui.generate_words import EMPTY_RESULTS, PHOTO_MODE, result_captions
from photomaker.ui.my_data import build_my_data
from photomaker.ui.rating import build_rating

RESULT_COLUMNS = 2
"""Results side by side in pairs; a single one takes the whole width."""
NOTE_REFRESH_S = 3
"""How often the engine note is shown again while the engine's model loads."""


def shown_results(outcome: GenerationOutcome) -> list[tuple[str, str]]:
    """The results gallery's value: a served copy of each image, named as in the ZIP (`cinematic-2.png`, the name
    its own download button saves it under), with its caption."""
    names = download_names(outcome.styles)
    return [
        (served_copy(path, name=name), caption)
        for path, name, caption in zip(outcome.images, names, result_captions(outcome), strict=True)
    ]


def build_results(runtime: Runtime, engine_note: Callable[[], str]) -> dict[str, Any]:
    note = gr.Markdown(engine_note(), elem_id="engine-note")
    note_timer = gr.Timer(NOTE_REFRESH_S, active=False)
    # Where a generation's outcome goes, results or refusal: the page scrolls here when one ends.
    with gr.Column(elem_id="results-area"):
        # As tall as its images (each whole, its caption under it: see `theme`); shown once there are some.
        results = gr.Gallery(
            label="Your avatars",
            columns=RESULT_COLUMNS,
            height="auto",
            object_fit="contain",
            buttons=["download_all", "download", "fullscreen"],
            interactive=False,
            visible=False,
            elem_id="results",
        )
        download = gr.DownloadButton("Download all (ZIP)", visible=False, elem_id="download-all")
        details = gr.Markdown(EMPTY_RESULTS[PHOTO_MODE], elem_id="details")
        rating = build_rating(runtime)
    with gr.Accordion("All details", open=False):
        details_json = gr.JSON(label="Generation details", elem_id="details-json")
    gr.Markdown("**Your avatars and images in this project**")
    history = gr.Gallery(
        show_label=False,
        buttons=[],
        height=440,
        object_fit="contain",
        preview=False,
        fit_columns=False,
        interactive=False,
        elem_id="history",
    )
    return {
        "note": note,
        "note_timer": note_timer,
        "results": results,
        "download": download,
        "details": details,
        "rating": rating,
        "details_json": details_json,
        "history": history,
        "my_data": build_my_data(runtime),
    }

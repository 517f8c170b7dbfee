"""Star ratings on the Generate tab: offered under each finished generation, and changeable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from photomaker.startup.runtime import Runtime
from photomaker.ui.errors import shown_to_user
from photomaker.ui.identity import caller

STAR_CHOICES = [("★" * stars, stars) for stars in range(1, 6)]


@dataclass(frozen=True)
class RatingWidgets:
    """The rating row; `outputs` are what a finished generation updates (see `offer`)."""

    generation: gr.State
    stars: gr.Radio
    note: gr.Markdown

    @property
    def outputs(self) -> list[gr.components.Component]:
        return [self.generation, self.stars, self.note]

    def offer(self, generation_id: int) -> dict[Any, Any]:
        """Updates of `outputs` that offer a rating of a new generation."""
        return {
            self.generation: generation_id,
            self.stars: gr.update(visible=True, value=None),
            self.note: "How do you like them? Rate them 1-5 stars.",
        }

    def withdraw(self) -> dict[Any, Any]:
        """Updates of `outputs` that hide the rating row (nothing new to rate)."""
        return {self.generation: None, self.stars: gr.update(visible=False, value=None), self.note: ""}


class RatingEvents:
    """The rating row's event, bound to the app's runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def on_rate(self, generation_id: int | None, value: int | None, profile: gr.OAuthProfile | None = None) -> str:
        """The caller's stars for the generation just made (a new pick changes them), thanked with the rating."""
        if generation_id is None or value is None:
            return ""
        with shown_to_user():
            rating = self.runtime.gallery.rate(caller(self.runtime, profile), generation_id, value)
        changed = "" if rating.previous is None else f" (was {'★' * rating.previous})"
        return f"Thanks! Generation #{rating.generation_id}: {'★' * rating.stars}{changed}. Pick again to change it."


def build_rating(runtime: Runtime) -> RatingWidgets:
    """Lay out the (hidden until a result) rating row and wire it to the gallery."""
    generation = gr.State(None)
    stars = gr.Radio(STAR_CHOICES, label="Rate this result", visible=False, elem_id="rating")
    note = gr.Markdown(elem_id="rating-note")
    stars.input(RatingEvents(runtime).on_rate, [generation, stars], note, api_name="ui_rate", api_visibility="private")
    return RatingWidgets(generation=generation, stars=stars, note=note)

"""Our errors as Gradio shows them: the only place that raises `gr.Error`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr

from photomaker.errors import PhotoMakerError, RefusedError


def as_gr_error(error: PhotoMakerError) -> gr.Error:
    """A `gr.Error` whose title is the error's kind and whose text says what to do."""
    title = "Not generated" if isinstance(error, RefusedError) else "Generation failed"
    return gr.Error(f"{error.message} [{error.code}]", title=title, print_exception=False)


@contextmanager
def shown_to_user() -> Iterator[None]:
    """Turn our errors raised in the block into messages on the page (and API errors)."""
    try:
        yield
    except PhotoMakerError as error:
        raise as_gr_error(error) from error

"""Our errors as Gradio shows them: the only place that raises `gr.Error`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr

from photomaker.core.errors import AccessError, PhotoMakerError, RefusedError


def _title(error: PhotoMakerError) -> str:
    if isinstance(error, AccessError):
        return "Not allowed" if error.code == "FORBIDDEN" else "Sign in first"
    return "Refused" if isinstance(error, RefusedError) else "Generation failed"


def as_gr_error(error: PhotoMakerError) -> gr.Error:
    """A `gr.Error` (for API callers) whose title is the error's kind and whose text says what to do."""
    return gr.Error(f"{error.message} [{error.code}]", title=_title(error), print_exception=False)


def error_markdown(error: PhotoMakerError) -> str:
    """The error where the results would have been: what happened, what to do, what it cost."""
    cost = "Nothing was charged." if isinstance(error, RefusedError | AccessError) else ""
    return f"### ❌ {_title(error)}\n\n{error.message} {cost}\n\n<sub>code `{error.code}`</sub>"


@contextmanager
def shown_to_user() -> Iterator[None]:
    """Turn our errors raised in the block into messages on the page (and API errors)."""
    try:
        yield
    except PhotoMakerError as error:
        raise as_gr_error(error) from error

"""Engines that load a model in the background: how far they have got, and when to come back.

Apart from `base` so that the endpoint handler, which loads a model but knows nothing of users' photos,
imports it without the app's face detection (dlib) behind `base`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable


@dataclass(frozen=True)
class LoadStatus:
    """How far an engine that loads a model has got: for the page, and for refusals while it loads."""

    state: Literal["loading", "ready", "failed"]
    message: str
    wait_s: float | None = None
    warning: str | None = None
    """Something the operator should fix though the model serves (its face models on the CPU, say)."""


def try_again_in(wait_s: float | None) -> str:
    """'Try again in about 3 min.', for a refusal or the page."""
    if wait_s is None:
        return "Try again in a few minutes."
    if wait_s < 90:
        return f"Try again in about {max(5, math.ceil(wait_s / 5) * 5)} s."
    return f"Try again in about {math.ceil(wait_s / 60)} min."


@runtime_checkable
class Loading(Protocol):
    """An engine that loads its model in the background after the app starts."""

    def status(self) -> LoadStatus: ...

    def wait(self, timeout_s: float | None = None) -> LoadStatus:
        """Block until loaded or failed (or `timeout_s`), for one-shot callers such as the CLI."""
        ...

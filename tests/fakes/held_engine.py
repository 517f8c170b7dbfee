"""An app's own engine held at each call until the test lets it go: a slow generation whose timing the test owns."""

from __future__ import annotations

import threading
from typing import Any

from photomaker.engines.base import GenerationRequest, GenerationResult, ProgressFn

HOLD_S = 60
"""The longest it waits for the test; past it, the test forgot to let it go."""


class HeldEngine:
    """Says "Painting", tells the test it is making (`making`), then waits for `go` before the real engine runs."""

    def __init__(self, engine: Any) -> None:
        self.engine, self.name, self.preview = engine, engine.name, engine.preview
        self.making, self.go = threading.Event(), threading.Event()

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> GenerationResult:
        progress(0.5, "Painting")
        self.making.set()
        assert self.go.wait(HOLD_S), "the test never let the engine go"
        return self.engine.generate(request, progress)

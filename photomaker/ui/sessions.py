"""One generation at a time per browser session: a double click must not charge twice.

Gradio ignores a second click only once the first is known to be pending, so two quick clicks
can both arrive; the second is dropped here, on the server, where it cannot slip through.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr


class OneAtATime:
    """Remembers which sessions have a generation running."""

    def __init__(self) -> None:
        self._running: set[str] = set()
        self._lock = threading.Lock()

    @contextmanager
    def claim(self, request: gr.Request | None) -> Iterator[bool]:
        """True inside the block if this session may generate now; False if it already is."""
        key = getattr(request, "session_hash", None)
        with self._lock:
            busy = key is not None and key in self._running
            if key is not None and not busy:
                self._running.add(key)
        try:
            yield not busy
        finally:
            if key is not None and not busy:
                with self._lock:
                    self._running.discard(key)

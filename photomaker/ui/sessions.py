"""One generation at a time per browser session: a double click must not charge twice; and which one it is, so
that the session's Cancel stops it.

Gradio ignores a second click only once the first is known to be pending, so two quick clicks
can both arrive; the second is dropped here, on the server, where it cannot slip through.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr


class OneAtATime:
    """Remembers which sessions have a generation running, and its id once it has one."""

    def __init__(self) -> None:
        self._running: dict[str, int | None] = {}
        self._lock = threading.Lock()

    @contextmanager
    def claim(self, request: gr.Request | None) -> Iterator[bool]:
        """True inside the block if this session may generate now; False if it already is."""
        key = getattr(request, "session_hash", None)
        with self._lock:
            busy = key is not None and key in self._running
            if key is not None and not busy:
                self._running[key] = None
        try:
            yield not busy
        finally:
            if key is not None and not busy:
                with self._lock:
                    self._running.pop(key, None)

    def started(self, request: gr.Request | None, generation_id: int) -> None:
        """The session's claimed generation has this id (`Jobs.run`'s `started`)."""
        key = getattr(request, "session_hash", None)
        with self._lock:
            if key in self._running:
                self._running[key] = generation_id

    def busy(self, request: gr.Request | None) -> bool:
        """Whether this session has a generation running (claimed, charged or not yet)."""
        key = getattr(request, "session_hash", None)
        with self._lock:
            return key is not None and key in self._running

    def running(self, request: gr.Request | None) -> int | None:
        """The id of the generation this session is running, if it has one."""
        key = getattr(request, "session_hash", None)
        with self._lock:
            return self._running.get(key) if key is not None else None

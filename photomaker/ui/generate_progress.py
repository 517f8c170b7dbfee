"""What the page shows while a generation runs, in view on a laptop and a phone: what is happening, how far it has
got, and about how long is left ("Making avatar 2 of 4 · about 40 s left").

The page's event runs the generation in a thread of its own (`Watched`), so that it can send the page a new line
every `WATCH_S` while it waits; the line is made of the job's own progress (`Jobs.progress`) and the time each
image is expected to take (`expected_time`).
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable, Iterator

from photomaker.engines.base import ProgressFn
from photomaker.generation.expected_time import seconds_left
from photomaker.generation.jobs import Jobs
from photomaker.generation.making import avatar_named
from photomaker.generation.results import GenerationOutcome

WATCH_S = 0.5
"""How often the page's line is renewed."""
STARTING = "Starting…"

Run = Callable[[ProgressFn, Callable[[int], None]], GenerationOutcome]
"""A generation: it reports its progress to the first argument and its id, once charged, to the second."""


class Watched:
    """A generation made in a thread while the page's event watches it."""

    def __init__(self, run: Run, *, started: Callable[[int], None]) -> None:
        self._also_started = started
        self.generation_id: int | None = None
        self.since: float | None = None
        """When the job began (`time.monotonic()`), once charged."""
        self.fraction, self.message = 0.0, STARTING
        self._outcome: GenerationOutcome | None = None
        self._error: BaseException | None = None
        self._over = threading.Event()
        threading.Thread(target=self._run, args=(run,), name="page-generation", daemon=True).start()

    def _run(self, run: Run) -> None:
        try:
            self._outcome = run(self._report, self._started)
        except BaseException as error:  # handed to the page's event, which raises it there
            self._error = error
        finally:
            self._over.set()

    def _report(self, fraction: float, message: str) -> None:
        self.fraction, self.message = fraction, message

    def _started(self, generation_id: int) -> None:
        self.generation_id, self.since = generation_id, time.monotonic()
        self._also_started(generation_id)

    def waiting(self, *, every_s: float = WATCH_S) -> Iterator[None]:
        """Once every `every_s` until the generation is over."""
        while not self._over.wait(every_s):
            yield

    def outcome(self) -> GenerationOutcome:
        """What the generation gave, once over; raises what it raised."""
        self._over.wait()
        if self._error is not None:
            raise self._error
        assert self._outcome is not None
        return self._outcome

    def lines(self, jobs: Jobs, *, expected_each_s: float, noun: str = "avatar", pack: bool = False) -> tuple[str, str]:
        """What is happening now, with the time left once the job makes its images (`noun`s; in a `pack`, with
        the style of each), and under it what the engine says of the image it makes."""
        progress = None if self.generation_id is None else jobs.progress(self.generation_id)
        if progress is None or progress.image == 0 or self.since is None:
            return self.message, ""
        left = time_left_text(
            seconds_left(
                elapsed_s=time.monotonic() - self.since,
                done=progress.image - 1 if progress.at_engine else progress.image,
                total=progress.images,
                expected_each_s=expected_each_s,
            )
        )
        if not progress.at_engine:  # checking the likeness, saving
            return f"{self.message} · {left}", ""
        said = self.message.removeprefix(avatar_named(progress.image, progress.images, progress.style or ""))
        style = f" · {progress.style}" if pack and progress.style else ""
        return f"Making {noun} {progress.image} of {progress.images}{style} · {left}", said


def time_left_text(seconds: float) -> str:
    """About how long is left, in words a person reads at a glance."""
    if seconds < 5:
        return "a few seconds left"
    if seconds < 90:
        return f"about {round(seconds / 5) * 5:.0f} s left"
    return f"about {round(seconds / 60):.0f} min left"


def status_html(line: str, fraction: float, *, step: str = "") -> str:
    """The line (and under it, the `step` under way), and a bar of how far the generation has
    got; screen readers read the line out as it changes."""
    percent = round(min(max(fraction, 0.0), 1.0) * 100)
    under = f'<div class="working-step">{html.escape(step)}</div>' if step else ""
    return (
        f'<div role="status" aria-live="polite" class="working-line">{html.escape(line)}</div>{under}'
        f'<progress max="100" value="{percent}" aria-label="How far the generation has got">{percent}%</progress>'
    )

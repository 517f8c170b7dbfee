"""Making a plan's images in the engine's turn: group by group, each image's likeness measured, an image that does
not look like the person tried once more with another seed, and the images kept handed over as each group ends.

It stops early when the caller cancels (between engine calls) or when the engine fails; what was kept stays kept,
and the `Tally` says what became of every image. `GenerationService.finish` settles the books from it.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
from PIL import Image

from photomaker.core.errors import PhotoMakerError
from photomaker.engines.base import MAX_SEED, Engine, GenerationRequest, GenerationResult, ProgressFn
from photomaker.faces import matching as face_match
from photomaker.faces.likeness import verdict
from photomaker.generation.packs import TRIES, Plan, StyleGroup, Tally

START, END = 0.25, 0.93
"""The share of the progress bar the making takes: after the charge, up to the last group saved."""
ENGINE, CHECK = 0.65 / 0.68, 0.66 / 0.68
"""Within one group's share: where the engine's own progress ends, and where the likeness check starts."""

Keep = Callable[[str, Sequence[Image.Image], Sequence[float | None], bool], None]
"""Saves one group's kept images (its style, the images, their likeness; whether it is the plan's last group)."""
Fresh = Callable[[Sequence[Image.Image]], None]
"""Hears each engine call's images as soon as they are made, before their likeness is measured (the service
starts encoding them then)."""
Check = Callable[[Sequence[Image.Image], Sequence[int]], list[float | None]]
"""Measures a group's images' likeness (the images, and their places in the group)."""


def avatar_named(number: int, total: int, style: str) -> str:
    """How a pack's progress names the avatar being made, before what the engine says of it."""
    return f"Avatar {number} of {total} · {style} · "


class Control:
    """What a caller sees and does while a generation is made: which image is being made, and cancel."""

    def __init__(self) -> None:
        self.number = 0
        """The image being made, from 1; 0 before the first."""
        self.total = 0
        self.style: str | None = None
        self.at_engine = False
        """The engine is making image `number` now (else the likeness is checked, avatars saved, or a turn awaited)."""
        self._cancel = threading.Event()

    @contextmanager
    def engine_call(self) -> Iterator[None]:
        """Marks the engine call under way (`at_engine`)."""
        self.at_engine = True
        try:
            yield
        finally:
            self.at_engine = False

    def cancel(self) -> None:
        """Stop after the engine call under way: what is made by then is kept, the rest refunded."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()


@dataclass
class Made(Tally):
    """A `Tally` and what the engine reported: the first result (its seed, engine, parameters), attempts, and the
    likeness of each image kept."""

    first: GenerationResult | None = None
    attempts: int = 0
    scores: list[float | None] = field(default_factory=list)

    def took(self, result: GenerationResult) -> None:
        self.first = self.first or result
        self.attempts += result.attempts
        self.candidates += len(result.images)


@dataclass(frozen=True)
class Making:
    """One generation's making: its engine, plan and requests (photos in), and where its progress goes."""

    engine: Engine
    plan: Plan
    requests: Sequence[GenerationRequest]
    progress: ProgressFn
    control: Control
    fresh: Fresh = lambda images: None

    def run(self, made: Made, keep: Keep) -> None:
        """Make every group in order, until done, cancelled, or the engine fails (the error kept in `made`)."""
        photos = self.requests[0].photos
        person = face_match.reference(photos) if photos else None
        self.control.total = self.plan.total
        done = 0
        for group, request in zip(self.plan.groups, self.requests, strict=True):
            if self.control.cancelled:
                made.cancelled = True
                return
            try:
                self._group(made, keep, group, request, person, done=done, last=done + group.count == made.asked)
            except PhotoMakerError as error:  # a bug is not caught: the whole generation fails and is refunded
                made.error = error
                return
            done += group.count

    def _share(self, done: int, count: int) -> tuple[float, float]:
        total = self.plan.total
        return START + (END - START) * done / total, START + (END - START) * (done + count) / total

    def _reporter(self, group: StyleGroup, *, done: int) -> ProgressFn:
        """The engine's progress within this group's share, naming the image and style when a plan has several."""
        low, high = self._share(done, group.count)
        several = len(self.plan.groups) > 1

        def report(fraction: float, message: str) -> None:
            self.control.number = done + min(group.count, int(fraction * group.count) + 1)
            self.control.style = group.style
            said = avatar_named(self.control.number, self.plan.total, group.style) + message
            self.progress(low + (high - low) * ENGINE * fraction, said if several else message)

        return report

    def _group(
        self,
        made: Made,
        keep: Keep,
        group: StyleGroup,
        request: GenerationRequest,
        person: np.ndarray | None,
        *,
        done: int,
        last: bool,
    ) -> None:
        report = self._reporter(group, done=done)
        self.control.number, self.control.style = done + 1, group.style
        with self.control.engine_call():
            result = self.engine.generate(request, report)
        self.fresh(result.images)
        made.took(result)
        low, high = self._share(done, group.count)
        check = self._checker(person, done=done, fraction=low + (high - low) * CHECK)
        images, scores = list(result.images), check(result.images, range(len(result.images)))
        made.alike_first_try += sum(verdict(score) is not False for score in scores) if person is not None else 0
        error = None
        for _ in range(TRIES - 1):
            unlike = [index for index, score in enumerate(scores) if verdict(score) is False]
            if not (self.plan.only_alike and unlike) or self.control.cancelled:
                break
            try:
                self._try_again(made, request, images, scores, unlike, check, report)
            except PhotoMakerError as failed:  # keep what already looks like the person, then stop
                error = failed
                break
        kept = [index for index, score in enumerate(scores) if not self.plan.only_alike or verdict(score) is not False]
        made.not_alike += len(images) - len(kept)
        self.progress(high, "Saving your avatars")
        if kept:
            keep(group.style, [images[index] for index in kept], [scores[index] for index in kept], last)
            made.kept += len(kept)
            made.scores.extend(scores[index] for index in kept)
        if error is not None:
            raise error

    def _try_again(
        self,
        made: Made,
        request: GenerationRequest,
        images: list[Image.Image],
        scores: list[float | None],
        unlike: list[int],
        check: Check,
        report: ProgressFn,
    ) -> None:
        """One more try for each image that does not look like the person, with another seed; a try that does
        replaces it."""
        again = replace(request, num_images=len(unlike), seed=random.randint(0, MAX_SEED))
        with self.control.engine_call():
            result = self.engine.generate(again, lambda fraction, message: report(fraction, f"Trying again: {message}"))
        self.fresh(result.images)
        made.took(result)
        for index, image, score in zip(unlike, result.images, check(result.images, unlike), strict=False):
            if verdict(score):  # a second try with no face found is no better than the first
                images[index], scores[index] = image, score

    def _checker(self, person: np.ndarray | None, *, done: int, fraction: float) -> Check:
        """Measures likeness against `person` (none without photos), saying which avatar is checked as the results
        come in: measuring four large avatars can take seconds on a busy machine."""

        def check(images: Sequence[Image.Image], places: Sequence[int]) -> list[float | None]:
            def checking(measured: int) -> None:
                if measured < len(places):
                    number = done + places[measured] + 1
                    self.progress(fraction, f"Checking the likeness of avatar {number} of {self.plan.total}")

            if person is None:
                return [None] * len(images)
            checking(0)
            return face_match.measure(images, person, measured=checking)

        return check

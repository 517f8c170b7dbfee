"""How alike an avatar's face is to the person's photos, on a scale people read, and what to tell them.

Judged by the distance between dlib's 128-d face descriptors (`photomaker.faces.analysis`): dlib's model
calls two faces the same person when they are at most 0.6 apart. For people, a distance becomes
a likeness between 0 and 1: `1 - distance / 1.2`, clipped and kept to three decimals, so that
identical faces score 1, the model's threshold scores exactly 0.5 and faces 1.2 or more apart
score 0. An avatar looks like the person when its likeness is at least 0.5. The faces themselves
are compared in `photomaker.faces.matching`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SAME_PERSON_DISTANCE = 0.6
"""dlib's threshold: descriptors at most this far apart are the same person (99.38% right on LFW)."""
ALIKE_SCORE = 0.5
"""The likeness of a face exactly at `SAME_PERSON_DISTANCE`: at least this, and it is the same person."""


@dataclass(frozen=True)
class Likeness:
    """How alike one avatar's face is to the person's photos."""

    score: float
    """0 to 1, higher is more alike."""

    @property
    def ok(self) -> bool:
        """The same person, by the face-recognition model's threshold."""
        return self.score >= ALIKE_SCORE

    @classmethod
    def from_distance(cls, distance: float) -> Likeness:
        """A distance is never negative, so the score is at most 1; past twice the threshold it is 0."""
        return cls(score=round(max(0.0, 1 - distance * (1 - ALIKE_SCORE) / SAME_PERSON_DISTANCE), 3))


def verdict(score: float | None) -> bool | None:
    """`likeness_ok` of an image: whether it looks like the person; None where no face was found."""
    return None if score is None else Likeness(score).ok


def _images(numbers: Sequence[int]) -> str:
    """ "Image 2", "Images 2 and 3", "Images 1, 2 and 4"."""
    listed = [str(number) for number in numbers]
    joined = listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} and {listed[-1]}"
    return f"Image{'s' if len(listed) > 1 else ''} {joined}"


def notes(scores: Sequence[float | None]) -> list[str]:
    """What the user should know about their avatars' likeness: which may not look like them, which have no face."""
    unlike = [number for number, score in enumerate(scores, start=1) if score is not None and not Likeness(score).ok]
    faceless = [number for number, score in enumerate(scores, start=1) if score is None]
    said = []
    if unlike:
        said.append(f"{_images(unlike)} may not look like you: try a lower style strength.")
    if faceless:
        said.append(f"{_images(faceless)}: no face could be found, so the likeness was not measured.")
    return said


def label(score: float | None) -> str:
    """One avatar's likeness as its caption says it."""
    if score is None:
        return "no face found"
    percent = round(score * 100)
    return f"Likeness {percent}% ✓" if Likeness(score).ok else f"Likeness {percent}%: may not look like you"

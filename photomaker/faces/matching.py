"""Faces compared: the photos of a request against each other before any charge, each avatar after.

Both compare dlib's face descriptors (`photomaker.faces.analysis`) by their distance, against the model's
same-person threshold (`photomaker.faces.likeness`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

from photomaker.core.errors import RefusedError
from photomaker.faces.analysis import WORKERS, FacePhoto, find_face
from photomaker.faces.likeness import SAME_PERSON_DISTANCE, Likeness


def _distance(one: np.ndarray, other: np.ndarray) -> float:
    return float(np.linalg.norm(one - other))


def check_same_person(located: Sequence[FacePhoto]) -> None:
    """Refuse photos of more than one person with `DIFFERENT_PEOPLE`, naming the photo that differs.

    The odd one out is the photo farthest from all the others (of two, the second: the first
    photo sets the person), and it is compared with the photo nearest to it.
    """
    apart = [[_distance(one.descriptor, other.descriptor) for other in located] for one in located]
    if all(distance <= SAME_PERSON_DISTANCE for row in apart for distance in row):
        return
    odd = max(range(len(located)), key=lambda index: (sum(apart[index]), index))
    nearest = min((index for index in range(len(located)) if index != odd), key=lambda index: apart[odd][index])
    raise RefusedError(
        "DIFFERENT_PEOPLE",
        f"{located[odd].photo.name} does not show the same person as {located[nearest].photo.name}; "
        "upload photos of one person only, and take the other photo out.",
    )


def reference(located: Sequence[FacePhoto]) -> np.ndarray:
    """The person's face: the mean of the descriptors of their photos."""
    return np.mean([item.descriptor for item in located], axis=0)


def measure(
    images: Sequence[Image.Image], person: np.ndarray, *, measured: Callable[[int], None] = lambda count: None
) -> list[float | None]:
    """Each image's likeness score to `person`; None for an image with no face that can be found.

    The faces are found in the worker processes (`faces.WORKERS`), side by side; `measured` hears how many are
    done as they come in, in order (for progress).
    """
    faces = WORKERS.map(find_face, images, done=measured)
    return [
        None if face is None else Likeness.from_distance(_distance(face.descriptor, person)).score for face in faces
    ]

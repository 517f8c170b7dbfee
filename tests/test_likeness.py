"""Likeness: photos of two people are refused before any charge; every avatar is measured against the photos."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pydantic import SecretStr
from sqlmodel import select

from photomaker.core.errors import RefusedError
from photomaker.engines.inference import InferenceEngine
from photomaker.engines.retry import RetryPolicy
from photomaker.faces import likeness
from photomaker.faces import matching as face_match
from photomaker.faces.analysis import FaceBox, FacePhoto
from photomaker.faces.likeness import Likeness
from photomaker.generation.service import GenerationService
from photomaker.images.uploaded_photos import PhotoUpload, PreparedPhoto
from photomaker.startup.runtime import Runtime
from photomaker.store import Avatar, Generation
from stand_ins.engine_inputs import FAKE_TOKEN, located_face
from stand_ins.inference_server import Answer, FakeInferenceServer

FIXTURES = Path(__file__).parent / "fixtures"
ASTRONAUT, CAMERA_MAN = FIXTURES / "astronaut.png", FIXTURES / "camera.png"
NEWTON_1689, NEWTON_1702 = FIXTURES / "newton-1689.jpg", FIXTURES / "newton-1702.jpg"


def _ask(service: GenerationService, *photos: Path, **options: object):
    fields: dict[str, object] = {"prompt": "a professional headshot", "tier": "basic", "seed": 5, **options}
    return service.generate_avatar("local", [PhotoUpload.from_path(path) for path in photos], fields)


def _rows(runtime: Runtime) -> list[Generation]:
    with runtime.database.reading() as session:
        return list(session.exec(select(Generation).order_by(Generation.id)).all())


def _avatars(runtime: Runtime) -> list[Avatar]:
    with runtime.database.reading() as session:
        return list(session.exec(select(Avatar).order_by(Avatar.id)).all())


@pytest.mark.parametrize(
    ("distance", "score", "ok"),
    [(0.0, 1.0, True), (0.3, 0.75, True), (0.6, 0.5, True), (0.61, 0.492, False), (1.2, 0.0, False), (2.0, 0.0, False)],
)
def test_a_distance_becomes_a_likeness_with_the_threshold_at_one_half(distance: float, score: float, ok: bool) -> None:
    alike = Likeness.from_distance(distance)
    assert (alike.score, alike.ok) == (score, ok)


def test_two_portraits_of_one_man_are_one_person_and_the_astronaut_another() -> None:
    newton = [located_face(NEWTON_1689), located_face(NEWTON_1702)]
    face_match.check_same_person(newton)
    apart = np.linalg.norm(newton[0].descriptor - newton[1].descriptor)
    assert 0.3 < apart < likeness.SAME_PERSON_DISTANCE
    with pytest.raises(RefusedError) as caught:
        face_match.check_same_person([*newton, located_face(ASTRONAUT)])
    assert caught.value.code == "DIFFERENT_PEOPLE"
    assert caught.value.message.startswith("astronaut.png does not show the same person as newton-")


def _photo(name: str, descriptor: list[float]) -> FacePhoto:
    image = PreparedPhoto(name=name, image=None, original_size=(1, 1), bytes_in=1)  # type: ignore[arg-type]
    padded = np.array(descriptor + [0.0] * (128 - len(descriptor)))
    return FacePhoto(photo=image, face=FaceBox(0, 0, 300, 300), faces_found=1, descriptor=padded)


@pytest.mark.parametrize(
    ("descriptors", "odd", "nearest"),
    [
        ([[0.0], [0.9]], "b.jpg", "a.jpg"),  # of two, the first photo sets the person
        ([[0.0], [0.1], [1.0]], "c.jpg", "b.jpg"),
        ([[1.0], [0.0], [0.1]], "a.jpg", "c.jpg"),  # the odd one first
        ([[0.0], [0.7], [0.2], [0.3]], "b.jpg", "d.jpg"),  # too far from the first photo alone, and the farthest
    ],
)
def test_the_refusal_names_the_photo_that_differs(descriptors: list[list[float]], odd: str, nearest: str) -> None:
    with pytest.raises(RefusedError, match=f"^{odd} does not show the same person as {nearest}; "):
        face_match.check_same_person([_photo(f"{name}.jpg", d) for name, d in zip("abcd", descriptors, strict=False)])


def test_photos_a_little_apart_are_one_person() -> None:
    face_match.check_same_person([_photo("a.jpg", [0.0]), _photo("b.jpg", [0.6]), _photo("c.jpg", [0.3])])


def test_two_views_of_one_person_are_accepted_and_their_avatars_look_like_him(runtime: Runtime) -> None:
    outcome = _ask(runtime.service, NEWTON_1689, NEWTON_1702, num_images=3)
    details = outcome.details
    assert details.status == "completed"
    assert details.likeness_ok == [True, True, True]
    assert all(0.6 < score <= 1 for score in details.likeness if score is not None)
    assert details.notes == [], "faces of 300-450 px in clear portraits: nothing to warn about"
    stored = _avatars(runtime)
    assert [avatar.likeness for avatar in stored] == details.likeness
    assert [avatar.likeness_ok for avatar in stored] == details.likeness_ok


def test_the_astronaut_and_the_camera_man_are_refused_before_any_charge(runtime: Runtime) -> None:
    before = runtime.accounts.account("local").credits
    with pytest.raises(RefusedError) as caught:
        _ask(runtime.service, ASTRONAUT, CAMERA_MAN)
    assert caught.value.code == "DIFFERENT_PEOPLE"
    assert caught.value.message == (
        "camera.png does not show the same person as astronaut.png; "
        "upload photos of one person only, and take the other photo out."
    )
    assert runtime.accounts.account("local").credits == before
    [row] = _rows(runtime)
    assert (row.status, row.error_code, row.credits_charged, row.photo_count) == ("rejected", "DIFFERENT_PEOPLE", 0, 2)
    assert _avatars(runtime) == []


def test_preview_avatars_of_a_face_score_as_alike(runtime: Runtime) -> None:
    for photo in (ASTRONAUT, NEWTON_1702):
        details = _ask(runtime.service, photo, num_images=4).details
        assert details.likeness_ok == [True] * 4, photo.name
        assert min(score for score in details.likeness if score is not None) > 0.6


def test_a_small_face_gets_a_warning_that_says_what_to_do(runtime: Runtime) -> None:
    notes = _ask(runtime.service, ASTRONAUT).details.notes
    assert notes == [
        "astronaut.png: the face is only 97 px wide; avatars keep a likeness best from faces at least 256 px wide, "
        "so crop the photo around the face or take a closer one."
    ]


@pytest.fixture
def fake_server() -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer() as server:
        yield server


@pytest.fixture
def endpoint(runtime: Runtime, fake_server: FakeInferenceServer) -> GenerationService:
    """The runtime's books with the photo engine on a fake dedicated endpoint."""
    settings = runtime.settings.model_copy(
        update={"photomaker_endpoint_url": fake_server.url, "hf_token": SecretStr(FAKE_TOKEN)}
    )
    return GenerationService(
        settings=settings,
        database=runtime.database,
        engine=InferenceEngine.for_endpoint(settings, policy=RetryPolicy(max_attempts=1)),
        storage=runtime.service.storage,
    )


def test_an_avatar_of_another_person_is_made_again_and_the_second_try_kept(
    runtime: Runtime, endpoint: GenerationService, fake_server: FakeInferenceServer
) -> None:
    fake_server.script(*(Answer.image_file(face) for face in (ASTRONAUT, NEWTON_1689, NEWTON_1689)))
    details = _ask(endpoint, NEWTON_1702, num_images=2).details
    assert (details.likeness_ok, details.images_kept, details.credits_refunded) == ([True, True], 2, 0)
    assert len(fake_server.posts()) == 3
    (row,) = _rows(runtime)
    assert (row.candidates, row.alike_first_try, row.images_kept) == (3, 1, 2)
    assert runtime.accounts.account("local").credits == runtime.settings.starting_credits - details.credits_charged


def test_an_engine_that_returns_another_persons_face_is_flagged(
    runtime: Runtime, endpoint: GenerationService, fake_server: FakeInferenceServer
) -> None:
    fake_server.script(Answer.image_file(ASTRONAUT), Answer.image_file(NEWTON_1689))
    details = _ask(endpoint, NEWTON_1702, num_images=2, only_alike=False).details
    assert details.status == "completed"
    assert details.likeness_ok == [False, True]
    assert details.likeness[0] is not None and details.likeness[0] < 0.5 < (details.likeness[1] or 0)
    assert details.notes == ["Image 1 may not look like you: try a lower style strength."]
    assert [avatar.likeness_ok for avatar in _avatars(runtime)] == [False, True]
    assert runtime.accounts.account("local").credits == runtime.settings.starting_credits - details.credits_charged


def test_an_avatar_with_no_face_gets_none_and_a_note(
    runtime: Runtime, endpoint: GenerationService, fake_server: FakeInferenceServer
) -> None:
    fake_server.script(Answer.image_file(FIXTURES / "coffee.png"))
    details = _ask(endpoint, NEWTON_1702).details
    assert (details.likeness, details.likeness_ok) == ([None], [None])
    assert details.notes == ["Image 1: no face could be found, so the likeness was not measured."]
    [avatar] = _avatars(runtime)
    assert (avatar.likeness, avatar.likeness_ok) == (None, None)
    [item] = runtime.gallery.history("local")
    assert item.caption.endswith(" · no face found")


@pytest.mark.parametrize(
    ("score", "said"),
    [
        (0.874, "Likeness 87% ✓"),
        (0.5, "Likeness 50% ✓"),
        (0.499, "Likeness 50%: may not look like you"),
        (None, "no face found"),
    ],
)
def test_the_caption_under_an_avatar(score: float | None, said: str) -> None:
    assert likeness.label(score) == said


def test_likeness_notes_group_the_images() -> None:
    assert likeness.notes([0.3, None, 0.9, 0.2, None]) == [
        "Images 1 and 4 may not look like you: try a lower style strength.",
        "Images 2 and 5: no face could be found, so the likeness was not measured.",
    ]
    assert likeness.notes([0.1, 0.499, 0.0]) == ["Images 1, 2 and 3 may not look like you: try a lower style strength."]
    assert likeness.notes([0.8, 0.5]) == []

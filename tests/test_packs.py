"""Avatar packs through the one entry (`Jobs`): one charge for the plan, a second try for each avatar that does not
look like the person, exact refunds of what was not kept (not alike, cancelled, not made), and the rows and files
that stay. An engine stand-in answers each call with faces picked by a script: the astronaut (the person in the
photos) or Newton (someone else)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import col, select

from photomaker.core.errors import BackendError, PhotoMakerError, RefusedError
from photomaker.engines.base import GenerationRequest, GenerationResult, ProgressFn
from photomaker.generation.making import Control
from photomaker.generation.packs import MAX_PACK_IMAGES, PRESETS
from photomaker.generation.results import GenerationOutcome
from photomaker.generation.service import Accepted
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.startup.runtime import Runtime
from photomaker.store import Avatar, CreditTransaction, Generation
from photomaker.store.models import utcnow
from tests.conftest import FIXTURES

PERSON = Image.open(FIXTURES / "astronaut.png").convert("RGB")
SOMEONE_ELSE = Image.open(FIXTURES / "newton-1702.jpg").convert("RGB").resize((512, 512))
FACES = {"me": PERSON, "other": SOMEONE_ELSE}
PRO = 25
"""The pro tier's single price; from 8 avatars its bundle price is 20 each."""

pytestmark = pytest.mark.both_databases  # the ledger's lines and the rows are the point: SQLite and PostgreSQL


class ScriptedFaces:
    """Answers each call with the faces its script names, in order ("me" or "other"), or raises the error given
    in their place; `before` runs at the start of each call (to cancel, or to wait)."""

    preview = False
    name = "scripted"

    def __init__(self, *calls: list[str] | Exception, before: Callable[[int], None] = lambda call: None) -> None:
        self.calls = list(calls)
        self.before = before
        self.requests: list[GenerationRequest] = []

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> GenerationResult:
        self.before(len(self.requests))
        self.requests.append(request)
        answer = self.calls.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert len(answer) == request.num_images
        progress(0.5, "Halfway")
        return GenerationResult(images=[FACES[face].copy() for face in answer], seed=request.seed, engine=self.name)

    def check(self) -> None:
        """Always reachable."""


def _pack(runtime: Runtime, engine: ScriptedFaces, **values: object) -> GenerationOutcome:
    runtime.service.engine = engine
    fields = {"prompt": "a portrait", "tier": "pro", "styles": ["Cinematic", "Enhance"], "images_per_style": 2}
    return runtime.jobs.run(
        "local", {**fields, **values}, uploads=[PhotoUpload.from_path(FIXTURES / "astronaut.png")], pack=True
    )


def _ledger(runtime: Runtime) -> list[tuple[str, int, str]]:
    with runtime.database.reading() as session:
        rows = session.exec(select(CreditTransaction).order_by(col(CreditTransaction.id))).all()
        return [(row.kind, row.delta, row.note) for row in rows if row.kind != "grant"]


def _rows(runtime: Runtime) -> list[Generation]:
    with runtime.database.reading() as session:
        return list(session.exec(select(Generation).order_by(col(Generation.id))).all())


def _avatars(runtime: Runtime) -> list[Avatar]:
    with runtime.database.reading() as session:
        return list(session.exec(select(Avatar).order_by(col(Avatar.id))).all())


def _files(runtime: Runtime) -> list[str]:
    return sorted(path.name for path in runtime.settings.data_dir.rglob("avatar-*"))


def test_a_pack_is_one_charge_one_row_and_its_avatars_by_style(app: Runtime) -> None:
    engine = ScriptedFaces(["me", "me"], ["me", "me"])
    outcome = _pack(app, engine)
    details = outcome.details
    assert [(request.style.name, request.num_images) for request in engine.requests] == [
        ("Cinematic", 2),
        ("Enhance", 2),
    ]
    assert engine.requests[0].styled_prompt != engine.requests[1].styled_prompt
    assert (details.styles, details.style, details.num_images, details.images_kept) == (
        ["Cinematic", "Enhance"],
        None,
        4,
        4,
    )
    assert details.avatar_styles == ["Cinematic", "Cinematic", "Enhance", "Enhance"]
    assert (details.credits_charged, details.credits_refunded, details.credits_remaining) == (4 * PRO, 0, 250 - 100)
    assert _ledger(app) == [("charge", -100, "")]
    assert [avatar.style for avatar in _avatars(app)] == details.avatar_styles
    assert len(outcome.images) == 4 and all(path.exists() for path in outcome.images)
    (row,) = _rows(app)
    assert (row.images_asked, row.images_kept, row.candidates, row.alike_first_try) == (4, 4, 4, 4)


def test_an_avatar_that_does_not_look_like_you_is_tried_again_then_refunded_exactly(app: Runtime) -> None:
    # Cinematic: one unlike, whose second try looks like the person; Enhance: two unlike, one of them still unlike.
    engine = ScriptedFaces(["me", "other"], ["me"], ["other", "other"], ["other", "me"])
    outcome = _pack(app, engine)
    details = outcome.details
    assert [request.num_images for request in engine.requests] == [2, 1, 2, 2]
    assert engine.requests[1].seed != engine.requests[0].seed
    assert (details.images_kept, details.credits_charged, details.credits_refunded) == (3, 100, 25)
    assert details.credits_remaining == 250 - 100 + 25
    assert details.avatar_styles == ["Cinematic", "Cinematic", "Enhance"]
    assert all(details.likeness_ok)
    assert "1 avatar did not look like you: 25 credits back." in details.notes
    assert _ledger(app) == [("charge", -100, ""), ("refund", 25, "1 avatar did not look like you: 25 credits back")]
    (row,) = _rows(app)
    assert (row.status, row.images_asked, row.images_kept, row.candidates, row.alike_first_try) == (
        "completed",
        4,
        3,
        7,
        1,
    )
    assert _files(app) == sorted(f"avatar-{n}.{kind}" for n in (1, 2, 3) for kind in ("png", "thumb.webp"))


def test_with_the_switch_off_every_avatar_is_kept_and_none_tried_again(app: Runtime) -> None:
    engine = ScriptedFaces(["me", "other"], ["other", "other"])
    details = _pack(app, engine, only_alike=False).details
    assert len(engine.requests) == 2
    assert (details.images_kept, details.credits_refunded, details.likeness_ok) == (4, 0, [True, False, False, False])
    assert details.only_alike is False


def test_a_pack_where_nobody_looks_like_you_fails_and_refunds_everything(app: Runtime) -> None:
    engine = ScriptedFaces(["other"], ["other"], ["other"], ["other"])
    with pytest.raises(PhotoMakerError) as failed:
        _pack(app, engine, images_per_style=1)
    assert failed.value.code == "NOT_ALIKE"
    assert _ledger(app) == [("charge", -50, ""), ("refund", 50, "")]
    (row,) = _rows(app)
    assert (row.status, row.error_code, row.images_kept, row.candidates, row.alike_first_try) == (
        "failed",
        "NOT_ALIKE",
        0,
        4,
        0,
    )
    assert _avatars(app) == [] and _files(app) == []
    assert app.accounts.account("local").credits == 250


def test_an_engine_that_fails_half_way_keeps_what_was_made_and_refunds_the_rest(app: Runtime) -> None:
    engine = ScriptedFaces(["me", "me"], BackendError("BACKEND_UNAVAILABLE"))
    details = _pack(app, engine).details
    assert (details.status, details.images_kept, details.credits_refunded) == ("completed", 2, 50)
    assert "2 avatars not made (BACKEND_UNAVAILABLE): 50 credits back." in details.notes
    assert _ledger(app) == [
        ("charge", -100, ""),
        ("refund", 50, "2 avatars not made (BACKEND_UNAVAILABLE): 50 credits back"),
    ]
    assert app.accounts.account("local").credits == 250 - 50


def test_cancel_keeps_and_charges_what_was_made_and_refunds_the_rest(app: Runtime) -> None:
    asked = threading.Event()
    engine = ScriptedFaces(["me", "me"], ["me", "me"], before=lambda call: asked.wait(5))
    app.service.engine = engine
    values = {"prompt": "a portrait", "tier": "pro", "preset": "Professional", "images_per_style": 2}
    photo = [PhotoUpload.from_path(FIXTURES / "astronaut.png")]

    def cancel(generation_id: int) -> None:
        with pytest.raises(RefusedError, match="nothing to cancel"):
            app.jobs.cancel(generation_id, username="someone-else")
        app.jobs.cancel(generation_id, username="local")
        asked.set()

    details = app.jobs.run("local", values, uploads=photo, pack=True, started=cancel).details
    # Asked while the first style was being made: it is kept, the other three styles are not made. The 2 avatars
    # are paid at the price of asking for 2 (25 each), not the bundle price of the 8 asked for (20 each).
    assert len(engine.requests) == 1
    assert (details.credits_charged, details.images_kept, details.credits_refunded) == (160, 2, 110)
    assert _ledger(app) == [("charge", -160, ""), ("refund", 110, "6 avatars cancelled: 110 credits back")]
    assert app.accounts.account("local").credits == 250 - 2 * PRO
    with pytest.raises(RefusedError) as over:
        app.jobs.cancel(details.generation_id, username="local")
    assert over.value.code == "NOT_RUNNING"


def _accepted(app: Runtime, engine: ScriptedFaces, **values: object) -> Accepted:
    app.service.engine = engine
    fields = {"prompt": "a portrait", "tier": "pro", "styles": ["Cinematic", "Enhance"], **values}
    prepared = app.service.prepare_avatar("local", fields, photo_count=1, pack=True)
    return app.service.accept(prepared, [PhotoUpload.from_path(FIXTURES / "astronaut.png")])


def test_a_cancel_before_any_avatar_is_made_refunds_it_all(app: Runtime) -> None:
    engine = ScriptedFaces()
    accepted, control = _accepted(app, engine), Control()
    control.cancel()
    with pytest.raises(PhotoMakerError) as cancelled:
        app.service.finish(accepted, control=control)
    assert cancelled.value.code == "CANCELLED" and engine.requests == []
    assert _ledger(app) == [("charge", -50, ""), ("refund", 50, "")]
    assert [(row.status, row.error_code) for row in _rows(app)] == [("failed", "CANCELLED")]
    assert _files(app) == []


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"styles": ["Cinematic", "Nope"]}, "Unknown style 'Nope'"),
        ({"styles": ["Cinematic", "Cinematic"]}, "'Cinematic' is listed twice"),
        ({"styles": []}, "Choose at least one style"),
        ({"styles": None}, "Choose at least one style"),
        ({"styles": ["Cinematic"], "preset": "Professional"}, "either styles or a preset"),
        ({"styles": None, "preset": "Fancy"}, "Unknown preset 'Fancy'"),
        ({"images_per_style": 5}, "Images per style must be between 1 and 4; you gave 5."),
        ({"images_per_style": 0}, "Images per style must be between 1 and 4; you gave 0."),
    ],
)
def test_a_bad_pack_is_refused_before_any_charge(app: Runtime, values: dict[str, object], said: str) -> None:
    engine = ScriptedFaces()
    with pytest.raises(RefusedError) as refused:
        _pack(app, engine, **values)
    assert refused.value.code == "INVALID_PARAMS" and said in refused.value.message
    assert engine.requests == [] and _ledger(app) == [] and _files(app) == []
    assert [row.status for row in _rows(app)] == ["rejected"]


def test_a_pack_too_dear_says_how_many_avatars_the_credits_buy(app: Runtime) -> None:
    engine = ScriptedFaces()
    with pytest.raises(RefusedError) as refused:
        _pack(app, engine, styles=None, preset="Every style", images_per_style=4)
    assert refused.value.code == "INSUFFICIENT_CREDITS"
    assert refused.value.message == (
        f"These {MAX_PACK_IMAGES} avatars cost {MAX_PACK_IMAGES * 20} credits and you have 250: enough for 12 pro "
        "avatars. Choose fewer styles or images, or a lower tier."
    )
    assert engine.requests == [] and _ledger(app) == [] and _files(app) == []
    assert app.accounts.account("local").credits == 250


def test_the_bundle_price_applies_from_eight_avatars(app: Runtime) -> None:
    engine = ScriptedFaces(*(["me", "me"] for _ in PRESETS["Professional"]))
    details = _pack(app, engine, styles=None, preset="Professional").details
    assert (details.num_images, details.credits_charged) == (8, 8 * 20)
    assert details.styles == list(PRESETS["Professional"])


def test_progress_names_the_avatar_and_its_style_and_only_moves_forward(app: Runtime) -> None:
    seen: list[tuple[float, str]] = []
    accepted = _accepted(app, ScriptedFaces(["me"], ["me"]))
    app.service.finish(accepted, progress=lambda fraction, message: seen.append((round(fraction, 3), message)))
    assert [message for _, message in seen] == [
        "Avatar 1 of 2 · Cinematic · Halfway",
        "Checking the likeness of avatar 1 of 2",
        "Saving your avatars",
        "Avatar 2 of 2 · Enhance · Halfway",
        "Checking the likeness of avatar 2 of 2",
        "Saving your avatars",
        "Done",
    ]
    fractions = [fraction for fraction, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_the_likeness_check_names_each_avatar_as_it_goes_second_tries_included(app: Runtime) -> None:
    seen: list[str] = []
    engine = ScriptedFaces(["me", "other", "other"], ["me", "me"])
    accepted = _accepted(app, engine, styles=["Cinematic"], images_per_style=3)
    app.service.finish(accepted, progress=lambda fraction, message: seen.append(message))
    assert seen == [
        "Halfway",
        "Checking the likeness of avatar 1 of 3",
        "Checking the likeness of avatar 2 of 3",
        "Checking the likeness of avatar 3 of 3",
        "Trying again: Halfway",
        "Checking the likeness of avatar 2 of 3",
        "Checking the likeness of avatar 3 of 3",
        "Saving your avatars",
        "Done",
    ]


def test_a_dead_pack_is_completed_with_what_it_kept_and_the_rest_refunded(app: Runtime, face_photo: Path) -> None:
    service = app.service
    values = {"prompt": "a portrait", "tier": "pro", "styles": ["Cinematic", "Enhance", "Lowpoly"]}
    prepared = service.prepare_avatar("local", {**values, "images_per_style": 4}, photo_count=1, pack=True)
    accepted = service.accept(prepared, [PhotoUpload.from_path(face_photo)])
    service._keep(accepted.generation, "Cinematic", [PERSON.copy()] * 4, [0.9] * 4, first=1, write=True)
    service.leases.release(accepted.generation_id)  # the process that held it stalled: its lease runs out
    with app.database.session() as session:
        row = session.get(Generation, accepted.generation_id)
        assert row is not None
        row.lease_until = utcnow() - timedelta(minutes=1)
        session.add(row)
    assert service.leases.recover() == []  # nothing to delete: it kept avatars
    (row,) = _rows(app)
    assert (row.status, row.images_kept, row.credits_charged) == ("completed", 4, 12 * 20)
    said = "The app stopped after 4 of 12 avatars: 160 credits back"
    assert _ledger(app) == [("charge", -240, ""), ("refund", 160, said)]
    assert row.notes is not None and said in row.notes
    assert len(_files(app)) == 8

"""The whole flow through the service: charge on success, nothing on refusal, refund on failure."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import select

from photomaker.core.errors import BackendError, PhotoMakerError, RefusedError
from photomaker.core.settings import Settings
from photomaker.engines.base import GenerationRequest, GenerationResult, ProgressFn
from photomaker.generation import bookkeeping
from photomaker.generation import service as service_module
from photomaker.generation.housekeeping import expire_old_avatars
from photomaker.generation.service import GenerationService
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.monitoring import metrics, views
from photomaker.startup.runtime import Runtime, start_runtime
from photomaker.store import CreditTransaction, Generation, users
from photomaker.store import generations as generation_rows
from tests.helpers import CountingEngine, held


def _params(*photos: Path, **options: object) -> tuple[list[PhotoUpload], dict[str, object]]:
    """The photos and fields of a request, as `generate_avatar` takes them after the username."""
    fields: dict[str, object] = {"prompt": "a professional headshot, studio lighting", "tier": "pro"}
    fields.update(options)
    return [PhotoUpload.from_path(p) for p in photos], fields


def _rows(runtime: Runtime) -> list[Generation]:
    with runtime.database.session() as session:
        return list(session.exec(select(Generation).order_by(Generation.id)).all())


def _credits(runtime: Runtime) -> int:
    return runtime.accounts.account("local").credits


def test_happy_path_charges_the_tier_per_image(runtime: Runtime, face_photo: Path) -> None:
    assert _credits(runtime) == 250
    outcome = runtime.service.generate_avatar("local", *_params(face_photo, num_images=2, seed=7))
    details = outcome.details.model_dump()
    assert details["status"] == "completed" and details["preview"] is True
    assert (details["credits_charged"], details["credits_remaining"]) == (50, 200)
    assert (details["width"], details["height"], details["seed"]) == (1024, 1024, 7)
    assert details["prompt"].startswith("cinematic photo a person img, a professional headshot")
    assert (
        outcome.notes
        == details["notes"]
        == [
            "astronaut.png: the face is only 97 px wide; avatars keep a likeness best from faces at least 256 px wide, "
            "so crop the photo around the face or take a closer one."
        ]
    )
    assert details["likeness_ok"] == [True, True] and all(0.5 < score <= 1 for score in details["likeness"])
    assert _credits(runtime) == 200
    assert len(outcome.images) == 2
    for path in outcome.images:
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size == (1024, 1024)
            assert "exif" not in image.info
        assert path.is_relative_to(runtime.settings.data_dir)
    row = _rows(runtime)[-1]
    assert (row.status, row.attempts, row.engine, row.photo_count) == ("completed", 1, "preview", 1)
    assert row.processing_ms is not None and row.processing_ms > 0
    assert row.params["style"] == "Photographic (Default)" and row.params["style_strength"] == 25


@pytest.mark.parametrize(("tier", "side", "cost"), [("basic", 512, 18), ("enterprise", 1536, 35)])
def test_each_tier_has_its_resolution_and_price(
    runtime: Runtime, face_photo: Path, tier: str, side: int, cost: int
) -> None:
    outcome = runtime.service.generate_avatar("local", *_params(face_photo, tier=tier))
    assert (outcome.details.width, outcome.details.credits_charged) == (side, cost)
    with Image.open(outcome.images[0]) as image:
        assert image.size == (side, side)


def _text_named_jpg(tmp_path: Path) -> Path:
    path = tmp_path / "notes.jpg"
    path.write_text("not an image")
    return path


def _six_mb_photo(tmp_path: Path) -> Path:
    path = tmp_path / "huge.jpg"
    path.write_bytes(b"\xff\xd8\xff" + b"\x00" * (6 * 1024 * 1024))
    return path


REFUSALS = [
    ("NO_FACE", lambda face, tmp: _params(Path(__file__).parent / "fixtures" / "chelsea.png")),
    ("INVALID_PHOTO", lambda face, tmp: _params(_text_named_jpg(tmp))),
    ("PHOTO_TOO_LARGE", lambda face, tmp: _params(_six_mb_photo(tmp))),
    ("TOO_MANY_PHOTOS", lambda face, tmp: _params(*[face] * 5)),
    ("NO_PHOTOS", lambda face, tmp: _params()),
    ("INVALID_PROMPT", lambda face, tmp: _params(face, prompt="a woman img with a man img")),
    ("INVALID_PROMPT", lambda face, tmp: _params(face, prompt="")),
    ("INVALID_PARAMS", lambda face, tmp: _params(face, tier="platinum")),
    ("INVALID_PARAMS", lambda face, tmp: _params(face, num_images=5)),
    ("INVALID_PARAMS", lambda face, tmp: _params(face, steps=10)),
    ("INVALID_PARAMS", lambda face, tmp: _params(face, guidance_scale=11.0)),
    ("INVALID_PARAMS", lambda face, tmp: _params(face, style_strength=150)),
    ("INVALID_PARAMS", lambda face, tmp: _params(face, num_images=1.5)),
]


@pytest.mark.parametrize(("code", "make"), REFUSALS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(REFUSALS)])
def test_each_refusal_charges_nothing_and_is_recorded(
    runtime: Runtime, face_photo: Path, tmp_path: Path, code: str, make
) -> None:
    engine = CountingEngine()
    runtime.service.engine = engine
    with pytest.raises(RefusedError) as caught:
        runtime.service.generate_avatar("local", *make(face_photo, tmp_path))
    assert caught.value.code == code
    assert engine.requests == [], "a refused request never reaches the engine"
    assert _credits(runtime) == 250
    (row,) = _rows(runtime)
    assert (row.status, row.error_code, row.credits_charged) == ("rejected", code, 0)
    assert not list(runtime.settings.avatars_dir.rglob("*.png"))


def test_not_enough_credits_is_refused_before_generating(tmp_path: Path, face_photo: Path) -> None:
    runtime = start_runtime(Settings(data_dir=tmp_path / "data", starting_credits=49))
    engine = CountingEngine()
    runtime.service.engine = engine
    with pytest.raises(RefusedError) as caught:
        runtime.service.generate_avatar("local", *_params(face_photo, num_images=2))
    assert caught.value.code == "INSUFFICIENT_CREDITS"
    assert "costs 50 credits and you have 49" in caught.value.message
    assert engine.requests == []
    assert _credits(runtime) == 49
    (row,) = _rows(runtime)
    assert (row.status, row.error_code, row.credits_charged) == ("rejected", "INSUFFICIENT_CREDITS", 0)
    assert (row.params["tier"], row.params["num_images"], row.params["seed_requested"]) == ("pro", 2, -1)


def test_credits_can_be_spent_down_to_exactly_zero(tmp_path: Path, face_photo: Path) -> None:
    runtime = start_runtime(Settings(data_dir=tmp_path / "data", starting_credits=36))
    runtime.service.engine = CountingEngine()
    outcome = runtime.service.generate_avatar("local", *_params(face_photo, tier="basic", num_images=2))
    assert (outcome.details.credits_charged, outcome.details.credits_remaining) == (36, 0)
    assert _credits(runtime) == 0


def test_user_rate_limit(tmp_path: Path, face_photo: Path) -> None:
    runtime = start_runtime(Settings(data_dir=tmp_path / "data", user_rate_limit_per_min=2))
    for _ in range(2):
        runtime.service.generate_avatar("local", *_params(face_photo, tier="basic"))
    with pytest.raises(RefusedError) as caught:
        runtime.service.generate_avatar("local", *_params(face_photo, tier="basic"))
    assert caught.value.code == "USER_RATE_LIMITED"
    assert _credits(runtime) == 250 - 2 * 18
    assert [r.status for r in _rows(runtime)] == ["completed", "completed", "rejected"]


class BrokenEngine:
    """An engine that fails the way a remote backend does, after the charge and some work."""

    name = "broken"
    preview = False
    WORK_S = 0.05

    def __init__(self, error: Exception) -> None:
        self.error = error

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> GenerationResult:
        progress(0.5, "about to fail")
        time.sleep(self.WORK_S)
        raise self.error


def _with_engine(runtime: Runtime, engine: object) -> GenerationService:
    return GenerationService(
        settings=runtime.settings, database=runtime.database, engine=engine, storage=runtime.service.storage
    )


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (BackendError("BACKEND_UNAVAILABLE", attempts=3), "BACKEND_UNAVAILABLE"),
        (RuntimeError("bug in an engine"), "INTERNAL"),
    ],
)
def test_engine_failure_refunds_exactly_what_was_charged(
    runtime: Runtime, face_photo: Path, error: Exception, code: str
) -> None:
    service = _with_engine(runtime, BrokenEngine(error))
    with pytest.raises(PhotoMakerError) as caught:
        service.generate_avatar("local", *_params(face_photo, num_images=3))
    assert caught.value.code == code
    if code == "INTERNAL":
        assert caught.value.__cause__ is error
    assert _credits(runtime) == 250
    (row,) = _rows(runtime)
    assert (row.status, row.error_code, row.credits_charged) == ("failed", code, 75)
    assert (row.params["tier"], row.params["num_images"]) == ("pro", 3), "a failed row keeps what was asked"
    assert row.error_message == caught.value.message
    assert BrokenEngine.WORK_S * 1000 <= row.processing_ms < 10_000
    assert row.attempts == (3 if code == "BACKEND_UNAVAILABLE" else 0)
    with runtime.database.session() as session:
        lines = session.exec(select(CreditTransaction).where(CreditTransaction.generation_id == row.id)).all()
    assert sorted((line.kind, line.delta) for line in lines) == [("charge", -75), ("refund", 75)]


def test_storage_failure_refunds_and_leaves_no_files(runtime: Runtime, face_photo: Path) -> None:
    runtime.settings.avatars_dir.parent.mkdir(parents=True, exist_ok=True)
    blocker = runtime.settings.data_dir / "blocked"
    blocker.write_text("a file where a folder should be")
    runtime.service.storage.root = blocker
    with pytest.raises(PhotoMakerError) as caught:
        runtime.service.generate_avatar("local", *_params(face_photo))
    assert caught.value.code == "INTERNAL"
    assert _credits(runtime) == 250
    assert _rows(runtime)[0].status == "failed"


class HalfSavableEngine(CountingEngine):
    """Makes a good image and an empty one that cannot be written, so saving fails half-way."""

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> GenerationResult:
        result = super().generate(request, progress)
        return replace(result, images=[result.images[0], Image.new("RGB", (0, 0))])


def test_a_save_that_fails_half_way_leaves_no_file_and_refunds(runtime: Runtime, face_photo: Path) -> None:
    service = _with_engine(runtime, HalfSavableEngine())
    with pytest.raises(PhotoMakerError) as caught:
        service.generate_avatar("local", *_params(face_photo, num_images=2))
    assert caught.value.code == "INTERNAL"
    assert [path for path in runtime.settings.avatars_dir.rglob("*") if path.is_file()] == []
    assert _credits(runtime) == 250
    assert [(row.status, row.error_code) for row in _rows(runtime)] == [("failed", "INTERNAL")]


def test_crash_recovery_on_next_start(settings: Settings, face_photo: Path) -> None:
    first = start_runtime(settings)
    with first.database.session() as session:
        user = users.get_or_create_user(session, "local", starting_credits=settings.starting_credits)
        stuck = generation_rows.start(
            session,
            generation_rows.Draft(
                user_id=user.id, model_key="avatar-creator:photomaker-pro", mode="photo", engine="preview"
            ),
            cost=25,
            rate_limit_per_min=10,
            **held(minutes=-1),
        )
    assert first.accounts.account("local").credits == 225
    first.close()

    second = start_runtime(settings)
    assert second.accounts.account("local").credits == 250
    row = _rows(second)[0]
    assert (row.id, row.status, row.error_code) == (stuck.id, "failed", "INTERRUPTED")


def test_several_faces_are_noted(runtime: Runtime, face_photo: Path, tmp_path: Path) -> None:
    portrait = Image.open(face_photo).convert("RGB")
    group = Image.new("RGB", (1024, 512), (128, 128, 128))
    group.paste(portrait, (0, 0))
    group.paste(portrait.resize((384, 384)), (600, 64))
    path = tmp_path / "group.png"
    group.save(path)
    outcome = runtime.service.generate_avatar("local", *_params(path))
    assert outcome.notes[0] == "group.png: found 2 faces; used the largest."
    assert outcome.details.notes == outcome.notes


def test_history_lists_the_users_avatars_newest_first(runtime: Runtime, face_photo: Path) -> None:
    first = runtime.service.generate_avatar("local", *_params(face_photo, tier="basic"))
    second = runtime.service.generate_avatar("local", *_params(face_photo, tier="basic", style="Lowpoly", num_images=2))
    history = runtime.gallery.history("local")
    assert [item.generation_id for item in history] == [second.generation_id] * 2 + [first.generation_id]
    assert [item.image for item in history] == second.images[::-1] + first.images
    assert [item.thumbnail.name for item in history] == [f"avatar-{n}.thumb.webp" for n in (2, 1, 1)]
    assert all(item.thumbnail.exists() for item in history)
    # Each says which avatar of which generation it is, its style and tier: the page's alt text too.
    assert [item.caption.split(" · Likeness")[0] for item in history] == [
        f"#{second.generation_id} · Avatar 2 · Lowpoly · Basic tier · preview",
        f"#{second.generation_id} · Avatar 1 · Lowpoly · Basic tier · preview",
        f"#{first.generation_id} · Avatar 1 · Photographic (Default) · Basic tier · preview",
    ]
    assert all(re.search(r" · Likeness \d+%", item.caption) for item in history)
    assert len(runtime.gallery.history("local", limit=1)) == 1
    assert runtime.gallery.history("someone-else") == []


def test_progress_moves_forward_to_done_with_the_engines_own_steps(runtime: Runtime, face_photo: Path) -> None:
    seen: list[tuple[float, str]] = []
    params = _params(face_photo, tier="basic", num_images=2)
    runtime.service.generate_avatar("local", *params, progress=lambda f, m: seen.append((round(f, 4), m)))
    assert seen == [
        (0.05, "Checking your photos"),
        (0.12, "Finding your face"),
        (0.2, "Reserving 36 credits"),
        (0.25, "Styling image 1 of 2 (preview)"),
        (0.575, "Styling image 2 of 2 (preview)"),
        (0.9, "Preview ready"),
        (0.91, "Checking the likeness of avatar 1 of 2"),
        (0.91, "Checking the likeness of avatar 2 of 2"),
        (0.93, "Saving your avatars"),
        (1.0, "Done"),
    ]


def test_rating_through_the_service_feeds_satisfaction(runtime: Runtime, face_photo: Path) -> None:
    outcome = runtime.service.generate_avatar("local", *_params(face_photo, tier="basic"))
    first = runtime.gallery.rate("local", outcome.generation_id, 3)
    again = runtime.gallery.rate("local", outcome.generation_id, 5.0)
    assert (first.generation_id, first.previous, again.previous, again.stars) == (outcome.generation_id, None, 3, 5)
    with pytest.raises(RefusedError, match="not one of yours"):
        runtime.gallery.rate("someone-else", outcome.generation_id, 4)
    with pytest.raises(RefusedError, match=r"^Rating must be a whole number; you gave 4\.5\.$"):
        runtime.gallery.rate("local", outcome.generation_id, 4.5)
    found = metrics.summary(runtime.database, views.View(window="24h"))
    assert (found["completed"], found["ratings"], found["avg_rating"]) == (1, 1, 5.0)


@pytest.mark.parametrize(
    ("generation_id", "stars", "message"),
    [
        (2**31, 5, "Generation must be between 1 and 2147483647; you gave 2147483648."),
        (2**70, 5, "Generation must be between 1 and 2147483647; you gave 1180591620717411303424."),
        (0, 5, "Generation must be between 1 and 2147483647; you gave 0."),
        ("abc", 5, "Generation must be a whole number; you gave abc."),
        (None, 5, "Generation is missing; fill it in."),
        (1.5, 5, "Generation must be a whole number; you gave 1.5."),
        (1, "abc", "Rating must be a whole number; you gave abc."),
        (1, None, "Rating is missing; fill it in."),
        (1, 2**63, "Rating must be between 1 and 5; you gave 9223372036854775808."),
        (1, float("nan"), "Rating must be a whole number; you gave nan."),
    ],
)
def test_a_rating_of_odd_values_is_refused_by_name(
    runtime: Runtime, generation_id: object, stars: object, message: str
) -> None:
    with pytest.raises(RefusedError) as caught:
        runtime.gallery.rate("local", generation_id, stars)
    assert (caught.value.code, caught.value.message) == ("INVALID_PARAMS", message)


def test_a_rating_may_name_its_generation_as_text(runtime: Runtime, face_photo: Path) -> None:
    outcome = runtime.service.generate_avatar("local", *_params(face_photo, tier="basic"))
    assert runtime.gallery.rate("local", str(outcome.generation_id), "4").stars == 4


def test_avatars_older_than_the_retention_are_deleted_rows_and_files(runtime: Runtime, face_photo: Path) -> None:
    old = runtime.service.generate_avatar("local", *_params(face_photo, tier="basic"))
    new = runtime.service.generate_avatar("local", *_params(face_photo, tier="basic"))
    with runtime.database.session() as session:
        row = session.get(Generation, old.generation_id)
        row.completed_at = row.completed_at - timedelta(days=31)
        session.add(row)
    storage = runtime.service.storage
    assert expire_old_avatars(runtime.database, storage, days=30) == 1
    assert not any(path.exists() for path in old.images)
    assert all(path.exists() for path in new.images)
    assert [item.generation_id for item in runtime.gallery.history("local")] == [new.generation_id]
    assert [r.status for r in _rows(runtime)] == ["completed", "completed"], "generation rows stay for the metrics"
    assert expire_old_avatars(runtime.database, storage, days=30) == 0


class SteppingClock:
    """Stands in for `time` in the service and its bookkeeping: each reading is `step_s` after the one before."""

    def __init__(self, step_s: float) -> None:
        self.now, self.step_s = 1_000.0, step_s

    def monotonic(self) -> float:
        self.now += self.step_s
        return self.now


@pytest.mark.parametrize("engine", [None, BrokenEngine(BackendError("BACKEND_UNAVAILABLE", attempts=2))])
def test_processing_time_is_the_engine_and_saving_time_in_milliseconds(
    runtime: Runtime, face_photo: Path, monkeypatch: pytest.MonkeyPatch, engine: BrokenEngine | None
) -> None:
    clock = SteppingClock(1.2345)  # one clock: the charge's time in `service`, the save's or failure's in `bookkeeping`
    for module in (service_module, bookkeeping):
        monkeypatch.setattr(module, "time", clock)
    service = _with_engine(runtime, engine) if engine else runtime.service
    if engine:
        monkeypatch.setattr(BrokenEngine, "WORK_S", 0)
        with pytest.raises(BackendError):
            service.generate_avatar("local", *_params(face_photo, tier="basic"))
    else:
        assert service.generate_avatar("local", *_params(face_photo, tier="basic")).details.processing_ms == 1235
    assert _rows(runtime)[0].processing_ms == 1235


def test_failures_are_logged_with_the_generation_the_code_and_the_refund(
    runtime: Runtime, face_photo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for error in (BackendError("MODEL_LOADING"), RuntimeError("bug in an engine")):
        with pytest.raises(PhotoMakerError), caplog.at_level("INFO", logger="photomaker.generation.bookkeeping"):
            _with_engine(runtime, BrokenEngine(error)).generate_avatar("local", *_params(face_photo, tier="basic"))
    first, second = (row.id for row in _rows(runtime))
    records = [
        (r.levelname, r.getMessage(), bool(r.exc_info))
        for r in caplog.records
        if r.name == "photomaker.generation.bookkeeping"
    ]
    assert records == [
        ("WARNING", f"generation {first} failed (MODEL_LOADING); refunded 18 credits", False),
        ("ERROR", f"generation {second} failed unexpectedly", True),
        ("WARNING", f"generation {second} failed (INTERNAL); refunded 18 credits", False),
    ]


def test_refusals_are_logged_with_their_code(
    runtime: Runtime, face_photo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(RefusedError), caplog.at_level("INFO", logger="photomaker.generation.refusals"):
        runtime.service.generate_avatar("local", *_params(face_photo, steps=1))
    user_id = _rows(runtime)[0].user_id
    assert [r.getMessage() for r in caplog.records if r.name == "photomaker.generation.refusals"] == [
        f"generation refused for user {user_id}: INVALID_PARAMS"
    ]

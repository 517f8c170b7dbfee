"""The studio flow, called as a page calls its events: the photos stay in the box for the next generation, through
refusals and successes, until forgotten, the page closes or the user deletes their data; the bar's line says
which avatar is being made and about how long is left."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from photomaker.core.errors import PhotoMakerError
from photomaker.engines.base import GenerationRequest, GenerationResult, ProgressFn
from photomaker.generation.expected_time import seconds_left
from photomaker.generation.jobs import Progress
from photomaker.startup.runtime import Runtime
from photomaker.ui import build_app
from photomaker.ui.generate_progress import Watched, status_html, time_left_text
from photomaker.ui.kept_photos import KEPT, PageKey
from photomaker.ui.photo_box import PhotoBox
from photomaker.ui.upload_keys import UPLOADER_COOKIE
from photomaker.ui.uploads import REGISTRY
from tests.ui.page_events import PageEvents

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _page(session: str = "tab-1", key: str = "alice-browser") -> SimpleNamespace:
    """What the handlers read of a browser tab's request: its session, its upload key, headers and address."""
    return SimpleNamespace(session_hash=session, cookies={UPLOADER_COOKIE: key}, headers={}, client=None)


def _uploaded(upload_dir: Path, name: str = "astronaut.png", key: str = "alice-browser") -> str:
    folder = upload_dir / f"studio-{name}-{key}"
    folder.mkdir(exist_ok=True)
    return str(REGISTRY.adopt(Path(shutil.copy(FIXTURES / name, folder / name)), owner=key))


@pytest.fixture
def events(runtime: Runtime) -> PageEvents:
    return PageEvents(build_app(runtime))


def _generate(events: PageEvents, photo: str, *, request: Any, **values: Any) -> dict[str, Any]:
    return events(
        "ui_generate",
        photos=[(photo, None)],
        prompt=values.pop("prompt", "a professional headshot"),
        tier="basic",
        request=request,
        **values,
    )


def credits(runtime: Runtime) -> int:
    return runtime.accounts.account("local").credits


def test_the_photos_stay_for_the_next_generations_through_refusals(
    events: PageEvents, runtime: Runtime, upload_dir: Path
) -> None:
    tab, photo = _page(), _uploaded(upload_dir)
    refused = _generate(events, photo, request=tab, prompt="a woman img and a man img")
    assert "INVALID_PROMPT" in refused["details"] and "photos" not in refused, "the box keeps its photos"
    assert Path(photo).exists() and credits(runtime) == 250
    runtime.accounts.grant("local", -240, reason="nearly spent", by="test")
    poor = _generate(events, photo, request=tab)
    assert poor["details_json"]["error_code"] == "INSUFFICIENT_CREDITS" and "photos" not in poor
    runtime.accounts.grant("local", 240, reason="back", by="test")
    first = _generate(events, photo, request=tab)
    second = _generate(events, photo, request=tab, styles=["Cinematic", "Enhance"])
    assert first["details_json"]["status"] == second["details_json"]["status"] == "completed"
    assert "photos" not in first and "photos" not in second and Path(photo).exists()
    assert second["details_json"]["avatar_styles"] == ["Cinematic", "Enhance"], "another style from the same photo"
    assert KEPT.photos(PageKey("alice-browser", "tab-1"))[0].path == Path(photo)
    assert KEPT.forget(PageKey("alice-browser", "tab-1")) == 1 and not Path(photo).exists()


def test_forget_my_photos_deletes_them_and_empties_the_box(events: PageEvents, upload_dir: Path) -> None:
    tab, photo = _page("tab-forget"), _uploaded(upload_dir, key="forgetful-browser")
    tab.cookies = {UPLOADER_COOKIE: "forgetful-browser"}
    events("ui_keep_photos", photos=[(photo, None)], request=tab)
    assert KEPT.photos(PageKey("forgetful-browser", "tab-forget"))
    out = events("ui_forget_photos", photos=[(photo, None)], request=tab)
    assert out["photos"] is None and not Path(photo).exists()
    assert KEPT.photos(PageKey("forgetful-browser", "tab-forget")) == ()


def test_another_clients_photos_are_neither_used_nor_kept(
    events: PageEvents, runtime: Runtime, upload_dir: Path
) -> None:
    alice = _uploaded(upload_dir, key="alice-browser")
    mallory = _page("tab-1", key="mallory-browser")
    events("ui_keep_photos", photos=[(alice, None)], request=mallory)
    assert KEPT.photos(PageKey("mallory-browser", "tab-1")) == ()
    out = _generate(events, alice, request=mallory)
    assert out["details_json"]["error_code"] == "INVALID_PHOTO" and out["photos"] is None
    assert Path(alice).exists() and credits(runtime) == 250, "left alone, and nothing charged"
    events("ui_forget_photos", photos=[(alice, None)], request=mallory)
    assert Path(alice).exists(), "nor deleted by another client's Forget"
    REGISTRY.forget(Path(alice))


def test_closing_the_page_and_deleting_my_data_delete_what_pages_kept(
    events: PageEvents, runtime: Runtime, upload_dir: Path
) -> None:
    closing, other = _page("tab-closing"), _page("tab-other")
    first, second = _uploaded(upload_dir, "astronaut.png"), _uploaded(upload_dir, "newton-1689.jpg")
    events("ui_keep_photos", photos=[(first, None)], request=closing)
    events("ui_keep_photos", photos=[(second, None)], request=other)
    PhotoBox(runtime, events.form).on_unload(closing)  # type: ignore[arg-type]
    assert not Path(first).exists() and Path(second).exists(), "only the closed page's"
    out = events("ui_delete_my_data", my_data_confirm=True)
    assert out["photos"] is None and not Path(second).exists()


class SlowEngine:
    """The app's own engine, a second slower at each image: long enough for the bar to be renewed."""

    def __init__(self, engine: Any) -> None:
        self.engine, self.name, self.preview = engine, engine.name, engine.preview

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> GenerationResult:
        progress(0.1, "Painting")
        time.sleep(1.2)
        return self.engine.generate(request, progress)


def test_the_bar_names_the_avatar_and_the_time_left(events: PageEvents, runtime: Runtime, upload_dir: Path) -> None:
    runtime.service.engine = SlowEngine(runtime.service.engine)
    tab, photo = _page("tab-bar"), _uploaded(upload_dir)
    updates = list(
        events.stream(
            "ui_generate", photos=[(photo, None)], prompt="a headshot", tier="basic", num_images=2, request=tab
        )
    )
    lines = [update["status"] for update in updates if "status" in update]
    assert all('role="status"' in line and "<progress" in line for line in lines)
    making = [line for line in lines if "Making avatar" in line]
    assert any("Making avatar 1 of 2 · " in line for line in making), lines
    assert all(re.search(r"(about \d+ s|a few seconds) left", line) for line in making)
    assert any("Painting" in line for line in making), "and what the engine says under it"
    assert "generation_id" in updates[-1]["details_json"], "the outcome comes last"
    KEPT.forget(PageKey("alice-browser", "tab-bar"))


def test_the_time_left_reads_at_a_glance() -> None:
    assert seconds_left(elapsed_s=10, done=0, total=4, expected_each_s=20) == 70, "expected, before the first"
    assert seconds_left(elapsed_s=30, done=2, total=4, expected_each_s=99) == 30, "then the pace measured"
    assert seconds_left(elapsed_s=500, done=0, total=1, expected_each_s=60) == 0
    assert [time_left_text(s) for s in (2, 38, 41, 150)] == [
        "a few seconds left",
        "about 40 s left",
        "about 40 s left",
        "about 2 min left",
    ]
    shown = status_html("Making avatar 2 of 4 · about 40 s left", 0.42, step="<Painting>")
    assert 'value="42"' in shown and "&lt;Painting&gt;" in shown, "escaped"


class FakeJobs:
    """Says how far job 7 has got, as `Jobs.progress` would."""

    def __init__(self) -> None:
        self.now: Progress | None = None

    def progress(self, generation_id: int) -> Progress | None:
        return self.now if generation_id == 7 else None


def test_the_line_says_what_the_job_does_now() -> None:
    charged, release, jobs = threading.Event(), threading.Event(), FakeJobs()

    def run(progress: ProgressFn, started: Callable[[int], None]) -> Any:
        progress(0.1, "Checking your photos")
        charged.wait(10)
        started(7)
        progress(0.5, "Avatar 2 of 4 · Cinematic · Painting")
        release.wait(10)
        raise PhotoMakerError("CANCELLED")

    watched = Watched(run, started=lambda generation_id: None)
    _until(lambda: watched.message == "Checking your photos")
    assert watched.lines(jobs, expected_each_s=10) == ("Checking your photos", ""), "before the charge, its words"
    charged.set()
    _until(lambda: watched.message.endswith("Painting"))
    jobs.now = Progress(0.5, watched.message, image=2, images=4, style="Cinematic", at_engine=True)
    line, said = watched.lines(jobs, expected_each_s=10, pack=True)
    assert line.startswith("Making avatar 2 of 4 · Cinematic · ") and line.endswith(" left") and said == "Painting"
    assert watched.lines(jobs, expected_each_s=10)[0].startswith("Making avatar 2 of 4 · "), "one style: not named"
    watched._report(0.6, "Checking the likeness of avatar 2 of 4")  # the engine has made it
    jobs.now = Progress(0.6, watched.message, image=2, images=4, style="Cinematic", at_engine=False)
    line, said = watched.lines(jobs, expected_each_s=10, pack=True)
    assert line.startswith("Checking the likeness of avatar 2 of 4 · ") and said == ""
    release.set()
    with pytest.raises(PhotoMakerError):
        watched.outcome()


def _until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.01)

"""The project picker on the Generate tab: its events called as the page calls them, then once in a browser.

The picker says where the next generation is filed and whose avatars the history shows; a new project or a new
name is made from the name box, and a refusal is said under it (never in a toast) and changes nothing.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from photomaker.core.errors import RefusedError
from photomaker.core.settings import Settings
from photomaker.startup.runtime import Runtime, start_runtime
from photomaker.ui import build_app
from photomaker.ui.uploads import REGISTRY
from stand_ins.serving import ServedApp
from tests.ui.page_events import PageEvents

FIXTURES = Path(__file__).parents[1] / "fixtures"
LOAD = {"mode": "Photo to Avatar", "tier": "basic", "model": None, "num_images": 1}
"""What the page's load event takes (the inputs the price depends on)."""


@pytest.fixture
def events(runtime: Runtime) -> PageEvents:
    return PageEvents(build_app(runtime))


def _names(runtime: Runtime, username: str = "local") -> list[str]:
    return [project.name for project in runtime.projects.list(username)]


def _generate(events: PageEvents, upload_dir: Path, project: str) -> tuple[int, dict[str, Any]]:
    """Avatars from the page filed in `project`: the generation's id and the page's updates."""
    folder = upload_dir / f"picker-{project}"
    folder.mkdir(exist_ok=True)
    photo = str(REGISTRY.adopt(Path(shutil.copy(FIXTURES / "astronaut.png", folder / "astronaut.png")), owner=None))
    out = events("ui_generate", photos=[(photo, None)], prompt="a headshot", tier="basic", project=project)
    return out["details_json"]["generation_id"], out


def _shown(history: list[tuple[str, str]]) -> list[int]:
    """The generation of each thumbnail in the history, as its caption names it (`#12 · Avatar 1 · ...`)."""
    return [int(re.match(r"#(\d+) · ", caption).group(1)) for _, caption in history]  # type: ignore[union-attr]


def test_a_new_user_sees_the_default_project_and_nothing_is_made(events: PageEvents, runtime: Runtime) -> None:
    out = events("ui_load", **LOAD)
    assert out["project"]["choices"] == ["My avatars"]
    assert out["project"]["value"] == "My avatars" and out["history"] == []
    assert _names(runtime) == [], "opening the page makes no project"


def test_a_new_project_is_made_selected_and_empty(events: PageEvents, runtime: Runtime, upload_dir: Path) -> None:
    made, _ = _generate(events, upload_dir, "My avatars")
    out = events("ui_new_project", project="My avatars", project_name="  Holiday   snaps ")
    assert out["project"]["choices"] == ["My avatars", "Holiday snaps"] and out["project"]["value"] == "Holiday snaps"
    assert out["history"] == [], "the new project has no avatars yet"
    assert out["project_name"] == "" and "Holiday snaps" in out["project_note"]
    assert _names(runtime) == ["My avatars", "Holiday snaps"]
    back = events("ui_project", project="My avatars")
    assert back["project"]["value"] == "My avatars" and _shown(back["history"]) == [made]


@pytest.mark.parametrize(
    ("name", "code", "says"),
    [
        ("Holiday", "NAME_TAKEN", "You already have a project called 'Holiday'; choose another name"),
        ("   ", "INVALID_PARAMS", "Project name is missing; fill it in."),
        ("x" * 101, "INVALID_PARAMS", "at most 100 characters"),
    ],
)
@pytest.mark.parametrize("button", ["ui_new_project", "ui_rename_project"])
def test_a_refused_name_is_said_under_the_box_and_changes_nothing(
    events: PageEvents, runtime: Runtime, button: str, name: str, code: str, says: str
) -> None:
    runtime.projects.create("local", "Holiday")
    work = runtime.projects.create("local", "Work")
    out = events(button, project="Work", project_name=name)
    assert set(out) == {"project_note"}, "the picker, the history and the name box stay as they were"
    assert out["project_note"].startswith("❌ ") and says in out["project_note"]
    assert _names(runtime) == ["Holiday", "Work"] and runtime.projects.get("local", work.id) == work


def test_rename_gives_the_selected_project_a_new_name(events: PageEvents, runtime: Runtime, upload_dir: Path) -> None:
    made, _ = _generate(events, upload_dir, "Portraits")
    runtime.projects.create("local", "Work")
    out = events("ui_rename_project", project="Portraits", project_name=" Summer ")
    assert out["project"]["choices"] == ["Summer", "Work"] and out["project"]["value"] == "Summer"
    assert _shown(out["history"]) == [made], "its avatars moved with it"
    assert not any("Portraits" in caption for _, caption in out["history"]), "only the picker names a project"
    assert "“Portraits” is now called “Summer”" in out["project_note"] and out["project_name"] == ""
    again = events("ui_rename_project", project="Summer", project_name="Summer")
    assert "already has that name" in again["project_note"] and _names(runtime) == ["Summer", "Work"]


def test_renaming_the_default_project_before_it_exists_makes_it(events: PageEvents, runtime: Runtime) -> None:
    out = events("ui_rename_project", project="My avatars", project_name="Studio")
    assert out["project"]["choices"] == ["Studio"] and out["project"]["value"] == "Studio"
    assert _names(runtime) == ["Studio"]


def test_the_history_follows_the_picker_and_each_generation(
    events: PageEvents, runtime: Runtime, upload_dir: Path
) -> None:
    first, out = _generate(events, upload_dir, "My avatars")
    assert _shown(out["history"]) == [first] and out["project"]["choices"] == ["My avatars"]
    events("ui_new_project", project="My avatars", project_name="Holiday")
    second, out = _generate(events, upload_dir, "Holiday")
    assert out["project"]["value"] == "Holiday" and out["project"]["choices"] == ["My avatars", "Holiday"]
    assert _shown(out["history"]) == [second], "only the project the generation was filed in"
    assert _shown(events("ui_project", project="My avatars")["history"]) == [first]
    loaded = events("ui_load", **LOAD)
    assert loaded["project"]["value"] == "My avatars" and _shown(loaded["history"]) == [first], "the oldest at load"


def test_a_project_deleted_elsewhere_leaves_the_picker(events: PageEvents, runtime: Runtime) -> None:
    holiday = runtime.projects.create("local", "Holiday")
    runtime.projects.create("local", "Work")
    runtime.projects.delete("local", holiday.id)
    out = events("ui_project", project="Holiday")
    assert out["project"]["choices"] == ["Work"] and out["project"]["value"] == "Work"


def test_deleting_a_project_needs_the_box_ticked(events: PageEvents, runtime: Runtime) -> None:
    runtime.projects.create("local", "Holiday")
    out = events("ui_delete_project", project="Holiday", confirm_delete_project=False)
    assert out == {"project_note": "Tick the box first: deleting cannot be undone."}
    assert _names(runtime) == ["Holiday"]


def test_a_deleted_project_leaves_the_page_at_once(events: PageEvents, runtime: Runtime, upload_dir: Path) -> None:
    """The picker selects the oldest project left and shows its history; the results, which were the deleted
    project's avatars, are taken down with their download, details and rating, and their served copies deleted."""
    kept, _ = _generate(events, upload_dir, "My avatars")
    events("ui_new_project", project="My avatars", project_name="Holiday")
    _, made = _generate(events, upload_dir, "Holiday")
    shown = made["results"]["value"]
    out = events("ui_delete_project", project="Holiday", confirm_delete_project=True, results=shown)
    assert out["project"]["choices"] == ["My avatars"] and out["project"]["value"] == "My avatars"
    assert _shown(out["history"]) == [kept], "the project left, with its avatars"
    assert out["results"] == {"__type__": "update", "value": None, "visible": False}
    assert out["download"]["visible"] is False and out["details_json"] is None
    assert out["details"] == "Your avatars will appear here." and out["rating_stars"]["visible"] is False
    assert (
        out["confirm_delete_project"] is False
        and out["project_note"] == "✅ Deleted the project “Holiday” and its 1 avatar."
    )
    assert not any(Path(path).exists() for path, _ in shown), "the copies served to the page go too"
    assert _names(runtime) == ["My avatars"]


def test_results_of_another_project_stay_when_one_is_deleted(
    events: PageEvents, runtime: Runtime, upload_dir: Path
) -> None:
    _, made = _generate(events, upload_dir, "My avatars")
    runtime.projects.create("local", "Empty")
    out = events("ui_delete_project", project="Empty", confirm_delete_project=True, results=made["results"]["value"])
    assert "results" not in out and "details" not in out, "the results shown were not the deleted project's"
    assert out["project"]["choices"] == ["My avatars"] and out["project_note"] == "✅ Deleted the project “Empty”."
    assert all(Path(path).exists() for path, _ in made["results"]["value"])


def test_a_refused_deletion_is_said_under_the_box_and_takes_nothing_down(
    events: PageEvents, runtime: Runtime, upload_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, made = _generate(events, upload_dir, "Holiday")
    busy = "Generation #7 is still being made; wait for your generation to finish, then delete the project."

    def refused(username: str, project_id: int) -> None:
        raise RefusedError("INVALID_PARAMS", busy)

    monkeypatch.setattr(runtime.projects, "delete", refused)
    out = events("ui_delete_project", project="Holiday", confirm_delete_project=True, results=made["results"]["value"])
    assert out == {"project_note": f"❌ {busy}"}, "the picker, history, results and box stay as they were"
    assert all(Path(path).exists() for path, _ in made["results"]["value"]), "their served copies stay"


def test_the_default_project_before_a_first_generation_has_nothing_to_delete(events: PageEvents) -> None:
    out = events("ui_delete_project", project="My avatars", confirm_delete_project=True)
    assert out == {"project_note": "❌ “My avatars” has no avatars yet: there is nothing to delete."}


def test_picking_another_project_unticks_the_delete_box(events: PageEvents, runtime: Runtime) -> None:
    """The box was ticked for the project that was selected, not for the one picked next."""
    runtime.projects.create("local", "Holiday")
    out = events("ui_project", project="Holiday")
    assert out["confirm_delete_project"] is False and out["project"]["value"] == "Holiday"


@pytest.fixture
def space(tmp_path: Path) -> Iterator[tuple[Runtime, PageEvents]]:
    """The app as a Space with sign-in runs it."""
    settings = Settings(
        data_dir=tmp_path / "space",
        space_id="studio/photomaker",
        oauth_client_id="cid",
        oauth_client_secret="secret",
        user_rate_limit_per_min=100,
        hf_token=None,
    )
    runtime = start_runtime(settings)
    yield runtime, PageEvents(build_app(runtime))
    runtime.close()


def test_on_a_space_a_visitor_is_asked_to_sign_in_and_nothing_is_made(space: tuple[Runtime, PageEvents]) -> None:
    runtime, events = space
    for button, values in (
        ("ui_new_project", {"project_name": "Holiday"}),
        ("ui_rename_project", {"project_name": "Holiday"}),
        ("ui_delete_project", {"confirm_delete_project": True}),
    ):
        out = events(button, project="My avatars", **values)
        assert set(out) == {"project_note"} and "Sign in with Hugging Face" in out["project_note"]
    assert events("ui_project", project="My avatars")["history"] == []
    assert runtime.projects.list("alice") == [] and runtime.accounts.credit_history("alice") == []
    alice = gr.OAuthProfile({"preferred_username": "alice", "name": "Alice", "profile": "", "picture": ""})
    out = events("ui_new_project", project="My avatars", project_name="Holiday", profile=alice)
    assert out["project"]["value"] == "Holiday" and _names(runtime, "alice") == ["Holiday"]


# In a browser


def test_a_project_made_on_the_page_files_generations_and_filters_the_history(
    browser: Any, served_app: ServedApp, shots: Path
) -> None:
    from tests.ui.browsing import GENERATE_MS, PHONE, WAIT_MS, expect, finished, generate, shoot, visit

    history = "#history .thumbnail-item img"
    with visit(browser, served_app, PHONE) as page:
        generate(page, "astronaut.png")
        first = finished(page)
        expect(page.locator(history)).to_have_count(1, timeout=WAIT_MS)

        page.get_by_role("button", name="New project, rename or delete").click()
        page.locator("#project-name").get_by_role("textbox").fill("Holiday")
        page.locator("#new-project").click()
        expect(page.locator("#project-note")).to_contain_text("Holiday", timeout=WAIT_MS)
        expect(page.locator("#project input")).to_have_value("Holiday")
        expect(page.locator(history)).to_have_count(0, timeout=WAIT_MS)

        generate(page, "astronaut.png")
        expect(page.locator("#details")).not_to_contain_text(re.compile(rf"Generation #{first}\b"), timeout=GENERATE_MS)
        second = finished(page)
        expect(page.locator(history)).to_have_count(1, timeout=WAIT_MS)
        expect(page.locator(history).first).to_have_attribute("alt", re.compile(rf"^#{second} · "))
        shoot(page, shots, "projects")

        page.locator("#project input").click()
        page.get_by_role("option", name="My avatars").click()
        expect(page.locator(history).first).to_have_attribute("alt", re.compile(rf"^#{first} · "), timeout=WAIT_MS)
        expect(page.locator(history)).to_have_count(1)
        width, viewport = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width == viewport, "the picker fits a phone"
    assert [project.name for project in served_app.runtime.projects.list("local")] == ["My avatars", "Holiday"]

"""The screen follows the data: after *Delete my data*, deleting a project or renaming one, everything on the page
that showed what changed is updated by the same click, with no reload, on a laptop and on a phone.

The setup is `browsing`'s, which skips this module without Playwright or Chromium; screenshots go to
build/screenshots.
"""

from __future__ import annotations

import re
from pathlib import Path

from photomaker.store.projects import DEFAULT_PROJECT
from stand_ins.serving import ServedApp
from tests.conftest import FIXTURES
from tests.ui.browsing import (
    BOTH_SIZES,
    WAIT_MS,
    Browser,
    Page,
    expect,
    finished,
    generate,
    shoot,
    visit,
)

RESULTS = "#results img"
HISTORY = "#history .thumbnail-item img"


def project_tools(page: Page, name: str, button: str) -> None:
    """Type `name` in the project tools' name box (opening them first) and press `button`."""
    tools = page.get_by_role("button", name="New project, rename or delete")
    if not page.locator("#project-name").is_visible():
        tools.click()
    page.locator("#project-name").get_by_role("textbox").fill(name)
    page.locator(button).click()


def picker_offers(page: Page) -> list[str]:
    """The projects the picker lists, as its menu shows them (closed again afterwards)."""
    page.locator("#project input").click()
    options = page.get_by_role("option")
    expect(options.first).to_be_visible(timeout=WAIT_MS)
    names = [text.split("\n")[-1].strip() for text in options.all_inner_texts()]  # after the selected one's ✓
    page.locator("#project input").blur()
    return names


def made_in(page: Page, project: str) -> int:
    """A new project made on the page and an avatar generated in it; the generation's id."""
    project_tools(page, project, "#new-project")
    expect(page.locator("#project input")).to_have_value(project, timeout=WAIT_MS)
    generate(page, "astronaut.png")
    made = finished(page)
    expect(page.locator(RESULTS)).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator(HISTORY).first).to_have_attribute("alt", re.compile(rf"^#{made} · "), timeout=WAIT_MS)
    return made


@BOTH_SIZES
def test_a_rename_and_a_deleted_project_show_at_once(
    browser: Browser, served_app: ServedApp, shots: Path, viewport: dict[str, int]
) -> None:
    width = viewport["width"]
    old, new = f"Trip {width}", f"Journey {width}"
    with visit(browser, served_app, viewport) as page:
        made_in(page, old)

        project_tools(page, new, "#rename-project")
        expect(page.locator("#project input")).to_have_value(new, timeout=WAIT_MS)
        offered = picker_offers(page)
        assert new in offered and old not in offered, offered
        expect(page.locator("#project-note")).to_contain_text(f"“{old}” is now called “{new}”")

        page.locator("#confirm-delete-project input").check()
        page.locator("#delete-project").click()
        expect(page.locator("#project-note")).to_contain_text(f"Deleted the project “{new}”", timeout=WAIT_MS)
        expect(page.locator("#project input")).not_to_have_value(new)
        assert new not in picker_offers(page)
        expect(page.locator(RESULTS)).to_have_count(0)  # they were the deleted project's avatars
        expect(page.locator("#download-all")).to_be_hidden()
        expect(page.locator("#details")).to_contain_text("Your avatars will appear here.")
        expect(page.locator("#rating")).to_be_hidden()
        expect(page.locator("#confirm-delete-project input")).not_to_be_checked()
        alts = page.locator(HISTORY).evaluate_all("images => images.map(image => image.alt)")
        assert all(new not in alt for alt in alts)
        shoot(page, shots, "screen-project-deleted")
    names = [project.name for project in served_app.runtime.projects.list("local")]
    assert new not in names and old not in names


@BOTH_SIZES
def test_delete_my_data_empties_the_page_at_once(
    browser: Browser, served_app: ServedApp, shots: Path, viewport: dict[str, int]
) -> None:
    with visit(browser, served_app, viewport) as page:
        made_in(page, f"Studio {viewport['width']}")
        # A photo waiting in the box for the next generation goes too.
        page.locator("#photos input[type=file]").set_input_files(FIXTURES / "astronaut.png")
        expect(page.locator("#photos img")).to_have_count(1, timeout=WAIT_MS)

        page.get_by_role("button", name="Your credits and data").click()
        page.locator("#confirm-delete input").check()
        page.locator("#delete-my-data").click()
        expect(page.locator("#my-data-outcome")).to_contain_text("Deleted", timeout=WAIT_MS)
        expect(page.locator(RESULTS)).to_have_count(0)
        expect(page.locator(HISTORY)).to_have_count(0)
        expect(page.locator("#photos img")).to_have_count(0)
        expect(page.locator("#project input")).to_have_value(DEFAULT_PROJECT)
        assert picker_offers(page) == [DEFAULT_PROJECT]
        expect(page.locator("#download-all")).to_be_hidden()
        expect(page.locator("#details")).to_contain_text("Your avatars will appear here.")
        expect(page.locator("#rating")).to_be_hidden()
        expect(page.locator("#confirm-delete input")).not_to_be_checked()
        expect(page.locator("#credit-history")).to_contain_text("charge")
        shoot(page, shots, "screen-my-data-deleted")
    assert served_app.runtime.projects.list("local") == []
    assert served_app.runtime.gallery.history("local") == []

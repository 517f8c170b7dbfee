"""The local app as a person uses it in a browser: a generation from a real photo, a refusal, a rating.

test_generate_tab.py calls the page's handlers in-process; here a headless Chromium uploads the photo
through the page's own file input, presses the buttons and reads what the page then shows, and the
database is checked to hold what the page says. The app is the offline one of conftest.py's
`served_app` (preview engine, SQLite, the local user, no sign-in). The setup is `browsing`'s, which
skips this module without Playwright or Chromium.
"""

from __future__ import annotations

import re
from pathlib import Path

from photomaker.store import generation_queries, users
from photomaker.store.models import Generation
from stand_ins.serving import ServedApp
from tests.ui.browsing import (
    DESKTOP,
    GENERATE_MS,
    WAIT_MS,
    Browser,
    Page,
    expect,
    finished,
    generate,
    shoot,
    shown_number,
    visit,
)


def balance(page: Page) -> int:
    """The credits the page says the user has (the line above the Generate button)."""
    return shown_number(page, "#cost", r"you have (\d+)")


def rows(app: ServedApp) -> list[Generation]:
    """The local user's generations, oldest first."""
    with app.runtime.database.reading() as session:
        user = users.find_user(session, app.runtime.settings.local_username)
        assert user is not None and user.id is not None
        return [row for row, _ in generation_queries.of_user(session, user_id=user.id)]


def test_a_photo_becomes_an_avatar_and_its_price_leaves_the_balance(
    browser: Browser, served_app: ServedApp, shots: Path
) -> None:
    runtime = served_app.runtime
    basic = next(model for model in runtime.service.models(mode="photo") if model.tier == "basic")
    with visit(browser, served_app, DESKTOP) as page:
        before = balance(page)
        assert before == runtime.accounts.account(runtime.settings.local_username).credits
        page.locator("#tier").get_by_text(re.compile(r"^Basic ·")).click()
        expect(page.locator("#cost")).to_contain_text(f"Cost: {basic.credit_cost} credits", timeout=WAIT_MS)
        cost = shown_number(page, "#cost", r"Cost: (\d+) credits")
        done_before = [row.id for row in rows(served_app) if row.status == "completed"]

        generate(page, "astronaut.png")
        generation_id = finished(page)

        avatar = page.locator("#results img")
        expect(avatar).to_have_count(1, timeout=WAIT_MS)
        expect(avatar).to_have_js_property("complete", True, timeout=WAIT_MS)
        assert avatar.evaluate("image => image.naturalWidth") == basic.width
        expect(page.locator("#results")).to_contain_text(
            re.compile(r"Avatar 1 of 1 · Photographic \(Default\) · Basic tier · preview · Likeness \d+% ✓")
        )
        details = page.locator("#details")
        for shown in (
            f"Basic tier · {basic.width}×{basic.height} · 1 image",  # the preview engine: not PhotoMaker V2's name
            f"{cost} credits charged · {before - cost} left",
            "engine preview",
        ):
            expect(details).to_contain_text(shown)
        expect(details).to_contain_text(re.compile(r"Looks like you\? 1: Likeness \d+% ✓"))
        expect(page.locator("#cost")).to_contain_text(f"you have {before - cost}", timeout=WAIT_MS)
        assert balance(page) == before - cost
        page.get_by_role("button", name="All details").click()
        expect(page.locator("#details-json")).to_contain_text(re.compile(r'"status"\s*:\s*"completed"'))
        expect(page.locator("#details-json")).to_contain_text(re.compile(r'"tier"\s*:\s*"basic"'))
        shoot(page, shots, "generated")

    done = [row for row in rows(served_app) if row.status == "completed" and row.id not in done_before]
    assert [row.id for row in done] == [generation_id]
    assert done[0].credits_charged == cost
    assert done[0].model_key == basic.model_key
    assert done[0].likeness is not None and len(done[0].likeness) == 1


def test_a_photo_without_a_face_is_refused_and_costs_nothing(
    browser: Browser, served_app: ServedApp, shots: Path
) -> None:
    with visit(browser, served_app, DESKTOP) as page:
        before = balance(page)
        generate(page, "chelsea.png")
        details = page.locator("#details")
        expect(details).to_contain_text("Refused", timeout=GENERATE_MS)
        expect(details).to_contain_text("We could not find a face in chelsea.png")
        expect(details).to_contain_text("Nothing was charged.")
        expect(details).to_contain_text("code NO_FACE")
        expect(page.locator("#results img")).to_have_count(0)
        expect(page.locator("#rating")).to_be_hidden()
        assert balance(page) == before
        shoot(page, shots, "refused")

    refused = rows(served_app)[-1]
    assert (refused.status, refused.error_code, refused.credits_charged) == ("rejected", "NO_FACE", 0)
    username = served_app.runtime.settings.local_username
    assert served_app.runtime.accounts.account(username).credits == before


def rating_of(app: ServedApp, generation_id: int) -> int | None:
    with app.runtime.database.reading() as session:
        row = generation_queries.get(session, generation_id)
        assert row is not None
        return row.rating


def test_a_rating_is_confirmed_on_the_page_and_stored(browser: Browser, served_app: ServedApp, shots: Path) -> None:
    with visit(browser, served_app, DESKTOP) as page:
        generate(page, "astronaut.png")
        generation_id = finished(page)
        stars = page.locator("#rating")
        expect(stars).to_be_visible(timeout=WAIT_MS)
        assert rating_of(served_app, generation_id) is None

        stars.get_by_text("★★★★", exact=True).click()
        expect(page.locator("#rating-note")).to_contain_text(
            f"Thanks! Generation #{generation_id}: ★★★★. Pick again to change it.", timeout=WAIT_MS
        )
        assert rating_of(served_app, generation_id) == 4

        stars.get_by_text("★★", exact=True).click()
        expect(page.locator("#rating-note")).to_contain_text(
            f"Generation #{generation_id}: ★★ (was ★★★★)", timeout=WAIT_MS
        )
        assert rating_of(served_app, generation_id) == 2
        shoot(page, shots, "rated")

"""The local app as a person uses it in a browser: a generation from a real photo, a refusal, a rating, the charts.

test_generate_tab.py calls the page's handlers in-process; here a headless Chromium uploads the photo
through the page's own file input, presses the buttons and reads what the page then shows, and the
database is checked to hold what the page says. The app is the offline one of conftest.py's
`served_app` (preview engine, SQLite, the local user, no sign-in). The setup is `browsing`'s, which
skips this module without Playwright or Chromium.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from photomaker.monitoring import demo_history
from photomaker.store import accounts as users
from photomaker.store import generations
from photomaker.store.models import Generation
from tests.conftest import FIXTURES
from tests.serving import ServedApp
from tests.ui.browsing import DESKTOP, WAIT_MS, Browser, Page, expect, monitoring_tab, shoot, visit

GENERATE_MS = 60_000
"""A preview generation takes a few seconds; this leaves room for a busy 2-core machine."""
PROMPT = "a professional headshot, studio lighting"
CHARTS = ("success", "latency", "likeness", "failures", "volume", "ratings")
"""The Monitoring tab's plots, `#chart-<name>`."""

PLOT_FIGURES = """chart => {
    const size = element => {
        const box = element ? element.getBoundingClientRect() : {width: 0, height: 0};
        return [box.width, box.height];
    };
    const marks = [...chart.querySelectorAll('.cartesianlayer .trace .point')].filter(mark => {
        const box = mark.getBoundingClientRect();
        return box.width > 0 && box.height > 0;
    });
    return {
        svg: size(chart.querySelector('svg.main-svg')),
        area: size(chart.querySelector('.draglayer .nsewdrag')),
        marks: marks.length,
        message: [...chart.querySelectorAll('.annotation')].map(note => note.textContent).join(' '),
    };
}"""
"""What a plotly plot drew: the figure's and the plot area's size in pixels, how many points and bars have a size,
and the text of its annotations (only an empty chart has one, saying "No ... yet")."""


def shown_number(page: Page, selector: str, pattern: str) -> int:
    """The number in `pattern`'s group, as the element at `selector` shows it."""
    text = page.locator(selector).inner_text()
    found = re.search(pattern, text)
    assert found, text
    return int(found.group(1))


def balance(page: Page) -> int:
    """The credits the page says the user has (the line above the Generate button)."""
    return shown_number(page, "#cost", r"you have (\d+)")


def generate(page: Page, photo: str) -> None:
    """Upload `photo` from tests/fixtures through the page's file input, write the prompt, press Generate."""
    page.locator("#photos input[type=file]").set_input_files(FIXTURES / photo)
    expect(page.locator("#photos img")).to_have_count(1, timeout=WAIT_MS)
    page.locator("#prompt textarea").fill(PROMPT)
    page.get_by_role("button", name="Generate avatars").click()


def finished(page: Page) -> int:
    """Wait for a generation's summary; the generation's id it names."""
    expect(page.locator("#details")).to_contain_text(re.compile(r"Generation #\d+"), timeout=GENERATE_MS)
    return shown_number(page, "#details", r"Generation #(\d+)")


def rows(app: ServedApp) -> list[Generation]:
    """The local user's generations, oldest first."""
    with app.runtime.database.reading() as session:
        user = users.find_user(session, app.runtime.settings.local_username)
        assert user is not None and user.id is not None
        return [row for row, _ in generations.of_user(session, user_id=user.id)]


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
        expect(page.locator("#results")).to_contain_text(re.compile(r"Avatar 1 \(preview\) · Likeness \d+% ✓"))
        details = page.locator("#details")
        for shown in (
            f"{basic.name} · {basic.width}×{basic.height} · 1 image(s)",
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
        row = generations.get(session, generation_id)
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


def test_the_monitoring_tab_draws_every_chart(browser: Browser, served_app: ServedApp, shots: Path) -> None:
    demo_history.fill(served_app.runtime.database, days=3, per_day=20, seed=0)
    with visit(browser, served_app, DESKTOP) as page:
        monitoring_tab(page).click()
        expect(page.locator("#monitoring-headline")).to_contain_text("Total generations", timeout=WAIT_MS)
        expect(page.locator(".js-plotly-plot")).to_have_count(len(CHARTS), timeout=WAIT_MS)
        drawn: dict[str, Any] = {}
        for name in CHARTS:
            chart = page.locator(f"#chart-{name}")
            expect(chart.locator(".cartesianlayer .trace").first).to_be_attached(timeout=WAIT_MS)
            drawn[name] = chart.evaluate(PLOT_FIGURES)
        shoot(page, shots, "monitoring")

    for name, figures in drawn.items():
        assert min(figures["svg"]) > 0 and min(figures["area"]) > 0, (name, figures)
        assert figures["marks"] > 0, (name, figures)
        assert figures["message"] == "", (name, figures)

"""The page on a phone (390x844) and a laptop (1400x900): nothing hidden, nothing cut, every figure honest.

A headless Chromium opens the offline app of conftest.py's `served_app` at both sizes, generates four avatars
through the page and measures what it drew: the page as wide as the screen, the title on whole words, the
controls in the order a person fills them, each avatar whole with its caption (and its PREVIEW badge) in view,
no toast over the results, and every chart of the Monitoring tab drawn. Screenshots of both tabs at both sizes
are left in build/screenshots (see `browsing.screenshots_folder`). The setup is `browsing`'s, which skips this
module without Playwright or Chromium.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from stand_ins.serving import ServedApp
from tests.ui.browsing import (
    BOTH_SIZES,
    WAIT_MS,
    Browser,
    Page,
    expect,
    finished,
    generate,
    monitoring_tab,
    shoot,
    visit,
)

IN_ORDER = {"photos": "#photos", "prompt": "#prompt", "tier": "#tier", "generate": "#generate"}
"""What a person fills in, in the order they fill it: on the page from top to bottom, and for the Tab key."""
CHARTS = ("success", "latency", "likeness", "failures", "volume", "ratings")
"""The Monitoring tab's plots, `#chart-<name>`."""

PAGE_WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"
BROKEN_WORDS = r"""element => {
    // A word that wraps inside itself has boxes on two lines.
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    const broken = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const word of node.textContent.matchAll(/\S+/g)) {
            const range = document.createRange();
            range.setStart(node, word.index);
            range.setEnd(node, word.index + word[0].length);
            if (new Set([...range.getClientRects()].map(box => Math.round(box.top))).size > 1) broken.push(word[0]);
        }
    }
    return broken;
}"""
FOCUSED = """targets => {
    const holds = ([, selector]) => document.querySelector(selector)?.contains(document.activeElement);
    const found = Object.entries(targets).find(holds);
    return found ? found[0] : null;
}"""
"""Which of `targets` (name: selector) holds the keyboard focus, if any."""
GALLERY = """(gallery, captioned) => {
    const box = element => { const b = element.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
    const wrap = gallery.querySelector('.grid-wrap');
    return {
        gallery: box(gallery),
        scrolls: wrap.scrollHeight > wrap.clientHeight + 1,
        items: [...gallery.querySelectorAll('.thumbnail-item')].map(item => {
            const image = item.querySelector('img');
            const caption = item.querySelector('.caption-label');
            return {
                image: box(image),
                natural: [image.naturalWidth, image.naturalHeight],
                fit: getComputedStyle(image).objectFit,
                alt: image.alt,
                caption: caption ? box(caption) : null,
            };
        }),
    };
}"""
"""Where a gallery and each of its images and captions are drawn, and whether the gallery scrolls."""
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


def assert_fits(page: Page) -> None:
    """No horizontal scrolling: the page is exactly as wide as the screen."""
    width, viewport = page.evaluate(PAGE_WIDTH)
    assert width == viewport, f"the page is {width} px wide on a {viewport} px screen"


def tab_order(page: Page) -> list[str]:
    """The controls of `IN_ORDER` in the order the Tab key reaches them, from the top of the page."""
    page.locator("body").focus()
    reached: list[str] = []
    for _ in range(120):
        page.keyboard.press("Tab")
        name = page.evaluate(FOCUSED, IN_ORDER)
        if name and name not in reached:
            reached.append(name)
        if name == "generate":
            break
    return reached


def inside(inner: list[float], outer: list[float]) -> bool:
    left, top, right, bottom = inner
    return left >= outer[0] - 1 and top >= outer[1] - 1 and right <= outer[2] + 1 and bottom <= outer[3] + 1


def assert_whole_with_captions_under(drawn: dict[str, Any]) -> None:
    """Each image uncropped (drawn at its own shape, so its corners and badge show) inside the gallery, its
    caption under it rather than over it, and nothing hidden behind the gallery's scrolling."""
    assert not drawn["scrolls"], "the gallery hides some of its images behind a scroll bar"
    for item in drawn["items"]:
        left, top, right, bottom = item["image"]
        width, height = item["natural"]
        assert width and height, "every image has loaded"
        assert item["fit"] == "contain"
        assert abs((right - left) / (bottom - top) - width / height) < 0.02, item
        assert inside(item["image"], drawn["gallery"]), item
        assert item["caption"] is not None and item["caption"][1] >= bottom - 1, "the caption covers the image"
        assert inside(item["caption"], drawn["gallery"]), item


@BOTH_SIZES
def test_the_page_fits_the_screen_and_reads_in_order(
    browser: Browser, served_app: ServedApp, shots: Path, viewport: dict[str, int]
) -> None:
    with visit(browser, served_app, viewport) as page:
        assert_fits(page)
        title = page.locator("#title h1")
        assert title.evaluate(BROKEN_WORDS) == [], "the title breaks inside a word"
        assert title.evaluate("h1 => h1.scrollWidth <= h1.clientWidth"), "the title runs out of its box"
        style = page.locator("#styles .token").first
        assert style.evaluate("token => token.scrollWidth <= token.clientWidth"), "the style's name is cut short"
        tops = [page.locator(selector).bounding_box() for selector in IN_ORDER.values()]
        assert all(box is not None for box in tops)
        assert [box["y"] for box in tops if box] == sorted(box["y"] for box in tops if box)
        assert tab_order(page) == list(IN_ORDER)
        generate_button = page.locator("#generate")
        generate_button.scroll_into_view_if_needed()
        expect(generate_button).to_be_in_viewport()
        assert_fits(page)


@BOTH_SIZES
def test_four_avatars_show_whole_with_their_badges_and_no_toast_over_them(
    browser: Browser, served_app: ServedApp, shots: Path, viewport: dict[str, int]
) -> None:
    with visit(browser, served_app, viewport) as page:
        page.locator("#tier").get_by_text(re.compile(r"^Pro ·")).click()
        generate(page, "astronaut.png", images=4)
        generation_id = finished(page)
        results = page.locator("#results")
        images = results.locator(".thumbnail-item img")
        expect(images).to_have_count(4, timeout=WAIT_MS)
        for index in range(4):
            expect(images.nth(index)).to_have_js_property("complete", True, timeout=WAIT_MS)
        expect(results).to_be_in_viewport()  # the page scrolls to them if they are out of sight
        drawn = results.evaluate(GALLERY)
        assert_whole_with_captions_under(drawn)
        alts = [item["alt"] for item in drawn["items"]]
        for number, alt in enumerate(alts, start=1):
            assert re.fullmatch(
                rf"Avatar {number} of 4 · Photographic \(Default\) · Pro tier · preview · Likeness \d+%.*", alt
            ), alt
        # The photo's face is small: the note says so inline, with the details, not in a toast over the results.
        expect(page.locator("#details")).to_contain_text("the face is only")
        expect(page.locator(".toast-body")).to_have_count(0)
        expect(results.get_by_role("button", name=re.compile("download all", re.IGNORECASE))).to_be_visible()

        history = page.locator("#history")
        expect(history.locator(".thumbnail-item img").first).to_have_attribute(
            "alt", re.compile(rf"#{generation_id} · Avatar 4 · "), timeout=WAIT_MS
        )
        first_row = history.evaluate(GALLERY)["items"][:2]
        for item in first_row:
            assert item["caption"] is not None and item["caption"][1] >= item["image"][3] - 1, "a caption covers it"
        assert_fits(page)
        shoot(page, shots, "generate")


@BOTH_SIZES
def test_the_monitoring_tab_draws_every_chart(
    browser: Browser, with_history: ServedApp, shots: Path, viewport: dict[str, int]
) -> None:
    with visit(browser, with_history, viewport) as page:
        monitoring_tab(page).click()
        expect(page.locator("#monitoring-headline")).to_contain_text("Total generations", timeout=WAIT_MS)
        expect(page.locator(".js-plotly-plot")).to_have_count(len(CHARTS), timeout=WAIT_MS)
        drawn: dict[str, Any] = {}
        for name in CHARTS:
            chart = page.locator(f"#chart-{name}")
            expect(chart.locator(".cartesianlayer .trace").first).to_be_attached(timeout=WAIT_MS)
            drawn[name] = chart.evaluate(PLOT_FIGURES)
        assert_fits(page)
        shoot(page, shots, "monitoring")

    for name, figures in drawn.items():
        assert min(figures["svg"]) > 0 and min(figures["area"]) > 0, (name, figures)
        assert figures["marks"] > 0, (name, figures)
        assert figures["message"] == "", (name, figures)

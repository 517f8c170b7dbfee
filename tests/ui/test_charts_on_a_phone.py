"""The Monitoring charts as plotly.js draws them in Chromium, 390 px wide: every plot area keeps room beside
its title, axes and legend rows, every marker lies whole inside it (a lone point at the window's end too),
and no bar fills its chart. The setup is `browsing`'s, which skips this module without Playwright or Chromium.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import plotly.offline
from plotly import graph_objects as go

from photomaker.monitoring import chart_look, charts, dashboard, demo_history, views
from photomaker.startup.records import seed_models
from photomaker.store import Database
from tests.known_history import NOW, make_known_history
from tests.ui.browsing import PHONE, Browser, shoot

MIN_PLOT_PX = 120
"""The least height and width a plot area may keep on a phone."""
MEASURE = """() => Array.from(document.querySelectorAll('.chart')).map(chart => {
    const area = chart.querySelector('.nsewdrag');
    const box = (element) => { const r = element.getBoundingClientRect();
        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height}; };
    return {
        name: chart.id,
        area: area ? box(area) : null,
        markers: Array.from(chart.querySelectorAll('.scatterlayer .points path')).map(box),
        bars: Array.from(chart.querySelectorAll('.barlayer .point path')).map(box),
    };
})"""


def _figures(tmp_path: Path) -> dict[str, go.Figure]:
    """A month of demo history (four tiers: the longest legends), the known day, and lone points and bars."""
    figures: dict[str, go.Figure] = {}
    for name, fill in (("demo", _demo), ("known", make_known_history)):
        database = Database.connect(f"sqlite:///{tmp_path / name}.db")
        database.migrate()
        fill(database)
        window = "30d" if name == "demo" else "24h"
        board = dashboard.read(database, views.View(window=window), now=NOW)
        figures |= {f"{name}-{chart}": figure for chart, figure in charts.all_figures(board).items()}
        database.dispose()
    hour = NOW.replace(minute=0)
    day = (hour, NOW)  # all time with one point, in the current hour: the point starts the span
    lone = dashboard.LatencyPoint(start=hour, completed=100, p50_s=0.35, p95_s=0.368)
    figures["lone-latency"] = charts.latency({"pro": [lone]}, day, period_hours=1)
    success = dashboard.SuccessPoint(start=hour, completed=1, failed=0)
    figures["lone-success"] = charts.success_rate([success], day, period_hours=1)
    figures["lone-failure"] = charts.failures({"GENERATION_TIMEOUT": 1}, {})
    figures["empty"] = chart_look.empty(
        "Success rate over time", "No completed or failed generations in this window yet"
    )
    return figures


def _demo(database: Database) -> None:
    seed_models(database)
    demo_history.fill(database, days=30, per_day=40, seed=2, now=NOW)


def _page(figures: dict[str, go.Figure]) -> str:
    charts_html = "".join(
        f'<div class="chart" id="{name}"></div><script>(function(f){{Plotly.newPlot("{name}", f.data, f.layout, '
        f"{{responsive: true}});}})({json.dumps(figure.to_plotly_json(), default=str)});</script>"
        for name, figure in figures.items()
    )
    return (
        f'<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<script>{plotly.offline.get_plotlyjs()}</script></head><body style='margin:0'>{charts_html}</body></html>"
    )


def _inside(box: dict[str, float], area: dict[str, float]) -> bool:
    return (
        box["left"] >= area["left"] - 0.5
        and box["right"] <= area["right"] + 0.5
        and box["top"] >= area["top"] - 0.5
        and box["bottom"] <= area["bottom"] + 0.5
    )


def test_every_chart_keeps_its_plot_area_markers_and_narrow_bars_on_a_phone(
    browser: Browser, tmp_path: Path, shots: Path
) -> None:
    figures = _figures(tmp_path)
    page_file = tmp_path / "charts.html"
    page_file.write_text(_page(figures))
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(page_file.as_uri())
        page.wait_for_function(f"document.querySelectorAll('.chart .main-svg').length >= {len(figures)}")
        found: list[dict[str, Any]] = page.evaluate(MEASURE)
        shoot(page, shots, "charts")
    finally:
        context.close()
    assert [chart["name"] for chart in found] == list(figures)
    for chart in found:
        name, area = chart["name"], chart["area"]
        if name == "empty" or not figures[name].data:
            continue  # a message, no axes
        assert area["height"] >= MIN_PLOT_PX and area["width"] >= MIN_PLOT_PX, (name, area)
        assert chart["markers"] or chart["bars"], name
        assert all(_inside(marker, area) for marker in chart["markers"]), name
        horizontal = name.endswith("failure") or name.endswith("failures")
        for bar in chart["bars"]:
            share = bar["height"] / area["height"] if horizontal else bar["width"] / area["width"]
            assert share <= 0.25 + 1e-6, (name, share)

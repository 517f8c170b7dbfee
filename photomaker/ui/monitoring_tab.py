"""The Monitoring tab: headline figures against the targets, charts, recent generations, CSV export.

Figures come from `metrics` (rollups) and `charts` (plotly); this module only lays them out,
refreshes them and formats the headline cards. It refreshes when the tab is opened, on every
filter change and on a timer that runs only while the tab is open (and can be paused), so
visitors who never open it cost nothing.
"""

from __future__ import annotations

import html
from typing import Any

import gradio as gr

from photomaker.core.runtime import Runtime
from photomaker.monitoring import charts, dashboard, exports, targets, views
from photomaker.store.models import utcnow
from photomaker.ui.cache import served_download
from photomaker.ui.errors import shown_to_user
from photomaker.ui.identity import operator

REFRESH_SECONDS = 15
VERDICTS = {True: ("✓ met", "met"), False: ("✗ missed", "missed"), None: ("· no data yet", "unknown")}
"""Each verdict's words and its class (`look` colours it for the light and the dark theme)."""


def _badge(checked: dict[str, Any]) -> str:
    """The verdict under a target; a figure the view cannot have says why instead of "no data yet"."""
    text, kind = VERDICTS[checked["met"]]
    if reason := checked.get("not_applicable"):
        text = f"· {reason}"
    return f'<span class="verdict verdict-{kind}">{html.escape(text)}</span>'


def _card(title: str, value: str, detail: str, *, badge: str = "") -> str:
    return (
        f'<div class="card"><div class="card-title">{html.escape(title)}</div>'
        f'<div class="card-value">{html.escape(value)}</div>'
        f'<div class="card-detail">{html.escape(detail)}</div>{badge}</div>'
    )


def _target_detail(target: targets.Target, summary: dict[str, Any]) -> str:
    """The line under a target's value: the target, and what the figure was made of where it helps."""
    detail = f"target {targets.target_text(target)}"
    if target.key == "avg_rating":
        return f"{detail} · {summary['ratings']:,} ratings"
    if target.key == "likeness_ok_rate":
        median = targets.display("likeness_p50", summary["likeness_p50"])
        faceless = summary["avatars_without_face"]
        return f"of {summary['avatars_scored']:,} avatars scored · median likeness {median} · {detail}" + (
            f" · {faceless:,} with no face found" if faceless else ""
        )
    return detail


def headline_html(summary: dict[str, Any]) -> str:
    """The row of headline cards: totals, then each target with its value and verdict."""
    cards = [
        _card(
            "Total generations",
            f"{summary['total']:,}",
            f"{summary['completed']:,} completed · {summary['failed']:,} failed · {summary['rejected']:,} refused"
            + (f" · {summary['turned_away']:,} turned away" if summary["turned_away"] else ""),
        )
    ]
    for target in targets.TARGETS:
        checked = summary["targets"][target.key]
        value = targets.display(target.key, checked["value"])
        cards.append(_card(target.label, value, _target_detail(target, summary), badge=_badge(checked)))
    cards.append(_card("Credits spent", f"{summary['credits_spent']:,}", "on completed generations"))
    return f'<div id="headline">{"".join(cards)}</div>'


def empty_note(summary: dict[str, Any]) -> dict[str, Any]:
    """A friendly word when the window holds nothing yet."""
    if summary["total"]:
        return gr.update(visible=False)
    return gr.update(
        visible=True,
        value=(
            f"**Nothing to show for the {views.WINDOW_LABELS[summary['window']]} yet.** Make some avatars on the "
            "Generate tab, widen the time window, or fill a demo history with "
            "`python -m photomaker demo-history --days 30 --per-day 200`."
        ),
    )


DEFINITION_LABELS = {
    "total": "Total generations",
    "success_rate": "Success rate",
    "processing_s": "Average and p95 time",
    "adoption_rate": "Photo-to-avatar adoption",
    "avg_rating": "Satisfaction",
    "credits_spent": "Credits spent",
    "likeness_ok_rate": "Looks like the person",
    "likeness_p50": "Median likeness",
}


def definitions_markdown() -> str:
    """The definitions, under the names the cards use."""
    return "\n".join(f"- **{DEFINITION_LABELS.get(key, key)}**: {text}" for key, text in targets.DEFINITIONS.items())


def build_grant_form(runtime: Runtime) -> None:
    """The operators' form to grant or take back a user's credits, laid out and wired."""
    with gr.Accordion("Grant or take back credits", open=False):
        with gr.Row():
            grantee = gr.Textbox(label="Username", scale=2, elem_id="grant-user")
            amount = gr.Number(
                label="Credits", info="negative takes back", precision=0, scale=1, elem_id="grant-amount"
            )
            reason = gr.Textbox(label="Reason", scale=3, elem_id="grant-reason")
        grant = gr.Button("Apply", size="sm", scale=0, min_width=120, elem_id="grant")
        granted = gr.Markdown(elem_id="grant-outcome")

    def on_grant(username: str, credits: float | None, why: str, profile: gr.OAuthProfile | None = None) -> str:
        change = int(credits or 0)
        with shown_to_user():
            admin = operator(runtime, profile)
            balance = runtime.accounts.grant(username, change, reason=why, by=admin)
        return f"**{username.strip()}** now has **{balance:,} credits** ({change:+,})."

    grant.click(on_grant, [grantee, amount, reason], granted, api_name="ui_grant", api_visibility="private")


def _tick_while_open(timer: gr.Timer, *, auto_refresh: gr.Checkbox, tab: gr.Tab, tabs: gr.Tabs) -> None:
    """Auto-refresh runs only while the tab is open and the box is ticked."""

    def on_select(auto: bool, event: gr.SelectData) -> gr.Timer:
        return gr.Timer(active=auto and event.value == tab.label)

    tabs.select(on_select, auto_refresh, timer, api_name="ui_monitoring_timer", api_visibility="private")
    auto_refresh.change(
        lambda on: gr.Timer(active=on), auto_refresh, timer, api_name="ui_auto_refresh", api_visibility="private"
    )


def build_monitoring_tab(runtime: Runtime, *, tab: gr.Tab, tabs: gr.Tabs) -> None:
    """Lay out the tab inside `tab` (one of `tabs`) and wire its refreshes."""
    database = runtime.database
    with gr.Row(equal_height=False):
        window = gr.Radio(
            [(label.capitalize(), key) for key, label in views.WINDOW_LABELS.items()],
            value="7d",
            label="Time window",
            scale=3,
        )
        tier = gr.Dropdown(views.tiers(database), value=views.ALL_TIERS, label="Tier", scale=1)
        with gr.Column(scale=2, min_width=220):
            hide_synthetic = gr.Checkbox(False, label="Hide synthetic demo history")
            auto_refresh = gr.Checkbox(True, label=f"Auto-refresh every {REFRESH_SECONDS} s")
            refresh = gr.Button("Refresh now", size="sm")
    note = gr.Markdown(visible=False, elem_id="monitoring-empty")
    headline = gr.HTML(elem_id="monitoring-headline")
    with gr.Row():
        success_plot = gr.Plot(show_label=False, elem_id="chart-success")
        latency_plot = gr.Plot(show_label=False, elem_id="chart-latency")
        likeness_plot = gr.Plot(show_label=False, elem_id="chart-likeness")
    with gr.Row():
        failures_plot = gr.Plot(show_label=False, elem_id="chart-failures")
        volume_plot = gr.Plot(show_label=False, elem_id="chart-volume")
        ratings_plot = gr.Plot(show_label=False, elem_id="chart-ratings")
    recent = gr.Dataframe(label="Recent generations", interactive=False, wrap=True, elem_id="recent")
    with gr.Row():
        export = gr.Button("Export the window as CSV", size="sm", scale=0, min_width=260)
        exported = gr.File(label="CSV export", visible=False, scale=1)
    with gr.Accordion("How these figures are measured", open=False):
        gr.Markdown(definitions_markdown())
    build_grant_form(runtime)
    timer = gr.Timer(REFRESH_SECONDS, active=False)

    def view_of(window_value: str, tier_value: str, hide: bool) -> views.View:
        return views.View(window=window_value, tier=tier_value, include_synthetic=not hide)

    def show(window_value: str, tier_value: str, hide: bool, profile: gr.OAuthProfile | None = None) -> tuple[Any, ...]:
        view = view_of(window_value, tier_value, hide)
        with shown_to_user():
            operator(runtime, profile)
            board = dashboard.read(database, view)
            table = exports.recent(database, view)
        figures = charts.all_figures(board)
        return (
            empty_note(board.summary),
            headline_html(board.summary),
            *figures.values(),
            table,
        )

    def export_csv(
        window_value: str, tier_value: str, hide: bool, profile: gr.OAuthProfile | None = None
    ) -> dict[str, Any]:
        view = view_of(window_value, tier_value, hide)
        name = f"generations-{view.window}-{view.tier}-{utcnow().strftime('%Y%m%dT%H%M%SZ')}.csv"
        with shown_to_user():
            admin = operator(runtime, profile)
            served, rows = served_download(name, lambda path: exports.export_csv(database, view, path), owner=admin)
        gr.Info(f"Exported {rows:,} generations.")
        return gr.update(value=served, visible=True)

    filters = [window, tier, hide_synthetic]
    gr.on(
        [tab.select, refresh.click, window.change, tier.change, hide_synthetic.change, timer.tick],
        show,
        filters,
        [note, headline, success_plot, latency_plot, likeness_plot, failures_plot, volume_plot, ratings_plot, recent],
        api_name="ui_monitoring",
        api_visibility="private",
        show_progress="hidden",
        # One refresh at a time, in order: an earlier, slower refresh never overwrites a later filter's.
        concurrency_limit=1,
        trigger_mode="always_last",
        concurrency_id="monitoring",
    )

    _tick_while_open(timer, auto_refresh=auto_refresh, tab=tab, tabs=tabs)
    export.click(export_csv, filters, exported, api_name="ui_export_csv", api_visibility="private")

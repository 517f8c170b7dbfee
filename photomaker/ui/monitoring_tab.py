"""The Monitoring tab: headline figures against the targets, charts, recent generations, CSV export.

Figures come from `dashboard` (rollups) and `charts` (plotly), its words from `monitoring_cards`; this module
lays them out and refreshes them. It refreshes when the tab is opened, on every filter change and on a timer
that runs only while the tab is open (and can be paused), so visitors who never open it cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from photomaker.core.plurals import counted
from photomaker.monitoring import charts, dashboard, exports, views
from photomaker.startup.runtime import Runtime
from photomaker.store.models import utcnow
from photomaker.ui.cache import served_download
from photomaker.ui.errors import shown_to_user
from photomaker.ui.identity import operator
from photomaker.ui.monitoring_cards import definitions_markdown, empty_note, headline_html
from photomaker.ui.tables import table_html

REFRESH_SECONDS = 15
RECENT_NUMBERS = ("id", "time (s)", "credits charged", "rating")
"""The recent generations' columns that hold numbers (aligned right)."""


def view_of(window_value: str, tier_value: str, hide: bool) -> views.View:
    """The view the filters choose."""
    return views.View(window=window_value, tier=tier_value, include_synthetic=not hide)


def on_auto_refresh(on: bool) -> gr.Timer:
    """The refresh timer started or paused with the box."""
    return gr.Timer(active=on)


class MonitoringEvents:
    """The tab's events, bound to the app's runtime; each checks again that an operator is asking, since events
    can be called directly."""

    def __init__(self, runtime: Runtime, *, tab_label: str) -> None:
        self.runtime = runtime
        self.tab_label = tab_label

    def show(
        self, window_value: str, tier_value: str, hide: bool, profile: gr.OAuthProfile | None = None
    ) -> tuple[Any, ...]:
        """The note, headline cards, charts and recent generations of the chosen view."""
        view = view_of(window_value, tier_value, hide)
        with shown_to_user():
            operator(self.runtime, profile)
            board = dashboard.read(self.runtime.database, view)
            table = exports.recent(self.runtime.database, view)
        figures = charts.all_figures(board)
        return (
            empty_note(board.summary),
            headline_html(board.summary),
            *figures.values(),
            table_html(
                list(table.columns),
                list(table.itertuples(index=False, name=None)),
                caption="Recent generations",
                numbers=RECENT_NUMBERS,
                empty="No generations in this view yet.",
            ),
        )

    def export_csv(
        self, window_value: str, tier_value: str, hide: bool, profile: gr.OAuthProfile | None = None
    ) -> dict[str, Any]:
        """Every generation of the chosen view as a CSV, served to the operator who asked alone."""
        view = view_of(window_value, tier_value, hide)
        name = f"generations-{view.window}-{view.tier}-{utcnow().strftime('%Y%m%dT%H%M%SZ')}.csv"
        database = self.runtime.database
        with shown_to_user():
            admin = operator(self.runtime, profile)
            served, rows = served_download(name, lambda path: exports.export_csv(database, view, path), owner=admin)
        gr.Info(f"Exported {counted(rows, 'generation')}.")
        return gr.update(value=served, visible=True)

    def on_grant(self, username: str, credits: float | None, why: str, profile: gr.OAuthProfile | None = None) -> str:
        """Credits granted (or taken back) by the operator, and the user's new balance."""
        change = int(credits or 0)
        with shown_to_user():
            admin = operator(self.runtime, profile)
            balance = self.runtime.accounts.grant(username, change, reason=why, by=admin)
        return f"**{username.strip()}** now has **{balance:,} credits** ({change:+,})."

    def on_select(self, auto: bool, event: gr.SelectData) -> gr.Timer:
        """The refresh timer runs only while this tab is the open one (and auto-refresh is ticked)."""
        return gr.Timer(active=auto and event.value == self.tab_label)


@dataclass(frozen=True)
class MonitoringWidgets:
    """The tab's widgets that its events read or update."""

    window: gr.Radio
    tier: gr.Dropdown
    hide_synthetic: gr.Checkbox
    auto_refresh: gr.Checkbox
    refresh: gr.Button
    shown: list[Any]
    """What a refresh updates, in the order `MonitoringEvents.show` returns them."""
    export: gr.Button
    exported: gr.File
    timer: gr.Timer

    @property
    def filters(self) -> list[Any]:
        return [self.window, self.tier, self.hide_synthetic]


def build_grant_form(events: MonitoringEvents) -> None:
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
    grant.click(events.on_grant, [grantee, amount, reason], granted, api_name="ui_grant", api_visibility="private")


def _lay_out(runtime: Runtime, events: MonitoringEvents) -> MonitoringWidgets:
    """The filters, headline, charts, recent generations, export and definitions, and the grant form."""
    with gr.Row(equal_height=False):
        window = gr.Radio(
            [(label.capitalize(), key) for key, label in views.WINDOW_LABELS.items()],
            value="7d",
            label="Time window",
            scale=3,
        )
        tier = gr.Dropdown(views.tiers(runtime.database), value=views.ALL_TIERS, label="Tier", scale=1)
        with gr.Column(scale=2, min_width=220):
            hide_synthetic = gr.Checkbox(False, label="Hide synthetic demo history")
            auto_refresh = gr.Checkbox(True, label=f"Auto-refresh every {REFRESH_SECONDS} s")
            refresh = gr.Button("Refresh now", size="sm")
    note = gr.Markdown(visible=False, elem_id="monitoring-empty")
    headline = gr.HTML(elem_id="monitoring-headline")
    plots = []
    for row in (("success", "latency", "likeness"), ("failures", "volume", "ratings")):
        with gr.Row():
            plots += [gr.Plot(show_label=False, elem_id=f"chart-{name}") for name in row]
    recent = gr.HTML(elem_id="recent")
    with gr.Row():
        export = gr.Button("Export the window as CSV", size="sm", scale=0, min_width=260)
        exported = gr.File(label="CSV export", visible=False, scale=1)
    with gr.Accordion("How these figures are measured", open=False):
        gr.Markdown(definitions_markdown())
    build_grant_form(events)
    return MonitoringWidgets(
        window=window,
        tier=tier,
        hide_synthetic=hide_synthetic,
        auto_refresh=auto_refresh,
        refresh=refresh,
        shown=[note, headline, *plots, recent],
        export=export,
        exported=exported,
        timer=gr.Timer(REFRESH_SECONDS, active=False),
    )


def build_monitoring_tab(runtime: Runtime, *, tab: gr.Tab, tabs: gr.Tabs) -> None:
    """Lay out the tab inside `tab` (one of `tabs`) and wire its refreshes."""
    events = MonitoringEvents(runtime, tab_label=str(tab.label))
    widgets = _lay_out(runtime, events)
    gr.on(
        [
            tab.select,
            widgets.refresh.click,
            widgets.window.change,
            widgets.tier.change,
            widgets.hide_synthetic.change,
            widgets.timer.tick,
        ],
        events.show,
        widgets.filters,
        widgets.shown,
        api_name="ui_monitoring",
        api_visibility="private",
        show_progress="hidden",
        # One refresh at a time, in order: an earlier, slower refresh never overwrites a later filter's.
        concurrency_limit=1,
        trigger_mode="always_last",
        concurrency_id="monitoring",
    )
    # Auto-refresh runs only while the tab is open and the box is ticked.
    tabs.select(
        events.on_select, widgets.auto_refresh, widgets.timer, api_name="ui_monitoring_timer", api_visibility="private"
    )
    widgets.auto_refresh.change(
        on_auto_refresh, widgets.auto_refresh, widgets.timer, api_name="ui_auto_refresh", api_visibility="private"
    )
    widgets.export.click(
        events.export_csv, widgets.filters, widgets.exported, api_name="ui_export_csv", api_visibility="private"
    )

"""A user's own data on the page: where photos go, their credit history, download and delete."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from photomaker.accounts.account import CreditEntry, DeletionSummary
from photomaker.core.plurals import counted
from photomaker.engines.registry import entry_of
from photomaker.startup.runtime import Runtime
from photomaker.ui.actions import DATA_EXPORT_NAME, delete_data, export_file
from photomaker.ui.errors import shown_to_user
from photomaker.ui.generate_words import DELETE_UNTICKED
from photomaker.ui.identity import caller
from photomaker.ui.project_picker import Values
from photomaker.ui.tables import table_html

HISTORY_COLUMNS = ("when (UTC)", "what", "change", "balance")
"""The credit history's columns: four, so that a phone shows each line whole."""


def privacy_markdown(runtime: Runtime) -> str:
    """Where this app sends photos and prompts, and how long it keeps what it makes."""
    engine, text = runtime.service.engine, runtime.service.text_engine
    entry = entry_of(engine)
    destination = entry.photo_destination if entry else f"the `{engine.name}` engine"
    lines = [
        f"**Your photos** are sent to {destination}. Here they stay for your next generations in this tab, "
        f"seen by you alone, until you forget them, close the tab or leave them unused for "
        f"{runtime.settings.kept_photos_minutes:g} minutes.",
        f"**Your avatars** are kept for {runtime.settings.retention_days} days, then deleted. Only you can see "
        "them: they are shown to you alone and never served by a public address.",
    ]
    if text is not None:
        lines.append(f"**Text to Image prompts** are sent to the `{text.name}` engine on Hugging Face.")
    return "\n\n".join(lines)


def _what(entry: CreditEntry) -> str:
    """What a ledger line was: its kind, its generation, its note ("refund · generation #12 · ...")."""
    generation = "" if entry.generation_id is None else f"generation #{entry.generation_id}"
    return " · ".join(part for part in (entry.kind, generation, entry.note) if part)


def history_rows(entries: list[CreditEntry]) -> list[list[str]]:
    """Each ledger line as the history shows it: when, to the second; what it was; the change with its sign; the
    balance after it."""
    return [
        [entry.time.strftime("%Y-%m-%d %H:%M:%S"), _what(entry), f"{entry.delta:+d}", str(entry.balance_after)]
        for entry in entries
    ]


def history_html(entries: list[CreditEntry]) -> str:
    """The credit history, newest first, as a table whose values read whole on a phone."""
    return table_html(
        HISTORY_COLUMNS,
        history_rows(entries),
        caption="Credit history (newest first)",
        numbers=HISTORY_COLUMNS[2:],
        empty="No credits have moved yet.",
    )


def deleted_text(summary: DeletionSummary) -> str:
    """What *Delete my data* did, in counts people read ("1 avatar", "2 projects")."""
    return (
        f"Deleted {counted(summary.avatars_deleted, 'avatar')} and {counted(summary.projects_deleted, 'project')}; "
        f"the prompts of {counted(summary.generations_anonymised, 'generation')} are gone. "
        "Your credits are as they were."
    )


@dataclass(frozen=True)
class MyDataWidgets:
    """The section, and what *Delete my data* reads and updates."""

    section: gr.Accordion
    history: gr.HTML
    """The credit history."""
    confirm: gr.Checkbox
    delete: gr.Button
    outcome: gr.Markdown
    """What became of the last download or deletion."""

    @property
    def outputs(self) -> list[Any]:
        """What *Delete my data* updates in the section."""
        return [self.history, self.confirm, self.outcome]


class MyDataEvents:
    """The section's events, bound to the app's runtime; each acts for the signed-in caller alone.

    `emptied(username)` gives the updates that take what *Delete my data* deleted off the rest of the
    page (the Generate form's results, history, picker, photos), returned by the same event."""

    def __init__(
        self, runtime: Runtime, widgets: MyDataWidgets, *, emptied: Callable[[str], Values] = lambda username: {}
    ) -> None:
        self.runtime = runtime
        self.widgets = widgets
        self.emptied = emptied

    def on_open(self, profile: gr.OAuthProfile | None = None) -> str:
        """The caller's credit history, read when the section opens."""
        with shown_to_user():
            entries = self.runtime.accounts.credit_history(caller(self.runtime, profile))
        return history_html(entries)

    def on_download(self, profile: gr.OAuthProfile | None = None) -> dict[str, Any]:
        """A ZIP of the caller's data, served to them alone."""
        with shown_to_user():
            path = export_file(self.runtime, caller(self.runtime, profile))
        return gr.update(value=path, visible=True, label=DATA_EXPORT_NAME)

    def on_delete(self, data: Values, profile: gr.OAuthProfile | None = None) -> Values:
        """The caller's avatars, prompts and projects deleted, once they ticked the box, and at once off the whole
        page; the box unticked again. Their credit history is shown again, as it stands."""
        widgets = self.widgets
        if not data[widgets.confirm]:
            return {widgets.outcome: DELETE_UNTICKED}
        with shown_to_user():
            username = caller(self.runtime, profile)
            summary = delete_data(self.runtime, username)
        return {
            **self.emptied(username),
            widgets.confirm: False,
            widgets.outcome: deleted_text(summary),
            widgets.history: self.on_open(profile),
        }


def build_my_data(runtime: Runtime) -> MyDataWidgets:
    """Lay out the "Your credits and data" section inside the current Blocks and wire it, but for *Delete my
    data*, which also empties the Generate form (`generate_deletions` wires it). The page shows the section
    to signed-in users (everyone, off a Space)."""
    with gr.Accordion("Your credits and data", open=False, visible=not runtime.identity.sign_in_required) as section:
        gr.Markdown(privacy_markdown(runtime), elem_id="privacy")
        history = gr.HTML(history_html([]), elem_id="credit-history")
        with gr.Row():
            download = gr.Button("Download my data", size="sm", elem_id="download-my-data")
            exported = gr.File(label="Your data (ZIP)", visible=False)
        with gr.Row():
            confirm = gr.Checkbox(
                label="Yes, delete my avatars, prompts and projects for good (credits stay)", elem_id="confirm-delete"
            )
            delete = gr.Button("Delete my data", variant="stop", size="sm", elem_id="delete-my-data")
        outcome = gr.Markdown(elem_id="my-data-outcome")
    widgets = MyDataWidgets(section=section, history=history, confirm=confirm, delete=delete, outcome=outcome)
    events = MyDataEvents(runtime, widgets)
    section.expand(events.on_open, None, history, api_name="ui_credit_history", api_visibility="private")
    download.click(events.on_download, None, exported, api_name="ui_export_my_data", api_visibility="private")
    return widgets

"""A user's own data on the page: where photos go, their credit history, download and delete."""

from __future__ import annotations

from typing import Any

import gradio as gr

from photomaker.accounts.account import CreditEntry, DeletionSummary
from photomaker.core.plurals import counted
from photomaker.engines.registry import entry_of
from photomaker.startup.runtime import Runtime
from photomaker.ui.actions import DATA_EXPORT_NAME, delete_data, export_file
from photomaker.ui.errors import shown_to_user
from photomaker.ui.identity import caller
from photomaker.ui.tables import table_html

HISTORY_COLUMNS = ("when (UTC)", "what", "change", "balance")
"""The credit history's columns: four, so that a phone shows each line whole."""


def privacy_markdown(runtime: Runtime) -> str:
    """Where this app sends photos and prompts, and how long it keeps what it makes."""
    engine, text = runtime.service.engine, runtime.service.text_engine
    entry = entry_of(engine)
    destination = entry.photo_destination if entry else f"the `{engine.name}` engine"
    lines = [
        f"**Your photos** are sent to {destination}, and deleted here as soon as a generation has read them.",
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


class MyDataEvents:
    """The section's events, bound to the app's runtime; each acts for the signed-in caller alone."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

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

    def on_delete(self, confirmed: bool, profile: gr.OAuthProfile | None = None) -> tuple[Any, str]:
        """The caller's avatars, prompts and projects deleted, once they ticked the box; the box unticked again."""
        if not confirmed:
            return gr.skip(), "Tick the box first: deleting cannot be undone."
        with shown_to_user():
            summary = delete_data(self.runtime, caller(self.runtime, profile))
        return False, (
            f"Deleted {summary.avatars_deleted} avatar(s) and {summary.projects_deleted} project(s); the prompts of "
            f"{summary.generations_anonymised} generation(s) are gone. Your credits are as they were."
        )


def build_my_data(runtime: Runtime) -> gr.Accordion:
    """Lay out the "Your credits and data" section inside the current Blocks and wire it; returns the
    section, which the page shows to signed-in users (everyone, off a Space)."""
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
    events = MyDataEvents(runtime)
    section.expand(events.on_open, None, history, api_name="ui_credit_history", api_visibility="private")
    download.click(events.on_download, None, exported, api_name="ui_export_my_data", api_visibility="private")
    delete.click(events.on_delete, confirm, [confirm, outcome], api_name="ui_delete_my_data", api_visibility="private")
    return section

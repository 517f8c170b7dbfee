"""The page's two deletions, *Delete this project* and *Delete my data*, wired so that each takes what it deleted
off the whole page in the same event: the results (with their download, details and rating) when they showed it,
the history, the project picker and, for *Delete my data*, the photo box. Nothing deleted stays on screen until a
reload."""

from __future__ import annotations

from functools import partial
from typing import Any

from photomaker.startup.runtime import Runtime
from photomaker.ui.generate_form import GenerateForm
from photomaker.ui.my_data import MyDataEvents
from photomaker.ui.project_picker import ProjectPicker, Values


def all_deleted(form: GenerateForm, picker: ProjectPicker, username: str) -> Values:
    """The Generate form once all of `username`'s avatars and projects are gone: no results, an empty history and
    the default project, the photo box and the project tools emptied."""
    return {
        **form.no_results(),
        **picker.picker(username, None),
        form.photos: None,
        form.confirm_delete_project: False,
        form.project_note: "",
    }


def deletion_outputs(form: GenerateForm) -> list[Any]:
    """What *Delete my data* updates: the section's own widgets and `all_deleted`'s."""
    emptied = [form.project, form.history, form.photos, form.confirm_delete_project, form.project_note]
    return [*form.my_data.outputs, *form.results_outputs, *emptied]


def wire_deletions(runtime: Runtime, form: GenerateForm, picker: ProjectPicker) -> None:
    """*Delete this project* under the picker, and *Delete my data* in the user's own section."""
    form.delete_project.click(
        picker.on_delete_project,
        {form.project, form.confirm_delete_project, form.results},
        picker.deletion_outputs,
        api_name="ui_delete_project",
        api_visibility="private",
    )
    mine = form.my_data
    events = MyDataEvents(runtime, mine, emptied=partial(all_deleted, form, picker))
    mine.delete.click(
        events.on_delete,
        {mine.confirm},
        deletion_outputs(form),
        api_name="ui_delete_my_data",
        api_visibility="private",
    )

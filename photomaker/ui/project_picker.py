"""The project picker: which of the user's projects the next avatars are filed in and the history shows, a
name box to make a new one or rename the selected one, and *Delete this project*. Its widgets belong to the
Generate form."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from photomaker.accounts.projects import ProjectInfo
from photomaker.core.errors import PhotoMakerError
from photomaker.generation.params import PhotoParams, ProjectParams, label
from photomaker.startup.runtime import Runtime
from photomaker.store.projects import DEFAULT_PROJECT, MAX_PROJECT_NAME
from photomaker.ui.actions import delete_project
from photomaker.ui.cache import served_copy
from photomaker.ui.generate_words import (
    DELETE_UNTICKED,
    PROJECT_HELP,
    project_deleted,
    project_made,
    project_not_made,
    project_refused,
    project_renamed,
)
from photomaker.ui.identity import caller, viewer

if TYPE_CHECKING:
    from photomaker.ui.generate_form import GenerateForm

Values = dict[Any, Any]
"""The form's values (or updates) keyed by widget, as Gradio passes and takes them."""


def build_project_picker() -> dict[str, Any]:
    """The user's projects (filled in when the page loads), and a name box to make a new one or rename this one."""
    project = gr.Dropdown(
        [DEFAULT_PROJECT],
        value=DEFAULT_PROJECT,
        label=label(PhotoParams, "project"),
        info=PROJECT_HELP,
        elem_id="project",
    )
    with gr.Accordion("New project, rename or delete", open=False, elem_id="project-tools"):
        project_name = gr.Textbox(
            label=label(ProjectParams, "name"),
            placeholder="e.g. Holiday portraits",
            max_length=MAX_PROJECT_NAME,
            elem_id="project-name",
        )
        with gr.Row():
            new_project = gr.Button("New project", size="sm", elem_id="new-project")
            rename_project = gr.Button("Rename this project", size="sm", elem_id="rename-project")
        with gr.Row():
            confirm_delete_project = gr.Checkbox(
                label="Yes, delete the selected project and its avatars for good", elem_id="confirm-delete-project"
            )
            delete_project = gr.Button("Delete this project", variant="stop", size="sm", elem_id="delete-project")
        project_note = gr.Markdown(elem_id="project-note")
    return {
        "project": project,
        "project_name": project_name,
        "new_project": new_project,
        "rename_project": rename_project,
        "confirm_delete_project": confirm_delete_project,
        "delete_project": delete_project,
        "project_note": project_note,
    }


class ProjectPicker:
    """The picker's events, and the picker and history as any other event of the tab leaves them."""

    def __init__(self, runtime: Runtime, form: GenerateForm) -> None:
        self.runtime = runtime
        self.form = form

    def picker(self, username: str | None, wanted: str | None) -> Values:
        """The picker holding the user's projects (the default one while they have none) with `wanted` selected
        when it is one of them (else the oldest), and the history showing the selected one's avatars."""
        projects = [] if username is None else self.runtime.projects.list(username)
        names = [project.name for project in projects] or [DEFAULT_PROJECT]
        selected = wanted if wanted in names else names[0]
        chosen = next((project.id for project in projects if project.name == selected), None)
        history = (
            [] if username is None or chosen is None else self.runtime.gallery.history(username, project_id=chosen)
        )
        return {
            self.form.project: gr.update(choices=names, value=selected),
            self.form.history: [(served_copy(item.thumbnail), item.caption) for item in history],
        }

    def on_project(self, data: Values, profile: gr.OAuthProfile | None = None) -> Values:
        """Another project picked: its avatars in the history (and the list again, in case it changed elsewhere);
        a ticked *delete* box unticked, since it was ticked for the other project."""
        return {
            **self.picker(viewer(self.runtime, profile), data[self.form.project]),
            self.form.confirm_delete_project: False,
        }

    def on_new_project(self, data: Values, profile: gr.OAuthProfile | None = None) -> Values:
        """A new project named in the name box, selected; a refusal (a blank or taken name, no one signed in) is
        said under the box and changes nothing."""
        form = self.form
        try:
            username = caller(self.runtime, profile)
            made = self.runtime.projects.create(username, data[form.project_name])
        except PhotoMakerError as error:
            return {form.project_note: project_refused(error)}
        return {**self.picker(username, made.name), form.project_name: "", form.project_note: project_made(made.name)}

    def _named(self, username: str, name: str) -> ProjectInfo | None:
        """The user's project called `name`; None for one not made yet (the default, before a first generation)."""
        return next((project for project in self.runtime.projects.list(username) if project.name == name), None)

    def on_rename_project(self, data: Values, profile: gr.OAuthProfile | None = None) -> Values:
        """The selected project renamed to the name in the box; one not made yet (the default, before a first
        generation) is made with that name. Refusals as for a new project. Only the picker shows a project's
        name (the history's captions and the details do not), so the picker is all that changes."""
        form = self.form
        old = data[form.project]
        try:
            username = caller(self.runtime, profile)
            found = self._named(username, old)
            name = data[form.project_name]
            renamed = (
                self.runtime.projects.create(username, name)
                if found is None
                else self.runtime.projects.rename(username, found.id, name)
            )
        except PhotoMakerError as error:
            return {form.project_note: project_refused(error)}
        return {
            **self.picker(username, renamed.name),
            form.project_name: "",
            form.project_note: project_renamed(old, renamed.name),
        }

    def on_delete_project(self, data: Values, profile: gr.OAuthProfile | None = None) -> Values:
        """The selected project and its avatars deleted, once the box is ticked, and at once off the page: the
        oldest project left selected with its history, and the results taken down when they were its avatars.
        A refusal (box not ticked, one of its generations still being made, no one signed in) is said under the
        name box and changes nothing."""
        form = self.form
        name = data[form.project]
        if not data[form.confirm_delete_project]:
            return {form.project_note: DELETE_UNTICKED}
        try:
            username = caller(self.runtime, profile)
            found = self._named(username, name)
            if found is None:
                return {form.project_note: project_not_made(name)}
            deletion, copies = delete_project(self.runtime, username, found.id)
        except PhotoMakerError as error:
            return {form.project_note: project_refused(error)}
        shown = {Path(path).resolve().parent for path, _ in data[form.results] or []}
        return {
            **(form.no_results() if shown & set(copies) else {}),
            **self.picker(username, None),
            form.confirm_delete_project: False,
            form.project_note: project_deleted(name, deletion.avatars_deleted),
        }

    @property
    def outputs(self) -> list[Any]:
        """What a new project or a new name updates."""
        form = self.form
        return [form.project, form.history, form.project_name, form.project_note]

    @property
    def deletion_outputs(self) -> list[Any]:
        """What deleting a project updates."""
        form = self.form
        return [form.project, form.history, form.confirm_delete_project, form.project_note, *form.results_outputs]

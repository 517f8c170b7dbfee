"""The project picker: which of the user's projects the next avatars are filed in and the history shows, and a
name box to make a new one or rename the selected one. Its widgets belong to the Generate form."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr

from photomaker.core.errors import PhotoMakerError
from photomaker.generation.params import PhotoParams, ProjectParams, label
from photomaker.startup.runtime import Runtime
from photomaker.store.projects import DEFAULT_PROJECT, MAX_PROJECT_NAME
from photomaker.ui.cache import served_copy
from photomaker.ui.generate_words import PROJECT_HELP, project_made, project_refused, project_renamed
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
    with gr.Accordion("New project or new name", open=False, elem_id="project-tools"):
        project_name = gr.Textbox(
            label=label(ProjectParams, "name"),
            placeholder="e.g. Holiday portraits",
            max_length=MAX_PROJECT_NAME,
            elem_id="project-name",
        )
        with gr.Row():
            new_project = gr.Button("New project", size="sm", elem_id="new-project")
            rename_project = gr.Button("Rename this project", size="sm", elem_id="rename-project")
        project_note = gr.Markdown(elem_id="project-note")
    return {
        "project": project,
        "project_name": project_name,
        "new_project": new_project,
        "rename_project": rename_project,
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
        """Another project picked: its avatars in the history (and the list again, in case it changed elsewhere)."""
        return self.picker(viewer(self.runtime, profile), data[self.form.project])

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

    def on_rename_project(self, data: Values, profile: gr.OAuthProfile | None = None) -> Values:
        """The selected project renamed to the name in the box; one not made yet (the default, before a first
        generation) is made with that name. Refusals as for a new project."""
        form = self.form
        old = data[form.project]
        try:
            username = caller(self.runtime, profile)
            found = next((project for project in self.runtime.projects.list(username) if project.name == old), None)
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

    @property
    def outputs(self) -> list[Any]:
        """What a new project or a new name updates."""
        form = self.form
        return [form.project, form.history, form.project_name, form.project_note]

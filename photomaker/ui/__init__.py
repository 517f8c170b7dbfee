"""The Gradio app: `build_app()` lays out the page and API; `launch()` serves it.

The only package that imports gradio, and the only place our errors become `gr.Error`.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import gradio as gr

from photomaker.engines.base import Engine
from photomaker.engines.loading import Loading, LoadStatus, try_again_in
from photomaker.engines.registry import entry_of
from photomaker.faces import analysis as faces
from photomaker.images import decode_budget
from photomaker.startup.preflight import check_serving
from photomaker.startup.runtime import Runtime
from photomaker.ui import kept_photos
from photomaker.ui.api import register_api
from photomaker.ui.cache import expire_downloads
from photomaker.ui.generate_handlers import GenerateHandlers
from photomaker.ui.generate_tab import build_generate_tab
from photomaker.ui.generate_words import prompt_left_out
from photomaker.ui.identity import viewer
from photomaker.ui.monitoring_tab import build_monitoring_tab
from photomaker.ui.serving import Served, served
from photomaker.ui.signin import gradio_signs_in

STATE_ICONS = {"ready": "🟢", "loading": "⏳", "failed": "🔴"}
"""The engine's headline icon, by how far its model has loaded (engines that load nothing are ready)."""


def _engine_lines(engine: Engine) -> list[str]:
    """The photo engine as its registry entry describes it, and for one that loads its model, how far it has got."""
    entry = entry_of(engine)
    description = entry.description if entry else f"Avatars are made by the `{engine.name}` engine."
    if engine.preview:
        left_out = prompt_left_out(engine.name)
        return [f"🟡 **Preview engine (offline){_time_each(engine)}.** {description}"] + (
            [f"⚠️ {left_out}"] if left_out else []
        )
    status = engine.status() if isinstance(engine, Loading) else LoadStatus("ready", "")
    lines = [f"{STATE_ICONS[status.state]} **Engine: {engine.name}.** {description}"]
    if status.state == "loading":
        lines.append(f"**{status.message}** Avatars can be made once it is loaded. {try_again_in(status.wait_s)}")
    elif status.state == "failed":
        lines.append(f"⚠️ **{status.message}** No avatars can be made until this is fixed; see the server's log.")
    if status.warning:
        lines.append(f"⚠️ **{status.warning}**")
    if entry and entry.licence_note:
        lines.append(entry.licence_note)
    return lines


def engine_note(runtime: Runtime) -> str:
    """What makes the user's images: the engine, whether results are previews, its model loading, any start-up
    problem."""
    text_engine = runtime.service.text_engine
    lines = _engine_lines(runtime.service.engine)
    lines.append(
        f"Text to Image: `{text_engine.name}`."
        if text_engine
        else "Text to Image is off: it needs `HF_TOKEN` or `TEXT_TO_IMAGE_ENDPOINT_URL`."
    )
    lines += [
        f"⚠️ **The {check.engine.name} engine could not be reached at start-up:** {check.problem}. "
        "Generations with it fail (and are refunded) until this is fixed."
        for check in runtime.health
        if check.problem and not isinstance(check.engine, Loading)  # one that loads says how that went, above
    ]
    return "\n\n".join(lines)


def _time_each(engine: Engine) -> str:
    """ ", about 1-5 s per avatar" where the engine's registry entry knows its time (the preview's seconds)."""
    entry = entry_of(engine)
    if entry is None or entry.seconds_per_image is None:
        return ""
    low, high = entry.seconds_per_image
    return f", about {low}-{high} s per avatar"


def title_markdown(engine: Engine) -> str:
    """The page's title and what it makes: avatars with PhotoMaker V2, or where a preview engine runs, previews
    that are not."""
    made = f": offline previews{_time_each(engine)}, not by PhotoMaker V2" if engine.preview else " with PhotoMaker V2"
    return f"# PhotoMaker Studio\nTurn 1-4 photos of yourself into styled avatars{made}."


class PageOpening:
    """What opening the page shows: who is signed in, the Monitoring tab to operators alone, and the Generate tab
    as `generate` opens it for them."""

    def __init__(self, runtime: Runtime, *, who: gr.Markdown, monitoring: gr.Tab, generate: GenerateHandlers) -> None:
        self.runtime, self.who, self.monitoring, self.generate = runtime, who, monitoring, generate

    def on_load(self, data: dict[Any, Any], profile: gr.OAuthProfile | None = None) -> dict[Any, Any]:
        """The page for the user opening it (None: a visitor not signed in)."""
        username = viewer(self.runtime, profile)
        signed_in = f"Signed in as **{username}**" if username else "Not signed in: sign in to make avatars."
        operates = username is not None and self.runtime.identity.is_operator(username)
        return {self.who: signed_in, self.monitoring: gr.Tab(visible=operates), **self.generate.on_load(data, username)}

    @property
    def outputs(self) -> list[Any]:
        """What opening the page updates (see `on_load`)."""
        return [self.who, self.monitoring, *self.generate.load_outputs]


def build_app(runtime: Runtime) -> gr.Blocks:
    """The whole app: header, Generate and Monitoring tabs, and the API endpoints."""
    # Gradio's cache (uploads never used for a generation, copies of results) is emptied hourly.
    with gr.Blocks(title="PhotoMaker Studio", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        # The title takes the whole row on a phone, pushing who is signed in under it.
        with gr.Row():
            with gr.Column(scale=3, min_width=340):
                gr.Markdown(title_markdown(runtime.service.engine), elem_id="title")
            with gr.Column(min_width=200):
                if gradio_signs_in(runtime.settings):
                    gr.LoginButton()
                who = gr.Markdown(elem_id="who")
        with gr.Tabs() as tabs:
            with gr.Tab("Generate", id="generate"):
                generate = build_generate_tab(runtime, demo, engine_note=partial(engine_note, runtime))
            # Only operators see Monitoring; its handlers check again, since events can be called directly.
            with gr.Tab("Monitoring", id="monitoring", visible=not runtime.identity.sign_in_required) as monitoring:
                build_monitoring_tab(runtime, tab=monitoring, tabs=tabs)
        register_api(runtime)
        generate.form.note_timer.tick(
            generate.on_note, None, generate.note_outputs, api_name="ui_engine_note", api_visibility="private"
        )
        opening = PageOpening(runtime, who=who, monitoring=monitoring, generate=generate)
        demo.load(opening.on_load, generate.choice, opening.outputs, api_name="ui_load", api_visibility="private")
    return demo


def launch(demo: gr.Blocks, runtime: Runtime, *, host: str | None = None, port: int | None = None) -> Served:
    """Serve the app, the REST API (`/api/v1`) and Prometheus' `/metrics` on one port (`GRADIO_SERVER_NAME` and
    `GRADIO_SERVER_PORT` unless given), in a thread of this process; returns once it listens (`close()` stops it).

    Refuses settings it cannot serve with first (`SettingsError`: a taken port, uploads inside `DATA_DIR`); then
    starts the background work: housekeeping, the face workers.
    """
    settings = runtime.settings
    check_serving(settings, host=host, port=port)
    # Photos a page kept go after `KEPT_PHOTOS_MINUTES` unused; uploads nobody claimed (a process that died, a
    # request naming a file not its own) once older than any request; those of clients not signed in on a Space,
    # within seconds unless the client asked for something.
    sweep_uploads = partial(kept_photos.sweep, settings)
    sweep_uploads()
    runtime.housekeeping.start(chores=[sweep_uploads, expire_downloads])
    faces.WORKERS.start()  # loading the face models takes a second or two: not on the first generation
    decode_budget.share_heaps()  # before the server's threads start
    return served(demo, runtime, host=host, port=port).start()

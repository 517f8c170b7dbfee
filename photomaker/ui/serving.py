"""Serving the app: one ASGI app on one port, whose own middleware comes before anything of Gradio's.

Gradio's `launch()` builds its FastAPI app itself and puts its CORS middleware outermost, outside
anything handed to it, and that middleware tells a browser that any website may read the answers
it gets with the visitor's cookies (it echoes every `Origin` with credentials when the host is not
localhost). So the app is served as Gradio documents for an app with a CORS policy of its own: a
FastAPI app of ours whose middleware runs first (other websites refused, our CORS policy, body
limits), `/metrics` and the REST API as its routes, and the Gradio app mounted on it
(`gr.mount_gradio_app`, which leaves CORS to a parent that configures it), run by uvicorn.

The Gradio app is also an MCP server (`/gradio_api/mcp`, streamable HTTP): its tools are the API's endpoints
named in `mcp_tools.MCP_TOOLS`, each called through the app's own queue like any API call.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import gradio as gr
import uvicorn
from fastapi import FastAPI
from gradio.routes import App
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount

from photomaker.rest import rest_mount
from photomaker.startup.runtime import Runtime
from photomaker.ui import concurrency
from photomaker.ui.mcp_tools import serve_tools
from photomaker.ui.private_uploads import PrivateUploads
from photomaker.ui.routes import metrics_route
from photomaker.ui.signin import session_middleware
from photomaker.ui.theme import CSS, THEME
from photomaker.web.body_limit import BodyLimit
from photomaker.web.guard import CrossSiteGuard, allowed_origins

STARTUP_S = 30.0
"""How long `Served.start` waits for the server to listen."""
SHUTDOWN_S = 3
"""How long open connections (event streams) may keep a stopping server."""


def asgi_app(demo: gr.Blocks, runtime: Runtime) -> FastAPI:
    """The whole app as one ASGI app: our edge, `/metrics`, the REST API (`/api/v1`), and the page at `/`.

    No file under `DATA_DIR` is served by URL (it is blocked even if it lies in Gradio's own
    folders): avatars reach their owner as served copies of their own events' outputs.
    """
    settings = runtime.settings
    allowed = allowed_origins(settings)
    # Outermost first: other websites are refused before anything answers them, preflights included; the
    # allowed ones get CORS from us alone (Gradio leaves it to a parent that configures it); bodies are bounded.
    edge = [
        Middleware(CrossSiteGuard, allowed=allowed),
        Middleware(
            CORSMiddleware,
            allow_origins=sorted(allowed),
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            max_age=600,
        ),
        Middleware(BodyLimit, settings=settings),
    ]
    app = FastAPI(middleware=edge, openapi_url=None, docs_url=None, redoc_url=None)
    app.router.routes += [metrics_route(runtime), rest_mount(runtime)]
    demo.max_threads = concurrency.threads(runtime)  # read by queue() below
    gr.mount_gradio_app(
        app,
        demo.queue(default_concurrency_limit=None),  # generations carry their engine's limit (`concurrency`)
        path="/",
        blocked_paths=[str(settings.data_dir.resolve())],
        theme=THEME,
        css=CSS,
        footer_links=["api"],
        max_file_size=settings.max_photo_bytes,
        enable_monitoring=False,  # Gradio's own traffic monitoring is public; ours is the Monitoring tab
        mcp_server=True,
        # The uploads' middleware reads the signed-in session, inside Gradio's own on a real Space.
        app_kwargs={"middleware": [*session_middleware(settings), Middleware(PrivateUploads, settings=settings)]},
    )
    # A mounted Blocks is left as if never launched: Gradio then skips its checks of the files events take and
    # give (uploads only in, nothing of DATA_DIR out), and `close()` would not end the mounted app's streams.
    demo.app = _mounted(app)
    demo.has_launched = True
    serve_tools(demo)
    return app


def _mounted(app: FastAPI) -> App:
    """The Gradio app `mount_gradio_app` mounted on `app`."""
    for route in app.routes:
        if isinstance(route, Mount) and isinstance(route.app, App):
            return route.app
    raise LookupError("no Gradio app is mounted here")


@dataclass
class Served:
    """The app being served: where, and how to stop it."""

    demo: gr.Blocks
    server: uvicorn.Server
    url: str
    thread: threading.Thread | None = None

    def start(self) -> Served:
        """Serve in a thread of this process; returns once the server listens."""
        self.thread = threading.Thread(target=self.server.run, name="server", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + STARTUP_S
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"The server did not start on {self.url}; is the port free?")
            time.sleep(0.01)
        return self

    def wait(self) -> None:
        """Block until the server stops; Ctrl-C stops it."""
        try:
            while self.thread is not None and self.thread.is_alive():
                self.thread.join(timeout=1)
        except KeyboardInterrupt:
            self.close()

    def close(self) -> None:
        """Stop the queue and the server."""
        self.demo.close(verbose=False)
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=STARTUP_S)


def served(demo: gr.Blocks, runtime: Runtime, *, host: str | None = None, port: int | None = None) -> Served:
    """The app ready to serve on `host`:`port` (`GRADIO_SERVER_NAME`/`GRADIO_SERVER_PORT` unless given)."""
    host = host or runtime.settings.gradio_server_name
    port = port or runtime.settings.gradio_server_port
    config = uvicorn.Config(
        asgi_app(demo, runtime), host=host, port=port, log_level="warning", timeout_graceful_shutdown=SHUTDOWN_S
    )
    shown = "localhost" if host == "0.0.0.0" else host
    return Served(demo=demo, server=uvicorn.Server(config), url=f"http://{shown}:{port}/")

"""Our app served for real on 127.0.0.1, for API tests and the benchmarks."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from gradio_client import Client

from photomaker.core.settings import Settings
from photomaker.startup.runtime import Runtime, start_runtime
from photomaker.ui import build_app, launch


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ServedApp:
    runtime: Runtime
    url: str

    def client(self) -> Client:
        return Client(self.url, verbose=False)


@contextmanager
def serve(settings: Settings) -> Iterator[ServedApp]:
    """Start the app for `settings` on a free loopback port; stop it afterwards."""
    runtime = start_runtime(settings)
    demo = build_app(runtime)
    server = launch(demo, runtime, host="127.0.0.1", port=free_port())
    try:
        yield ServedApp(runtime=runtime, url=server.url)
    finally:
        server.close()
        runtime.close()

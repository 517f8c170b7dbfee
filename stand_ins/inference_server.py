"""A fake Hugging Face inference server: a real HTTP server on 127.0.0.1, scripted answer by answer.

Each POST gets the next scripted `Answer` (then the default one, an image) and is recorded, so a
test can say "503 twice, then an image" and check what the client sent. Used by the tests and
the benchmarks alike.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from PIL import Image

HOST = "127.0.0.1"


def png_bytes(*, width: int = 64, height: int = 64, colour: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class Answer:
    """One scripted HTTP answer, sent after `delay_s`."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0

    @classmethod
    def image(cls, *, width: int = 64, height: int = 64, delay_s: float = 0.0) -> Answer:
        return cls(200, png_bytes(width=width, height=height), {"Content-Type": "image/png"}, delay_s)

    @classmethod
    def image_file(cls, path: Path) -> Answer:
        """A real picture (a photo of someone, say), sent as PNG."""
        buffer = io.BytesIO()
        with Image.open(path) as image:
            image.convert("RGB").save(buffer, "PNG")
        return cls(200, buffer.getvalue(), {"Content-Type": "image/png"})

    @classmethod
    def json(cls, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Answer:
        return cls(status, json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def loading(cls, estimated_time: float) -> Answer:
        """What HF answers while a model loads."""
        return cls.json(503, {"error": "Model is currently loading", "estimated_time": estimated_time})

    @classmethod
    def rate_limited(cls, retry_after: str | None = None) -> Answer:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return cls.json(429, {"error": "Rate limit reached"}, headers)

    @classmethod
    def error(cls, status: int, message: str = "something went wrong") -> Answer:
        return cls.json(status, {"error": message})

    @classmethod
    def not_an_image(cls) -> Answer:
        """A 200 that claims to be a PNG but is a web page."""
        return cls(200, b"<html><body>Welcome to nginx!</body></html>", {"Content-Type": "image/png"})


@dataclass(frozen=True)
class Received:
    """One request the server got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class FakeInferenceServer:
    """Answers POSTs with scripted answers (default: an image); GETs with `health_status`."""

    def __init__(self, *, default: Answer | None = None) -> None:
        self.default = default or Answer.image()
        self.health_status = 200
        self.received: list[Received] = []
        self._script: deque[Answer] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((HOST, 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_port}/"

    def script(self, *answers: Answer) -> None:
        """The next POSTs get these answers, in order."""
        with self._lock:
            self._script.extend(answers)

    def posts(self) -> list[Received]:
        with self._lock:
            return [item for item in self.received if item.method == "POST"]

    def _next(self) -> Answer:
        with self._lock:
            return self._script.popleft() if self._script else self.default

    def _record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, as a real server sends them

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read `received`, not the console."""

            def _received(self, body: bytes) -> None:
                headers = {key.lower(): value for key, value in self.headers.items()}
                server._record(Received(self.command, self.path, headers, body))

            def _send(self, answer: Answer) -> None:
                if answer.delay_s:
                    time.sleep(answer.delay_s)
                try:
                    self.send_response(answer.status)
                    for key, value in answer.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def do_GET(self) -> None:
                self._received(b"")
                self._send(Answer.json(server.health_status, {"status": "ok"}))

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._received(body)
                self._send(server._next())

        return Handler

    def start(self) -> FakeInferenceServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeInferenceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

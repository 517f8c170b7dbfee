"""A stand-in for the Hugging Face Hub's `whoami`: `GET /api/whoami-v2` on 127.0.0.1.

It knows a few tokens and their users, answers 401 for any other, and counts the lookups, so tests
can check that a program's token is resolved once and then cached. With `hang=True` it never answers
for a token it does not know, as a Hub that has stopped answering, and counts the most lookups left
hanging at once (until their callers give up). Point `HF_ENDPOINT` (or `Settings.hf_endpoint`) at `url`.
"""

from __future__ import annotations

import json
import select
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _closed(connection: socket.socket) -> bool:
    """True once the other end has closed `connection`."""
    try:
        return bool(select.select([connection], [], [], 0)[0]) and not connection.recv(1, socket.MSG_PEEK)
    except OSError:
        return True


class FakeHub:
    """Serve `whoami-v2` for `tokens` (token -> username) on a free loopback port; `hang` for the others."""

    def __init__(self, tokens: dict[str, str], *, hang: bool = False) -> None:
        self.tokens = tokens
        self.hang = hang
        self.lookups: Counter[str] = Counter()
        self.hanging = self.most_hanging = 0
        self._lock = threading.Lock()
        self._closing = threading.Event()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                token = self.headers.get("authorization", "").removeprefix("Bearer ").strip()
                name = hub.tokens.get(token) if self.path.startswith("/api/whoami-v2") else None
                with hub._lock:
                    hub.lookups[token] += 1
                if name is None and hub.hang:
                    hub._hang_up_on(self.connection)
                    return
                if name is None:
                    body, status = {"error": "Invalid credentials in Authorization header"}, 401
                else:
                    body, status = {"type": "user", "name": name, "fullname": name.title(), "orgs": []}, 200
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                """Quiet: tests read `lookups` instead."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeHub:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def _hang_up_on(self, caller: socket.socket) -> None:
        """Answer nothing until the caller gives up (closes the connection) or the Hub closes."""
        with self._lock:
            self.hanging += 1
            self.most_hanging = max(self.most_hanging, self.hanging)
        while not self._closing.wait(0.02) and not _closed(caller):
            pass
        with self._lock:
            self.hanging -= 1

    @property
    def asked(self) -> int:
        """How many lookups it has been asked for, all tokens together."""
        return sum(self.lookups.values())

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

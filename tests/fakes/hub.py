"""A stand-in for the Hugging Face Hub's `whoami`: `GET /api/whoami-v2` on 127.0.0.1.

It knows a few tokens and their users, answers 401 for any other, and counts the lookups, so tests
can check that a program's token is resolved once and then cached. Point `HF_ENDPOINT` (or
`Settings.hf_endpoint`) at `url`.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeHub:
    """Serve `whoami-v2` for `tokens` (token -> username) on a free loopback port."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = tokens
        self.lookups: Counter[str] = Counter()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                token = self.headers.get("authorization", "").removeprefix("Bearer ").strip()
                name = hub.tokens.get(token) if self.path.startswith("/api/whoami-v2") else None
                hub.lookups[token] += 1
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

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

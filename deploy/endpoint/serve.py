"""The endpoint handler behind HTTP on a GPU machine of your own, answering as an Inference Endpoint does.

    python deploy/endpoint/serve.py --model-dir DIR --host 0.0.0.0 --port 8080

A POST (to any path) with the contract in docs/engines.md gives the image as PNG; parameters the handler
rejects give 400, photos without a face 422, and while the model loads in the background (from
--model-dir, else the hub's LOCAL_BASE_MODEL) 503 with `estimated_time`, which the `endpoint`
engine waits out. GET answers {"status": "ok"} for the engine's check. With ENDPOINT_TOKEN set,
every request needs `Authorization: Bearer <ENDPOINT_TOKEN>` (401 without it), except GET /health: 200
once the model is loaded, 503 while it loads and 500 when loading failed, for a platform's health checks
(Inference Endpoints sends traffic to a replica once its health route answers 200). The `Dockerfile`
beside it runs this as a custom container image.
"""

from __future__ import annotations

import argparse
import hmac
import io
import json
import logging
import os
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from handler import EndpointHandler, InvalidRequest

from photomaker.core.errors import BackendError, RefusedError
from photomaker.engines.local.loader import UNKNOWN_WAIT_S

log = logging.getLogger("photomaker.endpoint")

HEALTH_PATH = "/health"
HEALTH_STATUS = {
    "ready": HTTPStatus.OK,
    "loading": HTTPStatus.SERVICE_UNAVAILABLE,
    "failed": HTTPStatus.INTERNAL_SERVER_ERROR,
}
MAX_BODY_BYTES = 64 << 20
"""Four photos of at most 1024 px in base64 take a few MB."""


@dataclass(frozen=True)
class Reply:
    """An HTTP answer."""

    status: HTTPStatus
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(cls, status: HTTPStatus, message: str, **extra: Any) -> Reply:
        return cls(status, json.dumps({"error": message, **extra}).encode())


def reply(handler: EndpointHandler, body: bytes) -> Reply:
    """The answer to one POST body: the image, or the error status the `endpoint` engine translates."""
    try:
        data = json.loads(body)
    except ValueError as error:
        return Reply.error(HTTPStatus.BAD_REQUEST, f"The body must be JSON: {error}")
    try:
        image = handler(data)
    except InvalidRequest as error:
        return Reply.error(HTTPStatus.BAD_REQUEST, str(error))
    except RefusedError as refused:
        if refused.code == "MODEL_LOADING":
            wait = refused.retry_after if refused.retry_after is not None else UNKNOWN_WAIT_S
            return Reply.error(HTTPStatus.SERVICE_UNAVAILABLE, refused.message, estimated_time=wait)
        return Reply.error(HTTPStatus.UNPROCESSABLE_ENTITY, refused.message)
    except BackendError as failed:  # loading failed: the message says why
        return Reply.error(HTTPStatus.INTERNAL_SERVER_ERROR, failed.message)
    except Exception:
        log.exception("the handler failed")
        return Reply.error(HTTPStatus.INTERNAL_SERVER_ERROR, "The handler failed; see the server's log.")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return Reply(HTTPStatus.OK, buffer.getvalue(), "image/png")


def health(handler: EndpointHandler) -> Reply:
    """Whether the model is ready to serve, with the handler's own words on how far it has got."""
    status = handler.model.status()
    return Reply(HEALTH_STATUS[status.state], json.dumps({"status": status.state, "message": status.message}).encode())


def make_server(handler: EndpointHandler, *, host: str, port: int, token: str | None = None) -> ThreadingHTTPServer:
    """A threaded HTTP server for `handler` (port 0 picks a free one); call `serve_forever` on it."""
    expected = f"Bearer {token}".encode() if token else None

    class Requests(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == HEALTH_PATH:
                self._send(health(handler))
                return
            self._send(self._refusal() or Reply(HTTPStatus.OK, json.dumps({"status": "ok"}).encode()))

        def do_POST(self) -> None:
            refusal = self._refusal()
            if refusal is not None:
                self._send(refusal)
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self.close_connection = True  # the body is left unread
                self._send(Reply.error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"Send at most {MAX_BODY_BYTES} bytes."))
                return
            self._send(reply(handler, self.rfile.read(length)))

        def _refusal(self) -> Reply | None:
            given = self.headers.get("Authorization", "").encode()
            if expected is None or hmac.compare_digest(given, expected):
                return None
            message = "Send the endpoint's token as 'Authorization: Bearer <ENDPOINT_TOKEN>'."
            return Reply(
                HTTPStatus.UNAUTHORIZED, json.dumps({"error": message}).encode(), headers={"WWW-Authenticate": "Bearer"}
            )

        def _send(self, answer: Reply) -> None:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, template: str, *args: Any) -> None:
            log.info("%s " + template, self.address_string(), *args)

    return ThreadingHTTPServer((host, port), Requests)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve PhotoMaker V2 with the endpoint contract.")
    parser.add_argument("--model-dir", default="", help="weights in the LOCAL_MODEL_DIR layout (default: the hub)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = make_server(
        EndpointHandler(args.model_dir, wait=False),
        host=args.host,
        port=args.port,
        token=os.environ.get("ENDPOINT_TOKEN") or None,
    )
    log.info("serving PhotoMaker V2 on http://%s:%d/ (the model loads in the background)", args.host, args.port)
    server.serve_forever()


if __name__ == "__main__":
    main()

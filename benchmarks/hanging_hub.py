"""Whether a Hub that stops answering stalls the app: everyone else's latency while junk tokens wait on it.

A stand-in Hub on 127.0.0.1 answers `whoami` for one good token and never answers any other. The
app (`python app.py`, in a process of its own) runs as a Space with sign-in pointed at it
(`HF_ENDPOINT`), with the preview engine and SQLite in a temporary `DATA_DIR`. Once the good token
is known, 60 requests with junk tokens are sent at once (40 REST calls with a bearer, 20 Gradio API
`/account` calls with `oauth_token`); for the next `--window` seconds (and for 3 s before, for
comparison) four probes call again and again, each one call at a time: the page (`GET /`),
`/metrics` (with `METRICS_TOKEN`), REST `/me` for the known user and a signed-in browser's
`/account` (its session cookie). Prints JSON: p50 and max of each probe and how many of its calls
got no answer within `--wait` seconds, how long the junk requests took and what they got, how many
lookups reached the Hub, and whether a token appeared in the app's log.

    python -m benchmarks.hanging_hub                     # this checkout
    python -m benchmarks.hanging_hub --app-dir OTHER     # another checkout's app (e.g. main, for "before")
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from gradio_client import Client

from photomaker.core.settings import Settings
from photomaker.ui.signin import session_cookie

ROOT = Path(__file__).parents[1]
GOOD_TOKEN = "hf_benchmark_good_token_0001"
METRICS_TOKEN = "benchmark-metrics-token"
OAUTH = {"SPACE_ID": "studio/photomaker", "OAUTH_CLIENT_ID": "benchmark-client", "OAUTH_CLIENT_SECRET": "benchmark"}
JUNK_REST = 40
JUNK_GRADIO = 20
REST_ME = "/api/v1/me"
IDLE_S = 3.0
"""Seconds of probing before the junk is sent, for comparison."""


class HangingHub:
    """`whoami-v2` for `GOOD_TOKEN` (user "alice"); any other token is never answered until `close`."""

    def __init__(self) -> None:
        self.lookups = 0
        self._lock = threading.Lock()
        self._closing = threading.Event()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with hub._lock:
                    hub.lookups += 1
                if self.headers.get("authorization") != f"Bearer {GOOD_TOKEN}":
                    hub._closing.wait()
                    return
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"type": "user", "name": "alice"}')  # HTTP/1.0: the body ends with the connection

            def log_message(self, *args: object) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served_app(app_dir: Path, hub_url: str, folder: Path) -> Iterator[str]:
    """`python app.py` of `app_dir` as a Space with sign-in on a free port; its URL once the page answers."""
    port = _free_port()
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("HF_", "GRADIO_", "DATABASE_URL"))
    }
    environment |= OAUTH | {
        "METRICS_TOKEN": METRICS_TOKEN,
        "HF_ENDPOINT": hub_url,
        "HF_TOKEN": "",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "PHOTOMAKER_ENGINE": "preview",
        "DATA_DIR": str(folder / "data"),
        "GRADIO_TEMP_DIR": str(folder / "gradio"),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
    }
    with (folder / "app.log").open("w") as log:
        app = subprocess.Popen(
            [sys.executable, "app.py"], cwd=app_dir, env=environment, stdout=log, stderr=log, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while not _answers(url):
            if app.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start; see {folder / 'app.log'}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(app.pid, signal.SIGKILL)  # its own session: the app and its face workers
        app.wait()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _probe(call: Callable[[], bool], until: float, wait_s: float) -> dict[str, Any]:
    """Call again and again until `until`: p50 and max in ms, and the calls that failed or got no answer in time."""
    times, failed = [], 0
    one = ThreadPoolExecutor(1)
    while time.monotonic() < until:
        start = time.perf_counter()
        try:
            ok = one.submit(call).result(timeout=wait_s)
        except Exception:
            ok = False
        times.append(time.perf_counter() - start)
        failed += not ok
        if not ok and times[-1] >= wait_s:
            break  # the call still hangs, and holds the one thread
    one.shutdown(wait=False)
    return {
        "calls": len(times),
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "failed_or_unanswered": failed,
    }


def _measure(
    pool: ThreadPoolExecutor, probes: dict[str, Callable[[], bool]], until: float, wait_s: float
) -> dict[str, Any]:
    """Every probe, side by side, until `until`."""
    running = {name: pool.submit(_probe, call, until, wait_s) for name, call in probes.items()}
    return {name: future.result() for name, future in running.items()}


def _timed(call: Callable[[], Any]) -> tuple[str, float]:
    """What a junk request got (a status and our code, or our code from the Gradio API) and after how long."""
    start = time.monotonic()
    try:
        answer = call()
    except httpx.TimeoutException:
        outcome = "no answer"  # the client gave up (gradio_client's own timeout is shorter than --wait)
    except Exception as error:
        code = re.search(r"\[([A-Z_]+)\]", str(error))
        outcome = code[1] if code else type(error).__name__
    else:
        outcome = "ok"
        if isinstance(answer, httpx.Response):
            outcome = (
                f"{answer.status_code} {answer.json().get('code')}, Retry-After {answer.headers.get('retry-after')}"
            )
    return outcome, time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="the checkout whose app.py is served")
    parser.add_argument("--window", type=float, default=8.0, help="seconds of probing after the junk is sent")
    parser.add_argument("--wait", type=float, default=30.0, help="seconds any one call is waited for")
    arguments = parser.parse_args()
    hub = HangingHub()
    cookie = session_cookie(Settings(**{key.lower(): value for key, value in OAUTH.items()}), "bob")
    with tempfile.TemporaryDirectory() as folder, served_app(arguments.app_dir, hub.url, Path(folder)) as url:
        http = httpx.Client(base_url=url, timeout=arguments.wait)
        assert http.get(REST_ME, headers=_bearer(GOOD_TOKEN)).json()["username"] == "alice", "the good token known"
        signed_in = Client(url, verbose=False, ssl_verify=False, httpx_kwargs={"cookies": {"session": cookie}})
        junk_clients = [
            Client(url, verbose=False, ssl_verify=False, oauth_token=f"hf_junk_gradio_{n:04}")
            for n in range(JUNK_GRADIO)
        ]
        probes: dict[str, Callable[[], bool]] = {
            "page": lambda: http.get("/").status_code == 200,
            "metrics": lambda: http.get("/metrics", headers=_bearer(METRICS_TOKEN)).status_code == 200,
            "rest_known_user": lambda: http.get(REST_ME, headers=_bearer(GOOD_TOKEN)).status_code == 200,
            "signed_in_event": lambda: signed_in.predict(api_name="/account")["username"] == "bob",
        }
        with ThreadPoolExecutor(JUNK_REST + JUNK_GRADIO + len(probes)) as pool:
            idle = _measure(pool, probes, time.monotonic() + IDLE_S, arguments.wait)
            started = time.monotonic()
            junk = [
                pool.submit(_timed, partial(http.get, REST_ME, headers=_bearer(f"hf_junk_rest_{n:04}")))
                for n in range(JUNK_REST)
            ] + [pool.submit(_timed, partial(client.predict, api_name="/account")) for client in junk_clients]
            loaded = _measure(pool, probes, started + arguments.window, arguments.wait)
            wait(junk, timeout=max(0.0, started + arguments.wait - time.monotonic()))
            lookups = hub.lookups
            hub.close()  # frees what still hangs on it, so the pool can finish
            timed = [job.result() for job in junk]
        log = (Path(folder) / "app.log").read_text()
    outcomes = ["no answer" if seconds >= arguments.wait else outcome for outcome, seconds in timed]
    answered = sorted(seconds for outcome, (_, seconds) in zip(outcomes, timed, strict=True) if outcome != "no answer")
    print(
        json.dumps(
            {
                "app": str(arguments.app_dir),
                "junk_requests": {"rest": JUNK_REST, "gradio_account": JUNK_GRADIO},
                "probes_idle": idle,
                "probes_while_junk_waits": loaded,
                "junk": {
                    "outcomes": dict(Counter(outcomes)),
                    "answered_p50_s": round(statistics.median(answered), 2) if answered else None,
                    "answered_max_s": round(answered[-1], 2) if answered else None,
                },
                "hub_lookups": lookups,
                "a_token_in_the_apps_log": GOOD_TOKEN in log or "hf_junk_" in log,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

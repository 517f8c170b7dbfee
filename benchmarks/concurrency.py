"""16 generations at once through the app's API, against a fake HF server that takes 2 s for each.

Remote generations wait on the network, so the queue should run them side by side: the wall time
should be near 2 s, not 16 x 2 = 32 s. Runs Text to Image and Photo to Avatar (the latter also
checks the photos, finds their face and measures each result's likeness on the CPU), through
gradio_client against the served app (client and app share this process), after one warm-up call
each, then checks that the credits add up. Prints JSON.

The client skips loading the system's certificates: the URL is plain HTTP on the loopback, and
loading them for every request (gradio_client's default) cost this process, which is also the
server, about a second of CPU per burst.

    python -m benchmarks.concurrency
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from gradio_client import Client, handle_file
from pydantic import SecretStr

from photomaker.core.settings import Settings
from stand_ins.engine_inputs import FAKE_TOKEN
from stand_ins.inference_server import Answer, FakeInferenceServer
from stand_ins.serving import ServedApp, serve

ROOT = Path(__file__).parents[1]
PHOTO = ROOT / "tests" / "fixtures" / "astronaut.png"
AT_ONCE = 16
SERVER_DELAY_S = 2.0
STARTING_CREDITS = 10_000


def burst(app: ServedApp, api_name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """`AT_ONCE` calls submitted together (after one warm-up call); the wall time and the credits they used."""
    client = Client(app.url, verbose=False, ssl_verify=False)
    client.predict(**arguments, api_name=api_name)
    before = client.predict(api_name="/account")["credits"]
    start = time.perf_counter()
    jobs = [client.submit(**arguments, api_name=api_name) for _ in range(AT_ONCE)]
    details = [job.result()[1] for job in jobs]
    wall = time.perf_counter() - start
    after = client.predict(api_name="/account")["credits"]
    charged = sum(item["credits_charged"] for item in details)
    return {
        "generations": len(details),
        "completed": sum(item["status"] == "completed" for item in details),
        "wall_s": round(wall, 2),
        "serial_would_take_s": AT_ONCE * SERVER_DELAY_S,
        "slowest_processing_s": round(max(item["processing_ms"] for item in details) / 1000, 2),
        "credits_before": before,
        "credits_after": after,
        "credits_charged": charged,
        "credits_add_up": before - after == charged,
    }


def main() -> None:
    answer = Answer.image(width=512, height=512, delay_s=SERVER_DELAY_S)
    with FakeInferenceServer(default=answer) as server, tempfile.TemporaryDirectory() as data:
        settings = Settings(
            data_dir=Path(data),
            photomaker_endpoint_url=server.url,
            text_to_image_endpoint_url=server.url,
            hf_token=SecretStr(FAKE_TOKEN),
            starting_credits=STARTING_CREDITS,
            user_rate_limit_per_min=1000,
        )
        with serve(settings) as app:
            text = burst(app, "/generate_from_text", {"prompt": "a lighthouse at dusk", "width": 512, "height": 512})
            photo = burst(
                app,
                "/generate_avatar",
                {"photos": [handle_file(str(PHOTO))], "prompt": "a professional headshot", "tier": "basic"},
            )
            balance = app.client().predict(api_name="/account")["credits"]
            requests = len(server.posts())
    print(
        json.dumps(
            {
                "at_once": AT_ONCE,
                "server_delay_s": SERVER_DELAY_S,
                "remote_concurrency": settings.remote_concurrency,
                "text_to_image": text,
                "photo_to_avatar_basic": photo,
                "requests_to_server": requests,
                "final_balance": balance,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

"""Plain HTTP routes served next to the Gradio app on the same port: Prometheus' `/metrics`.

Gradio builds its FastAPI app inside `launch()`; routes given to it through `app_kwargs`
are added to that app before Gradio's own, so `python app.py` stays the one entry point.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from photomaker import prometheus
from photomaker.runtime import Runtime

METRICS_PATH = "/metrics"


def metrics_route(runtime: Runtime) -> Route:
    """`GET /metrics`: the rollups in the Prometheus text format, read at scrape time."""
    registry = prometheus.registry_for(runtime.database)

    def scrape(_request: Request) -> Response:
        return Response(prometheus.exposition(registry), media_type=prometheus.CONTENT_TYPE)

    return Route(METRICS_PATH, scrape, methods=["GET"], name="prometheus_metrics")

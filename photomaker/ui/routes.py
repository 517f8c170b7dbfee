"""Plain HTTP routes served next to the Gradio app on the same port: Prometheus' `/metrics`.

A route of the app `photomaker.ui.serving` serves, before the page, so `python app.py` stays the one entry point.
"""

from __future__ import annotations

import hmac
from functools import partial

from prometheus_client.registry import CollectorRegistry
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from photomaker.core.settings import Settings
from photomaker.monitoring import prometheus
from photomaker.startup.runtime import Runtime

METRICS_PATH = "/metrics"


def metrics_refusal(settings: Settings, authorization: str | None) -> str | None:
    """Why a scrape is refused, or None to serve it.

    With `METRICS_TOKEN` set, a scrape must carry `Authorization: Bearer <METRICS_TOKEN>`. Without
    it, the page is open off a Space (as a local demo is) and off on a Space with sign-in.
    """
    expected = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    if expected is None:
        return "/metrics is off on a Space until METRICS_TOKEN is set." if settings.sign_in_required else None
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode()):
        return None
    return "Send Authorization: Bearer <METRICS_TOKEN>."


def scrape(runtime: Runtime, registry: CollectorRegistry, request: Request) -> Response:
    """`GET /metrics`: the rollups in the Prometheus text format, for the bearer of `METRICS_TOKEN` alone."""
    refusal = metrics_refusal(runtime.settings, request.headers.get("authorization"))
    if refusal is not None:
        return PlainTextResponse(refusal, status_code=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return Response(prometheus.exposition(registry), media_type=prometheus.CONTENT_TYPE)


def metrics_route(runtime: Runtime) -> Route:
    """The `/metrics` route: `scrape`, with a registry that reads the rollups at scrape time."""
    registry = prometheus.registry_for(runtime.database)
    return Route(METRICS_PATH, partial(scrape, runtime, registry), methods=["GET"], name="prometheus_metrics")

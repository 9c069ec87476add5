"""What running the API as a service adds to the app, in one call: authentication (ui.auth), health and
readiness (ui.health), Prometheus metrics (ui.observability), and traced model calls (assistant.telemetry).

Knows how these pieces are wired; nothing about chat requests themselves (ui.api).
"""
from __future__ import annotations

from fastapi import FastAPI

from assistant.engine import Assistant
from assistant.telemetry import TracedBackend
from ui.auth import Authenticator, install_auth
from ui.health import health_router
from ui.observability import Metrics, TurnObserver, metrics_router


def install_operations(app: FastAPI, assistant: Assistant, auth: Authenticator | None = None,
                       metrics: Metrics | None = None) -> TurnObserver:
    """Wire auth (None: the header-trusting mode), /livez, /readyz, /metrics and model-call tracing into
    `app`; returns the observer that runs each turn in its span and records its metrics."""
    metrics = metrics or Metrics()
    if assistant.backend is not None and not isinstance(assistant.backend, TracedBackend):
        assistant.backend = TracedBackend(assistant.backend, metrics.record_generation)
    app.include_router(health_router(assistant))
    app.include_router(metrics_router(metrics))
    if auth is not None:
        install_auth(app, auth, on_failure=lambda code: metrics.auth_failures.labels(code).inc())
    return TurnObserver(metrics)

"""Liveness and readiness of one API replica, for a load balancer or an orchestrator.

- `GET /livez`: the process answers (200 always): restart it only when this fails.
- `GET /readyz`: 200 when every dependency answers: the session database (`SELECT 1`), the product index
  (loaded, not empty) and the model backend (an OpenAI-compatible server's `/models` within 2 s; a local
  backend is ready once loaded; none configured = templated replies, ready). Otherwise 503 with each check's
  result, so the balancer sends no traffic here until it recovers.

Knows what to probe; nothing about turns.
"""
from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from assistant.engine import Assistant

PROBE_TIMEOUT_S = 2.0


def _timed(fn) -> dict[str, Any]:
    t = time.perf_counter()
    try:
        detail = fn()
        ok = True
    except Exception as e:  # any failure of a dependency is a "not ready", reported with its reason
        detail, ok = f"{type(e).__name__}: {e}"[:300], False
    return {"ok": ok, "detail": detail, "ms": round((time.perf_counter() - t) * 1e3, 1)}


def _database(assistant: Assistant) -> str:
    if assistant.sessions is None:
        return "none (sessions in memory)"
    assistant.sessions.ping()
    return assistant.sessions.dialect


def _backend(assistant: Assistant) -> str:
    backend = assistant.backend
    if backend is None:
        return "none (templated replies)"
    base_url = getattr(backend, "base_url", None)
    if base_url is None:
        return f"{backend.name} (in process)"
    import httpx

    response = httpx.get(base_url.rstrip("/") + "/models", timeout=PROBE_TIMEOUT_S)
    response.raise_for_status()
    return f"{backend.name} at {base_url}"


def _index(assistant: Assistant) -> str:
    n = len(assistant.index.store.products)
    if n == 0:
        raise RuntimeError("the product index is empty")
    return f"{n} products"


def readiness(assistant: Assistant) -> dict[str, Any]:
    checks = {"database": _timed(lambda: _database(assistant)), "index": _timed(lambda: _index(assistant)),
              "model": _timed(lambda: _backend(assistant))}
    return {"status": "ready" if all(c["ok"] for c in checks.values()) else "not_ready", "checks": checks}


def health_router(assistant: Assistant) -> APIRouter:
    router = APIRouter()

    @router.get("/livez")
    def livez():
        return {"status": "alive"}

    @router.get("/readyz")
    async def readyz():
        body = await run_in_threadpool(readiness, assistant)
        return JSONResponse(body, status_code=200 if body["status"] == "ready" else 503)

    return router

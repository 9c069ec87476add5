"""Prometheus metrics and the per-turn trace span of the HTTP API.

`Metrics` owns one Prometheus registry per app (no process-wide state): turn latency histogram, turns by
intent, tool calls and tool errors by tool, refusals, model calls, tokens (prompt / completion / cached)
and decode tokens/s by backend. `metrics_router(metrics)` serves them at `GET /metrics` in Prometheus'
text format. `TurnObserver.stream` runs one engine turn inside a `turn` span (its tool and model spans
nest under it) and records the metrics when the turn is done; span attributes are counts, labels and
timings, never the shopper's text or id.

Knows HTTP wiring and metric names; nothing about how a turn is computed.
"""
from __future__ import annotations

import time
from typing import Iterator

from fastapi import APIRouter
from fastapi.responses import Response

from assistant.engine import Assistant, DoneEvent, TurnResult
from assistant.llm.base import Generation
from assistant.session import Session
from assistant.telemetry import tracer

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120)


class Metrics:
    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = r = CollectorRegistry()
        self.turn_latency = Histogram("shopassist_turn_latency_seconds", "Full turn latency", ["stream"],
                                      buckets=_LATENCY_BUCKETS, registry=r)
        self.turns = Counter("shopassist_turns", "Turns served", ["intent"], registry=r)
        self.tool_calls = Counter("shopassist_tool_calls", "Tool calls", ["tool"], registry=r)
        self.tool_errors = Counter("shopassist_tool_errors", "Tool calls that ended in an error", ["tool"], registry=r)
        self.refusals = Counter("shopassist_refusals", "Turns refused by the guard", registry=r)
        self.grounding = Counter("shopassist_grounding_violations", "Model sentences dropped as unverified",
                                 registry=r)
        self.model_calls = Counter("shopassist_model_calls", "Model calls", ["backend"], registry=r)
        self.model_tokens = Counter("shopassist_model_tokens", "Model tokens", ["backend", "kind"], registry=r)
        self.decode_rate = Histogram("shopassist_model_decode_tokens_per_second", "Decode speed of a model call",
                                     ["backend"], buckets=(1, 2, 5, 10, 20, 40, 80, 160, 320, 640), registry=r)
        self.auth_failures = Counter("shopassist_auth_failures", "Requests refused by authentication",
                                     ["reason"], registry=r)

    def record_generation(self, backend: str, gen: Generation) -> None:
        self.model_calls.labels(backend).inc()
        for kind, n in (("prompt", gen.prompt_tokens), ("completion", gen.completion_tokens),
                        ("cached_prompt", gen.cached_prompt_tokens)):
            self.model_tokens.labels(backend, kind).inc(n)
        if gen.decode_tokens_per_s > 0:
            self.decode_rate.labels(backend).observe(gen.decode_tokens_per_s)

    def record_turn(self, result: TurnResult, seconds: float, stream: bool) -> None:
        self.turn_latency.labels(str(stream).lower()).observe(seconds)
        self.turns.labels(result.intent or "unknown").inc()
        if result.refused:
            self.refusals.inc()
        self.grounding.inc(len(result.grounding_violations))
        for call in result.tool_calls:
            self.tool_calls.labels(call["name"]).inc()
            if call.get("error"):
                self.tool_errors.labels(call["name"]).inc()

    def exposition(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


def metrics_router(metrics: Metrics) -> APIRouter:
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    def scrape():
        from prometheus_client import CONTENT_TYPE_LATEST

        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return router


def turn_attributes(result: TurnResult, session: Session) -> dict:
    return {"turn.intent": result.intent, "turn.lang": result.lang, "turn.refused": result.refused,
            "turn.no_match": result.no_match, "turn.tool_calls": len(result.tool_calls),
            "turn.tool_errors": sum(1 for c in result.tool_calls if c.get("error")),
            "turn.products": len(result.products), "turn.prompt_tokens": result.prompt_tokens,
            "turn.grounding_violations": len(result.grounding_violations), "turn.errors": len(result.errors),
            "turn.seq": len(session.turns) - 1, "turn.signed_in": session.user_id is not None}


class TurnObserver:
    """Runs engine turns inside a `turn` span and feeds `Metrics` (None: spans only)."""

    def __init__(self, metrics: Metrics | None = None):
        self.metrics = metrics

    def stream(self, assistant: Assistant, session: Session, text: str, stream: bool = True,
               events: Iterator | None = None) -> Iterator:
        """`assistant.stream(session, text)` (or the given `events` of that turn, e.g. a photo turn), each step
        run with the turn span current (a streamed response is advanced from different worker threads, so the
        span is re-entered per step, not held open)."""
        from opentelemetry import trace

        span, t0 = tracer().start_span("turn", attributes={"turn.stream": stream}), time.perf_counter()
        events = events if events is not None else assistant.stream(session, text)
        try:
            while True:
                with trace.use_span(span, end_on_exit=False, record_exception=True, set_status_on_exception=True):
                    event = next(events, None)
                if event is None:
                    return
                if isinstance(event, DoneEvent):
                    span.set_attributes(turn_attributes(event.result, session))
                    span.set_attribute("turn.latency_ms", round((time.perf_counter() - t0) * 1e3, 1))
                    if self.metrics is not None:
                        self.metrics.record_turn(event.result, time.perf_counter() - t0, stream)
                yield event
        finally:
            events.close()
            span.end()

    def turn(self, assistant: Assistant, session: Session, text: str) -> TurnResult:
        result = None
        for event in self.stream(assistant, session, text, stream=False):
            if isinstance(event, DoneEvent):
                result = event.result
        return result

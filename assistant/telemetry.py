"""OpenTelemetry traces: spans per turn (ui.observability), per tool call (assistant.tooling) and per model
call (`TracedBackend` here), exported to the console or an OTLP collector by configuration.

Instrumented code uses only the OpenTelemetry API (a no-op until a provider is configured, so the
embedded default costs nothing); `configure_tracing("console" | "otlp" | "none")` installs the SDK's
provider for the process (`SHOPASSIST_TRACES`; the OTLP endpoint comes from the standard
`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` variables).

Attributes are counts, names, timings and flags only: never message text, tool arguments, product
queries or user ids (no PII leaves the process in a trace). Knows spans; nothing about HTTP or the UI.
"""
from __future__ import annotations

import time
from typing import Any, Iterator, Sequence

from assistant.llm.base import Generation, MessageLike, StreamItem

TRACER = "shopassist"
INSTALL_HINT = "pip install 'shopassist[otel]'"
EXPORTERS = ("none", "console", "otlp")


def tracer():
    from opentelemetry import trace

    return trace.get_tracer(TRACER)


def configure_tracing(exporter: str, service_name: str = "shopassist"):
    """Install an SDK tracer provider exporting to `exporter` (console | otlp); returns it (None for none)."""
    if exporter not in EXPORTERS:
        raise ValueError(f"unknown trace exporter {exporter!r}; choose one of {', '.join(EXPORTERS)}")
    if exporter == "none":
        return None
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ImportError as e:
        raise ImportError(f"exporting traces needs the OpenTelemetry SDK: {INSTALL_HINT}") from e
    if exporter == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as e:
            raise ImportError(f"OTLP export needs opentelemetry-exporter-otlp-proto-http: {INSTALL_HINT}") from e
        span_exporter = OTLPSpanExporter()
    else:
        span_exporter = ConsoleSpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(span_exporter))
    trace.set_tracer_provider(provider)
    return provider


def generation_attributes(gen: Generation) -> dict[str, Any]:
    """The span attributes of one model call: tokens, cache hits, timings; no text."""
    return {"gen_ai.usage.input_tokens": gen.prompt_tokens, "gen_ai.usage.output_tokens": gen.completion_tokens,
            "llm.cached_prompt_tokens": gen.cached_prompt_tokens,
            "llm.cache_hit": bool(gen.cached_prompt_tokens), "llm.ttft_ms": round(gen.ttft_s * 1e3, 1),
            "llm.total_ms": round(gen.total_s * 1e3, 1), "llm.decode_tokens_per_s": round(gen.decode_tokens_per_s, 1),
            "gen_ai.response.finish_reasons": [gen.finish_reason], "llm.tool_calls": len(gen.tool_calls),
            "llm.tool_call_errors": len(gen.tool_call_errors)}


class TracedBackend:
    """An LLMBackend that wraps another: each `generate` / `stream` is one span, and each finished call is
    reported to `on_generation(backend_name, Generation)` (the API's Prometheus metrics), if given."""

    def __init__(self, backend, on_generation=None):
        self.inner, self.on_generation = backend, on_generation
        self.name = getattr(backend, "name", "unknown")

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    def __getattr__(self, item):  # backend-specific extras (base_url, close, ...) stay reachable
        return getattr(self.inner, item)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def _start(self, kind: str, tools, json_schema, max_tokens: int):
        span = tracer().start_span(f"llm.{kind}", attributes={
            "gen_ai.system": self.name, "gen_ai.operation.name": "chat", "gen_ai.request.max_tokens": max_tokens,
            "llm.tools_offered": len(tools or []), "llm.json_schema": json_schema is not None})
        return span

    def _done(self, span, gen: Generation) -> None:
        span.set_attributes(generation_attributes(gen))
        if self.on_generation is not None:
            self.on_generation(self.name, gen)

    def generate(self, messages: Sequence[MessageLike], tools: list[dict] | None = None,
                 json_schema: dict | None = None, max_tokens: int = 512, **kw) -> Generation:
        from opentelemetry import trace

        span = self._start("generate", tools, json_schema, max_tokens)
        with trace.use_span(span, end_on_exit=True, record_exception=True, set_status_on_exception=True):
            gen = self.inner.generate(messages, tools=tools, json_schema=json_schema, max_tokens=max_tokens, **kw)
            self._done(span, gen)
            return gen

    def stream(self, messages: Sequence[MessageLike], tools: list[dict] | None = None,
               json_schema: dict | None = None, max_tokens: int = 512, **kw) -> Iterator[StreamItem]:
        from opentelemetry import trace

        span, t0, first = self._start("stream", tools, json_schema, max_tokens), time.perf_counter(), True
        try:
            for item in self.inner.stream(messages, tools=tools, json_schema=json_schema, max_tokens=max_tokens, **kw):
                if first and isinstance(item, str):
                    span.set_attribute("llm.first_delta_ms", round((time.perf_counter() - t0) * 1e3, 1))
                    first = False
                if isinstance(item, Generation):
                    self._done(span, item)
                yield item
        except BaseException as e:
            if not isinstance(e, GeneratorExit):
                span.record_exception(e)
                span.set_status(trace.Status(trace.StatusCode.ERROR, type(e).__name__))
            raise
        finally:
            span.end()

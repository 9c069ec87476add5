"""Assembling an assistant from an index folder and a backend name: the one place the CLI, UI,
API and eval code get a ready `Assistant` from. Knows nothing about how it is served."""
from __future__ import annotations

import logging
from pathlib import Path

from assistant.engine import Assistant, AssistantConfig
from assistant.insights_registry import Insights
from retrieval.search import ProductIndex

log = logging.getLogger(__name__)
DEFAULT_BACKEND = "llamacpp"


def load_backend_or_none(backend: str | None, model: str | None = None, **kw):
    """The named backend; None for 'none' (templated replies only)."""
    if backend in (None, "none", "templated"):
        return None
    from assistant.llm import load_backend

    return load_backend(backend, model, **kw)


def load_assistant(index_dir: str | Path, backend: str | None = DEFAULT_BACKEND, model: str | None = None,
                   config: AssistantConfig | None = None, backend_obj=None, **backend_kw) -> Assistant:
    index_dir = Path(index_dir)
    index = ProductIndex.load(index_dir)
    llm = backend_obj if backend_obj is not None else load_backend_or_none(backend, model, **backend_kw)
    config = config or AssistantConfig(store_name="the demo store" if index.store.name == "demo" else index.store.name)
    return Assistant(index, llm, Insights(index_dir / "models"), config)

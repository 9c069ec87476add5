"""LLM backends behind one small interface (see `base.py`), and `load_backend` to pick one by name.

| name           | runs                                   | `model`                                              |
|----------------|----------------------------------------|------------------------------------------------------|
| `llamacpp`     | GGUF in-process on CPU (default)       | "qwen0.5b" (default), "qwen1.5b", "smollm2", a .gguf |
| `transformers` | HF model dir / GGUF, GPU 4-bit or bf16 | a model directory, a .gguf path, or an alias above   |
| `openai`       | any OpenAI-compatible HTTP server      | the server's model name (default: its first)         |
| `scripted`     | a deterministic fake for tests / demos | ignored                                              |

Backends import their heavy dependencies only when constructed, so importing this package is cheap.
"""
from __future__ import annotations

import importlib

from assistant.llm.base import (Generation, LLMBackend, Message, MessageLike, StreamItem, ToolCall, as_messages,
                                final_generation)

BACKENDS = {
    "llamacpp": ("assistant.llm.llamacpp", "LlamaCppBackend"),
    "transformers": ("assistant.llm.transformers_backend", "TransformersBackend"),
    "openai": ("assistant.llm.openai_backend", "OpenAIBackend"),
    "scripted": ("assistant.llm.scripted", "ScriptedBackend"),
}

__all__ = ["BACKENDS", "Generation", "LLMBackend", "Message", "MessageLike", "StreamItem", "ToolCall",
           "as_messages", "final_generation", "load_backend"]


def load_backend(name: str, model: str | None = None, **kw) -> LLMBackend:
    """Construct the backend `name` for `model`; extra keywords go to its constructor
    (e.g. `n_threads=` for llamacpp, `quantization="nf4"` for transformers, `base_url=` for openai)."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    module, cls = BACKENDS[name]
    backend_cls = getattr(importlib.import_module(module), cls)
    if name == "transformers" and model is None:
        raise ValueError("the transformers backend needs --model: a local model directory, a .gguf file "
                         "or one of qwen1.5b, qwen0.5b, smollm2")
    return backend_cls(model=model, **kw)

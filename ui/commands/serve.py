"""`shopassist serve`: the Gradio shopper chat and agent console over an index (the demo store when none)."""
from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from assistant.app import DEFAULT_BACKEND

log = logging.getLogger(__name__)
BACKENDS = ("llamacpp", "transformers", "openai", "scripted", "none")


def add_backend_arguments(p: argparse.ArgumentParser, default_port: int) -> None:
    p.add_argument("--index", help="index folder (default: the built-in demo store, built if missing)")
    p.add_argument("--backend", default=DEFAULT_BACKEND, choices=BACKENDS,
                   help="LLM backend (default llamacpp; none = templated replies only)")
    p.add_argument("--model", help="model for the backend (llamacpp: qwen1.5b, qwen0.5b, smollm2 or a .gguf)")
    p.add_argument("--base-url", help="server URL for --backend openai")
    p.add_argument("--sessions", help="SQLite file for durable sessions (carts, turns, feedback); default: in memory")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=default_port)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_backend_arguments(p, 7860)


def load_for_serving(index_dir: str | Path, backend: str | None, model: str | None, base_url: str | None = None,
                     sessions: str | None = None):
    """(assistant, note): the assistant over the index with the backend, or with templated replies and a note
    saying why when the backend cannot be loaded. A served app must start even without its LLM."""
    from assistant.app import load_assistant, load_backend_or_none

    assistant = load_assistant(index_dir, backend="none")
    if sessions:
        from assistant.persistence import SessionStore

        assistant.sessions = SessionStore(sessions)
    kw = {"base_url": base_url} if base_url else {}
    try:
        assistant.backend = load_backend_or_none(backend, model, **kw)
    except Exception as e:  # any failure to load: serve templated replies, say so loudly, never crash
        note = f"the {backend} backend could not be loaded ({type(e).__name__}: {e}); replies are templated"
        log.warning(note)
        return assistant, note
    return assistant, ""


def resolve_index(index: str | None) -> Path:
    if index:
        return Path(index)
    from ui.commands.demo import ensure_demo_index

    return ensure_demo_index()


def main(args: argparse.Namespace) -> int:
    from ui.logs import setup_logging

    setup_logging()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from ui.shopper import build_app, launch

    index_dir = resolve_index(args.index)
    assistant, note = load_for_serving(index_dir, args.backend, args.model, args.base_url, args.sessions)
    app = build_app(assistant, index_dir, note=note)
    launch(app, args.host, args.port)
    return 0

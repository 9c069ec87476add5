"""`shopassist serve`: the Gradio shopper chat and agent console over an index (the demo store when none)."""
from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from assistant.app import BACKENDS, DEFAULT_BACKEND, add_turn_arguments, load_for_serving  # noqa: F401

log = logging.getLogger(__name__)


def add_backend_arguments(p: argparse.ArgumentParser, default_port: int) -> None:
    p.add_argument("--index", help="index folder (default: the built-in demo store, built if missing)")
    p.add_argument("--backend", default=DEFAULT_BACKEND, choices=BACKENDS,
                   help="LLM backend (default llamacpp; none = templated replies only)")
    p.add_argument("--model", help="model for the backend (llamacpp: qwen1.5b, qwen0.5b, smollm2 or a .gguf)")
    p.add_argument("--base-url", help="server URL for --backend openai")
    p.add_argument("--store", "--sessions", dest="sessions", default=os.environ.get("SHOPASSIST_STORE"),
                   help="durable sessions (carts, turns, orders, feedback): a SQLite file, or a postgresql:// URL "
                        "that several replicas share (default: $SHOPASSIST_STORE, else in memory)")
    add_turn_arguments(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=default_port)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_backend_arguments(p, 7860)


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
    assistant, note = load_for_serving(index_dir, args.backend, args.model, args.base_url, args.sessions,
                                       args.router, args.answer_style)
    app = build_app(assistant, index_dir, note=note)
    launch(app, args.host, args.port)
    return 0

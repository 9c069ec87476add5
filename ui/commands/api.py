"""`shopassist api`: the OpenAI-compatible HTTP API (FastAPI + uvicorn) over an index."""
from __future__ import annotations

import argparse

from ui.commands.serve import add_backend_arguments, load_for_serving, resolve_index


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_backend_arguments(p, 8000)


def main(args: argparse.Namespace) -> int:
    import uvicorn

    from assistant.agent_assist import AgentModels
    from ui.api import create_app

    from ui.logs import setup_logging

    setup_logging()
    index_dir = resolve_index(args.index)
    assistant, note = load_for_serving(index_dir, args.backend, args.model, args.base_url, args.sessions,
                                       args.router, args.answer_style)
    agents = AgentModels(assistant.index.store, index_dir / "models", insights=assistant.insights)
    name = f"shopassist-{args.model or args.backend}" if not note else "shopassist-templated"
    uvicorn.run(create_app(assistant, agents, model_name=name, backend_note=note), host=args.host, port=args.port,
                log_level="info")
    return 0

"""Logging for the served commands (`demo`, `serve`, `api`): the project's own INFO lines, and from the
libraries underneath only their warnings and errors (faiss's CPU-feature probing, bm25s's DEBUG lines,
every HTTP request Gradio makes to itself). `SHOPASSIST_LOG=DEBUG` shows everything, for debugging.
"""
from __future__ import annotations

import logging
import os

QUIET = ("faiss", "faiss.loader", "bm25s", "httpx", "httpcore", "jieba", "urllib3", "matplotlib", "PIL",
         "asyncio", "multipart", "python_multipart", "numexpr", "sentence_transformers", "filelock")


def setup_logging() -> None:
    level = os.environ.get("SHOPASSIST_LOG", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError(f"SHOPASSIST_LOG must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if level != "DEBUG":
        for name in QUIET:
            logging.getLogger(name).setLevel(logging.WARNING)

"""Logging for the served commands (`demo`, `serve`, `api`): the project's own INFO lines, and from the
libraries underneath only their warnings and errors (faiss's CPU-feature probing, bm25s's DEBUG lines,
every HTTP request Gradio makes to itself). `SHOPASSIST_LOG=DEBUG` shows everything, for debugging.

Libraries are quieted by a filter on the handlers, not by their loggers' levels: some (bm25s) set their
own logger to DEBUG when they are imported, after this runs. The handlers also redact personal data
(`assistant.pii`): `ui.cli` installs that filter before a command has made any handler.
"""
from __future__ import annotations

import logging
import os

QUIET = ("faiss", "bm25s", "httpx", "httpcore", "jieba", "urllib3", "matplotlib", "PIL", "asyncio", "multipart",
         "python_multipart", "numexpr", "sentence_transformers", "filelock")


def library_noise(record: logging.LogRecord) -> bool:
    """True for a record below WARNING from one of the QUIET libraries."""
    return record.levelno < logging.WARNING and record.name.split(".")[0] in QUIET


def setup_logging() -> None:
    level = os.environ.get("SHOPASSIST_LOG", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError(f"SHOPASSIST_LOG must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    from assistant.pii import install_log_redaction

    install_log_redaction()
    if level != "DEBUG":
        for handler in logging.getLogger().handlers:
            handler.addFilter(lambda record: not library_noise(record))

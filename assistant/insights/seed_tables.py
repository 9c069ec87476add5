"""Seed tables: the labelled utterances and slot values the intent models start from.

They live as TSV files in `assistant/insights/seeds/` (package data), one `label<TAB>value` a line, `#`
comments. Knows that file format; knows nothing about what the labels mean or how models use them.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=None)
def read_table(name: str) -> dict[str, tuple[str, ...]]:
    """label -> values in file order, from seeds/<name>; a malformed line raises naming file and line."""
    text = resources.files("assistant.insights").joinpath("seeds").joinpath(name).read_text(encoding="utf-8")
    table: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        label, tab, value = line.partition("\t")
        if not tab or not label.strip() or not value.strip():
            raise ValueError(f"assistant/insights/seeds/{name}:{number}: expected `label<TAB>value`, got {line!r}")
        table.setdefault(label.strip(), []).append(value.strip())
    return {label: tuple(values) for label, values in table.items()}

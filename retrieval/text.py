"""Facts about a piece of text that every layer needs: whether it is Chinese, and where shopassist keeps its files.

Knows nothing about products, sessions or models.
"""
from __future__ import annotations

import os
from pathlib import Path


def cjk_count(text: str) -> int:
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def detect_lang(text: str) -> str:
    """"zh" when the text is Chinese (two Chinese characters, or a short mostly-Chinese text), else "en"."""
    cjk = cjk_count(text)
    return "zh" if cjk >= 2 or (cjk and cjk >= len(text.strip()) * 0.3) else "en"


def home_dir() -> Path:
    """`$SHOPASSIST_HOME`, default `~/.cache/shopassist`: the demo index, assembled model files and caches."""
    home = os.environ.get("SHOPASSIST_HOME")
    return Path(home).expanduser() if home else Path.home() / ".cache" / "shopassist"

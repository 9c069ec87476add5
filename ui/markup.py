"""Untrusted text shown as text, wherever a renderer would read it as markup.

Shopper and agent messages, catalog titles and descriptions, review quotes and tool arguments are data:
a `<b>` in them is two characters, not bold, and an `<img>` or a Markdown image in them must never make a
browser fetch a URL. `md_text` is for components that render Markdown (Gradio's chatbot, report.md);
`fenced_json` for JSON shown in a code block; HTML panels use `html.escape` (ui.components.esc).
Escaping is character by character, so streamed pieces escaped one by one join to the escaped whole.
"""
from __future__ import annotations

import json
import re
from typing import Any

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Markdown punctuation that makes images, links, emphasis, code, strikethrough or tables
_MD = re.compile(r"([\\`*_\[\]!~|])")


def md_text(text: Any) -> str:
    """`text` as literal characters in Markdown that allows inline HTML."""
    out = _MD.sub(r"\\\1", "" if text is None else str(text))
    return "".join(_HTML.get(ch, ch) for ch in out)


def fenced_json(value: Any) -> str:
    """`value` as JSON in a fenced code block that no string inside it can close."""
    body = json.dumps(value, ensure_ascii=False, indent=1).replace("`", "\\u0060")
    return f"```json\n{body}\n```\n"

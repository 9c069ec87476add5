"""Product titles cut to fit a line without changing what they name.

A long title is cut after a whole word and the cut is marked with "…". It is never cut inside a word,
and never at its first comma: catalog titles list what a product works with before what it is ("boAt
Laptop, Smartphone Type-C Cable"), so a cut there names another kind of product. A bracket or bar that
opens the specs ("Voltix Power Bank (20W, 10000mAh)") is a clean place to stop when at least three words
come before it. Knows strings only.
"""
from __future__ import annotations

import re

ELLIPSIS = "…"
_SPECS = re.compile(r"\s[(|\[]")  # where the specs start
_TRAILING = " ,;:-|/&(+"


def clip(title: str, limit: int) -> str:
    """`title` in at most `limit` characters (the "…" included), cut after a whole word."""
    title = " ".join(str(title).split())
    if len(title) <= limit:
        return title
    specs = _SPECS.search(title)
    if specs and 3 <= len(title[:specs.start()].split()) and specs.start() < limit:
        return title[:specs.start()].rstrip(_TRAILING) + ELLIPSIS
    cut = title[:limit - 1]
    space = cut.rfind(" ")
    head = cut[:space] if space > 0 and title[len(cut)] != " " else cut
    return head.rstrip(_TRAILING) + ELLIPSIS

"""Prompt files, loaded with importlib.resources and rendered strictly (a missing variable raises)."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import jinja2

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)


@lru_cache(maxsize=None)
def _template(name: str) -> jinja2.Template:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return _ENV.from_string(text)


def render(name: str, **variables) -> str:
    """Render prompts/<name> with `variables`; undefined variables raise jinja2.UndefinedError."""
    return _template(name).render(**variables).strip()

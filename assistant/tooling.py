"""Tools as plain typed functions: the JSON schema is derived from the signature and docstring.

A tool's first parameter is the injected context (`ctx`); it never appears in the schema, so the
model cannot set it (the signed-in user, the cart, the index come from the session). Every other
parameter needs a type hint (a missing one fails at import) and a line in the docstring's `Args:`
section. `ToolError` is the model's mistake (unknown id, bad value): its message goes back to the
model as the tool result so it can correct itself. Any other exception is our bug.

Knows nothing about products or shops: see `assistant.tools` for the tools themselves.
"""
from __future__ import annotations

import inspect
import re
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable

from assistant.toolcalls import validate_arguments


class ToolError(Exception):
    """A mistake in a tool call that the model (or the user) can fix: reported, not raised to the user."""


class NotYours(ToolError):
    """The record asked for is not the signed-in shopper's (or does not exist: the same answer either way)."""


_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _json_type(hint: Any, where: str) -> tuple[dict, bool]:
    """(schema, optional) for a type hint."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"{where}: only `X | None` unions are supported")
        return _json_type(args[0], where)[0], True
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}, False
    if origin is typing.Literal:
        values = typing.get_args(hint)
        kinds = {type(v) for v in values}
        if len(kinds) != 1 or next(iter(kinds)) not in _SCALARS:
            raise TypeError(f"{where}: a Literal needs values of one scalar type")
        return {"type": _SCALARS[next(iter(kinds))], "enum": list(values)}, False
    if origin is list:
        (item,) = typing.get_args(hint) or (str,)
        return {"type": "array", "items": _json_type(item, where)[0]}, False
    raise TypeError(f"{where}: unsupported type hint {hint!r}")


def _doc_args(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into (summary, {arg: description})."""
    summary_part, _, args_part = doc.partition("Args:")
    descriptions: dict[str, str] = {}
    current = None
    for line in args_part.splitlines():
        m = re.match(r"\s+(\w+)\s*(?:\([^)]*\))?:\s*(.*)", line)
        if m and (current is None or len(line) - len(line.lstrip()) <= 8):
            current = m.group(1)
            descriptions[current] = m.group(2).strip()
        elif current and line.strip():
            descriptions[current] += " " + line.strip()
    return " ".join(summary_part.split()), descriptions


@dataclass
class Tool:
    name: str
    description: str
    parameters: dict
    function: Callable[..., dict]
    private: bool  # reads or changes the signed-in user's own data

    def schema(self) -> dict:
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}

    def __call__(self, ctx: Any, arguments: dict) -> dict:
        from opentelemetry import trace

        # one span per call (a no-op without a configured provider); the arguments stay out: they hold queries,
        # order ids and addresses
        with trace.get_tracer("shopassist").start_as_current_span(
                f"tool {self.name}", attributes={"tool.name": self.name, "tool.private": self.private,
                                                 "tool.arguments": len(arguments)}) as span:
            errors = validate_arguments(self.parameters, arguments)
            if errors:
                span.set_attributes({"tool.error": "invalid_arguments"})
                raise ToolError(f"invalid arguments for {self.name}: " + "; ".join(errors))
            try:
                return self.function(ctx, **arguments)
            except ToolError:
                span.set_attribute("tool.error", "tool_error")
                raise


def tool(private: bool = False) -> Callable[[Callable[..., dict]], Tool]:
    """Decorator: derive a Tool from a typed function `f(ctx, ...)` with a Google-style docstring."""

    def wrap(fn: Callable[..., dict]) -> Tool:
        sig = inspect.signature(fn)
        hints = typing.get_type_hints(fn)
        params = list(sig.parameters.values())
        if not params or params[0].name != "ctx":
            raise TypeError(f"tool {fn.__name__}: the first parameter must be the injected `ctx`")
        summary, docs = _doc_args(inspect.getdoc(fn) or "")
        if not summary:
            raise TypeError(f"tool {fn.__name__}: a docstring is required")
        props, required = {}, []
        for p in params[1:]:
            if p.name not in hints:
                raise TypeError(f"tool {fn.__name__}: parameter {p.name!r} has no type hint")
            schema, optional = _json_type(hints[p.name], f"tool {fn.__name__}.{p.name}")
            if p.name not in docs:
                raise TypeError(f"tool {fn.__name__}: parameter {p.name!r} is not described under Args:")
            schema["description"] = docs[p.name]
            if p.default is not inspect.Parameter.empty and p.default is not None:
                schema["default"] = p.default
            if optional:
                schema = {**schema, "type": [schema["type"], "null"]}
            if p.default is inspect.Parameter.empty:
                required.append(p.name)
            props[p.name] = schema
        parameters = {"type": "object", "properties": props, "required": required, "additionalProperties": False}
        return Tool(fn.__name__, summary, parameters, fn, private)

    return wrap

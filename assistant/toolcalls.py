"""Tool calls in model text: find them, repair broken JSON, validate arguments against a tool's schema.

Small models write tool calls in many shapes: Qwen's `<tool_call>{...}</tool_call>` tags, a ```json fenced
block, a bare JSON object or list, `{"name", "arguments"}` or `{"function", "parameters"}` or the OpenAI
`{"function": {"name", "arguments"}}` form, arguments as a JSON *string*, Python-style quotes and literals,
trailing commas, or a reply cut off before its closing braces. `parse_tool_calls` accepts all of these and
returns the remaining prose, the calls, and readable errors (for calls it saw but could not use) that the
caller can send back to the model so it fixes them. Also here: `validate_arguments` (jsonschema errors as
lines), `tool_call_schema` (a JSON schema that forces a valid call from a grammar-capable backend),
`find_json` (first JSON value in chatter) and `ProseFilter` (hides tool-call markup in a live stream).

This module knows JSON and the shapes of tool calls. It does not know what a tool does or which tools a
turn may call (the policy decides); given `tool_names` it only rejects names that do not exist.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Iterable, NamedTuple

from assistant.llm.base import ToolCall

_TAG_RE = re.compile(r"<tool_call>(.*?)(?:</tool_call>|(?=<tool_call>)|\Z)", re.DOTALL)
_STRAY_TAG_RE = re.compile(r"</?tool_call>")
_FENCE_RE = re.compile(r"```([\w-]*)[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_CALL_HINT_RE = re.compile(r"[\"'](?:name|function|tool|tool_name)[\"']\s*:")
_NAME_KEYS = ("name", "tool", "tool_name")
_ARG_KEYS = ("arguments", "parameters", "args", "input")
_LITERALS = {"True": "true", "False": "false", "None": "null", "true": "true", "false": "false", "null": "null"}
_CLOSER = {"{": "}", "[": "]"}
_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


class ToolCallParse(NamedTuple):
    """What `parse_tool_calls` found: prose left for the user, the usable calls, and problems to report."""

    text: str
    calls: list[ToolCall]
    errors: list[str]


def parse_tool_calls(text: str, tool_names: Iterable[str] | None = None) -> ToolCallParse:
    """Extract tool calls from model output.

    Args:
        text: raw model output.
        tool_names: names of the tools offered this turn. When given, calls to other names become errors,
            and a known name is enough to recognise a call without an arguments key (`{"name": "recommend"}`).

    Returns `(text_without_calls, calls, errors)`. Ordinary JSON that is not call-shaped stays in the text.
    """
    names = set(tool_names) if tool_names is not None else None
    found = _Found(names)
    removed: list[tuple[int, int]] = []
    for m in _TAG_RE.finditer(text):
        removed.append(m.span())
        found.from_tag_body(_strip_fence(m.group(1)))
    for m in _FENCE_RE.finditer(text):
        if not _overlaps(m.span(), removed) and found.from_fence_body(m.group(2), m.group(1)):
            removed.append(m.span())
    for start, end in _bare_candidates(text, removed):
        if found.from_bare(text[start:end]):
            removed.append((start, end))
    return ToolCallParse(_remaining_text(text, removed), found.calls, found.errors)


def calls_from_objects(objects: Iterable[dict], tool_names: Iterable[str] | None = None
                       ) -> tuple[list[ToolCall], list[str]]:
    """Calls from already-structured objects, e.g. an OpenAI response's `tool_calls` (arguments as a JSON
    string, possibly broken): same repairs, same errors as `parse_tool_calls`."""
    found = _Found(set(tool_names) if tool_names is not None else None)
    for obj in objects:
        if isinstance(obj, dict) and _name_and_arguments(obj)[0]:
            found._take_object(obj, explicit=True)
        else:
            found.errors.append(f"tool call needs a name: {_snippet(json.dumps(obj, default=str))}")
    return found.calls, found.errors


def loads_lenient(s: str) -> Any:
    """`json.loads`, retried once on `repair_json(s)`; raises ValueError with the original JSON error."""
    try:
        return json.loads(s)
    except ValueError as first:
        try:
            return json.loads(repair_json(s))
        except ValueError:
            raise ValueError(f"invalid JSON: {first}") from None


def find_json(text: str) -> Any:
    """The first JSON object or array in `text` (prose around it ignored, breakage repaired).
    Raises ValueError when there is none."""
    for start, end in _bare_candidates(text, []):
        try:
            return loads_lenient(text[start:end])
        except ValueError:
            continue
    raise ValueError(f"no JSON object or array in {_snippet(text)}")


def repair_json(s: str) -> str:
    """Fix the JSON breakage small models produce: single quotes, Python literals (True/None), unquoted keys,
    trailing commas, raw newlines in strings, stray or missing closing brackets at the end."""
    out: list[str] = []
    stack: list[str] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c in "\"'":
            i = _copy_string(s, i, out)
        elif c in "{[":
            stack.append(c)
            out.append(c)
            i += 1
        elif c in "}]":
            _drop_trailing_comma(out)
            if stack:
                out.append(_CLOSER[stack.pop()])
            i += 1
        elif c.isalpha() or c == "_":
            i = _copy_word(s, i, out)
        else:
            out.append(c)
            i += 1
    _drop_trailing_comma(out)
    if "".join(out).rstrip().endswith(":"):
        out.append(" null")
    out.extend(_CLOSER[b] for b in reversed(stack))
    return "".join(out)


def validate_arguments(schema: dict, arguments: Any) -> list[str]:
    """Errors of `arguments` against a tool's JSON schema, as readable lines (empty list: valid).

    `schema` is either the parameters schema or a whole OpenAI tool (`{"type": "function", "function": ...}`).
    """
    from jsonschema import Draft202012Validator

    if "function" in schema and isinstance(schema["function"], dict):
        schema = schema["function"].get("parameters") or {"type": "object"}
    errors = sorted(Draft202012Validator(schema).iter_errors(arguments), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(str(p) for p in e.absolute_path) or '(arguments)'}: {e.message}" for e in errors]


def tool_call_schema(tools: list[dict]) -> dict:
    """A JSON schema that only a valid call of one of `tools` satisfies: `{"name": ..., "arguments": {...}}`.

    Pass it as `json_schema` (together with `tools`) to force a well-formed tool call from a grammar-capable
    backend; the backend's tool-call parsing then turns the JSON into a `ToolCall`.
    """
    options = []
    for tool in tools:
        fn = tool.get("function", tool)
        options.append({
            "type": "object",
            "properties": {"name": {"const": fn["name"]},
                           "arguments": fn.get("parameters") or {"type": "object"}},
            "required": ["name", "arguments"],
        })
    return options[0] if len(options) == 1 else {"anyOf": options}


def call_id(name: str, arguments: dict, index: int) -> str:
    """Deterministic id for a call the model did not give one: same call, same position, same id."""
    blob = json.dumps([name, arguments, index], sort_keys=True, ensure_ascii=False, default=str)
    return "call_" + hashlib.sha1(blob.encode()).hexdigest()[:12]


class ProseFilter:
    """Makes a live token stream safe to show: passes prose through and stops at the first sign of tool-call
    markup (`<tool_call>`, a ``` fence, or a `{` / `[` opening a line), holding back a partial marker at the
    end of a delta until the next one decides it. The final `Generation.text` stays the authority."""

    _MARKERS = ("<tool_call>", "```", "\n{", "\n[")

    def __init__(self) -> None:
        self._raw, self._shown, self._stopped = "", 0, False

    def feed(self, delta: str) -> str:
        """The newly showable part of the stream after `delta` (possibly empty)."""
        if self._stopped:
            return ""
        self._raw += delta
        cut = self._marker_start()
        if cut is not None:
            self._stopped = True
        else:
            cut = len(self._raw) - self._partial_marker_len()
        out = self._raw[self._shown:cut] if cut > self._shown else ""
        self._shown = max(self._shown, cut)
        return out

    def flush(self) -> str:
        """At the end of the stream: the held-back tail, unless markup was seen."""
        if self._stopped:
            return ""
        out, self._shown = self._raw[self._shown:], len(self._raw)
        return out

    def _marker_start(self) -> int | None:
        text = "\n" + self._raw  # a call at the very start counts as opening a line
        found = [i for i in (text.find(m) for m in self._MARKERS) if i >= 0]
        return max(min(found) - 1, 0) if found else None

    def _partial_marker_len(self) -> int:
        text = "\n" + self._raw
        return max((k for m in self._MARKERS for k in range(1, len(m)) if text.endswith(m[:k])), default=0)


class _Found:
    """Accumulates calls and errors while scanning one text."""

    def __init__(self, names: set[str] | None):
        self.names = names
        self.calls: list[ToolCall] = []
        self.errors: list[str] = []

    def from_tag_body(self, body: str) -> None:
        spans = list(_bare_candidates(body, []))
        if not spans:
            self.errors.append(f"<tool_call> holds no JSON object: {_snippet(body)}")
        for start, end in spans:
            self._take(body[start:end], explicit=True)

    def from_fence_body(self, body: str, lang: str) -> bool:
        explicit = lang.lower() in ("tool_call", "tool", "tool_code")
        spans = list(_bare_candidates(body, []))
        took = [self._take(body[s:e], explicit=explicit) for s, e in spans]
        return any(took)

    def from_bare(self, fragment: str) -> bool:
        return self._take(fragment, explicit=False)

    def _take(self, fragment: str, explicit: bool) -> bool:
        """Record the call(s) in one JSON fragment; True when it was a call or a failed attempt at one."""
        attempt = explicit or bool(_CALL_HINT_RE.search(fragment))
        try:
            value = loads_lenient(fragment)
        except ValueError as e:
            if attempt:
                self.errors.append(f"could not parse tool call {_snippet(fragment)}: {e}")
            return attempt
        shapes = _call_shapes(value)
        if shapes is None:
            if explicit:
                self.errors.append(f"tool call needs \"name\" and \"arguments\": {_snippet(fragment)}")
            return explicit
        took = False
        for obj in shapes:
            took = self._take_object(obj, explicit) or took
        return took

    def _take_object(self, obj: dict, explicit: bool) -> bool:
        name, args, has_args = _name_and_arguments(obj)
        known = self.names is not None and name in self.names
        if has_args is False and known:
            args = {k: v for k, v in obj.items() if k not in (*_NAME_KEYS, "type", "id")}
        elif has_args is False and not explicit:
            return False
        if self.names is not None and not known:
            self.errors.append(f"unknown tool {name!r}; available tools: {', '.join(sorted(self.names))}")
            return True
        if isinstance(args, str):
            try:
                args = loads_lenient(args) if args.strip() else {}
            except ValueError as e:
                self.errors.append(f"arguments of {name!r} are not valid JSON ({e}): {_snippet(args)}")
                return True
        if args is None:
            args = {}
        if not isinstance(args, dict):
            self.errors.append(f"arguments of {name!r} must be a JSON object, got {type(args).__name__}")
            return True
        given_id = obj.get("id")
        cid = given_id if isinstance(given_id, str) and given_id else call_id(name, args, len(self.calls))
        self.calls.append(ToolCall(name=name, arguments=args, id=cid))
        return True


def _call_shapes(value: Any) -> list[dict] | None:
    """The call-shaped objects in a parsed JSON value, or None when it is not a tool call at all."""
    if isinstance(value, dict) and isinstance(value.get("tool_calls"), list):
        value = value["tool_calls"]
    if isinstance(value, list):
        if value and all(isinstance(v, dict) and _name_and_arguments(v)[0] for v in value):
            return value
        return None
    if isinstance(value, dict) and _name_and_arguments(value)[0]:
        return [value]
    return None


def _name_and_arguments(obj: dict) -> tuple[str, Any, bool]:
    """(name, arguments, whether an arguments key was present); name is "" when there is none."""
    fn = obj.get("function")
    if isinstance(fn, dict):
        obj = fn
    elif isinstance(fn, str) and fn:
        return fn, *_arguments(obj)
    name = next((obj[k] for k in _NAME_KEYS if isinstance(obj.get(k), str) and obj[k]), "")
    return name, *_arguments(obj)


def _arguments(obj: dict) -> tuple[Any, bool]:
    for key in _ARG_KEYS:
        if key in obj:
            return obj[key], True
    return None, False


def _bare_candidates(text: str, skip: list[tuple[int, int]]) -> Iterable[tuple[int, int]]:
    """Spans of top-level `{...}` / `[...]` fragments outside `skip`; an unclosed one runs to the end."""
    i = 0
    while i < len(text):
        if text[i] in "{[" and not _overlaps((i, i + 1), skip):
            end = _matching_end(text, i)
            yield i, end
            i = end
        else:
            i += 1


def _matching_end(text: str, start: int) -> int:
    depth, quote, i = 0, "", start
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'" and (c == '"' or not text[i - 1].isalnum()):
            quote = c  # an apostrophe inside a word ("men's") is not a quote
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def _copy_string(s: str, i: int, out: list[str]) -> int:
    """Copy the string literal starting at s[i] as a JSON double-quoted string; returns the index after it."""
    quote = s[i]
    out.append('"')
    i += 1
    while i < len(s):
        c = s[i]
        if c == "\\":
            if i + 1 < len(s):
                out.append("'" if s[i + 1] == "'" else s[i:i + 2])  # \' is not a JSON escape
            i += 2
            continue
        if c == quote:
            out.append('"')
            return i + 1
        out.append('\\"' if c == '"' else _CONTROL_ESCAPES.get(c, c))  # '"' only occurs in a '...' string
        i += 1
    out.append('"')
    return i


def _copy_word(s: str, i: int, out: list[str]) -> int:
    """Copy an unquoted word: Python literals become JSON ones, an unquoted key gets quotes."""
    j = i
    while j < len(s) and (s[j].isalnum() or s[j] in "_-."):
        j += 1
    word = s[i:j]
    rest = s[j:].lstrip()
    if rest.startswith(":"):
        out.append(json.dumps(word))
    else:
        out.append(_LITERALS.get(word, word))
    return j


def _drop_trailing_comma(out: list[str]) -> None:
    k = len(out) - 1
    while k >= 0 and out[k].isspace():
        k -= 1
    if k >= 0 and out[k] == ",":
        del out[k]


def _strip_fence(body: str) -> str:
    m = _FENCE_RE.search(body)
    return m.group(2) if m else body


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in spans)


def _remaining_text(text: str, removed: list[tuple[int, int]]) -> str:
    pieces, pos = [], 0
    for start, end in sorted(removed):
        if start >= pos:
            pieces.append(text[pos:start])
            pos = end
    pieces.append(text[pos:])
    kept = (_STRAY_TAG_RE.sub("", p).strip() for p in pieces)
    return "\n".join(p for p in kept if p)


def _snippet(s: str, limit: int = 120) -> str:
    s = " ".join(s.split())
    return repr(s if len(s) <= limit else s[:limit] + "...")

"""Prompt rendering and result assembly shared by the local backends (llama.cpp, transformers, scripted).

Knows: Hugging Face-style Jinja chat templates (the one inside a GGUF file or a tokenizer), rendered the way
transformers renders them; how to show tools to a model whose template has no tool support (Qwen's own
tool prompt, placed in the system message); how to ask for JSON; how to turn raw model text into a
`Generation`. Knows no model runtime.

Prefix caching depends on this module: the system message and the tool schemas are rendered first and
byte-identically on every call (nothing time-dependent is inserted), and earlier turns render the same when
a conversation grows. Keep the system message and the tool list fixed across turns (put per-turn facts in
later messages, enforce per-turn tool permissions in code) to get the cache hit: a change in either
re-evaluates the whole prompt.
"""
from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any, Sequence

from assistant.llm.base import Generation, Message
from assistant.toolcalls import parse_tool_calls

# Plain ChatML, for models that ship no template.
CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# Qwen2.5's own tool prompt; models whose template ignores `tools` get it appended to the system message.
TOOLS_PROMPT = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>{tools}\n</tools>\n\n"
    "For each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n{{\"name\": <function-name>, \"arguments\": "
    "<args-json-object>}}\n</tool_call>"
)


class ChatTemplate:
    """A compiled chat template. `supports_tools` is False when the template never looks at `tools`;
    tools and tool messages are then rewritten into plain system/assistant/user text."""

    def __init__(self, source: str | None, bos_token: str = "", eos_token: str = ""):
        import jinja2
        import jinja2.ext
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        self.source = source or CHATML_TEMPLATE
        self.bos_token, self.eos_token = bos_token, eos_token
        self.supports_tools = "tools" in self.source
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                            extensions=[jinja2.ext.loopcontrols])
        env.filters["tojson"] = _tojson  # transformers' tojson: no HTML escaping, unicode kept
        env.globals["raise_exception"] = _raise
        env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
        self._template = env.from_string(self.source)

    def render(self, messages: Sequence[Message], tools: list[dict] | None = None,
               add_generation_prompt: bool = True) -> str:
        dicts, tools = self.template_inputs(messages, tools)
        return self._template.render(messages=dicts, tools=tools or None, bos_token=self.bos_token,
                                     eos_token=self.eos_token, add_generation_prompt=add_generation_prompt)

    def template_inputs(self, messages: Sequence[Message], tools: list[dict] | None) -> tuple[list[dict], Any]:
        """Messages as template dicts, and the tools to pass (None when folded into the system text)."""
        if self.supports_tools:
            return [_native_dict(m) for m in messages], tools
        dicts = [_plain_dict(m) for m in messages]
        if tools:
            block = TOOLS_PROMPT.format(tools="".join("\n" + _tojson(t) for t in tools))
            if dicts and dicts[0]["role"] == "system":
                dicts[0] = {"role": "system", "content": dicts[0]["content"] + "\n\n" + block}
            else:
                dicts.insert(0, {"role": "system", "content": block})
        return _merge_tool_turns(dicts), None


# a schema carrying this key is already described by the prompt: no copy of it is appended
PROMPTED = "x-described-in-prompt"


def with_json_instruction(messages: Sequence[Message], json_schema: dict | None) -> list[Message]:
    """Append the schema to the last user message, so the model knows what the JSON is for. Appended at the
    end, it leaves the cached prompt prefix intact."""
    messages = list(messages)
    if json_schema is None or json_schema.get(PROMPTED):
        return messages
    note = ("\n\nReply with only a JSON value matching this JSON schema, no other text:\n"
            + json.dumps(json_schema, ensure_ascii=False))
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].role in ("user", "tool"):
            m = messages[i]
            messages[i] = Message(m.role, m.content + note, m.name, m.tool_call_id, list(m.tool_calls))
            return messages
    return messages + [Message("user", note.strip())]


def tool_names(tools: list[dict] | None) -> list[str]:
    return [t.get("function", t)["name"] for t in tools or []]


def assemble_generation(raw: str, tools: list[dict] | None, *, prompt_tokens: int, completion_tokens: int,
                        t_start: float, t_first: float | None, hit_limit: bool,
                        cached_prompt_tokens: int = 0) -> Generation:
    """The `Generation` for raw model text: tool calls parsed when tools were offered."""
    t_end = time.perf_counter()
    text, calls, errors = raw.strip(), [], []
    if tools:
        text, calls, errors = parse_tool_calls(raw, tool_names(tools))
    finish = "tool_calls" if calls else ("length" if hit_limit else "stop")
    return Generation(text=text, tool_calls=calls, prompt_tokens=prompt_tokens,
                      completion_tokens=completion_tokens,
                      ttft_s=(t_first if t_first is not None else t_end) - t_start, total_s=t_end - t_start,
                      raw=raw, finish_reason=finish, tool_call_errors=errors,
                      cached_prompt_tokens=cached_prompt_tokens)


def _native_dict(m: Message) -> dict:
    d: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.name:
        d["name"] = m.name
    if m.tool_call_id:
        d["tool_call_id"] = m.tool_call_id
    if m.tool_calls:
        d["tool_calls"] = [{"id": c.id, "type": "function",
                            "function": {"name": c.name, "arguments": c.arguments}} for c in m.tool_calls]
    return d


def _plain_dict(m: Message) -> dict:
    if m.role == "tool":
        return {"role": "user", "content": f"<tool_response>\n{m.content}\n</tool_response>", "_tool": True}
    content = m.content
    for c in m.tool_calls:
        call = _tojson({"name": c.name, "arguments": c.arguments})
        content += f"\n<tool_call>\n{call}\n</tool_call>"
    return {"role": m.role, "content": content.strip() if m.tool_calls else content}


def _merge_tool_turns(dicts: list[dict]) -> list[dict]:
    """Consecutive tool results become one user turn, as in Qwen's template."""
    merged: list[dict] = []
    previous_was_tool = False
    for d in dicts:
        is_tool = d.pop("_tool", False)
        if is_tool and previous_was_tool:
            merged[-1] = {"role": "user", "content": merged[-1]["content"] + "\n" + d["content"]}
        else:
            merged.append(d)
        previous_was_tool = is_tool
    return merged


def _tojson(x: Any, ensure_ascii: bool = False, indent: int | None = None,
            separators: tuple[str, str] | None = None, sort_keys: bool = False) -> str:
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _raise(message: str) -> None:
    raise ValueError(message)

"""Chat rendering, messages and the scripted backend: the parts every backend shares (no model needed)."""
from __future__ import annotations

import json

import pytest

from assistant.llm import Generation, Message, ToolCall, as_messages, load_backend
from assistant.llm.base import LLMBackend, final_generation
from assistant.llm.chat import ChatTemplate, with_json_instruction
from assistant.llm.scripted import UNSCRIPTED_LABEL, ScriptedBackend, minimal_instance
from assistant.toolcalls import parse_tool_calls, tool_call_schema, validate_arguments

# Qwen2.5-Instruct's chat template, exactly as stored in the Qwen2.5-Coder GGUF files.
QWEN25_TEMPLATE = r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"""
SMOLLM2_TEMPLATE = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
                    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
                    "<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
                    "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
                    "{% endif %}")

SEARCH = {"type": "function", "function": {
    "name": "search_products", "description": "Search the catalog. Prices in ₹ <INR>.",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}, "max_price": {"type": "number"}},
                   "required": ["query"]}}}
RECOMMEND = {"type": "function", "function": {
    "name": "recommend", "description": "Recommend for the signed-in user.",
    "parameters": {"type": "object", "properties": {"k": {"type": "integer"}}}}}
TOOLS = [SEARCH, RECOMMEND]
SYSTEM = Message("system", "You are a shopping assistant.")
CALL = ToolCall("search_products", {"query": "earbuds", "max_price": 1500}, "call_1")
CONVERSATION = [
    SYSTEM,
    Message("user", "wireless earbuds under 1500"),
    Message("assistant", "", tool_calls=[CALL]),
    Message("tool", '[{"id": "B01", "title": "Airdopes 141", "price": 1099}]', tool_call_id="call_1"),
    Message("tool", '{"note": "second result"}', tool_call_id="call_2"),
    Message("assistant", "The Airdopes 141 cost ₹1,099."),
    Message("user", "add it to my cart"),
]


def test_qwen_template_renders_tools_like_transformers():
    prompt = ChatTemplate(QWEN25_TEMPLATE).render([SYSTEM, Message("user", "hi")], TOOLS)
    assert prompt.startswith("<|im_start|>system\nYou are a shopping assistant.\n\n# Tools\n")
    assert json.dumps(SEARCH, ensure_ascii=False) in prompt  # no HTML escaping, ₹ kept
    assert prompt.endswith("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")


def test_qwen_template_renders_tool_calls_and_grouped_results():
    prompt = ChatTemplate(QWEN25_TEMPLATE).render(CONVERSATION, TOOLS)
    assert ('<|im_start|>assistant\n<tool_call>\n{"name": "search_products", "arguments": '
            '{"query": "earbuds", "max_price": 1500}}\n</tool_call><|im_end|>') in prompt
    assert ('<|im_start|>user\n<tool_response>\n[{"id": "B01", "title": "Airdopes 141", "price": 1099}]\n'
            '</tool_response>\n<tool_response>\n{"note": "second result"}\n</tool_response><|im_end|>') in prompt
    # what the model sees as its own earlier call parses back into the same call
    assert parse_tool_calls(prompt.split("<|im_start|>assistant\n")[1], ["search_products"]).calls[0].arguments \
        == CALL.arguments


@pytest.mark.parametrize("template", [QWEN25_TEMPLATE, SMOLLM2_TEMPLATE, None])
def test_rendering_keeps_earlier_turns_as_a_byte_identical_prefix(template):
    chat = ChatTemplate(template)
    head = chat.render([SYSTEM], TOOLS, add_generation_prompt=False)
    for k in (2, 4, 6, 7):
        earlier = chat.render(CONVERSATION[:k - 1], TOOLS, add_generation_prompt=False) if k > 2 else head
        later = chat.render(CONVERSATION[:k], TOOLS)
        assert later.startswith(head)
        assert later.startswith(earlier)


def test_template_without_tool_support_gets_tools_in_the_system_message():
    chat = ChatTemplate(SMOLLM2_TEMPLATE)
    assert not chat.supports_tools
    prompt = chat.render(CONVERSATION, TOOLS)
    system = prompt.split("<|im_end|>")[0]
    assert system.startswith("<|im_start|>system\nYou are a shopping assistant.\n\n# Tools")
    assert json.dumps(RECOMMEND, ensure_ascii=False) in system
    assert "<|im_start|>tool" not in prompt
    assert ("<|im_start|>user\n<tool_response>\n[{\"id\": \"B01\", \"title\": \"Airdopes 141\", \"price\": 1099}]\n"
            "</tool_response>\n<tool_response>\n{\"note\": \"second result\"}\n</tool_response><|im_end|>") in prompt
    assert '<|im_start|>assistant\n<tool_call>\n{"name": "search_products"' in prompt


def test_template_without_tools_and_no_system_message():
    prompt = ChatTemplate(SMOLLM2_TEMPLATE).render([Message("user", "hi")], [RECOMMEND])
    assert prompt.startswith("<|im_start|>system\n# Tools")
    assert "SmolLM" not in prompt  # our system message replaces the template's default


def test_missing_template_falls_back_to_chatml():
    assert ChatTemplate(None).render([Message("user", "hi")]) == \
        "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


def test_template_errors_surface():
    with pytest.raises(ValueError, match="roles must alternate"):
        ChatTemplate("{{ raise_exception('roles must alternate') }}").render([Message("user", "x")])


def test_json_instruction_goes_to_the_last_user_message_only():
    schema = {"type": "object", "properties": {"intent": {"enum": ["browse", "purchase"]}}}
    out = with_json_instruction(CONVERSATION, schema)
    assert out[:-1] == CONVERSATION[:-1]
    assert out[-1].content.startswith("add it to my cart\n\nReply with only a JSON value")
    assert json.dumps(schema) in out[-1].content
    assert CONVERSATION[-1].content == "add it to my cart"  # the caller's messages are not modified
    assert with_json_instruction(CONVERSATION, None) == CONVERSATION


def test_messages_convert_to_and_from_openai():
    d = CONVERSATION[2].to_openai()
    assert d["tool_calls"][0] == {"id": "call_1", "type": "function", "function": {
        "name": "search_products", "arguments": '{"query": "earbuds", "max_price": 1500}'}}
    assert Message.from_openai(d) == CONVERSATION[2]
    assert as_messages([{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]) \
        == [Message("user", "ab")]
    with pytest.raises(ValueError, match="unknown message role"):
        Message("robot", "beep")


def test_decode_rate():
    g = Generation("x", [], 10, 11, ttft_s=0.5, total_s=1.5, raw="x", finish_reason="stop")
    assert g.decode_tokens_per_s == pytest.approx(10.0)
    assert Generation("", [], 1, 1, 0.1, 0.1, "", "stop").decode_tokens_per_s == 0.0


# ---- scripted backend -------------------------------------------------------------------------------------

def test_scripted_replays_queue_and_records_calls():
    backend = ScriptedBackend(["Hello!", CALL, [ToolCall("recommend", {"k": 2})]])
    assert isinstance(backend, LLMBackend)
    g1 = backend.generate([Message("user", "hi")])
    g2 = backend.generate(CONVERSATION[:2], tools=TOOLS)
    g3 = backend.generate(CONVERSATION[:2], tools=TOOLS, max_tokens=7, seed=3)
    assert (g1.text, g1.tool_calls, g1.finish_reason) == ("Hello!", [], "stop")
    assert g2.tool_calls == [CALL] and g2.finish_reason == "tool_calls" and g2.text == ""
    assert [(c.name, c.arguments) for c in g3.tool_calls] == [("recommend", {"k": 2})]
    assert [c.messages for c in backend.calls] == [[Message("user", "hi")], CONVERSATION[:2], CONVERSATION[:2]]
    assert backend.calls[1].tools == TOOLS and backend.calls[2].max_tokens == 7 and backend.calls[2].seed == 3


def test_scripted_string_replies_go_through_the_real_parser():
    backend = ScriptedBackend(['```json\n{"name": "search_products", "arguments": {"query": "mouse"}}\n```',
                               '<tool_call>{"name": "drop_tables", "arguments": {}}</tool_call>'])
    assert backend.generate([Message("user", "x")], tools=TOOLS).tool_calls[0].arguments == {"query": "mouse"}
    g = backend.generate([Message("user", "x")], tools=TOOLS)
    assert g.tool_calls == [] and "drop_tables" in g.tool_call_errors[0]


def test_scripted_tool_call_to_a_tool_not_offered_is_an_error_like_a_real_model():
    backend = ScriptedBackend([ToolCall("order_status", {"order_id": "O1"})])
    g = backend.generate([Message("user", "x")], tools=TOOLS)
    assert g.tool_calls == [] and "order_status" in g.tool_call_errors[0]


def test_scripted_callable_sees_the_messages():
    backend = ScriptedBackend([lambda messages, tools: f"{len(messages)} messages, {len(tools or [])} tools"])
    assert backend.generate(CONVERSATION, tools=TOOLS).text == "7 messages, 2 tools"


def test_scripted_stream_ends_with_the_generation():
    backend = ScriptedBackend(["The Airdopes 141 cost ₹1,099."])
    items = list(backend.stream([Message("user", "x")]))
    assert isinstance(items[-1], Generation)
    assert "".join(items[:-1]) == items[-1].raw == "The Airdopes 141 cost ₹1,099."
    assert len(items) > 3


def test_scripted_with_empty_queue_answers_from_the_last_tool_result():
    g = ScriptedBackend().generate(CONVERSATION[:5], tools=TOOLS)
    assert g.text.startswith(UNSCRIPTED_LABEL) and "second result" in g.text and g.tool_calls == []
    g = ScriptedBackend().generate([Message("user", "hello there")])
    assert g.text == f"{UNSCRIPTED_LABEL} You said: hello there"


def test_scripted_with_empty_queue_satisfies_a_json_schema():
    schema = tool_call_schema(TOOLS)
    g = ScriptedBackend().generate([Message("user", "x")], json_schema=schema)
    assert validate_arguments(schema, json.loads(g.text)) == []
    intent = {"type": "object", "properties": {"intent": {"enum": ["browse", "buy"]}, "p": {"type": "number"},
                                               "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
              "required": ["intent", "p", "tags"]}
    assert minimal_instance(intent) == {"intent": "browse", "p": 0, "tags": [""]}


def test_scripted_dict_and_generation_replies():
    fixed = Generation("fixed", [], 1, 1, 0.0, 0.0, "fixed", "stop")
    backend = ScriptedBackend([{"intent": "browse"}, fixed])
    assert json.loads(backend.generate([Message("user", "x")]).text) == {"intent": "browse"}
    assert backend.generate([Message("user", "x")]) is fixed
    with pytest.raises(TypeError, match="scripted reply"):
        ScriptedBackend([3.5]).generate([Message("user", "x")])


def test_load_backend_by_name():
    backend = load_backend("scripted")
    assert backend.name == "scripted" and backend.model_id == "scripted"
    assert final_generation(backend.stream([{"role": "user", "content": "hi"}])).text.endswith("hi")
    with pytest.raises(ValueError, match="llamacpp, transformers, openai, scripted"):
        load_backend("gpt5")
    with pytest.raises(ValueError, match="needs --model"):
        load_backend("transformers")

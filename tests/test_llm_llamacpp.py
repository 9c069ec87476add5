"""The llama.cpp backend against real GGUF models: SmolLM2-135M (fast) and Qwen2.5-Coder-0.5B (slow)."""
from __future__ import annotations

import json

import pytest

from assistant.errors import BackendError, BackendTimeout
from assistant.llm import Generation, Message, load_backend
from assistant.toolcalls import tool_call_schema, validate_arguments

pytest.importorskip("llama_cpp")

SEARCH = {"type": "function", "function": {
    "name": "search_products", "description": "Search the product catalog by text, with optional price limit.",
    "parameters": {"type": "object", "properties": {
        "query": {"type": "string", "description": "what the shopper wants"},
        "max_price": {"type": "number", "description": "highest price in rupees"}},
        "required": ["query"]}}}
RECOMMEND = {"type": "function", "function": {
    "name": "recommend", "description": "Recommend products for the signed-in user.",
    "parameters": {"type": "object", "properties": {"k": {"type": "integer", "enum": [1, 2, 3, 4, 5]}},
                   "required": ["k"]}}}
SYSTEM = Message("system", "You are ShopAssist, a shopping assistant for an Indian electronics store. "
                           "Answer briefly. Use the tools to look up products; never invent prices. " * 6)
INTENT = {"type": "object", "properties": {"intent": {"enum": ["browse", "compare", "purchase", "support"]},
                                           "urgent": {"type": "boolean"}},
          "required": ["intent", "urgent"], "additionalProperties": False}


@pytest.fixture(scope="module")
def smol():
    return load_backend("llamacpp", "smollm2", n_ctx=2048)


@pytest.mark.slow
def test_generate_counts_tokens_and_stops_at_max_tokens(smol):
    messages = [Message("user", "Count from 1 to 50, separated by commas.")]
    g = smol.generate(messages, max_tokens=6)
    assert isinstance(g, Generation) and g.text
    assert g.completion_tokens == 6 and g.finish_reason == "length"
    assert g.prompt_tokens == smol.count_tokens(smol.render(messages))
    assert 0 < g.ttft_s <= g.total_s


@pytest.mark.slow
def test_stream_yields_the_same_text_as_generate(smol):
    messages = [Message("user", "Name three fruits.")]
    items = list(smol.stream(messages, max_tokens=16))
    final = items[-1]
    assert isinstance(final, Generation) and all(isinstance(i, str) for i in items[:-1])
    assert "".join(items[:-1]) == final.raw
    assert len(items) > 3
    assert smol.generate(messages, max_tokens=16).raw == final.raw  # greedy is deterministic


@pytest.mark.slow
def test_json_schema_output_is_valid_json_matching_the_schema(smol):
    g = smol.generate([Message("user", "I want to buy the blue kettle right now!")], json_schema=INTENT,
                      max_tokens=40)
    assert validate_arguments(INTENT, json.loads(g.text)) == []


@pytest.mark.slow
def test_tool_call_schema_forces_a_well_formed_call(smol):
    g = smol.generate([SYSTEM, Message("user", "Suggest something for me.")], tools=[RECOMMEND],
                      json_schema=tool_call_schema([RECOMMEND]), max_tokens=40)
    assert g.tool_call_errors == []
    assert [c.name for c in g.tool_calls] == ["recommend"] and g.finish_reason == "tool_calls"
    assert validate_arguments(RECOMMEND, g.tool_calls[0].arguments) == []


@pytest.mark.slow
def test_prefix_cache_is_reused_across_turns_and_gives_the_same_answer(smol):
    head = smol.count_tokens(smol.template.render([SYSTEM], [SEARCH], add_generation_prompt=False))
    turn_a = [SYSTEM, Message("user", "Do you sell earbuds?")]
    turn_b = [SYSTEM, Message("user", "Do you sell kettles?")]
    smol.llama.reset()
    cold = smol.generate(turn_b, tools=[SEARCH], max_tokens=8)
    assert cold.cached_prompt_tokens == 0
    smol.generate(turn_a, tools=[SEARCH], max_tokens=8)
    warm = smol.generate(turn_b, tools=[SEARCH], max_tokens=8)
    assert head > 300 and warm.cached_prompt_tokens >= head
    assert warm.raw == cold.raw
    # that reuse saves time is measured by benchmarks/llm_bench.py (ttft cold vs warm), not asserted here:
    # a wall-clock comparison of two calls flips when other jobs share the machine


@pytest.mark.slow
def test_prefill_warms_the_cache(smol):
    smol.llama.reset()
    n = smol.prefill([SYSTEM], [SEARCH])
    g = smol.generate([SYSTEM, Message("user", "hello")], tools=[SEARCH], max_tokens=4)
    assert g.cached_prompt_tokens >= n - 1 > 300


def test_a_prefilled_prefix_comes_back_after_another_prompt(smol):
    """The parse prompt and an answer prompt alternate: the parse prefix is restored, not re-evaluated."""
    smol.llama.reset()
    n = smol.prefill([SYSTEM], [SEARCH])
    other = smol.generate([Message("system", "Answer in one word."), Message("user", "hi")], max_tokens=2)
    assert other.cached_prompt_tokens < 10
    back = smol.generate([SYSTEM, Message("user", "do you sell kettles?")], tools=[SEARCH], max_tokens=4)
    assert back.cached_prompt_tokens >= n - 1


@pytest.mark.slow
def test_seeded_sampling_is_repeatable(smol):
    """Same seed, same cache state, same text. (A cached prefix changes floating-point rounding, so a cached
    and an uncached call may sample differently; greedy decoding is not affected in practice.)"""
    messages = [Message("user", "Write a product name for a phone.")]
    runs = []
    for _ in range(2):
        smol.llama.reset()
        runs.append(smol.generate(messages, temperature=0.9, seed=7, max_tokens=12).raw)
    assert runs[0] == runs[1]


@pytest.mark.slow
def test_timeout_raises(smol):
    with pytest.raises(BackendTimeout, match="within 0.0s"):
        smol.generate([Message("user", "Tell me a long story.")], max_tokens=50, timeout_s=0.0)


@pytest.mark.slow
def test_prompt_longer_than_the_context_is_a_clear_error():
    small = load_backend("llamacpp", "smollm2", n_ctx=128)
    with pytest.raises(BackendError, match="context window"):
        small.generate([Message("user", "word " * 300)])


def test_unknown_model_is_a_model_file_error():
    from assistant.errors import ModelFileError
    with pytest.raises(ModelFileError, match="unknown model"):
        load_backend("llamacpp", "gpt-17")


@pytest.mark.slow
def test_qwen05b_calls_the_search_tool_with_the_price_limit():
    qwen = load_backend("llamacpp", "qwen0.5b")
    g = qwen.generate([Message("system", "You are a shopping assistant. Use the tools."),
                       Message("user", "Find wireless earbuds under 1500 rupees")], tools=[SEARCH, RECOMMEND],
                      max_tokens=80)
    assert g.tool_call_errors == []
    assert [c.name for c in g.tool_calls] == ["search_products"]
    assert g.tool_calls[0].arguments.get("max_price") == 1500
    assert "earbuds" in g.tool_calls[0].arguments["query"].lower()
    forced = qwen.generate([Message("user", "Find wireless earbuds under 1500 rupees")], tools=[SEARCH],
                           json_schema=tool_call_schema([SEARCH]), max_tokens=60)
    assert [c.name for c in forced.tool_calls] == ["search_products"]
    assert validate_arguments(SEARCH, forced.tool_calls[0].arguments) == []


class ScriptedPolicy:
    """A thread policy that answers from a list (what the free cores would say), recording each call."""

    def __init__(self, answers):
        self.answers, self.calls, self.last_reason = list(answers), 0, "scripted"

    def choose(self) -> int:
        self.calls += 1
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def test_thread_count_follows_the_policy_at_every_call():
    from assistant.llm.llamacpp import LlamaCppBackend

    policy = ScriptedPolicy([1, 2, 2, 1])
    backend = LlamaCppBackend("smollm2", n_ctx=512, thread_policy=policy)
    assert backend.n_threads == 1
    used = []
    for _ in range(3):
        g = backend.generate([Message("user", "Say hi.")], max_tokens=3)
        assert g.completion_tokens >= 1
        used.append(backend.n_threads)
    assert used == [2, 2, 1] and policy.calls == 4
    fixed = LlamaCppBackend("smollm2", n_ctx=512, n_threads=1)
    assert fixed.thread_policy is None and fixed.n_threads == 1

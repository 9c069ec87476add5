"""The transformers backend on CPU with a tiny randomly initialised Qwen2 model built offline in tmp_path.

The model's words are noise; these tests check the mechanics: chat rendering, token counts, streaming,
batching, deadlines, device and quantization checks.
"""
from __future__ import annotations

import json

import pytest

from assistant.errors import BackendError, BackendTimeout
from assistant.llm import Generation, Message, load_backend

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from assistant.llm.transformers_backend import TransformersBackend, _first_json  # noqa: E402

CHATML_WITH_TOOLS = (
    "{%- if tools %}{{- '<|im_start|>system\\n' + (messages[0].content if messages[0].role == 'system' "
    "else 'You are helpful.') + '\\n\\n# Tools\\n<tools>' }}{%- for t in tools %}{{- '\\n' + (t | tojson) }}"
    "{%- endfor %}{{- '\\n</tools><|im_end|>\\n' }}{%- elif messages[0].role == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}{%- endif %}"
    "{%- for m in messages %}{%- if m.role != 'system' or not loop.first %}"
    "{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
SENTENCES = ["wireless earbuds under 1500 rupees", "a usb c cable and a phone charger",
             '{"name": "search_products", "arguments": {"query": "kettle", "max_price": 900}}',
             "The cheapest running shoe with a rating above 4 costs 1299.", "hello, how can I help you today?"]
SEARCH = {"type": "function", "function": {"name": "search_products", "description": "Search the catalog.",
                                           "parameters": {"type": "object",
                                                          "properties": {"query": {"type": "string"}}}}}


def build_tiny_qwen2(directory):
    """A 2-layer Qwen2 with random weights and a byte-level BPE tokenizer trained on a few sentences."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(SENTENCES * 5, trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>",
                                                     pad_token="<|endoftext|>", chat_template=CHATML_WITH_TOOLS)
    config = transformers.Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024, tie_word_embeddings=True,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"), pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    model = transformers.Qwen2ForCausalLM(config)
    tokenizer.save_pretrained(directory)
    model.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return build_tiny_qwen2(tmp_path_factory.mktemp("tiny_qwen2"))


@pytest.fixture(scope="module")
def tiny(tiny_dir):
    return load_backend("transformers", str(tiny_dir), device="cpu", n_threads=1)


def test_loads_on_cpu_in_fp32(tiny):
    assert tiny.device == "cpu" and tiny.model.dtype == torch.float32 and tiny.quantization is None
    assert tiny.template.supports_tools


def test_generate_counts_tokens(tiny):
    messages = [Message("system", "You are a shop."), Message("user", "wireless earbuds")]
    g = tiny.generate(messages, max_tokens=9)
    assert isinstance(g, Generation)
    assert g.prompt_tokens == tiny.count_tokens(tiny.render(messages))
    assert 1 <= g.completion_tokens <= 9
    assert (g.finish_reason == "length") == (g.completion_tokens == 9)
    assert 0 < g.ttft_s <= g.total_s


def test_tools_reach_the_prompt(tiny):
    prompt = tiny.render([Message("user", "kettle")], tools=[SEARCH])
    assert json.dumps(SEARCH) in prompt and prompt.endswith("<|im_start|>assistant\n")


def test_stream_matches_generate(tiny):
    messages = [Message("user", "a usb c cable")]
    items = list(tiny.stream(messages, max_tokens=12))
    final = items[-1]
    assert isinstance(final, Generation) and all(isinstance(i, str) for i in items[:-1])
    assert "".join(items[:-1]) == final.raw
    assert tiny.generate(messages, max_tokens=12).raw == final.raw


def test_batch_matches_single_calls(tiny):
    conversations = [[Message("user", "hello")], [Message("user", "the cheapest running shoe with a rating")],
                     [Message("system", "Be brief."), Message("user", "phone charger")]]
    batch = tiny.generate_batch(conversations, max_tokens=6)
    singles = [tiny.generate(c, max_tokens=6) for c in conversations]
    assert [b.raw for b in batch] == [s.raw for s in singles]
    assert [b.prompt_tokens for b in batch] == [s.prompt_tokens for s in singles]
    assert [b.completion_tokens for b in batch] == [s.completion_tokens for s in singles]


def test_seeded_sampling_repeats(tiny):
    messages = [Message("user", "earbuds")]
    a = tiny.generate(messages, temperature=1.0, seed=11, max_tokens=10)
    b = tiny.generate(messages, temperature=1.0, seed=11, max_tokens=10)
    assert a.raw == b.raw


def test_json_schema_is_requested_in_the_prompt(tiny):
    schema = {"type": "object", "properties": {"intent": {"enum": ["browse", "buy"]}}}
    assert json.dumps(schema) in tiny.render([Message("user", "x")], json_schema=schema)
    assert isinstance(tiny.generate([Message("user", "x")], json_schema=schema, max_tokens=4).text, str)
    # with tools the call format is already in the system prompt: no second copy of the schemas
    assert json.dumps(schema) not in tiny.render([Message("user", "x")], tools=[SEARCH], json_schema=schema)


def test_first_json_takes_the_json_out_of_chatter():
    assert _first_json('Sure! {"intent": "buy",} hope that helps') == '{"intent": "buy"}'
    assert _first_json('[1, 2] and {"a": 1}') == "[1, 2]"
    assert _first_json("no json here") == "no json here"


def test_deadline_raises_timeout(tiny):
    with pytest.raises(BackendTimeout):
        tiny.generate([Message("user", "hello")], max_tokens=50, timeout_s=0.0)


def test_quantization_needs_cuda(tiny_dir):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(BackendError, match="needs a CUDA GPU"):
        TransformersBackend(str(tiny_dir), quantization="nf4")
    with pytest.raises(ValueError, match="quantization must be one of"):
        TransformersBackend(str(tiny_dir), quantization="int3")


def test_missing_model_directory(tmp_path):
    with pytest.raises(BackendError, match="no local model"):
        TransformersBackend(str(tmp_path / "absent"))


def test_wraps_in_memory_objects(tiny):
    wrapped = TransformersBackend.from_objects(tiny.model, tiny.tokenizer, model_id="mem")
    assert wrapped.generate([Message("user", "hello")], max_tokens=5).raw == \
        tiny.generate([Message("user", "hello")], max_tokens=5).raw


@pytest.mark.slow
def test_gguf_file_loads_through_transformers():
    pytest.importorskip("gguf")
    smol = load_backend("transformers", "smollm2", device="cpu")
    g = smol.generate([Message("user", "What is the capital of France?")], max_tokens=12)
    assert g.completion_tokens > 0 and g.text
    assert "<|im_start|>user\nWhat is the capital of France?<|im_end|>" in smol.render(
        [Message("user", "What is the capital of France?")])

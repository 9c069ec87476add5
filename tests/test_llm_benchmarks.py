"""The benchmark scripts: argument parsing, the 7B config, the no-GPU exit, the CPU smoke path, the overhead hook."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gpu_bench():
    return _load("gpu_bench")


@pytest.fixture(scope="module")
def llm_bench():
    return _load("llm_bench")


def test_gpu_bench_defaults_and_variants(gpu_bench):
    args = gpu_bench.build_parser().parse_args([])
    assert (args.variants, args.prompt_tokens, args.new_tokens, args.batch, args.cpu_smoke) == \
        ("nf4,bf16", 1000, 128, 8, False)
    assert gpu_bench.parse_variants("nf4, bf16,8bit") == ["nf4", None, "8bit"]
    with pytest.raises(SystemExit, match="unknown variant"):
        gpu_bench.parse_variants("nf4,int2")


def test_gpu_bench_config_is_qwen25_7b(gpu_bench):
    pytest.importorskip("transformers")
    c = gpu_bench.qwen25_7b_config()
    assert (c.hidden_size, c.num_hidden_layers, c.num_attention_heads, c.num_key_value_heads,
            c.intermediate_size, c.vocab_size) == (3584, 28, 28, 4, 18944, 152064)
    assert (getattr(c, "rope_parameters", None) or {"rope_theta": c.rope_theta})["rope_theta"] == 1e6
    assert c.tie_word_embeddings is False
    # parameter count of the real model: 7.62 B
    h, i, v, layers, kv = 3584, 18944, 152064, 28, 4 * 128
    per_layer = h * h + 2 * h * kv + h * h + (h + 2 * kv) + 3 * h * i + 2 * h
    assert 7.6e9 < 2 * v * h + layers * per_layer + h < 7.65e9


def test_gpu_bench_exits_clearly_without_cuda(gpu_bench, capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert gpu_bench.main([]) == 2
    assert "no CUDA GPU is available" in capsys.readouterr().err


def test_gpu_bench_byte_tokenizer_counts_one_token_per_character(gpu_bench):
    pytest.importorskip("transformers")
    tok = gpu_bench.byte_tokenizer(1000)
    text = gpu_bench.prompt_of(37, offset=3)
    assert len(text) == 37 and len(tok(text, add_special_tokens=False)["input_ids"]) == 37
    assert tok.decode([5, 999]).endswith("<w999>")


@pytest.mark.slow
def test_gpu_bench_cpu_smoke_runs_the_whole_path(gpu_bench, tmp_path, capsys):
    pytest.importorskip("transformers")
    out = tmp_path / "gpu.json"
    assert gpu_bench.main(["--cpu-smoke", "--prompt-tokens", "40", "--new-tokens", "6", "--batch", "2",
                           "--repeats", "1", "--workdir", str(tmp_path), "--json", str(out)]) == 0
    assert "RANDOMLY INITIALISED" in capsys.readouterr().out
    row = json.loads(out.read_text())["results"][0]
    assert row["variant"] == "bf16" and row["prompt_tokens"] > 40 and row["completion_tokens_batch1"] >= 1


def test_llm_bench_percentiles_and_overhead_hook(llm_bench, monkeypatch):
    assert llm_bench.percentile([1, 2, 3, 4], 50) == 2.5
    assert llm_bench.percentile([5.0], 95) == 5.0
    clock = SimpleNamespace(now=100.0)  # the benchmark's clock, so other jobs on the machine cannot move it
    monkeypatch.setattr(llm_bench, "time", SimpleNamespace(perf_counter=lambda: clock.now))

    def slow(prompt):
        clock.now += 0.02

    report = llm_bench.overhead_report(lambda p: None, slow, prompts=["a", "b"])
    assert report["raw"]["n"] == report["assistant"]["n"] == 2
    assert report["overhead_p50_s"] == pytest.approx(0.02) and report["overhead_mean_s"] == pytest.approx(0.02)


def test_llm_bench_prompt_setup(llm_bench):
    names = [t["function"]["name"] for t in llm_bench.TOOLS]
    assert names == ["search_products", "get_product", "compare_products", "review_sentiment_summary",
                     "recommend", "predict_order_intent", "add_to_cart", "order_status"]
    assert len(llm_bench.PROMPTS) == 8
    args = llm_bench.build_parser().parse_args(["--run", "llamacpp:smollm2", "--max-tokens", "8"])
    assert args.run == ["llamacpp:smollm2"] and args.max_tokens == 8


def test_llm_bench_table_formats_results_and_errors(llm_bench):
    row = {"run": "llamacpp:smollm2", "prefix_tokens": 786, "load_s": 0.5, "ttft_cold_p50_s": 3.0,
           "ttft_warm_p50_s": 0.1, "prompt_tok_s_cold": 250.0, "decode_tok_s": 80.0, "latency_cold_p50_s": 4.0,
           "latency_warm_p50_s": 1.0, "latency_warm_p95_s": 1.2, "peak_rss_mb": 300.0}
    table = llm_bench.format_table([row, {"run": "llamacpp:qwen9b", "error": "unknown model"}])
    assert "786" in table and "80.0" in table and "ERROR: unknown model" in table


def test_llm_bench_one_scripted_run(llm_bench):
    """The per-model measurement on the scripted backend (no model): keys present, counts sane."""
    row = llm_bench.bench_one("scripted:", max_tokens=8, n_cold=2, threads=None)
    assert row["run"] == "scripted:" and row["tool_calls_warm"] == 0 and row["peak_rss_mb"] > 0
    assert row["ttft_cold_p50_s"] is not None and row["latency_warm_p95_s"] >= row["latency_warm_p50_s"]

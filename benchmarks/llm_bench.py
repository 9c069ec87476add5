"""LLM backend benchmark: time to first token, prompt and decode speed, turn latency, cold vs warm prefix cache.

Each `backend:model` pair runs in its own subprocess (so peak RSS is that model's alone) over 8 fixed shopping
prompts behind a system prompt with the 8 tool schemas of DESIGN.md (786 Qwen tokens), greedy, `--max-tokens` new
tokens at most:
- cold: the KV cache is cleared before the call (first turn of a fresh process), on `--cold` prompts;
- warm: the system+tools prefix is cached (`prefill`, then each turn reuses it), on all prompts.
Prompt tok/s counts only the tokens actually evaluated (not the cached ones); decode tok/s excludes the first
token. Numbers on a shared CPU are noisy: compare runs made together.

    python benchmarks/llm_bench.py                                   # llamacpp: smollm2, qwen0.5b, qwen1.5b
    python benchmarks/llm_bench.py --run llamacpp:qwen0.5b --threads 1 --json out.json
    python benchmarks/llm_bench.py --run transformers:/path/to/model_dir

Hook for "assistant overhead over the raw backend": `overhead_report(raw_fn, assistant_fn, prompts)` times two
callables `prompt -> anything` on the same prompts and reports both latency distributions and the difference.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_RUNS = ("llamacpp:smollm2", "llamacpp:qwen0.5b", "llamacpp:qwen1.5b")

SYSTEM_PROMPT = (
    "You are ShopAssist, the shopping assistant of an Indian online electronics and home store (prices in ₹).\n"
    "Facts come only from tool results: never invent a product, price, rating or review. For product requests call\n"
    "search_products with every explicit constraint as an argument (max_price, min_rating, brand); do not guess\n"
    "constraints. Only the signed-in shopper's own orders may be looked up; refuse requests about other people's "
    "data\n"
    "or to change prices. If nothing fits, say so and suggest relaxing one constraint. Answer in at most three\n"
    "sentences, mention product ids exactly, and reply in the shopper's language.\n"
)


def _tool(name: str, description: str, properties: dict, required: Sequence[str] = ()) -> dict:
    return {"type": "function", "function": {"name": name, "description": description, "parameters": {
        "type": "object", "properties": properties, "required": list(required)}}}


_STR, _NUM, _INT = {"type": "string"}, {"type": "number"}, {"type": "integer"}
TOOLS = [
    _tool("search_products", "Search the catalog by text with optional filters.",
          {"query": _STR, "max_price": _NUM, "min_price": _NUM, "min_rating": _NUM, "category": _STR,
           "brand": _STR, "k": _INT}, ["query"]),
    _tool("get_product", "Full details of one product.", {"product_id": _STR}, ["product_id"]),
    _tool("compare_products", "Compare several products side by side.",
          {"product_ids": {"type": "array", "items": _STR}}, ["product_ids"]),
    _tool("review_sentiment_summary", "What reviewers say about a product, optionally about one aspect.",
          {"product_id": _STR, "aspect": _STR}, ["product_id"]),
    _tool("recommend", "Recommendations for the signed-in shopper from history, friends and content.",
          {"context": _STR, "k": _INT}),
    _tool("predict_order_intent", "How likely the shopper is to buy now, from the session.", {}),
    _tool("add_to_cart", "Add a product to the shopper's cart.", {"product_id": _STR, "quantity": _INT},
          ["product_id"]),
    _tool("order_status", "Status of one of the signed-in shopper's orders.", {"order_id": _STR}, ["order_id"]),
]

PROMPTS = [
    "wireless earbuds under 1500 rupees",
    "Which is better for running, the boAt Airdopes 141 or the Noise Buds VS104?",
    "What do reviewers say about the battery of B09N3ZNHTY?",
    "Show me a 4-star or better electric kettle from Prestige",
    "Add two of B07KY3FNQP to my cart please",
    "Where is my order 402-1234567?",
    "Recommend something for my dad, he likes cooking",
    "usb c cable under 300 with fast charging",
]


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a non-empty sequence."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = int(pos), min(int(pos) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def measure_latency(fn: Callable[[str], Any], prompts: Sequence[str], repeats: int = 1) -> dict:
    """Wall-clock seconds of `fn(prompt)` over prompts (× repeats): p50, p95, mean, n."""
    times = []
    for _ in range(repeats):
        for prompt in prompts:
            t0 = time.perf_counter()
            fn(prompt)
            times.append(time.perf_counter() - t0)
    return {"p50_s": percentile(times, 50), "p95_s": percentile(times, 95), "mean_s": statistics.fmean(times),
            "n": len(times)}


def overhead_report(raw_fn: Callable[[str], Any], assistant_fn: Callable[[str], Any],
                    prompts: Sequence[str] = PROMPTS, repeats: int = 1) -> dict:
    """Latency of the assistant (policy + tools + checks + backend) against the raw backend on the same
    prompts: both distributions and the p50/mean difference in seconds."""
    raw = measure_latency(raw_fn, prompts, repeats)
    assistant = measure_latency(assistant_fn, prompts, repeats)
    return {"raw": raw, "assistant": assistant, "overhead_p50_s": assistant["p50_s"] - raw["p50_s"],
            "overhead_mean_s": assistant["mean_s"] - raw["mean_s"]}


def bench_one(spec: str, max_tokens: int, n_cold: int, threads: int | None, timeout_s: float = 900.0) -> dict:
    """Benchmark one `backend:model` in this process."""
    from assistant.llm import Message, load_backend

    name, _, model = spec.partition(":")
    kwargs = {"n_threads": threads} if name == "llamacpp" and threads else {}
    t0 = time.perf_counter()
    backend = load_backend(name, model or None, **kwargs)
    load_s = time.perf_counter() - t0
    system = Message("system", SYSTEM_PROMPT)
    prefix_tokens = _prefix_tokens(backend, system)
    cold = []
    for prompt in PROMPTS[:n_cold]:
        _clear_cache(backend)
        cold.append(backend.generate([system, Message("user", prompt)], tools=TOOLS, max_tokens=max_tokens,
                                     timeout_s=timeout_s))
    if hasattr(backend, "prefill"):
        backend.prefill([system], TOOLS)
    warm = [backend.generate([system, Message("user", p)], tools=TOOLS, max_tokens=max_tokens, timeout_s=timeout_s)
            for p in PROMPTS]
    return _summary(spec, backend, load_s, prefix_tokens, cold, warm, threads)


def _summary(spec, backend, load_s, prefix_tokens, cold, warm, threads) -> dict:
    def prompt_rate(gs):
        rates = [(g.prompt_tokens - g.cached_prompt_tokens) / g.ttft_s for g in gs if g.ttft_s > 0]
        return statistics.fmean(rates) if rates else None

    decode = [g.decode_tokens_per_s for g in warm + cold if g.decode_tokens_per_s > 0]
    return {
        "run": spec, "model_id": backend.model_id, "threads": threads, "load_s": load_s,
        "prefix_tokens": prefix_tokens, "prompt_tokens_mean": statistics.fmean(g.prompt_tokens for g in warm),
        "cached_tokens_mean_warm": statistics.fmean(g.cached_prompt_tokens for g in warm),
        "ttft_cold_p50_s": percentile([g.ttft_s for g in cold], 50) if cold else None,
        "ttft_warm_p50_s": percentile([g.ttft_s for g in warm], 50),
        "prompt_tok_s_cold": prompt_rate(cold) if cold else None,
        "decode_tok_s": statistics.fmean(decode) if decode else 0.0,
        "completion_tokens_mean": statistics.fmean(g.completion_tokens for g in warm),
        "latency_cold_p50_s": percentile([g.total_s for g in cold], 50) if cold else None,
        "latency_warm_p50_s": percentile([g.total_s for g in warm], 50),
        "latency_warm_p95_s": percentile([g.total_s for g in warm], 95),
        "tool_calls_warm": sum(len(g.tool_calls) for g in warm),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _prefix_tokens(backend, system) -> int:
    template = getattr(backend, "template", None)
    if template is None:
        return 0
    return backend.count_tokens(template.render([system], TOOLS, add_generation_prompt=False))


def _clear_cache(backend) -> None:
    llama = getattr(backend, "llama", None)
    if llama is not None:
        llama.reset()


COLUMNS = [("run", "run", "{}"), ("prefix_tokens", "prefix tok", "{:d}"), ("load_s", "load s", "{:.1f}"),
           ("ttft_cold_p50_s", "TTFT cold", "{:.2f}"), ("ttft_warm_p50_s", "TTFT warm", "{:.2f}"),
           ("prompt_tok_s_cold", "prompt tok/s", "{:.0f}"), ("decode_tok_s", "decode tok/s", "{:.1f}"),
           ("latency_cold_p50_s", "turn cold p50", "{:.2f}"), ("latency_warm_p50_s", "turn warm p50", "{:.2f}"),
           ("latency_warm_p95_s", "turn warm p95", "{:.2f}"), ("peak_rss_mb", "peak RSS MB", "{:.0f}")]


def format_table(rows: list[dict]) -> str:
    cells = [[h for _, h, _ in COLUMNS]]
    for r in rows:
        if "error" in r:
            cells.append([r["run"], f"ERROR: {r['error']}"] + [""] * (len(COLUMNS) - 2))
            continue
        cells.append(["-" if r.get(k) is None else f.format(r[k]) for k, _, f in COLUMNS])
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
                     for row in cells)


def _run_isolated(spec: str, args) -> dict:
    cmd = [sys.executable, __file__, "--single", spec, "--max-tokens", str(args.max_tokens),
           "--cold", str(args.cold), "--timeout", str(args.timeout)] + \
        (["--threads", str(args.threads)] if args.threads else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if proc.returncode != 0:
        return {"run": spec, "error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", action="append", help="backend:model, repeatable (default: llamacpp on all 3 models)")
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--cold", type=int, default=3, help="prompts measured with an empty cache")
    p.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default $SHOPASSIST_THREADS or 2)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per generation")
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--single", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.single:
        print(json.dumps(bench_one(args.single, args.max_tokens, args.cold, args.threads, args.timeout)))
        return 0
    rows = []
    for spec in args.run or DEFAULT_RUNS:
        print(f"running {spec} ...", file=sys.stderr, flush=True)
        rows.append(_run_isolated(spec, args))
    print(format_table(rows))
    print(f"\n{len(PROMPTS)} prompts, greedy, max {args.max_tokens} new tokens; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (shared CPUs make these numbers noisy)")
    if args.json:
        args.json.write_text(json.dumps({"max_tokens": args.max_tokens, "results": rows}, indent=2))
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

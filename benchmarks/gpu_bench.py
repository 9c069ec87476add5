"""GPU speed benchmark of the transformers backend on the Qwen2.5-7B-Instruct architecture with RANDOM weights.

No 7B weights are reachable here, so this measures speed only: the architecture (config values below, copied
from Qwen2.5-7B-Instruct's config.json) is initialised randomly on the GPU, saved to a work directory, and
loaded back through `TransformersBackend` exactly as a user's model directory would be: once in 4-bit NF4
(bitsandbytes) and once in bf16. Its words are noise; its speed is that of the real model.

Reports per variant: time to first token for a ~1k-token prompt, decode tokens/s at batch 1 and batch 8
(per sequence and aggregate), peak GPU memory. Without a CUDA GPU it exits with a clear message (status 2).
`--cpu-smoke` runs a shrunken copy of the architecture in bf16 on the CPU to check the code path itself.

    python benchmarks/gpu_bench.py --json gpu.json
    python benchmarks/gpu_bench.py --variants nf4 --prompt-tokens 2000 --new-tokens 64
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# Qwen2.5-7B-Instruct config.json (architecture only).
QWEN25_7B = {
    "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28, "num_attention_heads": 28,
    "num_key_value_heads": 4, "vocab_size": 152064, "max_position_embeddings": 32768, "rope_theta": 1000000.0,
    "rms_norm_eps": 1e-6, "hidden_act": "silu", "tie_word_embeddings": False, "use_sliding_window": False,
    "sliding_window": 131072, "max_window_layers": 28, "attention_dropout": 0.0, "initializer_range": 0.02,
    "bos_token_id": 151643, "eos_token_id": 151645,
}
# the same shape family, small enough for a CPU check of the code path
SMOKE_OVERRIDES = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
                   "num_key_value_heads": 2, "max_window_layers": 2}
SPECIAL_IDS = {"<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645}
CHATML = ("{%- for m in messages %}{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}"
          "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}")
NO_GPU_MESSAGE = ("gpu_bench: no CUDA GPU is available (torch.cuda.is_available() is False). This benchmark "
                  "measures 4-bit and bf16 GPU speed and cannot run on a CPU; use --cpu-smoke to check the code "
                  "path on a tiny copy of the architecture.")


def qwen25_7b_config(overrides: dict | None = None):
    """A `Qwen2Config` of the Qwen2.5-7B-Instruct architecture (optionally with some values replaced)."""
    from transformers import Qwen2Config

    return Qwen2Config(**{**QWEN25_7B, **(overrides or {})})


def byte_tokenizer(vocab_size: int):
    """A byte-level BPE tokenizer without merges: every character of plain ASCII text is one token, every id of
    the vocabulary decodes, and the Qwen ChatML special tokens sit at their real ids. (transformers may rebuild
    it as a Qwen2Tokenizer from vocab + merges for a qwen2 config; that gives the same tokens.)"""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {ch: i for i, ch in enumerate(alphabet)}
    specials = {i: text for text, i in SPECIAL_IDS.items()}
    vocab.update({specials.get(i, f"<w{i}>"): i for i in range(len(alphabet), vocab_size)})
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   additional_special_tokens=["<|im_start|>"], chat_template=CHATML)


def prompt_of(n_tokens: int, offset: int = 0) -> str:
    """A user message of exactly `n_tokens` tokens (one per character; different text per offset)."""
    letters = "abcdefghijklmnopqrstuvwxyz "
    return "".join(letters[(offset * 7 + i * i) % len(letters)] for i in range(n_tokens))


def save_random_model(config, directory: Path, device: str) -> None:
    """Initialise the architecture randomly (on `device`, in bf16) and save it with its tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    with torch.device(device):  # initialise on the GPU: seconds instead of minutes for 7.6 B parameters
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(directory)
    byte_tokenizer(config.vocab_size).save_pretrained(directory)
    del model
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()


def bench_variant(directory: Path, quantization: str | None, args) -> dict:
    """Load through TransformersBackend and measure one variant."""
    import torch

    from assistant.llm import Message
    from assistant.llm.transformers_backend import TransformersBackend

    cuda = torch.cuda.is_available() and not args.cpu_smoke
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    backend = TransformersBackend(str(directory), quantization=quantization, dtype="bf16",
                                  device="cuda" if cuda else "cpu")
    load_s = time.perf_counter() - t0
    convo = [Message("user", prompt_of(args.prompt_tokens))]
    backend.generate(convo, max_tokens=2)  # warm-up: kernels, allocator
    ttfts = [backend.generate([Message("user", prompt_of(args.prompt_tokens, k))], max_tokens=1).ttft_s
             for k in range(1, args.repeats + 1)]
    one = backend.generate(convo, max_tokens=args.new_tokens)
    batch = backend.generate_batch([[Message("user", prompt_of(args.prompt_tokens, k))]
                                    for k in range(args.batch)], max_tokens=args.new_tokens)
    decode_s = batch[0].total_s - batch[0].ttft_s
    new_after_first = sum(max(g.completion_tokens - 1, 0) for g in batch)
    result = {
        "variant": quantization or "bf16", "load_s": load_s, "prompt_tokens": one.prompt_tokens,
        "ttft_s_median": statistics.median(ttfts), "decode_tok_s_batch1": one.decode_tokens_per_s,
        "completion_tokens_batch1": one.completion_tokens, "batch": args.batch,
        "decode_tok_s_batch_aggregate": new_after_first / decode_s if decode_s > 0 else 0.0,
        "decode_tok_s_batch_per_seq": new_after_first / args.batch / decode_s if decode_s > 0 else 0.0,
        "ttft_s_batch": batch[0].ttft_s,
        "peak_gpu_mem_gb": torch.cuda.max_memory_allocated() / 2**30 if cuda else None,
    }
    del backend
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
    return result


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", default="nf4,bf16", help="comma-separated: nf4, 8bit, bf16")
    p.add_argument("--prompt-tokens", type=int, default=1000)
    p.add_argument("--new-tokens", type=int, default=128)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--repeats", type=int, default=3, help="TTFT measurements per variant (median reported)")
    p.add_argument("--workdir", type=Path, help="where the random weights are saved (default: a temp dir)")
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--cpu-smoke", action="store_true",
                   help="tiny copy of the architecture, bf16 on CPU: checks the code path, not speed")
    return p


def parse_variants(text: str) -> list[str | None]:
    names = {"nf4": "nf4", "8bit": "8bit", "bf16": None}
    variants = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [v for v in variants if v not in names]
    if unknown or not variants:
        raise SystemExit(f"gpu_bench: unknown variant(s) {unknown or text!r}; choose from nf4, 8bit, bf16")
    return [names[v] for v in variants]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    variants = parse_variants(args.variants)
    import torch

    if args.cpu_smoke:
        variants = [None]  # bitsandbytes quantization needs CUDA
    elif not torch.cuda.is_available():
        print(NO_GPU_MESSAGE, file=sys.stderr)
        return 2
    print("SPEED-ONLY BENCHMARK: Qwen2.5-7B-Instruct architecture with RANDOMLY INITIALISED weights "
          "(no weights are reachable); outputs are noise, timings are real.", flush=True)
    config = qwen25_7b_config(SMOKE_OVERRIDES if args.cpu_smoke else None)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        t0 = time.perf_counter()
        save_random_model(config, Path(tmp), "cpu" if args.cpu_smoke else "cuda")
        print(f"random weights saved in {time.perf_counter() - t0:.0f}s", flush=True)
        rows = [bench_variant(Path(tmp), q, args) for q in variants]
    device = "cpu (smoke)" if args.cpu_smoke else torch.cuda.get_device_name(0)
    _print_table(rows, device)
    if args.json:
        args.json.write_text(json.dumps({"device": device, "config": dict(QWEN25_7B), "results": rows}, indent=2))
    return 0


def _print_table(rows: list[dict], device: str) -> None:
    print(f"\ndevice: {device}")
    batch = rows[0]["batch"] if rows else 0
    print(f"{'variant':8} {'load s':>7} {'TTFT s':>7} {'dec tok/s b1':>13} {f'dec tok/s b{batch} agg':>17} "
          f"{'per seq':>8} {'peak GB':>8}")
    for r in rows:
        peak = "-" if r["peak_gpu_mem_gb"] is None else f"{r['peak_gpu_mem_gb']:.1f}"
        print(f"{r['variant']:8} {r['load_s']:7.1f} {r['ttft_s_median']:7.3f} {r['decode_tok_s_batch1']:13.1f} "
              f"{r['decode_tok_s_batch_aggregate']:17.1f} {r['decode_tok_s_batch_per_seq']:8.1f} {peak:>8}")


if __name__ == "__main__":
    sys.exit(main())

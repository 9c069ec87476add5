"""llama.cpp speed by build, thread count, OpenMP wait policy and background load: prefill, decode, full turn.

Each configuration runs in its own process (OMP_WAIT_POLICY is read once, when libgomp loads; a build is an
import path) and measures, for one model (default qwen0.5b):
- prefill tok/s: a ~500-token prompt with an empty KV cache, time to the first token (best of --repeats);
- decode tok/s: 64 greedy tokens after a cached prompt (tokens after the first / time after the first);
- full turn: the assistant (`assistant.app.load_assistant`, default router and answer style) on the demo index,
  --turns shopping messages in one session; p50 and p95 seconds.
Background load: `--load N` starts N busy-looping processes, each pinned to one core, for the duration of a
configuration only (they stop themselves after --load-max-s whatever happens), so "under load" is one
known competitor per core instead of whatever else runs.

    python benchmarks/thread_bench.py --json threads.json                          # threads 1,2,auto x load 0,1
    python benchmarks/thread_bench.py --threads 2 --omp passive,default,active --load 0,1 --json omp.json
    python benchmarks/thread_bench.py --builds installed,avx2=/tmp/llama-avx2/site --threads 1,2 --load 0 \\
        --json builds.json   # avx2=DIR: a llama-cpp-python built for AVX2 only, installed with pip --target DIR
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.benchrun import BenchRun, check_against, cores  # noqa: E402
from eval.harness import percentile, print_table, write_results  # noqa: E402

TURNS = ["wireless earbuds under 1500 rupees", "which of these has the best battery?",
         "show me a 4 star electric kettle", "add the first one to my cart", "running shoes for men under 3000",
         "compare the first two", "what do reviewers say about the first one?", "usb c cable under 300"]
BUSY = "import os, sys, time\nos.sched_setaffinity(0, {int(sys.argv[1])})\nend = time.time() + float(sys.argv[2])\n" \
       "while time.time() < end:\n    pass\n"


def long_prompt(backend, n_tokens: int) -> str:
    """Product text of about n_tokens tokens (demo store titles and descriptions)."""
    from retrieval.demo_store import build_demo_store

    words, text = [], ""
    for p in build_demo_store().products.values():
        words.append(f"{p.title}: {p.description}")
        text = "Summarise these products in one sentence:\n" + "\n".join(words)
        if backend.count_tokens(text) >= n_tokens:
            break
    return text


def measure(model: str, index: str | None, n_turns: int, repeats: int, prompt_tokens: int,
            decode_timeout_s: float = 300.0) -> dict:
    """One configuration, in this process (the environment already set)."""
    import llama_cpp

    from assistant.errors import BackendTimeout
    from assistant.llm import Message
    from assistant.llm.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(model)
    prompt = [Message("user", long_prompt(backend, prompt_tokens))]
    prefill = []
    for _ in range(repeats):
        backend.llama.reset()
        g = backend.generate(prompt, max_tokens=1, timeout_s=decode_timeout_s)
        prefill.append(g.prompt_tokens / g.ttft_s)
    row = {"llama_cpp": llama_cpp.__file__, "threads_used": backend.n_threads, "prefill_tok_s": max(prefill),
           "system_info": llama_cpp.llama_print_system_info().decode().strip()}
    try:  # the prompt is cached now: decode only
        g = backend.generate(prompt, max_tokens=64, timeout_s=decode_timeout_s)
        row.update(prompt_tokens=g.prompt_tokens, decode_tok_s=g.decode_tokens_per_s)
    except BackendTimeout as e:  # oversubscribed threads can slow decoding 10x: record it and go on
        row["decode_error"] = str(e)
    if n_turns:
        row.update(full_turns(backend, index, n_turns))
    row["threads_reason"] = backend.thread_policy.last_reason if backend.thread_policy else "fixed"
    return row


def full_turns(backend, index: str | None, n_turns: int) -> dict:
    from assistant.app import load_assistant
    from ui.commands.demo import ensure_demo_index

    assistant = load_assistant(index or ensure_demo_index(), backend_obj=backend)
    session = assistant.new_session(user_id=None)
    times, threads = [], []
    for text in (TURNS * (1 + n_turns // len(TURNS)))[:n_turns]:
        t0 = time.perf_counter()
        assistant.turn(session, text)
        times.append(time.perf_counter() - t0)
        threads.append(backend.n_threads)
    return {"turn_p50_s": percentile(times, 50), "turn_p95_s": percentile(times, 95),
            "turn_threads": statistics.mode(threads), "turns": n_turns}


class BusyLoad:
    """N single-core busy loops (core i mod cores), ended on exit or after max_s, whichever is first."""

    def __init__(self, n: int, max_s: float):
        self.n, self.max_s, self.procs = n, max_s, []

    def __enter__(self):
        cpus = sorted(os.sched_getaffinity(0))
        self.procs = [subprocess.Popen([sys.executable, "-c", BUSY, str(cpus[i % len(cpus)]), str(self.max_s)])
                      for i in range(self.n)]
        time.sleep(0.5 if self.n else 0)
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait()


def config_env(build_dir: str | None, threads: str, omp: str) -> dict:
    env = {**os.environ, "SHOPASSIST_THREADS": threads, "HF_HUB_OFFLINE": "1"}
    env.pop("OMP_WAIT_POLICY", None)
    env["SHOPASSIST_OMP_WAIT"] = omp  # read by retrieval.threads.openmp_defaults before libgomp loads
    if build_dir:
        env["PYTHONPATH"] = os.pathsep.join([build_dir, str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def run_config(args, build: str, threads: str, omp: str, load: int) -> dict:
    name, _, build_dir = build.partition("=")
    cmd = [sys.executable, __file__, "--single", "--model", args.model, "--turns", str(args.turns),
           "--repeats", str(args.repeats), "--prompt-tokens", str(args.prompt_tokens)] + \
        (["--index", args.index] if args.index else [])
    label = {"build": name, "threads": threads, "omp_wait": omp, "load_procs": load}
    with BusyLoad(load, args.load_max_s):
        load_before = os.getloadavg()[0]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=config_env(build_dir, threads, omp),
                              timeout=args.load_max_s)
    if proc.returncode != 0:
        return {**label, "error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return {**label, "load1_before": round(load_before, 2), **json.loads(proc.stdout.strip().splitlines()[-1])}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="qwen0.5b")
    p.add_argument("--builds", default="installed", help="comma-separated: installed, or NAME=DIR (pip --target DIR)")
    p.add_argument("--threads", default="1,2,auto")
    p.add_argument("--omp", default="passive", help="OpenMP wait policies: passive, default (unset), active")
    p.add_argument("--load", default="0,1", help="busy background processes, one per core")
    p.add_argument("--turns", type=int, default=6, help="assistant turns per configuration (0: none)")
    p.add_argument("--repeats", type=int, default=2, help="cold prefills per configuration (best counts)")
    p.add_argument("--prompt-tokens", type=int, default=500)
    p.add_argument("--index", default=None, help="index folder for the full turns (default: the demo index)")
    p.add_argument("--load-max-s", type=float, default=1200.0, help="upper bound on one configuration's time")
    p.add_argument("--json", default=None)
    p.add_argument("--baseline", default=None, help="an earlier JSON of this benchmark: exit 1 on a slowdown")
    p.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    return p


def metric_name(r: dict, what: str) -> str:
    return f"{what}_{r['build']}_t{r['threads']}_{r['omp_wait']}_load{r['load_procs']}"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.single:
        print(json.dumps(measure(args.model, args.index, args.turns, args.repeats, args.prompt_tokens)))
        return 0
    run = BenchRun("threads", model=args.model, builds=args.builds, threads=args.threads, omp=args.omp,
                   load=args.load, turns=args.turns)
    rows = []
    for build in args.builds.split(","):
        for load in [int(x) for x in args.load.split(",")]:
            for omp in args.omp.split(","):
                for threads in args.threads.split(","):
                    print(f"{build} threads={threads} omp={omp} load={load} ...", file=sys.stderr, flush=True)
                    rows.append(run_config(args, build, threads, omp, load))
                    print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print_table(rows, ["build", "threads", "threads_used", "omp_wait", "load_procs", "load1_before", "prompt_tokens",
                       "prefill_tok_s", "decode_tok_s", "turn_p50_s", "turn_p95_s", "turn_threads", "decode_error",
                       "error"],
                title=f"llama.cpp {args.model} on {cores()} cores: builds x threads x OpenMP wait x background load")
    metrics = {}
    for r in rows:
        for what in ("prefill_tok_s", "decode_tok_s", "turn_p50_s"):
            if r.get(what) is not None:
                metrics[metric_name(r, what)] = r[what]
    out = run.finish(metrics, rows=rows)
    if args.json:
        write_results(args.json, out)
    if args.baseline:
        return 1 if check_against(args.baseline, out) else 0
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

"""The router table of the understanding issue: how a turn is read (rules only, rules + the learned classifier,
the CPU models' structured parse when the rules leave a gap or on every turn) against tool, argument and task
figures and turn latency, on the dev suites and on the fresh suites written without the code, side by side.

    python benchmarks/router_table.py --amazon-index DIR --demo-index DIR --out runs/router [--configs a,b]

Each cell is one `shopassist eval dialogues` run (its JSON is kept in --out); the table is printed and written
as Markdown (--out/router_table.md) with the commands, the commit, the machine and the load average.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

CONFIGS = {  # name -> eval dialogues arguments
    "rules": ["--backend", "none", "--router", "plan", "--no-classifier"],
    "rules+classifier": ["--backend", "none", "--router", "plan"],
    "qwen0.5b auto": ["--backend", "llamacpp", "--model", "qwen0.5b", "--router", "auto"],
    "qwen0.5b every turn": ["--backend", "llamacpp", "--model", "qwen0.5b", "--router", "llm"],
    "qwen1.5b auto": ["--backend", "llamacpp", "--model", "qwen1.5b", "--router", "auto"],
    "qwen1.5b every turn": ["--backend", "llamacpp", "--model", "qwen1.5b", "--router", "llm"],
}
SUITES = {"amazon dev": ("amazon", "eval/suites/dialogues_amazon_dev.jsonl"),
          "amazon fresh": ("amazon", "eval/suites/dialogues_amazon_fresh.jsonl"),
          "demo dev": ("demo", "eval/suites/dialogues_demo_dev.jsonl"),
          "demo fresh": ("demo", "eval/suites/dialogues_demo_fresh.jsonl")}
KEYS = ("tool_accuracy", "arg_accuracy", "turn_success", "task_success", "refusal_recall", "over_refusal_rate",
        "inverted_constraints", "unsupported_claims_shown", "turn_latency_ms_p50", "turn_latency_ms_p95")


def _fmt(key: str, v) -> str:
    if v is None:
        return "n/a"
    if key.startswith("turn_latency"):
        return f"{v / 1000:.2f} s" if v >= 1000 else f"{v:.0f} ms"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def run(config: str, suite: str, index: str, out: Path) -> dict:
    path = out / f"{config.replace(' ', '_').replace('+', '_')}__{suite.replace(' ', '_')}.json"
    if not path.exists():
        cmd = [sys.executable, "-m", "ui.cli", "eval", "dialogues", "--index", index, "--suite", SUITES[suite][1],
               *CONFIGS[config], "--out", str(path)]
        print("$", " ".join(cmd[2:]), flush=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return json.loads(path.read_text())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--amazon-index", required=True)
    p.add_argument("--demo-index", required=True)
    p.add_argument("--configs", default=",".join(CONFIGS))
    p.add_argument("--suites", default=",".join(SUITES))
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()
    rows = []
    for config in [c.strip() for c in args.configs.split(",") if c.strip()]:
        for suite in [s.strip() for s in args.suites.split(",") if s.strip()]:
            index = args.amazon_index if SUITES[suite][0] == "amazon" else args.demo_index
            r = run(config, suite, index, out)
            rows.append({"reader": config, "suite": suite, "turns": r.get("n_turns"), **{k: r.get(k) for k in KEYS}})
    load_end = os.getloadavg()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    head = "| reader | suite | turns | " + " | ".join(KEYS) + " |"
    lines = [head, "|" + "---|" * (len(KEYS) + 3)]
    lines += [f"| {r['reader']} | {r['suite']} | {r['turns']} | " + " | ".join(_fmt(k, r[k]) for k in KEYS) + " |"
              for r in rows]
    table = "\n".join(lines)
    meta = (f"commit {commit}, {platform.machine()} {os.cpu_count()} cores, llama.cpp threads "
            f"{os.environ.get('SHOPASSIST_THREADS', 'auto')}, load average {load_start[0]:.1f} at start, "
            f"{load_end[0]:.1f} at end, {time.strftime('%Y-%m-%d %H:%M')}")
    (out / "router_table.md").write_text(f"{table}\n\n{meta}\n", encoding="utf-8")
    print(table + "\n\n" + meta)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

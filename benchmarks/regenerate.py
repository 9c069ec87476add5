"""Rebuild every generated table of docs/RESULTS.md and docs/results/*.md from scratch.

    python benchmarks/regenerate.py --out runs/regen [--only NAME,...] [--list] [--force] [--check]

A table in a results document is the text between `<!-- table: NAME -->` and `<!-- /table -->`; this script runs
the commands behind NAME (each a `shopassist` command or a benchmark script writing JSON into --out; a result
already there is reused unless --force), renders the table from the JSON and writes it back in place, followed
by a line naming the commands, the commit, the machine and the load average. The prose around the tables is
left as it is. `--check` renders from existing results only and exits 1 when a table would change in more than
its timing cells. Indexes are built into --out on first use (the amazon_in catalog and the Chinese Multi-CPR
corpus from ../shared/data, the demo store with its models).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHOPASSIST_SHARED_DATA", ROOT.parent / "shared" / "data"))
DOCS = [ROOT / "docs" / "RESULTS.md", *sorted((ROOT / "docs" / "results").glob("*.md"))]
BLOCK = re.compile(r"(<!-- table: ([\w.-]+) -->\n)(.*?)(<!-- /table -->)", re.S)
TIMING = re.compile(r"\d+(?:\.\d+)?\s*(?:ms|s)\b|load average [\d.]+|\d{4}-\d\d-\d\d \d\d:\d\d|commit \w+")


@dataclass
class Table:
    runs: list[tuple[str, list[str]]]          # (result file name, argv after `python -m ui.cli` or a script)
    render: Callable[[dict[str, dict]], str]    # results by file name -> Markdown table


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ui.cli", *args]


def _f(v, digits: int = 3) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _ms(v) -> str:
    return "n/a" if v is None else (f"{v / 1000:.2f} s" if v >= 1000 else f"{v:.0f} ms")


def md(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                     + ["| " + " | ".join(r) + " |" for r in rows])


# ---- indexes ------------------------------------------------------------------------------------------

def index_paths(out: Path) -> dict[str, Path]:
    return {name: out / f"idx_{name}" for name in ("amazon", "zh", "demo")}


def ensure_indexes(out: Path) -> dict[str, str]:
    idx = index_paths(out)
    if not (idx["amazon"] / "index").exists():
        run(cli("index", "--catalog", str(SHARED / "catalog_amazon_in" / "amazon.csv"), "--format", "amazon_in",
                "--out", str(idx["amazon"]), "--quiet"))
    if not (idx["zh"] / "index").exists():
        run(cli("index", "--catalog", str(SHARED / "retrieval_zh_multicpr" / "corpus.jsonl"), "--map",
                "product_id=doc_id", "--map", "title=title", "--out", str(idx["zh"]), "--quiet"))
    if not (idx["demo"] / "index").exists():
        code = f"from ui.commands.demo import ensure_demo_index; ensure_demo_index({str(idx['demo'])!r})"
        run([sys.executable, "-c", code])
    return {k: str(v) for k, v in idx.items()}


def run(argv: list[str]) -> None:
    print("$", " ".join(a if a != sys.executable else "python" for a in argv), flush=True)
    subprocess.run(argv, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


# ---- the tables -----------------------------------------------------------------------------------------

DIALOGUE_SUITES = (("amazon dev", "amazon", "dialogues_amazon_dev"), ("amazon dev2", "amazon", "dialogues_amazon_dev2"),
                   ("amazon fresh", "amazon", "dialogues_amazon_fresh"), ("demo dev", "demo", "dialogues_demo_dev"),
                   ("demo dev2", "demo", "dialogues_demo_dev2"), ("demo fresh", "demo", "dialogues_demo_fresh"))
# the model readers run on the unseen suites only (a parse per turn costs ~15 s on the loaded 2-core box)
LLM_SUITES = ("amazon fresh", "demo fresh")
READERS = (("rules", ["--backend", "none", "--router", "plan", "--no-classifier"], None),
           ("rules + classifier (backend none)", ["--backend", "none", "--router", "plan"], None),
           ("qwen0.5b auto (default CPU)", ["--backend", "llamacpp", "--model", "qwen0.5b", "--router", "auto"],
            LLM_SUITES),
           ("qwen0.5b every turn", ["--backend", "llamacpp", "--model", "qwen0.5b", "--router", "llm"],
            ("demo fresh",)),
           ("qwen1.5b every turn", ["--backend", "llamacpp", "--model", "qwen1.5b", "--router", "llm"],
            ("demo fresh",)))
DIALOGUE_KEYS = ("tool_accuracy", "tool_precision", "arg_accuracy", "mention_hit_rate", "refusal_recall",
                 "over_refusal_rate", "inverted_constraints", "unsupported_claims_shown", "turn_success",
                 "task_success")


def tables(idx: dict[str, str], out: Path) -> dict[str, Table]:
    def res(name: str) -> str:
        return str(out / name)

    t: dict[str, Table] = {}
    runs = [(f"retrieval_{m}.json", cli("eval", "retrieval", "--index", idx["amazon"], "--queries",
                                        "eval/suites/retrieval_amazon_en_dev.jsonl", "--modes", m,
                                        "--out", res(f"retrieval_{m}.json"))) for m in ("bm25", "dense", "hybrid")]
    runs.append(("retrieval_words.json", cli("eval", "retrieval", "--index", idx["amazon"], "--queries",
                                             "eval/suites/retrieval_amazon_en_dev.jsonl", "--no-filters", "--modes",
                                             "hybrid", "--out", res("retrieval_words.json"))))

    def render_retrieval(r: dict[str, dict]) -> str:
        rows = []
        for name, label in (("retrieval_words.json", "hybrid, limits read from the words (headline)"),
                            ("retrieval_hybrid.json", "hybrid, filters given"),
                            ("retrieval_dense.json", "dense (e5), filters given"),
                            ("retrieval_bm25.json", "BM25, filters given")):
            d = r[name]
            rows.append([label] + [_f(d.get(k)) for k in ("ndcg@10", "recall@10", "recall@1", "mrr@10",
                                                         "filter_violation_rate", "constraint_accuracy")]
                        + [str(d.get("inverted_constraints", "n/a")), _ms(d.get("latency_ms_p50"))])
        return md(["mode", "nDCG@10", "Recall@10", "Recall@1", "MRR@10", "filter violations", "limits read exactly",
                   "inverted limits", "search p50"], rows)

    t["retrieval_en"] = Table(runs, render_retrieval)
    zh = [("retrieval_zh.json", cli("eval", "retrieval", "--index", idx["zh"], "--queries",
                                    str(SHARED / "retrieval_zh_multicpr" / "queries_dev.jsonl"),
                                    "--out", res("retrieval_zh.json")))]

    def render_zh(r: dict[str, dict]) -> str:
        d = r["retrieval_zh.json"]
        rows = [[m] + [_f(v.get(k)) for k in ("recall@1", "recall@5", "mrr@10", "ndcg@10")]
                for m, v in d.get("modes", {}).items()]
        return md(["mode", "Recall@1", "Recall@5", "MRR@10", "nDCG@10"], rows)

    t["retrieval_zh"] = Table(zh, render_zh)
    rel = [("relevance.json", [sys.executable, "benchmarks/relevance_flag.py", "--index", idx["amazon"],
                               "--json", res("relevance.json")])]

    def render_relevance(r: dict[str, dict]) -> str:
        d = r["relevance.json"]
        return md(["labelled queries", "need found", "flag precision (first 5)", "flag precision (first 50)",
                   "absent kinds", "false match rate"],
                  [[str(d["queries"]), _f(d["need_found"]), _f(d["flag_precision"]), _f(d["deep_flag_precision"]),
                    str(d["absent_queries"]), _f(d["false_match_rate"])]])

    t["relevance"] = Table(rel, render_relevance)

    def dfile(label: str, name: str) -> str:
        return "dlg_" + "_".join(label.replace("(", "").replace(")", "").replace("+", "").split()[:3]) + f"_{name}.json"

    druns, cells = [], []
    for label, args, only in READERS:
        for suite, store, name in DIALOGUE_SUITES:
            if only is None or suite in only:
                cells.append((label, suite, name))
                file = dfile(label, name)
                druns.append((file, cli("eval", "dialogues", "--index", idx[store], "--suite",
                                        f"eval/suites/{name}.jsonl", *args, "--out", res(file))))

    def render_dialogues(r: dict[str, dict]) -> str:
        rows = []
        for label, suite, name in cells:
            d = r[dfile(label, name)]
            rows.append([label, suite, str(d.get("n_turns"))] + [_f(d.get(k)) for k in DIALOGUE_KEYS]
                        + [_ms(d.get("turn_latency_ms_p50")), _ms(d.get("turn_latency_ms_p95"))])
        return md(["reader", "suite", "turns", "tool acc.", "tool prec.", "arg acc.", "mention", "refusal recall",
                   "over-refusal", "inverted", "unsupported claims shown", "turn success", "task success",
                   "turn p50", "turn p95"], rows)

    t["dialogues"] = Table(druns, render_dialogues)
    attacks = [(f"attacks_{b}.json", cli("eval", "attacks", "--suite", "eval/suites/attacks.jsonl",
                                                      "--backend", b, "--out", res(f"attacks_{b}.json")))
               for b in ("none", "scripted")]

    def render_attacks(r: dict[str, dict]) -> str:
        rows = []
        for b, label in (("none", "rules + templates"), ("scripted", "hijacked model (agent mode)")):
            d = r[f"attacks_{b}.json"]
            for cat, row in sorted(d.get("by_category", {}).items()):
                rows.append([label, cat, str(row.get("n")), str(row.get("succeeded")), ""])
            rows.append([label, "benign controls", str(d.get("n_controls")), "",
                         str(len(d.get("false_refusal_ids", [])))])
        return md(["model", "class", "cases", "attacks that succeeded", "controls wrongly refused"], rows)

    t["attacks"] = Table(attacks, render_attacks)
    return t


# ---- documents ----------------------------------------------------------------------------------------------

def footer(table: Table, out: Path | None = None, results: dict[str, dict] | None = None) -> str:
    """The commands, the commit(s) and the time the results were made (their own meta when they carry it), the
    machine and the load average."""
    metas = [r.get("meta", {}) for r in (results or {}).values() if isinstance(r, dict)]
    commits = sorted({m["git_commit"][:7] for m in metas if m.get("git_commit")})
    if not commits:
        commits = [subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                  cwd=ROOT).stdout.strip()]
    cmds = "; ".join("shopassist " + " ".join(a for a in argv[argv.index("ui.cli") + 1:] if not a.startswith(str(ROOT)))
                     if "ui.cli" in argv else "python " + " ".join(argv[1:]) for _, argv in table.runs[:3])
    more = f" (+{len(table.runs) - 3} more)" if len(table.runs) > 3 else ""
    if out is not None:  # the reader's own folders, not this machine's
        cmds = cmds.replace(str(out), "OUT")
    cmds = cmds.replace(str(SHARED), "../shared/data")
    load = os.getloadavg()[0]
    return (f"\n_Regenerated by `python benchmarks/regenerate.py --only <this table>`: `{cmds}`{more}; "
            f"commit {', '.join(commits)}, {platform.machine()} {os.cpu_count()} cores, load average {load:.1f} "
            f"when rendered, {time.strftime('%Y-%m-%d %H:%M')}._\n")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="runs/regen")
    p.add_argument("--only", default="", help="comma-separated table names (default: every table in the docs)")
    p.add_argument("--list", action="store_true", help="list the tables and the documents holding them")
    p.add_argument("--force", action="store_true", help="run every command again even when its result exists")
    p.add_argument("--check", action="store_true", help="render from existing results; exit 1 on changes")
    args = p.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    found = [(doc, m.group(2)) for doc in DOCS for m in BLOCK.finditer(doc.read_text(encoding="utf-8"))]
    if args.list:
        for doc, name in found:
            print(f"{name}\t{doc.relative_to(ROOT)}")
        return 0
    idx = ensure_indexes(out) if not args.check else {k: str(v) for k, v in index_paths(out).items()}
    known = tables(idx, out)
    wanted = {n.strip() for n in args.only.split(",") if n.strip()} or {name for _, name in found}
    changed = False
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")

        def replace(m: re.Match) -> str:
            nonlocal changed
            name = m.group(2)
            if name not in wanted or name not in known:
                return m.group(0)
            table = known[name]
            for file, argv in table.runs:
                if args.force or not (out / file).exists():
                    if args.check:
                        raise SystemExit(f"--check: {out / file} is missing")
                    run(argv)
            results = {file: json.loads((out / file).read_text(encoding="utf-8")) for file, _ in table.runs}
            body = table.render(results) + "\n" + footer(table, out, results)
            if TIMING.sub("", body) != TIMING.sub("", m.group(3)):
                changed = True
            return m.group(1) + body + m.group(4)

        new = BLOCK.sub(replace, text)
        if new != text and not args.check:
            doc.write_text(new, encoding="utf-8")
            print(f"rewrote tables in {doc.relative_to(ROOT)}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    raise SystemExit(main())

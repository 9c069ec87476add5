"""`shopassist eval report RESULTS.json... --out report.html`: one self-contained HTML page (and a
Markdown twin, report.md, with its figures as PNG files beside it) for any results files of the harness.

Per file: provenance (commit, machine, backend, model sha256, decoding settings), the headline metrics,
every breakdown it carries (`modes`, `by_lang`, `per_category`, ... any dict of metric dicts), confusion
matrices, a latency histogram from the per-case timings, and the worst cases: failed dialogues and
goals with their transcripts, otherwise the lowest-scoring cases (retrieval: worst queries, with the
query text looked up in the queries file the run names). Knows the harness's file shape, not the tasks.

This module builds the sections and holds the command line; reading results files is report_read.py, figures
report_figures.py, HTML and Markdown report_render.py (their names are re-exported here).
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from eval.compare import COUNT, headline, load_results, task_of
from eval.report_figures import Figure, confusion_figure, latency_figure
from eval.report_read import (
    BREAKDOWN_KEYS, FAILURE_FLAGS, SCORE_KEYS, TOP_N, breakdowns, confusions, is_num, latencies, provenance,
    query_texts, score_key, worst_cases,
)
from eval.report_render import Section, css, fmt, overview, to_html, to_markdown

__all__ = [
    "BREAKDOWN_KEYS", "FAILURE_FLAGS", "SCORE_KEYS", "TOP_N", "Figure", "Section", "add_arguments", "breakdowns",
    "build", "confusion_figure", "confusions", "css", "fmt", "is_num", "latencies", "latency_figure", "main",
    "overview", "provenance", "query_texts", "score_key", "section", "to_html", "to_markdown", "worst_cases",
]


def section(path: str, r: dict[str, Any], top: int = TOP_N) -> Section:
    s = Section(title=f"{task_of(r) or 'results'}: {Path(path).name}", provenance=provenance(r))
    head = headline(r)
    counts = {k: v for k, v in r.items() if is_num(v) and COUNT.search(k)}
    s.tables.append(("Metrics", ["metric", "value"], [[k, v] for k, v in {**head, **counts}.items()]
                     + [[k, "n/a"] for k, v in r.items() if v is None and k not in ("meta",)]))
    for name, table in breakdowns(r):
        cols = list(dict.fromkeys(k for v in table.values() for k, x in v.items() if is_num(x)))
        s.tables.append((name, [name] + cols, [[row] + [v.get(c, "") for c in cols] for row, v in table.items()]))
    for title, rows, cols, matrix in confusions(r):
        s.figures.append(confusion_figure(title, rows, cols, matrix))
        s.tables.append((title, ["true \\ predicted"] + cols, [[t] + list(m) for t, m in zip(rows, matrix)]))
    for name, values in latencies(r).items():
        s.figures.append(latency_figure(name, values))
    s.failure_title, s.failures = worst_cases(r, top)
    queries = query_texts(r) if s.failures and "transcript" not in s.failures[0] else {}
    for row in s.failures:
        q = queries.get(str(row.get("id")))
        if q:
            row["_query"] = {"query": q.get("query"), "filters": q.get("filters"), "relevant": q.get("relevant")}
    return s


def build(paths: list[str], out: str | Path, top: int = TOP_N) -> tuple[Path, Path]:
    results = [load_results(p) for p in paths]
    sections = [section(p, r, top) for p, r in zip(paths, results)]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(to_html(paths, results, sections), encoding="utf-8")
    md = out.with_suffix(".md")
    names = []
    for i, s in enumerate(sections, 1):
        names.append([])
        for j, f in enumerate(s.figures, 1):
            png = out.with_name(f"{out.stem}_fig{i}_{j}.png")
            png.write_bytes(f.png)
            names[-1].append(png.name)
    md.write_text(to_markdown(paths, results, sections, names), encoding="utf-8")
    return out, md


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", nargs="+", help="results JSON files of any eval task")
    p.add_argument("--out", required=True, help="report.html (report.md and figures are written beside it)")
    p.add_argument("--top", type=int, default=TOP_N, help="how many failures / worst cases per file")


def main(args: argparse.Namespace) -> int:
    html_path, md_path = build(args.results, args.out, args.top)
    print(f"wrote {html_path} and {md_path}")
    return 0

"""`shopassist eval report RESULTS.json... --out report.html`: one self-contained HTML page (and a
Markdown twin, report.md, with its figures as PNG files beside it) for any results files of the harness.

Per file: provenance (commit, machine, backend, model sha256, decoding settings), the headline metrics,
every breakdown it carries (`modes`, `by_lang`, `per_category`, ... any dict of metric dicts), confusion
matrices, a latency histogram from the per-case timings, and the worst cases: failed dialogues and
goals with their transcripts, otherwise the lowest-scoring cases (retrieval: worst queries, with the
query text looked up in the queries file the run names). Knows the harness's file shape, not the tasks.
"""
from __future__ import annotations

import argparse
import base64
import html
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.compare import COUNT, headline, load_results, task_of
from ui.markup import md_text

SCORE_KEYS = ("task_success", "completed", "correct", "score", "ndcg@10", "accuracy", "f1", "recall@10", "mrr@10",
              "hit", "recall@20")
FAILURE_FLAGS = ("task_success", "completed", "correct", "passed")
BREAKDOWN_KEYS = ("modes", "by_lang", "per_category", "per_track", "per_task_type", "per_task", "by_source")
TOP_N = 8


@dataclass
class Figure:
    title: str
    png: bytes


@dataclass
class Section:
    """One results file, as tables, figures and failure transcripts (rendered to HTML and Markdown)."""

    title: str
    provenance: list[tuple[str, str]]
    tables: list[tuple[str, list[str], list[list[Any]]]] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    failure_title: str = ""


# ---- reading results ---------------------------------------------------------------------------------
def provenance(r: dict[str, Any]) -> list[tuple[str, str]]:
    m = r.get("meta") or {}
    out = [("task", str(task_of(r) or "?")),
           ("commit", f"{m.get('git_commit', '?')}{' (uncommitted changes)' if m.get('git_dirty') else ''}"),
           ("machine", " / ".join(str(m[k]) for k in ("machine", "cpu") if m.get(k)) or "?"),
           ("started", str(m.get("started", "?")))]
    if "backend" in m:
        model = m.get("model") or ""
        sha = m.get("model_sha256")
        out.append(("backend", f"{m['backend']} {model}".strip() + (f" (sha256 {sha[:16]}…)" if sha else "")))
    if isinstance(m.get("user"), dict):  # a simulated shopper's own backend
        u = m["user"]
        out.append(("shopper", f"{u.get('backend')} {u.get('model') or ''}".strip()
                    + (f", temperature {u['temperature']}" if u.get("temperature") is not None else "")))
    decoding = [f"{k} {m[k]}" for k in ("temperature", "seed") if m.get(k) is not None]
    if m.get("repeats", 1) > 1:
        decoding.append(f"{m['repeats']} runs")
    if decoding:
        out.append(("decoding", ", ".join(decoding)))
    for key in ("suite", "queries", "index", "data", "scenarios", "format"):
        if m.get(key):
            out.append((key, str(m[key])))
    return out


def breakdowns(r: dict[str, Any]) -> list[tuple[str, dict[str, dict[str, Any]]]]:
    """Every top-level dict whose values are dicts of numbers (name -> metrics)."""
    out = []
    keys = [k for k in BREAKDOWN_KEYS if k in r] + [k for k in r if k not in BREAKDOWN_KEYS]
    for key in keys:
        v = r.get(key)
        if key in ("meta", "per_case", "confusion") or not isinstance(v, dict) or not v:
            continue
        if all(isinstance(x, dict) and any(_is_num(y) for y in x.values()) for x in v.values()):
            out.append((key, v))
    return out


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def confusions(r: dict[str, Any]) -> list[tuple[str, list[str], list[str], list[list[float]]]]:
    """(title, row labels, column labels, counts) for each confusion matrix the file carries.

    Accepted shapes: {"labels": [...], "matrix": [[...]]}; {true: {pred: n}}; a list of lists with
    `confusion_labels` beside it; a dict of several such matrices by name."""
    out = []

    def one(name: str, c: Any, labels: list[str] | None = None) -> bool:
        if isinstance(c, dict) and "matrix" in c:
            lab = [str(x) for x in c.get("labels") or range(len(c["matrix"]))]
            out.append((name, lab, [str(x) for x in c.get("pred_labels") or lab], c["matrix"]))
            return True
        if isinstance(c, list) and c and all(isinstance(row, list) for row in c):
            lab = [str(x) for x in labels or range(len(c))]
            out.append((name, lab, lab, c))
            return True
        if isinstance(c, dict) and c and all(isinstance(v, dict) and all(_is_num(x) for x in v.values())
                                             for v in c.values()):
            rows = list(c)
            cols = list(dict.fromkeys(rows + [p for v in c.values() for p in v]))
            out.append((name, [str(x) for x in rows], [str(x) for x in cols],
                        [[c[t].get(p, 0) for p in cols] for t in rows]))
            return True
        return False

    c = r.get("confusion")
    if c is not None and not one("confusion", c, r.get("confusion_labels")):
        if isinstance(c, dict):
            for name, sub in c.items():
                one(f"confusion: {name}", sub)
    return out


def latencies(r: dict[str, Any]) -> dict[str, list[float]]:
    """Per-case (and per-turn) timings in milliseconds, by key name."""
    out: dict[str, list[float]] = {}

    def visit(row: dict[str, Any]) -> None:
        for k, v in row.items():
            if _is_num(v) and ("latency" in k or k.endswith("_ms")):
                out.setdefault(k, []).append(float(v))
        # per-turn rows: scored turns, else the transcript (never both: they repeat the same timings)
        inner = next((row[k] for k in ("turns", "transcript") if isinstance(row.get(k), list)), [])
        for t in inner:
            if isinstance(t, dict):
                visit(t)

    for row in r.get("per_case") or []:
        if isinstance(row, dict):
            visit(row)
    return {k: v for k, v in out.items() if len(v) >= 3}


def score_key(rows: list[dict[str, Any]]) -> str | None:
    for k in SCORE_KEYS:
        if any(k in row for row in rows):
            return k
    nums = [k for k in rows[0] if _is_num(rows[0][k]) and k != "id" and "latency" not in k] if rows else []
    return nums[0] if nums else None


def worst_cases(r: dict[str, Any], n: int = TOP_N) -> tuple[str, list[dict[str, Any]]]:
    rows = [row for row in r.get("per_case") or [] if isinstance(row, dict)]
    if not rows:
        return "", []
    for flag in FAILURE_FLAGS:
        if any(flag in row for row in rows) and all(isinstance(row.get(flag, True), bool) or row.get(flag) in (0, 1)
                                                     for row in rows):
            failed = [row for row in rows if not row.get(flag, True)]
            return f"Failures ({len(failed)} of {len(rows)} with {flag} false; first {min(n, len(failed))})", failed[:n]
    key = score_key(rows)
    if key is None:
        return "", []
    ranked = sorted((row for row in rows if _is_num(row.get(key))), key=lambda row: row[key])
    return f"Worst {min(n, len(ranked))} of {len(rows)} cases by {key}", ranked[:n]


def query_texts(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """qid -> query line, from the queries file a retrieval run names (when it is still there)."""
    path = (r.get("meta") or {}).get("queries")
    out = {}
    if path and Path(path).is_file():
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            try:
                q = json.loads(line)
                out[str(q["qid"])] = q
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    return out


# ---- figures -----------------------------------------------------------------------------------------
def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def latency_figure(name: str, values: list[float]) -> Figure:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6, 2.6))
    arr = np.asarray(values, dtype=float)
    bins = min(40, max(8, len(values) // 3))
    if arr.min() > 0 and arr.max() > 10 * np.percentile(arr, 95):  # a few slow outliers (warm-up): log scale
        ax.set_xscale("log")
        bins = np.geomspace(arr.min(), arr.max(), bins + 1)
    ax.hist(arr, bins=bins, color="#4C78A8")
    for q, style in ((50, "--"), (95, ":")):
        v = float(np.percentile(values, q))
        ax.axvline(v, color="#E45756", linestyle=style, label=f"p{q} {v:,.0f} ms")
    ax.set_xlabel(f"{name} (ms)")
    ax.set_ylabel("count")
    ax.legend(fontsize=8)
    return Figure(f"{name}: {len(values)} values", _png(fig))


def confusion_figure(title: str, rows: list[str], cols: list[str], matrix: list[list[float]]) -> Figure:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    m = np.asarray(matrix, dtype=float)
    size = max(3.0, 0.45 * max(len(rows), len(cols)) + 1.5)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(cols)), cols, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if m.size <= 400:
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                ax.text(j, i, f"{m[i, j]:g}", ha="center", va="center", fontsize=6,
                        color="white" if m[i, j] > m.max() / 2 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046)
    return Figure(title, _png(fig))


# ---- building ----------------------------------------------------------------------------------------
def section(path: str, r: dict[str, Any], top: int = TOP_N) -> Section:
    s = Section(title=f"{task_of(r) or 'results'}: {Path(path).name}", provenance=provenance(r))
    head = headline(r)
    counts = {k: v for k, v in r.items() if _is_num(v) and COUNT.search(k)}
    s.tables.append(("Metrics", ["metric", "value"], [[k, v] for k, v in {**head, **counts}.items()]
                     + [[k, "n/a"] for k, v in r.items() if v is None and k not in ("meta",)]))
    for name, table in breakdowns(r):
        cols = list(dict.fromkeys(k for v in table.values() for k, x in v.items() if _is_num(x)))
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


def overview(paths: list[str], results: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    rows = []
    for p, r in zip(paths, results):
        m = r.get("meta") or {}
        key = " · ".join(f"{k} {fmt(v)}" for k, v in list(headline(r).items())[:5])
        backend = f"{m.get('backend', '-')} {m.get('model') or ''}".strip()
        if isinstance(m.get("user"), dict):
            backend += f" (shopper: {m['user'].get('backend')} {m['user'].get('model') or ''})".replace(" )", ")")
        rows.append([Path(p).name, task_of(r) or "?", m.get("git_commit", "?"), backend, key])
    return ["file", "task", "commit", "backend", "headline metrics"], rows


def fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list) and v and all(isinstance(x, bool) for x in v):  # pass/fail per repeated run
        return "".join("✓" if x else "✗" for x in v)
    if isinstance(v, float):
        if math.isnan(v):
            return "n/a"
        return f"{v:.4f}" if abs(v) < 1000 else f"{v:,.1f}"
    return str(v)


# ---- HTML --------------------------------------------------------------------------------------------
CSS = """body{font-family:system-ui,sans-serif;margin:24px;max-width:1200px;color:#222}
h1{font-size:22px}h2{font-size:18px;border-bottom:2px solid #4C78A8;padding-bottom:4px;margin-top:36px}
h3{font-size:15px;margin-top:20px}table{border-collapse:collapse;margin:8px 0;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#eef2f7}
td:first-child,th:first-child,td.l{text-align:left}.prov td{text-align:left;border:none;padding:1px 10px 1px 0}
.case{border:1px solid #ddd;border-radius:6px;padding:8px;margin:8px 0}.u{color:#1f4e79}.a{color:#333}
.meta{color:#777;font-size:12px}.bad{color:#b00020}figure{display:inline-block;margin:6px}
figcaption{font-size:12px;color:#555}.wide{overflow-x:auto}"""


def _table_html(cols: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
    cell = lambda v: f"<td{'' if _is_num(v) else ' class=l'}>{html.escape(fmt(v))}</td>"  # noqa: E731
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<div class='wide'><table><tr>{head}</tr>{body}</table></div>"


def _scalars(row: dict[str, Any]) -> list[tuple[str, Any]]:
    """The one-line fields of a case: numbers, flags, short strings, pass/fail lists of repeated runs."""
    def shown(v: Any) -> bool:
        return not isinstance(v, (list, dict)) or (isinstance(v, list) and bool(v)
                                                    and all(isinstance(x, bool) for x in v))

    return [(k, v) for k, v in row.items() if k not in ("id", "transcript", "turns", "_query", "goal") and shown(v)]


def _case_html(row: dict[str, Any]) -> str:
    scalars = ", ".join(f"{k}={fmt(v)}" for k, v in _scalars(row))
    parts = [f"<div class='case'><b>{html.escape(str(row.get('id', '')))}</b> "
             f"<span class='meta'>{html.escape(scalars)}</span>"]
    q = row.get("_query")
    if q:
        parts.append(f"<div>query: <b>{html.escape(str(q['query']))}</b> <span class='meta'>filters "
                     f"{html.escape(json.dumps(q.get('filters') or {}, ensure_ascii=False))}; relevant "
                     f"{html.escape(', '.join(list((q.get('relevant') or {}))[:8]))}</span></div>")
    if row.get("goal"):
        parts.append(f"<div class='meta'>goal: {html.escape(str(row['goal']))}</div>")
    scored = row["turns"] if isinstance(row.get("turns"), list) else []
    for i, t in enumerate(row.get("transcript") or [], 1):
        parts.append(_turn_html(i, t, scored[i - 1] if i <= len(scored) else {}))
    parts.append("</div>")
    return "".join(parts)


def _turn_html(i: int, t: dict[str, Any], scored: dict[str, Any]) -> str:
    fails = [k for k, v in scored.items() if k.endswith("_ok") and v is False]
    tools = "; ".join(f"{c['name']}({json.dumps(c.get('arguments', {}), ensure_ascii=False)})"
                      + (f" ERROR {c['error']}" if c.get("error") else "") for c in t.get("tools") or [])
    out = [f"<div class='u'>{i}. shopper: {html.escape(str(t.get('user', '')))}</div>",
           f"<div class='a'>&nbsp;&nbsp;&nbsp;assistant: {html.escape(str(t.get('reply', '')))}</div>"]
    meta = [f"intent {t['intent']}" if t.get("intent") else "", f"tools: {tools}" if tools else "",
            f"products: {', '.join(map(str, t['products'][:6]))}" if t.get("products") else "",
            "refused" if t.get("refused") else "", "no match" if t.get("no_match") else ""]
    out.append(f"<div class='meta'>&nbsp;&nbsp;&nbsp;{html.escape(' | '.join(m for m in meta if m))}</div>")
    bad = [f"failed: {', '.join(fails)}" if fails else "",
           f"ungrounded: {t['ungrounded_sentences']}" if t.get("ungrounded_sentences") else "",
           f"constraint violations: {t['violations']}" if isinstance(t.get("violations"), int) and t["violations"]
           else ""]
    if any(bad):
        out.append(f"<div class='bad meta'>&nbsp;&nbsp;&nbsp;{html.escape(' | '.join(b for b in bad if b))}</div>")
    return "".join(out)


def to_html(paths: list[str], results: list[dict[str, Any]], sections: list[Section]) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>shopassist evaluation report</title>"
             f"<style>{CSS}</style></head><body><h1>shopassist evaluation report</h1>"]
    cols, rows = overview(paths, results)
    parts.append("<h3>Overview</h3>" + _table_html(cols, rows))
    for s in sections:
        prov = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>" for k, v in s.provenance)
        parts.append(f"<h2>{html.escape(s.title)}</h2><table class='prov'>{prov}</table>")
        for title, c, r in s.tables:
            parts.append(f"<h3>{html.escape(title)}</h3>" + _table_html(c, r))
        for f in s.figures:
            data = base64.b64encode(f.png).decode()
            parts.append(f"<figure><img alt='{html.escape(f.title)}' src='data:image/png;base64,{data}'>"
                         f"<figcaption>{html.escape(f.title)}</figcaption></figure>")
        if s.failures:
            parts.append(f"<h3>{html.escape(s.failure_title)}</h3>" + "".join(_case_html(row) for row in s.failures))
    parts.append("</body></html>")
    return "\n".join(parts)


# ---- Markdown ----------------------------------------------------------------------------------------
def _table_md(cols: list[str], rows: list[list[Any]]) -> str:
    esc = lambda v: fmt(v).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    return "\n".join(["| " + " | ".join(map(esc, cols)) + " |", "|" + "---|" * len(cols)]
                     + ["| " + " | ".join(esc(v) for v in row) + " |" for row in rows])


def _case_md(row: dict[str, Any]) -> str:
    """One case in Markdown; its texts (shoppers' words, replies, product titles) only ever as text."""
    lines = [f"- **{md_text(row.get('id', ''))}**"]
    if row.get("_query"):
        q = row["_query"]
        lines.append(f"  query: {md_text(q['query'])} filters "
                     f"{md_text(json.dumps(q.get('filters') or {}, ensure_ascii=False))}")
    if row.get("goal"):
        lines.append(f"  goal: {md_text(row['goal'])}")
    scalars = [f"{k}={fmt(v)}" for k, v in _scalars(row)]
    if scalars:
        lines.append("  " + ", ".join(scalars))
    for i, t in enumerate(row.get("transcript") or [], 1):
        lines.append(f"  {i}. shopper: {md_text(str(t.get('user', '')).replace(chr(10), ' '))}")
        lines.append(f"     assistant: {md_text(str(t.get('reply', '')).replace(chr(10), ' '))}")
        tools = ", ".join(c["name"] + ("(error)" if c.get("error") else "") for c in t.get("tools") or [])
        if tools or t.get("products"):
            products = ", ".join(map(str, (t.get("products") or [])[:6]))
            lines.append(f"     tools: {md_text(tools or '-')}; products: {md_text(products or '-')}")
    return "\n".join(lines)


def to_markdown(paths: list[str], results: list[dict[str, Any]], sections: list[Section],
                figure_names: list[list[str]]) -> str:
    cols, rows = overview(paths, results)
    parts = ["# shopassist evaluation report", "", _table_md(cols, rows)]
    for s, names in zip(sections, figure_names):
        parts += ["", f"## {s.title}", ""] + [f"- {k}: {v}" for k, v in s.provenance]
        for title, c, r in s.tables:
            parts += ["", f"### {title}", "", _table_md(c, r)]
        parts += [""] + [f"![{f.title}]({n})" for f, n in zip(s.figures, names)]
        if s.failures:
            parts += ["", f"### {s.failure_title}", ""] + [_case_md(row) for row in s.failures]
    return "\n".join(parts) + "\n"


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

"""Reading a results file of the harness for the report: provenance, breakdowns (any dict of metric dicts),
confusion matrices, per-case latencies and the worst cases (retrieval: with the query texts looked up in
the queries file the run names).

Knows the harness's file shape, not the tasks; knows nothing about HTML, Markdown or figures.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval.compare import task_of

SCORE_KEYS = ("task_success", "completed", "correct", "score", "ndcg@10", "accuracy", "f1", "recall@10", "mrr@10",
              "hit", "recall@20")
FAILURE_FLAGS = ("task_success", "completed", "correct", "passed")
BREAKDOWN_KEYS = ("modes", "by_lang", "per_category", "per_track", "per_task_type", "per_task", "by_source")
TOP_N = 8


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
        if all(isinstance(x, dict) and any(is_num(y) for y in x.values()) for x in v.values()):
            out.append((key, v))
    return out


def is_num(v: Any) -> bool:
    """A number that is not a flag."""
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
        if isinstance(c, dict) and c and all(isinstance(v, dict) and all(is_num(x) for x in v.values())
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
            if is_num(v) and ("latency" in k or k.endswith("_ms")):
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
    nums = [k for k in rows[0] if is_num(rows[0][k]) and k != "id" and "latency" not in k] if rows else []
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
    ranked = sorted((row for row in rows if is_num(row.get(key))), key=lambda row: row[key])
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

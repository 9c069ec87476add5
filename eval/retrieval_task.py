"""`shopassist eval retrieval`: graded-relevance search quality, BM25 vs dense vs hybrid in one run.

Cases are JSONL queries (`qid`, `query`, optional `filters`, `relevant` {product_id: grade}).
Metrics per DESIGN.md: ndcg@10 (gain = grade), recall@10 (grade >= 1, denominator capped at 10),
recall@1, recall@5, mrr@10, filter_violation_rate (unknown rating = violation), latency_ms_p50.
With --no-filters only the query text reaches the system: constraints stated in the words are
read the way the assistant reads them, the gold filters are not given; this is the headline figure (with
filters given, violations are 0 by construction: search applies them). It adds `constraint_accuracy` (queries
whose price and rating limits were read exactly as the gold filters state them) and `inverted_constraints`
(a stated maximum read as a minimum or the reverse).
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any, Sequence

from eval.harness import Case, percentile, print_table, run_meta, run_task, write_results
from retrieval.filters import Filters
from retrieval.text import has_cjk

K = 10


def load_queries(path: str | Path) -> list[Case]:
    cases = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                q = json.loads(line)
                cases.append(Case(id=str(q["qid"]), input={"query": q["query"], "filters": q.get("filters") or {}},
                                  expected={str(k): float(v) for k, v in q["relevant"].items()},
                                  meta={"lang": "zh" if has_cjk(q["query"]) else "en"}))
            except (KeyError, json.JSONDecodeError) as e:
                raise ValueError(f"{path}:{n}: bad query line ({e})") from e
    return cases


def ndcg_at(ranked: Sequence[str], grades: dict[str, float], k: int = K) -> float:
    dcg = sum(grades.get(pid, 0.0) / math.log2(i + 2) for i, pid in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: Sequence[str], grades: dict[str, float], k: int) -> float:
    rel = {pid for pid, g in grades.items() if g >= 1}
    if not rel:
        return 0.0
    return len(rel & set(ranked[:k])) / min(len(rel), k)


def mrr_at(ranked: Sequence[str], grades: dict[str, float], k: int = K) -> float:
    for i, pid in enumerate(ranked[:k]):
        if grades.get(pid, 0) >= 1:
            return 1.0 / (i + 1)
    return 0.0


class RetrievalTask:
    def __init__(self, index, cases: list[Case], mode: str, use_filters: bool, extractor=None):
        self.index, self._cases, self.mode = index, cases, mode
        self.use_filters, self.extractor = use_filters, extractor
        self.name = f"retrieval/{mode}"

    def cases(self) -> list[Case]:
        return self._cases

    def _query(self, case: Case) -> tuple[str, dict]:
        if self.use_filters:
            return case.input["query"], case.input["filters"]
        if self.extractor is None:
            return case.input["query"], {}
        return self.extractor(case.input["query"])

    def run_batch(self, cases: Sequence[Case]) -> list[dict[str, Any]]:
        out = []
        for c in cases:
            text, filters = self._query(c)
            t0 = time.perf_counter()
            hits = self.index.search(text, filters, k=K, mode=self.mode)
            out.append({"ids": [h.product_id for h in hits], "ms": (time.perf_counter() - t0) * 1e3,
                        "products": [h.product for h in hits], "filters": filters})
        return out

    def evaluate(self, case: Case, output: dict[str, Any]) -> dict[str, float]:
        ranked, grades = output["ids"], case.expected
        gold = Filters.from_dict(case.input["filters"])
        violations = sum(1 for p in output["products"] if not gold.matches(p))
        row = {"ndcg@10": ndcg_at(ranked, grades), "recall@10": recall_at(ranked, grades, 10),
               "recall@1": recall_at(ranked, grades, 1), "recall@5": recall_at(ranked, grades, 5),
               "mrr@10": mrr_at(ranked, grades), "violations": violations, "returned": len(ranked),
               "latency_ms": output["ms"]}
        if not self.use_filters:
            row.update(constraint_reading(case.input["filters"], output.get("filters") or {}))
        return row


LIMITS = ("max_price", "min_price", "min_rating")


def _same(a, b) -> bool:
    return a is not None and b is not None and abs(float(a) - float(b)) <= 0.01 * max(abs(float(a)), 1e-9)


def constraint_reading(gold: dict[str, Any], read: dict[str, Any]) -> dict[str, int]:
    """How the limits read from the words compare with the gold filters: exact (`constraint_ok`, over the
    queries whose gold states a limit) and inverted (a max read as a min or the reverse)."""
    inverted = sum(1 for key, other in (("max_price", "min_price"), ("min_price", "max_price"))
                   if key in gold and _same(gold[key], read.get(other)) and not _same(gold[key], read.get(key)))
    row = {"inverted": inverted}
    if any(k in gold for k in LIMITS) or any(k in read for k in LIMITS):
        row["constraint_ok"] = int(all(_same(gold[k], read.get(k)) if k in gold else k not in read for k in LIMITS))
    return row


def aggregate(per_case: list[dict], outputs: list[Any]) -> dict[str, float]:
    returned = sum(r["returned"] for r in per_case)
    read = [r["constraint_ok"] for r in per_case if "constraint_ok" in r]
    return {"filter_violation_rate": sum(r["violations"] for r in per_case) / max(returned, 1),
            "constraint_accuracy": sum(read) / len(read) if read else None,
            "inverted_constraints": sum(r.get("inverted", 0) for r in per_case),
            "latency_ms_p50": percentile([r["latency_ms"] for r in per_case], 50),
            "latency_ms_p99": percentile([r["latency_ms"] for r in per_case], 99),
            "n_queries": len(per_case)}


def words_reader(index):
    """(query, filters) as the assistant reads a message without a model: what --no-filters gives search."""
    from assistant.session import Session
    from assistant.understand import Understander

    understander = Understander(index, router="plan")

    def read(text: str) -> tuple[str, dict]:
        u = understander.read(text, Session())
        filters = {k: v for k, v in u.filters.items() if k in ("max_price", "min_price", "min_rating", "brand")}
        return u.query or text, filters

    return read


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", required=True, help="index folder from `shopassist index`")
    p.add_argument("--queries", required=True, help="JSONL queries with graded relevance")
    p.add_argument("--no-filters", action="store_true", help="give search only the query text")
    p.add_argument("--modes", default="hybrid,dense,bm25", help="comma-separated; the first is the headline")
    p.add_argument("--out", required=True, help="results JSON")


KEYS = ["ndcg@10", "recall@10", "recall@1", "recall@5", "mrr@10", "filter_violation_rate", "constraint_accuracy",
        "inverted_constraints", "latency_ms_p50", "n_queries"]


def main(args: argparse.Namespace) -> int:
    from retrieval.search import ProductIndex

    index = ProductIndex.load(args.index)
    cases = load_queries(args.queries)
    extractor = None
    if args.no_filters:  # the assistant's own reading of the words (rules and slots, no model): limits out, need in
        extractor = words_reader(index)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    results, rows = {}, []
    for mode in modes:
        res = run_task(RetrievalTask(index, cases, mode, not args.no_filters, extractor), aggregate=aggregate)
        by_lang = {}
        for lang in sorted({c.meta["lang"] for c in cases}):
            ids = {c.id for c in cases if c.meta["lang"] == lang}
            sub = [r for r in res.per_case if r["id"] in ids]
            by_lang[lang] = {k: sum(r[k] for r in sub) / len(sub) for k in ("ndcg@10", "recall@10", "recall@1")}
            by_lang[lang]["n"] = len(sub)
        results[mode] = {**{k: res.metrics[k] for k in KEYS}, "by_lang": by_lang, "per_case": res.per_case}
        rows.append({"mode": mode, **{k: res.metrics[k] for k in KEYS}})
    print_table(rows, ["mode"] + KEYS, title=f"retrieval: {args.queries} (filters {'off' if args.no_filters else 'on'})")
    headline = results[modes[0]]
    payload = {**{k: headline[k] for k in KEYS}, "by_lang": headline["by_lang"], "mode": modes[0],
               "modes": {m: {k: v for k, v in r.items() if k != "per_case"} for m, r in results.items()},
               "per_case": headline["per_case"],
               "meta": run_meta(index=str(args.index), queries=str(args.queries), filters=not args.no_filters,
                                embedder=index.config.embedder, config=vars(index.config))}
    write_results(args.out, payload)
    return 0

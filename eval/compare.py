"""`shopassist eval compare A.json B.json`: what changed between two runs, and is it more than noise.

Reads any results file of the harness: the top-level numeric metrics are compared, B minus A. When
both files carry `per_case` rows, each delta gets a bootstrap 95% confidence interval: the cases are
resampled (paired by id when both runs scored the same cases) and the metric recomputed, either as the
mean of its per-case column or by the task's own `aggregate` (module `eval.<task>_task` or `eval.<task>`),
whichever reproduces the reported value. A metric that neither reproduces has no interval ("no per-case
data").

A regression is a change in the bad direction whose interval excludes zero; without an interval, a
change beyond the tolerance. Timing metrics are shown but only count with --timing (a shared CPU makes
them noisy). Knows nothing about what the tasks measure beyond names: `LOWER_IS_BETTER` decides the
direction.
"""
from __future__ import annotations

import argparse
import importlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from eval.harness import mean_metrics, print_table, write_results

# a name ending in `_s` is a duration (lower is better) unless it is a rate (`tok_s`, `per_s`)
LOWER_IS_BETTER = re.compile(r"violation|latency|_ms(_|$)|error|false_claim|forbidden|rmse|mae|loss|perplexity|"
                             r"over_refusal|inverted|unsupported|turns_to|_seconds|memory|_mb(_|$)|_gb(_|$)|rss|ttft|"
                             r"(?<!tok)(?<!per)_s(_|$)", re.I)
TIMING = re.compile(r"latency|_ms(_|$)|tokens_per_s|per_s(_|$)|tok_s(_|$)|_seconds|_s$|_s_|ttft|rss|_mb(_|$)",
                    re.I)
COUNT = re.compile(r"^n(_|$)|_count$|^count", re.I)
N_BOOT = 1000


@dataclass
class Delta:
    metric: str
    a: float
    b: float
    lo: float | None = None
    hi: float | None = None
    note: str = ""
    verdict: str = ""

    @property
    def delta(self) -> float:
        return self.b - self.a


def load_results(path: str | Path) -> dict[str, Any]:
    """A results file; a reference file (eval/reference/*.json) reads as its metrics."""
    try:
        r = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise SystemExit(f"error: cannot read results file {path}: {e}")
    if isinstance(r.get("reference"), dict) and isinstance(r.get("metrics"), dict):
        task = r["reference"].get("command", ["?"])[0]
        r = {**r["metrics"], **r.get("counts", {}), "task": task, "meta": r.get("meta", {})}
    return r


def headline(results: dict[str, Any]) -> dict[str, float]:
    """Top-level numeric metrics (booleans and counts left out)."""
    return {k: float(v) for k, v in results.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and not COUNT.search(k)
            and not (isinstance(v, float) and math.isnan(v))}


def task_of(results: dict[str, Any]) -> str | None:
    """The task name: the file's own `task`, its meta's, or a guess from what meta names."""
    meta = results.get("meta") or {}
    name = results.get("task") or meta.get("task")
    if not name:
        name = "dialogues" if "suite" in meta else "retrieval" if "queries" in meta else None
    return name.split("/")[0] if name else None


def recomputer(results: dict[str, Any]) -> Callable[[list[dict]], dict[str, Any]]:
    """Metrics from a list of per-case rows: column means, then the task's `aggregate` when it has one."""
    aggregate = None
    task = task_of(results)
    for module in ((f"eval.{task}_task", f"eval.{task}") if task else ()):
        try:
            aggregate = getattr(importlib.import_module(module), "aggregate", None)
            break
        except ImportError:
            continue

    def compute(rows: list[dict]) -> dict[str, Any]:
        m: dict[str, Any] = mean_metrics(rows)
        if aggregate is not None:
            try:
                m.update(aggregate(rows, [None] * len(rows)))
            except Exception:  # an aggregate that needs the raw outputs: column means only
                pass
        return m

    return compute


def _close(x: Any, y: float) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isclose(float(x), y, rel_tol=1e-6,
                                                                                     abs_tol=1e-9)


def _reproducible(results: dict[str, Any], metrics: list[str]) -> dict[str, str]:
    """metric -> "column" (mean of a per-case column) or "aggregate" (task aggregate) when it reproduces."""
    rows = results.get("per_case") or []
    if not rows:
        return {}
    full = recomputer(results)(rows)
    cols = mean_metrics(rows)
    how = {}
    for m in metrics:
        if _close(cols.get(m), results[m]):
            how[m] = "column"
        elif _close(full.get(m), results[m]):
            how[m] = "aggregate"
    return how


def _index_pairs(a_rows: list[dict], b_rows: list[dict]) -> tuple[list[int], list[int]] | None:
    """Row positions of the cases both runs scored, in the same order; None when the ids differ."""
    a_ids = [str(r.get("id")) for r in a_rows]
    b_ids = [str(r.get("id")) for r in b_rows]
    if len(set(a_ids)) != len(a_ids) or len(set(b_ids)) != len(b_ids) or set(a_ids) != set(b_ids):
        return None
    b_pos = {i: n for n, i in enumerate(b_ids)}
    return list(range(len(a_ids))), [b_pos[i] for i in a_ids]


def bootstrap(a: dict[str, Any], b: dict[str, Any], metrics: list[str], n_boot: int = N_BOOT,
              seed: int = 0) -> dict[str, tuple[float, float]]:
    """95% percentile intervals of B - A for the metrics both files let us recompute from per_case."""
    how_a, how_b = _reproducible(a, metrics), _reproducible(b, metrics)
    usable = [m for m in metrics if m in how_a and m in how_b]
    if not usable:
        return {}
    a_rows, b_rows = a["per_case"], b["per_case"]
    pairs = _index_pairs(a_rows, b_rows)
    rng = np.random.default_rng(seed)
    if pairs is not None:
        ia, ib = map(np.asarray, pairs)
        draws = [(ia[s], ib[s]) for s in (rng.integers(0, len(ia), len(ia)) for _ in range(n_boot))]
    else:
        draws = [(rng.integers(0, len(a_rows), len(a_rows)), rng.integers(0, len(b_rows), len(b_rows)))
                 for _ in range(n_boot)]
    deltas: dict[str, list[float]] = {m: [] for m in usable}
    columns = [m for m in usable if how_a[m] == how_b[m] == "column"]
    if columns:  # vectorised: a per-case mean is a column mean
        col_a = {m: np.array([_num(r.get(m)) for r in a_rows]) for m in columns}
        col_b = {m: np.array([_num(r.get(m)) for r in b_rows]) for m in columns}
        for sa, sb in draws:
            for m in columns:
                deltas[m].append(np.nanmean(col_b[m][sb]) - np.nanmean(col_a[m][sa]))
    rest = [m for m in usable if m not in columns]
    if rest and len(a_rows) + len(b_rows) <= 20000:
        fa, fb = recomputer(a), recomputer(b)
        for sa, sb in draws[: n_boot // 2]:
            ma, mb = fa([a_rows[i] for i in sa]), fb([b_rows[i] for i in sb])
            for m in rest:
                if _num(ma.get(m)) == _num(ma.get(m)) and _num(mb.get(m)) == _num(mb.get(m)):
                    deltas[m].append(_num(mb.get(m)) - _num(ma.get(m)))
    return {m: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))) for m, v in deltas.items() if v}


def _num(v: Any) -> float:
    if isinstance(v, bool):
        return float(v)
    return float(v) if isinstance(v, (int, float)) else float("nan")


def compare(a: dict[str, Any], b: dict[str, Any], tolerance: float = 0.02, timing: bool = False,
            n_boot: int = N_BOOT, relative_tolerance: float = 0.10) -> list[Delta]:
    ha, hb = headline(a), headline(b)
    metrics = [m for m in ha if m in hb]
    cis = bootstrap(a, b, metrics, n_boot) if a.get("per_case") and b.get("per_case") else {}
    out = []
    for m in metrics:
        d = Delta(m, ha[m], hb[m])
        if m in cis:
            d.lo, d.hi = cis[m]
        else:
            d.note = "no per-case data"
        d.verdict = verdict(d, tolerance, timing, relative_tolerance)
        out.append(d)
    return out


def verdict(d: Delta, tolerance: float, timing: bool, relative_tolerance: float = 0.10) -> str:
    sign = -1.0 if LOWER_IS_BETTER.search(d.metric) else 1.0
    if d.lo is not None:  # the interval in "better" units: above zero is better
        g_lo, g_hi = sorted((sign * d.lo, sign * d.hi))
        worse, better = g_hi < 0, g_lo > 0
    else:
        limit = tolerance if max(abs(d.a), abs(d.b)) <= 1.0 else relative_tolerance * max(abs(d.a), 1e-9)
        worse, better = sign * d.delta < -limit, sign * d.delta > limit
    if worse:
        return "REGRESSION" if timing or not TIMING.search(d.metric) else "slower (timing)"
    if better:
        return "improved"
    return ""


def _fmt(v: float | None) -> str:
    if v is None:
        return ""
    return f"{v:+.4f}" if abs(v) < 1000 else f"{v:+.1f}"


def describe(path: str, r: dict[str, Any]) -> str:
    meta = r.get("meta") or {}
    bits = [f"{path}: task {task_of(r) or '?'}", f"commit {meta.get('git_commit', '?')}"
            + (" (dirty)" if meta.get("git_dirty") else "")]
    if meta.get("backend"):
        bits.append(f"backend {meta['backend']}" + (f" {meta['model']}" if meta.get("model") else ""))
    bits.append(f"{len(r.get('per_case') or [])} per-case rows" if r.get("per_case") else "no per-case data")
    if meta.get("load_start") is not None:  # speed figures depend on what else ran (benchmarks/benchrun.py)
        bits.append(f"load average {meta['load_start']} -> {meta.get('load_end')}")
    return ", ".join(bits)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", help="baseline results JSON")
    p.add_argument("b", help="new results JSON")
    p.add_argument("--fail-on-regression", action="store_true", help="exit 1 when a metric regressed")
    p.add_argument("--tolerance", type=float, default=0.02,
                   help="without per-case data: the absolute change of a 0-1 metric that counts (others: 10%%)")
    p.add_argument("--timing", action="store_true", help="count slower latency as a regression too")
    p.add_argument("--relative-tolerance", type=float, default=0.10,
                   help="without per-case data: the relative change of any other metric that counts")
    p.add_argument("--bootstrap", type=int, default=N_BOOT, help="bootstrap resamples")
    p.add_argument("--out", default=None, help="also write the comparison as JSON")


def main(args: argparse.Namespace) -> int:
    a, b = load_results(args.a), load_results(args.b)
    if task_of(a) != task_of(b):
        print(f"warning: comparing different tasks ({task_of(a)} vs {task_of(b)})")
    print(f"A = {describe(args.a, a)}\nB = {describe(args.b, b)}")
    deltas = compare(a, b, args.tolerance, args.timing, args.bootstrap, args.relative_tolerance)
    if not deltas:
        print("no numeric metric in common")
        return 2
    rows = [{"metric": d.metric, "A": d.a, "B": d.b, "delta": _fmt(d.delta),
             "95% CI": d.note or f"[{_fmt(d.lo)}, {_fmt(d.hi)}]", "": d.verdict} for d in deltas]
    print_table(rows, ["metric", "A", "B", "delta", "95% CI", ""], title="B - A")
    regressions = [d.metric for d in deltas if d.verdict == "REGRESSION"]
    print(f"\n{len(regressions)} regression(s)" + (f": {', '.join(regressions)}" if regressions else ""))
    if args.out:
        write_results(args.out, {"a": args.a, "b": args.b, "regressions": regressions,
                                 "deltas": [d.__dict__ | {"delta": d.delta} for d in deltas]})
    return 1 if regressions and args.fail_on_regression else 0

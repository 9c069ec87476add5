"""What every speed benchmark records around its figures: provenance, the machine's load, and a regression check.

`BenchRun("retrieval")` notes the load average when a benchmark starts; `finish(metrics, **details)` notes it at
the end, prints both, and returns one JSON-ready dict: `task` ("bench/<name>"), `meta` (commit, machine, CPU,
versions, load averages at start and end, the command line) and the headline `metrics` as top-level numbers, so
that `shopassist eval compare OLD.json NEW.json --timing --fail-on-regression` compares two runs directly.
`check_against(baseline, results)` does the same from inside a benchmark (its `--baseline` option).

Figures taken while other jobs run are not comparable to idle ones: `meta.load_start` / `meta.load_end` say which
kind a file is, and `eval compare` prints them. Knows nothing about what a benchmark measures.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages, rounded for printing."""
    return [round(x, 2) for x in os.getloadavg()]


def cores() -> int:
    """CPUs this process may run on (its affinity mask), not the machine's count."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class BenchRun:
    """One benchmark run: start time and load, then the results file with its metadata."""

    def __init__(self, name: str, **settings: Any):
        from eval.harness import run_meta

        self.name, self.settings = name, settings
        self.load_start = load_average()
        # provenance when the run starts: the commit whose code runs, even if HEAD moves during a long run
        self.meta = run_meta(task=f"bench/{name}", command=" ".join([Path(sys.executable).name, *sys.argv]),
                             settings=settings, cores=cores())
        self.t0 = time.time()
        print(f"[{name}] load average at start: {self.load_start} on {cores()} cores", file=sys.stderr, flush=True)

    def finish(self, metrics: dict[str, float], **details: Any) -> dict[str, Any]:
        load_end = load_average()
        print(f"[{self.name}] load average at start {self.load_start}, at end {load_end} "
              f"({cores()} cores, {time.time() - self.t0:.0f} s)", flush=True)
        meta = {**self.meta, "load_start": self.load_start, "load_end": load_end,
                "seconds": round(time.time() - self.t0, 1)}
        clean = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and v == v}
        return {"task": f"bench/{self.name}", "meta": meta, **clean, **details}


def check_against(baseline: str | Path, results: dict[str, Any], tolerance: float = 0.10) -> list[str]:
    """Metrics of `results` that got worse than in the `baseline` results file by more than `tolerance`
    (relative), timing metrics included; prints the comparison table."""
    from eval.compare import compare, load_results

    base = load_results(baseline)
    deltas = compare(base, results, timing=True, relative_tolerance=tolerance, n_boot=0)
    worse = [d for d in deltas if d.verdict == "REGRESSION"]
    for d in deltas:
        print(f"  {d.metric:<40} {d.a:>12.3f} -> {d.b:>12.3f}  {d.verdict}")
    load_a = (base.get("meta") or {}).get("load_start")
    print(f"{len(worse)} regression(s) against {baseline} (baseline load {load_a}, "
          f"this run {results['meta']['load_start']})")
    return [d.metric for d in worse]

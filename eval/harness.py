"""The one evaluation loop: cases, tasks, metrics, results files.

A `Case` is one scored unit (a query, a dialogue, a review, a user). A task supplies its cases,
produces an output for each (`run_batch`), scores each output (`evaluate(case, output) -> dict`),
and may add task-level metrics (`aggregate`). `run_task` drives any task, prints a table and
writes a JSON results file carrying the run's provenance (git commit, machine, seeds, model).

This module knows nothing about shops, models or retrieval: tasks bring those.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol, Sequence

import numpy as np


@dataclass
class Case:
    id: str
    input: Any
    expected: Any = None
    meta: dict[str, Any] = field(default_factory=dict)


class Task(Protocol):
    name: str

    def cases(self) -> Sequence[Case]: ...

    def run_batch(self, cases: Sequence[Case]) -> list[Any]: ...

    def evaluate(self, case: Case, output: Any) -> dict[str, float]: ...


@dataclass
class Result:
    task: str
    metrics: dict[str, Any]
    per_case: list[dict[str, Any]]
    meta: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {**self.metrics, "task": self.task, "meta": self.meta, "per_case": self.per_case}


def mean_metrics(per_case: Iterable[dict[str, Any]], skip: Iterable[str] = ("id",)) -> dict[str, float]:
    """Average every numeric key over the cases that have it (None = not applicable)."""
    sums: dict[str, list[float]] = {}
    for row in per_case:
        for k, v in row.items():
            if k in skip:
                continue
            if isinstance(v, (int, float)):
                sums.setdefault(k, []).append(float(v))
    return {k: float(np.mean(v)) for k, v in sums.items()}


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              timeout=5, cwd=Path(__file__).resolve().parent).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def run_meta(**extra: Any) -> dict[str, Any]:
    return {
        "git_commit": git_commit(),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "python": platform.python_version(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        **extra,
    }


def run_task(task: Task, aggregate: Callable[[list[dict], list[Any]], dict] | None = None,
             meta: dict[str, Any] | None = None, batch_size: int = 64, progress: bool = True) -> Result:
    """Run every case of `task`, score it, aggregate. `aggregate` adds task-level metrics."""
    from tqdm import tqdm

    cases = list(task.cases())
    outputs: list[Any] = []
    bar = tqdm(total=len(cases), desc=task.name, disable=not progress or os.environ.get("CI") == "true")
    for i in range(0, len(cases), batch_size):
        chunk = cases[i:i + batch_size]
        outputs.extend(task.run_batch(chunk))
        bar.update(len(chunk))
    bar.close()
    per_case = [{"id": c.id, **task.evaluate(c, o)} for c, o in zip(cases, outputs)]
    metrics = mean_metrics(per_case)
    if aggregate is not None:
        metrics.update(aggregate(per_case, outputs))
    return Result(task=task.name, metrics=metrics, per_case=per_case, meta=run_meta(**(meta or {})))


def print_table(rows: list[dict[str, Any]], columns: Sequence[str] | None = None, title: str | None = None) -> str:
    """Render rows as a fixed-width table, print it, and return it."""
    if not rows:
        return ""
    columns = list(columns or rows[0].keys())

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4f}" if abs(v) < 1000 else f"{v:.1f}"
        return str(v)

    cells = [[fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(columns, widths)),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    text = (f"\n{title}\n" if title else "\n") + "\n".join(lines)
    print(text)
    return text


def write_results(path: str | Path, payload: dict[str, Any]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str), encoding="utf-8")

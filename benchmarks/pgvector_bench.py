"""FAISS vs pgvector side by side: recall@10 against exact search and query latency p50/p95, at 10k and 100k
products, unfiltered and filtered (price + rating in the query), in one run.

    shopassist index --catalog ../shared/data/catalog_amazon_in/amazon.csv --format amazon_in --out runs/amazon
    python benchmarks/pgvector_bench.py --base-index runs/amazon \
        --queries-file eval/suites/retrieval_amazon_en_dev.jsonl --sizes 10000,100000 --out pgvector.json
    python benchmarks/pgvector_bench.py [--base 10000] [--queries 200] ...   # demo store, embedded here

Vectors: real e5 product vectors, either of an index built by `shopassist index` (`--base-index`) or of
the built-in demo store embedded here (slow on 2 cores: cached per 1000 products). Sizes beyond the real
products are built the way benchmarks/retrieval_bench.py builds them (real vectors plus Gaussian noise,
prices jittered), so both engines index exactly the same vectors. Queries: e5 query embeddings of the
`query` lines of a retrieval suite (`--queries-file`), else of titles of products of another demo store
(seed 1); never indexed. Exact truth: brute-force inner product
(numpy) over the rows that pass the filter. FAISS: the project's `VectorIndex` (HNSW, M=32, efSearch=128;
filtered search with an id selector); pgvector: `PgVectorIndex` (HNSW m=16, ef_construction=128,
ef_search=200, filters in the WHERE clause, exact fallback when HNSW returns fewer than k), on a
throw-away local Postgres (pgserver, unix socket) unless --pg-url is given. Latency is per query from
Python, one query at a time; pgvector's includes the round trip to the server.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.retrieval_bench import synthetic_catalog  # noqa: E402
from retrieval.schema import Product  # noqa: E402
from retrieval.filters import Filters  # noqa: E402

K = 10
EPS = 1e-3


def pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(xs, q)), 3) if xs else float("nan")


def base_vectors(n_base: int, n_queries: int, cache: Path):
    """(products, vectors, query vectors) of the demo store, embedded once and cached."""
    from retrieval.demo_store import build_demo_store
    from retrieval.embedders import load_embedder
    from retrieval.search import dense_text

    store = build_demo_store(0, n_products=n_base, n_users=10)
    products = list(store.products.values())
    qstore = build_demo_store(1, n_products=n_queries, n_users=10)
    qtexts = [p.title for p in qstore.products.values()][:n_queries]
    cache.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SHOPASSIST_EMBED_THREADS", str(os.cpu_count() or 1))
    emb = None
    chunks = []
    for i in range(0, len(products), 1000):  # cached per 1000 products: an interrupted run resumes
        path = cache / f"e5_seed0_of{n_base}_{i}_{min(i + 1000, len(products))}.npy"
        if not path.exists():
            emb = emb or load_embedder("e5")
            texts = [dense_text(p, 160) for p in products[i:i + 1000]]
            np.save(path, np.vstack([emb.embed_passages(texts[j:j + 250]) for j in range(0, len(texts), 250)]))
        chunks.append(np.load(path).astype(np.float32))
    qpath = cache / f"e5_queries_seed1_{n_queries}.npy"
    if not qpath.exists():
        emb = emb or load_embedder("e5")
        np.save(qpath, emb.embed_queries(qtexts))
    return products, np.vstack(chunks), np.load(qpath).astype(np.float32)


def index_vectors(index_dir: Path, queries_file: Path | None, n_queries: int):
    """(products, vectors, query vectors) from an index folder and a JSONL file of queries."""
    from retrieval.search import ProductIndex

    index = ProductIndex.load(index_dir)
    live = [i for i, pid in enumerate(index.positions) if pid is not None]
    products = [index.store.products[index.positions[i]] for i in live]
    if queries_file is not None:
        texts = [json.loads(line)["query"] for line in queries_file.read_text().splitlines() if line.strip()]
    else:
        from retrieval.demo_store import build_demo_store

        texts = [p.title for p in build_demo_store(1, n_products=n_queries, n_users=10).products.values()]
    texts = texts[:n_queries]
    return products, index.vectors[live].astype(np.float32), index.embedder.embed_queries(texts).astype(np.float32)


def catalog(n: int, products, vecs, noise: float):
    """n products: the real ones, then synthetic ones (retrieval_bench's recipe; `noise` is the per-dimension
    Gaussian sigma: 0.035 there keeps synthetic vectors far from the queries, smaller makes them compete)."""
    if n <= len(products):
        return products[:n], vecs[:n]
    extra, _ = synthetic_catalog(n - len(products), products, vecs, random.Random(n), np.random.default_rng(n))
    nrng = np.random.default_rng(n + 1)
    src = nrng.integers(0, len(products), size=len(extra))
    evecs = vecs[src] + nrng.normal(0, noise, size=(len(extra), vecs.shape[1])).astype(np.float32)
    evecs /= np.linalg.norm(evecs, axis=1, keepdims=True)
    extra = [Product(p.product_id, p.title, "", products[j].category, products[j].brand,
                     round(products[j].price * random.Random(i).uniform(0.7, 1.3), 2), rating=products[j].rating)
             for i, (p, j) in enumerate(zip(extra, src))]
    return products + extra, np.vstack([vecs, evecs.astype(np.float32)])


def exact_topk(vecs, mask, q) -> tuple[set[int], float]:
    """The exact top-k ids and the k-th best score (among the rows passing `mask`)."""
    scores = vecs @ q
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = np.argpartition(-scores, K)[:K]
    return {int(i) for i in top if np.isfinite(scores[i])}, float(np.min(scores[top]))


def measure(search, queries, truths, vecs, mask) -> dict:
    """recall@10: share of the exact top-10 ids returned. recall@10_eps: share of returned results whose exact
    score is within EPS of the exact 10th score (ann-benchmarks' tolerance for near-ties, which synthetic
    near-copies create by the thousand); a result outside the filter never counts."""
    lat, hits, tol, want = [], 0, 0, 0
    for q, (truth, kth) in zip(queries, truths):
        t = time.perf_counter()
        ids = search(q)
        lat.append((time.perf_counter() - t) * 1e3)
        got = [int(i) for i in ids][:K]
        hits += len(truth & set(got))
        tol += sum(1 for i in got if (mask is None or mask[i]) and float(vecs[i] @ q) >= kth - EPS)
        want += len(truth)
    return {"recall@10": round(hits / max(want, 1), 4), "recall@10_eps": round(tol / max(want, 1), 4),
            "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95)}


def faiss_engine(vecs, products):
    from retrieval.filters import FilterColumns
    from retrieval.vector_index import VectorIndex

    t = time.perf_counter()
    index = VectorIndex(vecs.shape[1], "hnsw")
    index.add(np.arange(len(vecs)), vecs)
    build = time.perf_counter() - t
    cols = FilterColumns(products)

    def search(q, f: Filters | None):
        allowed = None if f is None else np.flatnonzero(cols.mask(f))
        return index.search(q, K, allowed=allowed)[1]
    return search, build


def pgvector_engine(vecs, products, url: str, table: str, hnsw: dict):
    from retrieval.pgvector_index import PgVectorIndex

    index = PgVectorIndex(url, vecs.shape[1], table=table, ann_now=False, **hnsw)
    index._db().execute(f"TRUNCATE {table}")
    t = time.perf_counter()
    index.add(np.arange(len(vecs)), vecs, products=products)
    load = time.perf_counter() - t
    t = time.perf_counter()
    index.build_ann()
    build = time.perf_counter() - t
    index._db().execute(f"ANALYZE {table}")
    return (lambda q, f: index.search(q, K, filters=f)[1]), build, load


def run_size(n: int, products, vecs, queries, url: str, filt: Filters, noise: float, hnsw: dict) -> dict:
    from retrieval.filters import FilterColumns

    prods, v = catalog(n, products, vecs, noise)
    mask = FilterColumns(prods).mask(filt)
    truths = {None: [exact_topk(v, None, q) for q in queries], "f": [exact_topk(v, mask, q) for q in queries]}
    fs, f_build = faiss_engine(v, prods)
    ps, p_build, p_load = pgvector_engine(v, prods, url, f"bench_{n}", hnsw)
    real = len(products)
    truth_ids = [t for t, _ in truths[None]]
    row = {"n": n, "pgvector_hnsw": hnsw, "filter": filt.to_dict(), "noise": noise,
           "filter_selectivity": round(float(mask.mean()), 3),
           "synthetic_share_of_exact_top10": round(float(np.mean([i >= real for t in truth_ids for i in t])), 3),
           "faiss_build_s": round(f_build, 1), "pgvector_load_s": round(p_load, 1),
           "pgvector_hnsw_build_s": round(p_build, 1)}
    for label, f, truth, m in (("unfiltered", None, truths[None], None), ("filtered", filt, truths["f"], mask)):
        row[f"faiss_{label}"] = measure(lambda q: fs(q, f), queries, truth, v, m)
        row[f"pgvector_{label}"] = measure(lambda q: ps(q, f), queries, truth, v, m)
    return row


def start_postgres(folder: Path):
    import pgserver

    server = pgserver.get_server(folder, cleanup_mode="stop")
    server.psql("CREATE EXTENSION IF NOT EXISTS vector;")
    return server


def print_table(rows: list[dict]) -> None:
    print(f"{'n':>7} {'engine':9} {'case':10} {'recall@10':>9} {'r@10 eps':>8} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'build s':>8}")
    for r in rows:
        for engine in ("faiss", "pgvector"):
            build = r["faiss_build_s"] if engine == "faiss" else r["pgvector_hnsw_build_s"]
            for case in ("unfiltered", "filtered"):
                m = r[f"{engine}_{case}"]
                print(f"{r['n']:>7} {engine:9} {case:10} {m['recall@10']:>9.4f} {m['recall@10_eps']:>8.4f} "
                      f"{m['p50_ms']:>7.2f} "
                      f"{m['p95_ms']:>7.2f} {build:>8.1f}")
    print(f"filter: {rows[0]['filter']} (selectivity at each size: {[r['filter_selectivity'] for r in rows]}); "
          f"synthetic share of the exact top-10: {[r['synthetic_share_of_exact_top10'] for r in rows]} "
          f"(noise {rows[0]['noise']})")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--base", type=int, default=10000, help="real demo-store products embedded with e5")
    p.add_argument("--noise", type=float, default=0.01,
                   help="per-dimension sigma of the synthetic vectors' noise (retrieval_bench uses 0.035)")
    p.add_argument("--base-index", help="take the real vectors from this index folder (`shopassist index`)")
    p.add_argument("--queries-file", help="JSONL with a `query` per line (a retrieval suite)")
    p.add_argument("--pg-m", type=int, default=16, help="pgvector HNSW m (PgVectorIndex default)")
    p.add_argument("--pg-ef-construction", type=int, default=128)
    p.add_argument("--pg-ef-search", type=int, default=200)
    p.add_argument("--pg-url", help="an existing Postgres with pgvector (default: a throw-away local one)")
    p.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "shopassist-pgvector-bench"))
    p.add_argument("--out", default="pgvector_bench.json")
    args = p.parse_args()
    load_start = os.getloadavg()
    if args.base_index:
        products, vecs, queries = index_vectors(Path(args.base_index),
                                                Path(args.queries_file) if args.queries_file else None, args.queries)
    else:
        products, vecs, queries = base_vectors(args.base, args.queries, Path(args.cache))
    print(f"{len(products)} real product vectors, {len(queries)} queries", flush=True)
    server = None if args.pg_url else start_postgres(Path(tempfile.mkdtemp(prefix="pgbench-")) / "data")
    url = args.pg_url or server.get_uri()
    filt = Filters(max_price=float(np.median([p.price for p in products])), min_rating=4.0)
    try:
        hnsw = {"hnsw_m": args.pg_m, "ef_construction": args.pg_ef_construction, "ef_search": args.pg_ef_search}
        rows = [run_size(int(n), products, vecs, queries, url, filt, args.noise, hnsw) for n in args.sizes.split(",")]
    finally:
        if server is not None:
            server.cleanup()
    print_table(rows)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    result = {"rows": rows, "queries": len(queries), "real_products": len(products), "k": K,
              "commit": commit.strip(), "cpus": os.cpu_count(),
              "load_avg_start": load_start, "load_avg_end": os.getloadavg(), "command": " ".join(sys.argv)}
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(f"load average start {load_start}, end {result['load_avg_end']}; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

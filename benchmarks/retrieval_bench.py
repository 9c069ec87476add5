"""Retrieval speed and approximate-index quality, printed as tables.

1. Index build throughput on real text: the built-in demo store (full descriptions), e5 embedding vs
   indexing (FAISS + BM25) time, products/s.
2. Query latency at N products (default 10k, 100k; add 1000000 with --sizes): search only (query
   vector given: FAISS + BM25 + fusion + filters) and end to end (with the e5 query embedding), p50/p99,
   with 1 and 2 FAISS threads, unfiltered and filtered.
3. Recall@10 of the approximate index (the HNSW the product index itself built) against exact search
   (brute force over the same vectors), its own search p50, the build time and the memory used (RSS now,
   and the process's peak).
4. `--catalog amazon_in.csv`: index build on a real catalog as `shopassist index` runs it, products/s.

Vectors beyond the real catalog are synthetic: real e5 product vectors plus Gaussian noise, so they keep
the clustered structure of real embeddings (pure random vectors would make ANN look worse than it is).
Texts for BM25 at scale are synthetic titles recombined from the demo store's words.

    python benchmarks/retrieval_bench.py [--sizes 10000,100000] [--queries 200] [--json out.json]
    python benchmarks/retrieval_bench.py --sizes 1000000 --skip-build --threads 1 --index-kind ivf --json r1m.json
    python benchmarks/retrieval_bench.py --sizes 1000000 --skip-build --threads 1 --json r1m_hnsw.json  # HNSW: ~1 h
    python benchmarks/retrieval_bench.py --sizes 0 --catalog ../shared/data/catalog_amazon_in/amazon.csv

The JSON carries top-level metrics for `shopassist eval compare --timing` and the load average at start and
end (benchmarks/benchrun.py); `--baseline OLD.json` flags a slowdown against a recorded run (exit 1).
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.benchrun import BenchRun, check_against, cores  # noqa: E402
from eval.harness import percentile, print_table, write_results  # noqa: E402
from retrieval.demo_store import build_demo_store  # noqa: E402
from retrieval.embedders import E5Embedder  # noqa: E402
from retrieval.schema import Product  # noqa: E402
from retrieval.search import ProductIndex, SearchConfig  # noqa: E402
from retrieval.store import Store  # noqa: E402
from retrieval.vector_index import VectorIndex  # noqa: E402


def rss_mb() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Resident memory now (Linux /proc; the peak elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss_mb()


class FixedEmbedder:
    """Serves precomputed vectors for synthetic products (only for the scale benchmark)."""

    name = "synthetic"

    def __init__(self, vectors: np.ndarray, queries: dict[str, np.ndarray]):
        self.dim = vectors.shape[1]
        self._vectors, self._queries, self._next = vectors, queries, 0

    def embed_passages(self, texts):
        out = self._vectors[self._next:self._next + len(texts)]
        self._next += len(texts)
        return out

    def embed_queries(self, texts):
        return np.vstack([self._queries[t] for t in texts])


def build_throughput(embedder: E5Embedder) -> dict:
    """Embedding and indexing timed apart: e5 over the dense texts, then FAISS + BM25 + filter columns."""
    from retrieval.search import dense_text

    store = build_demo_store()
    products = list(store.products.values())
    texts = [dense_text(p, SearchConfig().dense_description_chars) for p in products]
    t0 = time.perf_counter()
    vecs = embedder.embed_passages(texts)
    embed_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    ProductIndex.build(Store(products={p.product_id: p for p in products}), FixedEmbedder(vecs, {}))
    index_s = time.perf_counter() - t1
    total_s = embed_s + index_s
    return {"products": len(products), "embed_s": embed_s, "index_s": index_s, "total_s": total_s,
            "products_per_s": len(products) / total_s, "embed_per_s": len(products) / embed_s,
            "avg_desc_chars": float(np.mean([len(p.description) for p in products]))}


def synthetic_catalog(n: int, base: list[Product], base_vecs: np.ndarray, rng: random.Random,
                      nrng: np.random.Generator) -> tuple[list[Product], np.ndarray]:
    words = [w for p in base for w in p.title.split()]
    products, idx = [], nrng.integers(0, len(base), size=n)
    for i in range(n):
        src = base[int(idx[i])]
        title = " ".join(rng.sample(words, 4) + src.title.split()[:3])
        products.append(Product(f"S{i:07d}", title, "", src.category, src.brand,
                                round(src.price * rng.uniform(0.7, 1.3), 2), rating=src.rating))
    vecs = np.empty((n, base_vecs.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):  # in chunks: a 1M x 384 float64 noise array alone would be 3 GB
        part = idx[start:start + 100_000]
        v = base_vecs[part] + nrng.normal(0, 0.035, size=(len(part), base_vecs.shape[1])).astype(np.float32)
        vecs[start:start + len(part)] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return products, vecs


def exact_top_k(vecs: np.ndarray, queries: np.ndarray, k: int = 10, chunk: int = 200_000) -> np.ndarray:
    """Ids of the true top-k by inner product, by brute force in chunks (no second index in memory)."""
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), k), dtype=np.int64)
    for start in range(0, len(vecs), chunk):
        scores = queries @ vecs[start:start + chunk].T
        top = np.argpartition(-scores, min(k, scores.shape[1] - 1), axis=1)[:, :k]
        cand_s = np.concatenate([best_s, np.take_along_axis(scores, top, 1)], axis=1)
        cand_i = np.concatenate([best_i, top + start], axis=1)
        order = np.argsort(-cand_s, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(cand_s, order, 1), np.take_along_axis(cand_i, order, 1)
    return best_i


def ann_recall(vindex: VectorIndex, vecs: np.ndarray, queries: np.ndarray, k: int = 10) -> dict:
    """Recall@k of `vindex` (whatever kind it is) against brute force, and its own search latency."""
    truth = exact_top_k(vecs, queries, k)
    hits, lat = 0, []
    for q, true_ids in zip(queries, truth):
        t = time.perf_counter()
        _, got = vindex.search(q, k)
        lat.append((time.perf_counter() - t) * 1e3)
        hits += len(set(true_ids.tolist()) & set(got.tolist()))
    return {"recall@10": hits / (k * len(queries)), "ann_p50_ms": percentile(lat, 50),
            "ann_p99_ms": percentile(lat, 99)}


def latency(index: ProductIndex, queries: list[str], filters: dict | None) -> dict:
    lat, search_only = [], []
    for q in queries:
        t = time.perf_counter()
        index.search(q, filters, k=10)
        lat.append((time.perf_counter() - t) * 1e3)
        search_only.append(index.last_timings.search_ms)
    return {"p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99),
            "search_p50_ms": percentile(search_only, 50), "search_p99_ms": percentile(search_only, 99)}


def catalog_build(path: str, fmt: str) -> dict:
    """`shopassist index` on a real catalog, timed: load, embed + index, products/s (every core, as there)."""
    from retrieval.catalog import load_catalog

    os.environ.setdefault("SHOPASSIST_EMBED_THREADS", str(cores()))

    t0 = time.perf_counter()
    store, _ = load_catalog(path, fmt, {})
    load_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    index = ProductIndex.build(store)
    build_s = time.perf_counter() - t1
    return {"catalog": Path(path).name, "products": len(index), "load_s": load_s, "build_s": build_s,
            "products_per_s": len(index) / build_s, "embed_threads": index.embedder.threads_description()}


def scale_rows(n: int, base, base_vecs, qtexts, qvecs, embed_ms, threads: list[int], rng, nrng,
               build_threads: int, kind: str = "auto") -> tuple:
    """Latency rows and the approximate-index row for one synthetic catalog size."""
    products, vecs = synthetic_catalog(n, base, base_vecs, rng, nrng)
    os.environ["SHOPASSIST_FAISS_THREADS"] = str(build_threads)  # building is a batch job: every core
    rss0 = current_rss_mb()
    embedder = FixedEmbedder(vecs, qvecs)
    t0 = time.perf_counter()
    idx = ProductIndex(Store(products={}), embedder, SearchConfig(embedder="synthetic", index_kind=kind))
    idx.vindex = VectorIndex(vecs.shape[1], kind, expected_size=n)
    idx.upsert(products, batch=100_000)
    build_s = time.perf_counter() - t0
    del products, vecs
    embedder._vectors = None  # the index keeps its own copy: only one set of vectors stays in memory
    rows = []
    for t in threads:
        os.environ["SHOPASSIST_FAISS_THREADS"] = str(t)
        for label, flt in (("none", None), ("price+rating", {"max_price": 3000, "min_rating": 4.0})):
            lat = latency(idx, qtexts, flt)
            rows.append({"products": n, "index": idx.vindex.kind, "threads": t, "filters": label,
                         **lat, "with_embed_p50_ms": lat["p50_ms"] + embed_ms})
    os.environ["SHOPASSIST_FAISS_THREADS"] = str(threads[0])
    ann = ann_recall(idx.vindex, idx.vectors, np.vstack([qvecs[q] for q in qtexts[:100]]))
    ann_row = {"products": n, "index": idx.vindex.kind, **ann, "build_s": build_s,
               "build_threads": build_threads, "build_products_per_s": n / build_s, "rss_now_mb": current_rss_mb(),
               "rss_growth_mb": current_rss_mb() - rss0, "rss_peak_mb": rss_mb()}
    return rows, ann_row


def headline(results: dict) -> dict[str, float]:
    """Flat metrics for `eval compare`: one name per (size, filter, threads) figure."""
    out = {}
    if "build" in results:
        out["demo_build_products_per_s"] = results["build"]["products_per_s"]
    if "catalog_build" in results:
        out["catalog_build_products_per_s"] = results["catalog_build"]["products_per_s"]
    for r in results.get("latency", []):
        key = f"n{r['products']}_t{r['threads']}_{'filtered' if r['filters'] != 'none' else 'plain'}"
        out[f"search_p50_ms_{key}"] = r["search_p50_ms"]
    for r in results.get("ann", []):
        out[f"recall@10_n{r['products']}"] = r["recall@10"]
        out[f"ann_p50_ms_n{r['products']}"] = r["ann_p50_ms"]
        out[f"index_build_s_n{r['products']}"] = r["build_s"]
    return out


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000", help="synthetic catalog sizes, comma-separated (0: none)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--threads", default="1,2", help="FAISS thread counts to time search with")
    ap.add_argument("--build-threads", type=int, default=None, help="FAISS threads while building (default: all)")
    ap.add_argument("--index-kind", default="auto", choices=["auto", "flat", "hnsw", "ivf"],
                    help="vector index of the synthetic catalogs (auto: exact below 50k, HNSW above)")
    ap.add_argument("--skip-build", action="store_true", help="skip the demo-store build throughput table")
    ap.add_argument("--catalog", default=None, help="also time `shopassist index` on this catalog")
    ap.add_argument("--format", default="amazon_in", help="format of --catalog")
    ap.add_argument("--json", default=None)
    ap.add_argument("--baseline", default=None, help="an earlier JSON of this benchmark: exit 1 on a slowdown")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import faiss

    run = BenchRun("retrieval", sizes=args.sizes, queries=args.queries, threads=args.threads)
    embedder = E5Embedder()
    results: dict = {"faiss": faiss.__version__, "embedder": embedder.threads_description()}
    if not args.skip_build:
        b = build_throughput(embedder)
        results["build"] = b
        print_table([b], ["products", "avg_desc_chars", "embed_s", "index_s", "total_s", "products_per_s", "embed_per_s"],
                    title="index build on the demo store (real e5 embeddings, full descriptions)")
    if args.catalog:
        c = results["catalog_build"] = catalog_build(args.catalog, args.format)
        print_table([c], list(c), title="`shopassist index` on a real catalog")
    sizes = [int(x) for x in args.sizes.split(",") if int(x) > 0]
    if sizes:
        results.update(scale_tables(sizes, args.queries, [int(t) for t in args.threads.split(",")], embedder,
                                    args.build_threads or cores(), args.index_kind))
    out = run.finish(headline(results), **results)
    if args.json:
        write_results(args.json, out)
    if args.baseline:
        return 1 if check_against(args.baseline, out) else 0
    return 0


def scale_tables(sizes: list[int], n_queries: int, threads: list[int], embedder, build_threads: int,
                 kind: str = "auto") -> dict:
    store = build_demo_store()
    base = list(store.products.values())
    base_vecs = embedder.embed_passages([p.title for p in base])
    rng, nrng = random.Random(0), np.random.default_rng(0)
    english = [p for p in base if p.lang == "en"]
    qtexts = [rng.choice(english).title.split(" ", 1)[-1][:40] for _ in range(n_queries)]
    qvecs = {t: v for t, v in zip(qtexts, embedder.embed_queries(qtexts))}
    t = time.perf_counter()
    for q in qtexts[:50]:
        embedder.embed_queries([q])
    embed_ms = (time.perf_counter() - t) * 1e3 / 50
    rows, ann_rows = [], []
    for n in sizes:
        r, a = scale_rows(n, base, base_vecs, qtexts, qvecs, embed_ms, threads, rng, nrng, build_threads, kind)
        rows += r
        ann_rows.append(a)
        print_table(r, ["products", "index", "threads", "filters", "search_p50_ms", "search_p99_ms", "p50_ms",
                        "p99_ms", "with_embed_p50_ms"], title=f"query latency at {n} products "
                    f"(e5 query embedding adds {embed_ms:.1f} ms)")
        print_table([a], list(a), title="approximate index vs exact (brute force), synthetic clustered vectors")
    return {"latency": rows, "ann": ann_rows, "query_embed_ms": embed_ms}


if __name__ == "__main__":
    sys.exit(main())

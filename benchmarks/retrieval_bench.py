"""Retrieval speed and approximate-index quality, printed as tables.

1. Index build throughput on real text: the built-in demo store (full descriptions), e5 embedding vs
   indexing (FAISS + BM25) time, products/s.
2. Query latency at N products (default 10k, 100k; add 1000000 with --sizes): search only (query
   vector given: FAISS + BM25 + fusion + filters) and end to end (with the e5 query embedding), p50/p99,
   with 1 and 2 FAISS threads, unfiltered and filtered.
3. Recall@10 of the approximate index (HNSW) against exact search at each size, and memory used.

Vectors beyond the real catalog are synthetic: real e5 product vectors plus Gaussian noise, so they keep
the clustered structure of real embeddings (pure random vectors would make ANN look worse than it is).
Texts for BM25 at scale are synthetic titles recombined from the demo store's words.

    python benchmarks/retrieval_bench.py [--sizes 10000,100000] [--queries 200] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval.harness import percentile, print_table  # noqa: E402
from retrieval.demo_store import build_demo_store  # noqa: E402
from retrieval.embedders import E5Embedder  # noqa: E402
from retrieval.schema import Product  # noqa: E402
from retrieval.search import ProductIndex, SearchConfig  # noqa: E402
from retrieval.store import Store  # noqa: E402
from retrieval.vector_index import VectorIndex  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
    vecs = base_vecs[idx] + nrng.normal(0, 0.035, size=(n, base_vecs.shape[1])).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return products, vecs.astype(np.float32)


def ann_recall(vecs: np.ndarray, queries: np.ndarray, k: int = 10) -> dict:
    exact = VectorIndex(vecs.shape[1], "flat")
    exact.add(np.arange(len(vecs)), vecs)
    t0 = time.perf_counter()
    approx = VectorIndex(vecs.shape[1], "hnsw")
    approx.add(np.arange(len(vecs)), vecs)
    build_s = time.perf_counter() - t0
    hits, lat = 0, []
    for q in queries:
        _, truth = exact.search(q, k)
        t = time.perf_counter()
        _, got = approx.search(q, k)
        lat.append((time.perf_counter() - t) * 1e3)
        hits += len(set(truth) & set(got))
    return {"recall@10": hits / (k * len(queries)), "hnsw_build_s": build_s, "hnsw_p50_ms": percentile(lat, 50)}


def latency(index: ProductIndex, queries: list[str], filters: dict | None) -> dict:
    lat, search_only = [], []
    for q in queries:
        t = time.perf_counter()
        index.search(q, filters, k=10)
        lat.append((time.perf_counter() - t) * 1e3)
        search_only.append(index.last_timings.search_ms)
    return {"p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99),
            "search_p50_ms": percentile(search_only, 50), "search_p99_ms": percentile(search_only, 99)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    import faiss

    embedder = E5Embedder()
    results: dict = {"machine": f"{os.cpu_count()} cpus", "faiss": faiss.__version__}
    if not args.skip_build:
        b = build_throughput(embedder)
        results["build"] = b
        print_table([b], ["products", "avg_desc_chars", "embed_s", "index_s", "total_s", "products_per_s", "embed_per_s"],
                    title="index build on the demo store (real e5 embeddings, full descriptions)")
    store = build_demo_store()
    base = list(store.products.values())
    base_vecs = embedder.embed_passages([p.title for p in base])
    rng, nrng = random.Random(0), np.random.default_rng(0)
    english = [p for p in base if p.lang == "en"]
    qtexts = [rng.choice(english).title.split(" ", 1)[-1][:40] for _ in range(args.queries)]
    qvecs = {t: v for t, v in zip(qtexts, embedder.embed_queries(qtexts))}
    t = time.perf_counter()
    for q in qtexts[:50]:
        embedder.embed_queries([q])
    embed_ms = (time.perf_counter() - t) * 1e3 / 50
    rows, ann_rows = [], []
    for n in [int(x) for x in args.sizes.split(",")]:
        products, vecs = synthetic_catalog(n, base, base_vecs, rng, nrng)
        rss0 = rss_mb()
        t0 = time.perf_counter()
        idx = ProductIndex(Store(products={}), FixedEmbedder(vecs, qvecs),
                           SearchConfig(embedder="synthetic", index_kind="auto"))
        idx.vindex = VectorIndex(vecs.shape[1], "auto", expected_size=n)
        idx.upsert(products, batch=100_000)
        build_s = time.perf_counter() - t0
        for threads in (1, 2):
            os.environ["SHOPASSIST_FAISS_THREADS"] = str(threads)
            for label, flt in (("none", None), ("price+rating", {"max_price": 3000, "min_rating": 4.0})):
                lat = latency(idx, qtexts, flt)
                rows.append({"products": n, "index": idx.vindex.kind, "threads": threads, "filters": label,
                             **lat, "with_embed_p50_ms": lat["p50_ms"] + embed_ms})
        ann = ann_recall(vecs, np.vstack([qvecs[q] for q in qtexts[:100]]))
        ann_rows.append({"products": n, **ann, "build_s": build_s, "rss_mb": rss_mb(), "rss_growth_mb": rss_mb() - rss0})
        del idx
    print_table(rows, ["products", "index", "threads", "filters", "search_p50_ms", "search_p99_ms", "p50_ms", "p99_ms",
                       "with_embed_p50_ms"], title=f"query latency (e5 query embedding adds {embed_ms:.1f} ms)")
    print_table(ann_rows, ["products", "recall@10", "hnsw_build_s", "hnsw_p50_ms", "build_s", "rss_mb"],
                title="approximate (HNSW M=32, efSearch=128) vs exact, synthetic clustered vectors")
    results.update({"latency": rows, "ann": ann_rows, "query_embed_ms": embed_ms})
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

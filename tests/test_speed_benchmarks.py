"""The speed benchmark scripts' own logic: exact top-k, headline metrics, configuration grids, the busy load."""
from __future__ import annotations

import os

import numpy as np
import pytest

from tests.test_llm_benchmarks import _load


@pytest.fixture(scope="module")
def retrieval_bench():
    return _load("retrieval_bench")


def test_exact_top_k_in_chunks_matches_a_full_sort(retrieval_bench):
    rng = np.random.default_rng(0)
    vecs, queries = rng.normal(size=(1000, 8)).astype(np.float32), rng.normal(size=(5, 8)).astype(np.float32)
    got = retrieval_bench.exact_top_k(vecs, queries, k=10, chunk=64)
    want = np.argsort(-(queries @ vecs.T), axis=1)[:, :10]
    assert np.array_equal(got, want)


def test_ann_recall_scores_a_bad_index_badly(retrieval_bench):
    class Shuffled:  # returns the right number of ids, but the wrong ones
        def search(self, q, k):
            return np.zeros(k), np.arange(500, 500 + k)

    rng = np.random.default_rng(1)
    vecs = rng.normal(size=(400, 8)).astype(np.float32)
    assert retrieval_bench.ann_recall(Shuffled(), vecs, vecs[:5])["recall@10"] == 0.0
    from retrieval.vector_index import VectorIndex

    flat = VectorIndex(8, "flat")
    flat.add(np.arange(400), vecs)
    assert retrieval_bench.ann_recall(flat, vecs, vecs[:5])["recall@10"] == 1.0


def test_retrieval_headline_names_every_row(retrieval_bench):
    results = {"catalog_build": {"products_per_s": 20.0},
               "latency": [{"products": 1000, "threads": 1, "filters": "none", "search_p50_ms": 2.0},
                           {"products": 1000, "threads": 1, "filters": "price+rating", "search_p50_ms": 3.0}],
               "ann": [{"products": 1000, "recall@10": 0.99, "ann_p50_ms": 0.5, "build_s": 4.0}]}
    assert retrieval_bench.headline(results) == {
        "catalog_build_products_per_s": 20.0, "search_p50_ms_n1000_t1_plain": 2.0,
        "search_p50_ms_n1000_t1_filtered": 3.0, "recall@10_n1000": 0.99, "ann_p50_ms_n1000": 0.5,
        "index_build_s_n1000": 4.0}


def test_embed_bench_grid():
    embed_bench = _load("embed_bench")
    args = embed_bench.build_parser().parse_args(["--engines", "shipped,built", "--threads", "1,auto",
                                                  "--batches", "64,16"])
    assert embed_bench.configurations(args) == [("shipped", "1", 64, "passive"), ("shipped", "auto", 64, "passive"),
                                                ("built", "1", 64, "passive"), ("built", "auto", 64, "passive"),
                                                ("built", "1", 16, "passive")]


def test_thread_bench_environment_and_busy_load():
    thread_bench = _load("thread_bench")
    env = thread_bench.config_env("/opt/llama-avx2", "2", "default")
    assert env["SHOPASSIST_THREADS"] == "2" and env["SHOPASSIST_OMP_WAIT"] == "default"
    assert env["PYTHONPATH"].split(os.pathsep)[0] == "/opt/llama-avx2" and "OMP_WAIT_POLICY" not in env
    with thread_bench.BusyLoad(1, max_s=30) as load:
        assert len(load.procs) == 1 and load.procs[0].poll() is None
    assert load.procs[0].poll() is not None  # stopped on exit
    with thread_bench.BusyLoad(1, max_s=0.5) as load:
        assert load.procs[0].wait(timeout=120) == 0  # and stops by itself at its deadline

"""Hybrid search on a small real index (real e5 embeddings, real FAISS, real BM25)."""
from __future__ import annotations

import numpy as np
import pytest

from retrieval.filters import Filters
from retrieval.schema import Product
from retrieval.search import ProductIndex
from retrieval.store import Store
from retrieval.vector_index import VectorIndex

PRODUCTS = [
    Product("E1", "Auralis wireless bluetooth earbuds with noise cancellation", "30 hour battery", ["Electronics", "Headphones"], "Auralis", 1299, rating=4.3),
    Product("E2", "Voltix over-ear bluetooth headphones", "Deep bass, foldable", ["Electronics", "Headphones"], "Voltix", 2499, rating=4.0),
    Product("E3", "Auralis budget wired earphones", "In-line mic", ["Electronics", "Headphones"], "Auralis", 399, rating=3.6),
    Product("E4", "Voltix true wireless earbuds sport", "IPX5 sweat resistant", ["Electronics", "Headphones"], "Voltix", 1799, rating=None),
    Product("C1", "USB C to USB C braided charging cable 1m", "60W fast charging", ["Electronics", "Cables"], "Wayona", 299, rating=4.4),
    Product("C2", "HDMI cable 2m 4K", "High speed", ["Electronics", "Cables"], "AmazonBasics", 349, rating=4.5),
    Product("K1", "Stainless steel electric kettle 1.5 litre", "Auto shut-off", ["Home", "Kitchen"], "Pigeon", 899, rating=4.1),
    Product("S1", "Men's waterproof running shoes", "Breathable mesh, rubber sole", ["Fashion", "Running Shoes"], "Stride", 2199, rating=4.2),
    Product("Z1", "耐力 防水跑步鞋 男款", "轻便透气", ["Fashion", "Running Shoes"], "耐力", 1599, rating=4.0, lang="zh"),
    Product("Z2", "静音 电热水壶 1.7升", "304不锈钢", ["Home", "Kitchen"], "美厨", 459, rating=4.6, lang="zh"),
]


@pytest.fixture(scope="module")
def index():
    store = Store(products={p.product_id: Product(**vars(p)) for p in PRODUCTS})
    return ProductIndex.build(store)


def ids(hits):
    return [h.product_id for h in hits]


def test_finds_obvious_match_in_every_mode(index):
    for mode in ("hybrid", "dense", "bm25"):
        assert ids(index.search("hdmi cable", k=3, mode=mode))[0] == "C2", mode


def test_misspelled_query_still_matches(index):
    assert ids(index.search("hdmi cabel", k=3, mode="bm25"))[0] == "C2"
    assert "E1" in ids(index.search("bluetooth earbudz", k=2))


def test_cross_lingual_queries(index):
    assert ids(index.search("防水跑步鞋", k=2))[:2] and set(ids(index.search("防水跑步鞋", k=2))) <= {"S1", "Z1"}
    assert "Z2" in ids(index.search("electric kettle", k=2)) or "K1" in ids(index.search("electric kettle", k=2))
    assert ids(index.search("电热水壶", k=2))[0] in {"K1", "Z2"}


@pytest.mark.parametrize("filters", [
    {"max_price": 1000}, {"min_price": 1000, "max_price": 2000}, {"min_rating": 4.2},
    {"brand": "voltix"}, {"category": "headphones", "max_price": 1500}, {"category": "Kitchen"},
])
def test_filters_are_never_violated_and_k_results_returned_when_they_exist(index, filters):
    f = Filters.from_dict(filters)
    allowed = [p for p in index.store.products.values() if f.matches(p)]
    for mode in ("hybrid", "dense", "bm25"):
        hits = index.search("earbuds", filters, k=5, mode=mode)
        assert all(f.matches(h.product) for h in hits), (mode, filters)
        assert len(hits) == min(5, len(allowed)), (mode, filters)


def test_unknown_rating_fails_a_rating_filter(index):
    assert "E4" not in ids(index.search("wireless earbuds sport", {"min_rating": 1}, k=10))


def test_relevance_flag_separates_match_from_nothing(index):
    assert index.search("wireless earbuds", k=1)[0].relevant
    assert not any(h.relevant for h in index.search("lawn mower petrol engine", k=3))


def test_upsert_update_delete_without_rebuild(index, tmp_path):
    before = index.vectors.shape[0]
    index.upsert([Product("N1", "Robot vacuum cleaner with mop", "", ["Home", "Cleaning"], "Cleanix", 15999, rating=4.2)])
    assert ids(index.search("robot vacuum", k=1)) == ["N1"]
    assert index.vectors.shape[0] == before + 1  # only the new product was embedded
    index.upsert([Product("N1", "Robot vacuum cleaner with mop", "", ["Home", "Cleaning"], "Cleanix", 9999, rating=4.2)])
    assert index.search("robot vacuum", k=1)[0].product.price == 9999
    assert index.delete(["N1"]) == 1
    assert "N1" not in ids(index.search("robot vacuum", k=10))
    index.save(tmp_path / "idx")
    loaded = ProductIndex.load(tmp_path / "idx", embedder=index.embedder)
    assert len(loaded) == len(PRODUCTS)
    assert ids(loaded.search("hdmi cable", k=1)) == ["C2"]


def test_missing_index_files_give_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="shopassist index"):
        ProductIndex.load(tmp_path)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_vector_index_filtered_search_and_removal(kind):
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(500, 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    vi = VectorIndex(16, kind)
    vi.add(np.arange(500), vecs)
    allowed = np.arange(0, 500, 7)
    _, got = vi.search(vecs[3], 10, allowed=allowed)
    assert len(got) == 10 and set(got) <= set(allowed)
    _, top = vi.search(vecs[3], 1)
    assert top[0] == 3
    vi.remove([3])
    _, top = vi.search(vecs[3], 5)
    assert 3 not in top and len(top) == 5


def test_bm25_is_saved_with_the_index_and_loaded_not_rebuilt(index, tmp_path, monkeypatch):
    from retrieval import lexical

    index.save(tmp_path / "idx")
    assert (tmp_path / "idx" / "index" / "bm25").is_dir()

    def no_rebuild(self, texts):
        raise AssertionError("BM25 was rebuilt at load")

    monkeypatch.setattr(lexical.LexicalIndex, "build", no_rebuild)
    loaded = ProductIndex.load(tmp_path / "idx", embedder=index.embedder)
    for query in ("hdmi cable", "bluetooth earbudz", "防水跑步鞋", "kettle 1.5 litre", "nothing like this"):
        assert np.array_equal(loaded.lexical.scores(query), index.lexical.scores(query)), query
        assert ids(loaded.search(query, k=5, mode="bm25")) == ids(index.search(query, k=5, mode="bm25")), query
    assert loaded.lexical.correct("cabel") == index.lexical.correct("cabel") == "cable"


def test_an_index_saved_without_bm25_still_loads_by_rebuilding_it(index, tmp_path):
    import shutil

    index.save(tmp_path / "idx")
    shutil.rmtree(tmp_path / "idx" / "index" / "bm25")
    loaded = ProductIndex.load(tmp_path / "idx", embedder=index.embedder)
    assert np.array_equal(loaded.lexical.scores("hdmi cable"), index.lexical.scores("hdmi cable"))


def test_filtered_search_with_a_large_allowed_set_uses_exactly_those_ids():
    rng = np.random.default_rng(1)
    vecs = rng.normal(size=(6000, 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    allowed = np.flatnonzero(rng.random(6000) < 0.4)  # large enough for the bitmap selector
    for kind in ("flat", "hnsw"):
        vi = VectorIndex(16, kind)
        vi.add(np.arange(6000), vecs)
        _, got = vi.search(vecs[0], 10, allowed=allowed)
        exact = allowed[np.argsort(-(vecs[allowed] @ vecs[0]))[:10]]
        assert set(got) <= set(allowed.tolist()), kind
        assert len(set(got) & set(exact.tolist())) >= (10 if kind == "flat" else 9), kind


def test_ivf_index_recall_save_and_load(tmp_path):
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(40, 32)).astype(np.float32)
    vecs = centres[rng.integers(0, 40, 8000)] + 0.3 * rng.normal(size=(8000, 32)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    vi = VectorIndex(32, "ivf", expected_size=8000)
    assert len(vi) == 0 and len(vi.search(vecs[0], 5)[1]) == 0  # nothing added yet: nothing found
    vi.add(np.arange(8000), vecs)
    hits = 0
    for q in vecs[:50]:
        exact = np.argsort(-(vecs @ q))[:10]
        hits += len(set(vi.search(q, 10)[1].tolist()) & set(exact.tolist()))
    assert hits / 500 >= 0.9
    vi.save(tmp_path / "v")
    loaded = VectorIndex.load(tmp_path / "v")
    assert loaded.kind == "ivf" and len(loaded) == 8000
    assert np.array_equal(loaded.search(vecs[7], 10)[1], vi.search(vecs[7], 10)[1])
    loaded.remove([7])
    assert 7 not in loaded.search(vecs[7], 10)[1] and len(loaded) == 7999


def test_below_the_best_matches_another_kind_is_not_a_match(index):
    """Hits ranked below the first two count only when they are of a kind those are (or one the query names),
    and far down a list only when they carry the query's words: a relevance flag a long sorted list can trust."""
    from retrieval.search import Hit

    p = index.store.products
    qtok = {"wireless", "earbuds"}
    hits = [Hit(p["E1"], 1.0, 0.9, 5.0, True, 1), Hit(p["E4"], 0.9, 0.9, 5.0, True, 2),
            Hit(p["K1"], 0.8, 0.88, 0.0, True, 3),   # a kettle close in meaning: another kind
            Hit(p["E2"], 0.7, 0.87, 1.0, True, 4),   # headphones: the same kind, near the top
            Hit(p["E3"], 0.6, 0.86, 1.0, True, 7)]   # the same kind far down, without "wireless earbuds"
    flags = [h.relevant for h in index._deep_hits(hits, qtok)]
    assert flags == [True, True, False, True, False]
    named = [Hit(p["E1"], 1.0, 0.9, 5.0, True, 1), Hit(p["E4"], 0.9, 0.9, 5.0, True, 2),
             Hit(p["K1"], 0.8, 0.88, 1.0, True, 3)]
    assert index._deep_hits(named, {"earbuds", "kitchen"})[2].relevant  # a kind the query names stays


def test_the_relevance_flag_benchmark_scores_a_flag_that_is_always_true_badly():
    from benchmarks.relevance_flag import score

    cases = [{"query": "earbuds", "relevant": {"E1": 2, "E4": 1}}, {"query": "kettle", "relevant": {"K1": 2}}]
    catalog = ["E1", "E2", "E3", "E4", "K1", "C1"]
    always = score(cases, ["lawn mower"], lambda q, f, k: [(p, True) for p in catalog[:k]])
    exact = score(cases, ["lawn mower"], lambda q, f, k: [(p, p in ({"E1", "E4"} if q == "earbuds" else {"K1"} if
                                                                     q == "kettle" else set())) for p in catalog[:k]])
    assert always["flag_precision"] < 0.5 and always["false_match_rate"] == 1.0
    assert exact["flag_precision"] == 1.0 and exact["need_found"] == 1.0 and exact["false_match_rate"] == 0.0

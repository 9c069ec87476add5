"""pgvector as the vector backend: the same ProductIndex, vectors and filters in Postgres; filtered results
obey every filter and match the FAISS backend's; the choice survives save/load."""
from __future__ import annotations

import numpy as np
import pytest

from retrieval.filters import Filters
from retrieval.schema import Product
from retrieval.search import ProductIndex
from retrieval.store import Store

pytestmark = pytest.mark.slow  # builds e5 indexes in Postgres: about a minute

BRANDS = ["Auralis", "Voltix", "Pigeon", "Wayona"]
KINDS = [("wireless earbuds", ["Electronics", "Headphones"]), ("electric kettle", ["Home", "Kitchen"]),
         ("usb c cable", ["Electronics", "Cables"]), ("running shoes", ["Fashion", "Shoes"])]


def products(n: int = 80) -> list[Product]:
    out = []
    for i in range(n):
        kind, cat = KINDS[i % 4]
        brand = BRANDS[(i // 4) % 4]
        out.append(Product(f"P{i:03d}", f"{brand} {kind} model {i}", f"A {kind} by {brand}", cat, brand,
                           200.0 + 37 * i, "INR", 1.2 * (200 + 37 * i), 3.0 + (i % 5) * 0.4, 10 + i))
    return out


@pytest.fixture()
def pg_index(pg_url, monkeypatch):
    monkeypatch.setenv("SHOPASSIST_VECTORS", "pgvector")
    monkeypatch.setenv("SHOPASSIST_VECTOR_DB", pg_url)
    return ProductIndex.build(Store(products={p.product_id: p for p in products()}))


@pytest.fixture(scope="module")
def faiss_index():
    return ProductIndex.build(Store(products={p.product_id: p for p in products()}))


@pytest.mark.parametrize("filters", [None, {"max_price": 1200}, {"min_rating": 4.2, "brand": "voltix"},
                                     {"category": "kitchen", "max_price": 2500}, {"brand": "Nope"}])
def test_pgvector_search_obeys_filters_and_agrees_with_faiss(pg_index, faiss_index, filters):
    assert pg_index.vindex.kind == "pgvector" and len(pg_index.vindex) == 80
    for query in ("wireless earbuds", "kettle for tea", "charging cable"):
        got = pg_index.search(query, filters, k=5, mode="dense")
        want = faiss_index.search(query, filters, k=5, mode="dense")
        f = Filters.from_dict(filters)
        assert all(f.matches(h.product) for h in got)
        assert [h.product_id for h in got] == [h.product_id for h in want]


def test_selective_filters_still_get_k_results(pg_index):
    vindex = pg_index.vindex
    q = pg_index.embedder.embed_queries(["earbuds"])[0]
    scores, ids = vindex.search(q, 10, filters=Filters(brand="pigeon", min_rating=4.0))
    matching = [i for i, p in enumerate(products()) if p.brand == "Pigeon" and p.rating >= 4.0]
    assert sorted(ids.tolist()) == sorted(matching)[:10] or len(ids) == min(10, len(matching))
    assert set(ids.tolist()) <= set(matching) and np.all(np.diff(scores) <= 1e-6)


def test_pgvector_choice_survives_save_and_load_and_deletes_reach_the_table(pg_index, tmp_path, pg_url,
                                                                            monkeypatch):
    pg_index.save(tmp_path / "idx")
    assert "pgvector" in (tmp_path / "idx" / "index" / "vectors.json").read_text()
    monkeypatch.delenv("SHOPASSIST_VECTORS")
    loaded = ProductIndex.load(tmp_path / "idx")
    assert loaded.vindex.kind == "pgvector"
    first = loaded.search("electric kettle", {"max_price": 5000}, k=3, mode="dense")[0].product_id
    loaded.delete([first])
    assert first not in [h.product_id for h in loaded.search("electric kettle", {"max_price": 5000}, k=3)]
    assert len(loaded.vindex) == 79
    with pytest.raises(KeyError):
        loaded.vindex.reconstruct(loaded.pos_of.get(first, 10_000))


def test_pgvector_needs_a_url(monkeypatch):
    from retrieval.vector_backends import make_vector_index

    monkeypatch.delenv("SHOPASSIST_VECTOR_DB", raising=False)
    with pytest.raises(ValueError, match="vector-db"):
        make_vector_index("auto", 8, 0, lambda pos: None, backend="pgvector")
    with pytest.raises(ValueError, match="unknown vector backend"):
        make_vector_index("auto", 8, 0, lambda pos: None, backend="milvus")

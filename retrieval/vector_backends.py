"""Which vector index a ProductIndex uses, chosen at index time: FAISS in memory (the embedded default) or
pgvector in Postgres (`shopassist index --vectors pgvector --vector-db postgresql://...`).

The choice is saved with the index (`index/vectors.json` names the backend), so serving needs nothing
but, for pgvector, the database URL (`$SHOPASSIST_VECTOR_DB`; the URL saved without its password
otherwise). Knows the two backends' names and files; nothing about search or ranking.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

from retrieval.filters import Filters
from retrieval.schema import Product
from retrieval.vector_index import VectorIndex

BACKENDS = ("faiss", "pgvector")
ENV_BACKEND, ENV_URL = "SHOPASSIST_VECTORS", "SHOPASSIST_VECTOR_DB"


def make_vector_index(kind: str, dim: int, expected_size: int, product_at: Callable[[int], Product | None],
                      backend: str | None = None):
    """A new, empty vector index; `backend` (default `$SHOPASSIST_VECTORS`, else faiss)."""
    backend = backend or os.environ.get(ENV_BACKEND) or "faiss"
    if backend not in BACKENDS:
        raise ValueError(f"unknown vector backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "faiss":
        return VectorIndex(dim, kind, expected_size=expected_size)
    from retrieval.pgvector_index import PgVectorIndex

    url = os.environ.get(ENV_URL)
    if not url:
        raise ValueError(f"the pgvector backend needs a database: --vector-db postgresql://... (or ${ENV_URL})")
    return PgVectorIndex(url, dim, table=os.environ.get("SHOPASSIST_VECTOR_TABLE", "product_vectors"),
                         product_at=product_at)


def load_vector_index(directory: Path):
    meta = json.loads((directory / "vectors.json").read_text()) if (directory / "vectors.json").exists() else {}
    if meta.get("backend") == "pgvector":
        from retrieval.pgvector_index import PgVectorIndex

        return PgVectorIndex.load(directory)
    return VectorIndex.load(directory)


def filter_arguments(vindex, f: Filters) -> dict:
    """Extra arguments of `vindex.search`: an index that filters in SQL gets the filters themselves."""
    return {"filters": f} if getattr(vindex, "kind", "") == "pgvector" and not f.is_empty() else {}

"""Dense vector index inside Postgres (pgvector): the same interface as `retrieval.vector_index.VectorIndex`
(add / remove / search / reconstruct / save / load, int64 position ids), with the filters in the same SQL.

One table per index: `pos` (the position id), `product_id`, `price`, `rating`, `brand` (normalised),
`category` (normalised path, ' | '-joined) and `embedding vector(dim)`, with an HNSW index over inner
product (`vector_ip_ops`; vectors are L2-normalised, so this is cosine). A search is one statement:

    SET LOCAL hnsw.ef_search = ...;
    SELECT pos, -(embedding <#> q) FROM t WHERE price <= ... AND rating >= ... AND brand = ...
    ORDER BY embedding <#> q LIMIT k

`search(q, k, filters=Filters)` puts price / rating / brand / category filters in the WHERE clause;
`allowed=` (position ids, what `ProductIndex` computes for FAISS) becomes `pos = ANY(...)`. pgvector's
HNSW filters *after* the graph walk: a very selective filter can return fewer than k rows; the index
then retries exactly (a sequential scan of the matching rows) so a filtered query still gets k results
whenever k matching rows exist.

The connection URL is not saved with the index (it may hold a password): `load` takes it from
`$SHOPASSIST_VECTOR_DB`, else the URL saved without its password. Knows vectors and SQL; nothing about
text, embedders or ranking.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Callable

import numpy as np

from retrieval.filters import Filters, normalise_label
from retrieval.schema import Product

INSTALL_HINT = "pip install 'shopassist[postgres]'"
ENV_URL = "SHOPASSIST_VECTOR_DB"
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _pg_url(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1] if url.startswith("postgresql+") else url


def _strip_password(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1@", url)


class PgVectorIndex:
    kind = "pgvector"

    def __init__(self, url: str, dim: int, table: str = "product_vectors", hnsw_m: int = 16,
                 ef_construction: int = 128, ef_search: int = 200,
                 product_at: Callable[[int], Product | None] | None = None, create: bool = True,
                 ann_now: bool = True):
        """`product_at(pos)` gives the product stored at a position (for its filter columns) when `add`
        is called without `products`. `ann_now=False` defers the HNSW index to `build_ann()` (bulk loads)."""
        if not _NAME.match(table):
            raise ValueError(f"table name {table!r}: use lowercase letters, digits and _")
        self.url, self.dim, self.table = _pg_url(url), dim, table
        self.hnsw_m, self.ef_construction, self.ef_search = hnsw_m, ef_construction, ef_search
        self.product_at = product_at
        self.deleted: set[int] = set()  # kept for interface parity: rows are really deleted here
        self._conn = None
        if create:
            self._create()
            if ann_now:
                self.build_ann(replace=False)

    # ---- connection ----------------------------------------------------------------------------
    def _db(self):
        if self._conn is None or self._conn.closed:
            try:
                import psycopg
                from pgvector.psycopg import register_vector
            except ImportError as e:
                raise ImportError(f"the pgvector backend needs psycopg and pgvector: {INSTALL_HINT}") from e
            self._conn = psycopg.connect(self.url, autocommit=True)
            self._conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            register_vector(self._conn)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _create(self) -> None:
        t = self.table
        self._db().execute(
            f"CREATE TABLE IF NOT EXISTS {t} (pos BIGINT PRIMARY KEY, product_id TEXT, price DOUBLE PRECISION, "
            f"rating DOUBLE PRECISION, brand TEXT, category TEXT, embedding vector({self.dim}) NOT NULL)")
        self._db().execute(f"CREATE INDEX IF NOT EXISTS {t}_price ON {t} (price)")

    def build_ann(self, replace: bool = True) -> None:
        """(Re)build the HNSW index; cheaper once after a bulk load than row by row."""
        db = self._db()
        db.execute("SET maintenance_work_mem = '512MB'")
        if replace:
            db.execute(f"DROP INDEX IF EXISTS {self.table}_hnsw")
        db.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_hnsw ON {self.table} USING hnsw (embedding vector_ip_ops) "
                   f"WITH (m = {int(self.hnsw_m)}, ef_construction = {int(self.ef_construction)})")

    # ---- writes --------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._db().execute(f"SELECT count(*) FROM {self.table}").fetchone()[0])

    def add(self, ids: np.ndarray, vectors: np.ndarray, products: list[Product | None] | None = None) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"vectors have shape {vectors.shape}, index has dim {self.dim}")
        ids = [int(i) for i in ids]
        if products is None:
            products = [self.product_at(i) if self.product_at else None for i in ids]
        rows = [(i, *_columns(p), v) for i, p, v in zip(ids, products, vectors)]
        with self._db().cursor() as cur, cur.copy(
                f"COPY {self.table} (pos, product_id, price, rating, brand, category, embedding) "
                f"FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "text", "float8", "float8", "text", "text", "vector"])
            for row in rows:
                copy.write_row(row)

    def remove(self, ids) -> None:
        self._db().execute(f"DELETE FROM {self.table} WHERE pos = ANY(%s)", ([int(i) for i in ids],))

    # ---- search --------------------------------------------------------------------------------
    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None,
               filters: Filters | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) for one query vector, within `filters` and/or the `allowed` ids."""
        q = np.ascontiguousarray(query.reshape(-1), dtype=np.float32)
        where, args = _where(filters)
        if allowed is not None and filters is None:  # with filters, the WHERE clause already says it all
            if len(allowed) == 0:
                return np.zeros(0, np.float32), np.zeros(0, np.int64)
            where.append("pos = ANY(%s)")
            args.append([int(i) for i in allowed])
        rows = self._query(q, k, where, args, exact=False)
        if len(rows) < k and where:  # HNSW filtered after its walk: fetch the rest exactly
            rows = self._query(q, k, where, args, exact=True)
        return (np.array([r[1] for r in rows], dtype=np.float32), np.array([r[0] for r in rows], dtype=np.int64))

    def _query(self, q: np.ndarray, k: int, where: list[str], args: list, exact: bool) -> list[tuple]:
        sql = (f"SELECT pos, -(embedding <#> %s) FROM {self.table}"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY embedding <#> %s LIMIT %s")
        db = self._db()
        with db.transaction():
            if exact:
                db.execute("SET LOCAL enable_indexscan = off")
            else:
                db.execute(f"SET LOCAL hnsw.ef_search = {int(max(self.ef_search, k))}")
            return db.execute(sql, (q, *args, q, int(k))).fetchall()

    def reconstruct(self, ident: int) -> np.ndarray:
        row = self._db().execute(f"SELECT embedding FROM {self.table} WHERE pos = %s", (int(ident),)).fetchone()
        if row is None:
            raise KeyError(ident)
        return np.asarray(row[0], dtype=np.float32)

    # ---- persistence -------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "vectors.json").write_text(json.dumps(
            {"backend": "pgvector", "dim": self.dim, "kind": self.kind, "table": self.table,
             "url": _strip_password(self.url), "hnsw_m": self.hnsw_m, "ef_construction": self.ef_construction,
             "ef_search": self.ef_search}))

    @classmethod
    def load(cls, directory: Path, url: str | None = None) -> "PgVectorIndex":
        meta = json.loads((directory / "vectors.json").read_text())
        url = url or os.environ.get(ENV_URL) or meta["url"]
        return cls(url, meta["dim"], meta["table"], meta["hnsw_m"], meta["ef_construction"], meta["ef_search"],
                   create=False)


def _columns(p: Product | None) -> tuple:
    if p is None:
        return None, None, None, None, None
    return (p.product_id, p.price, p.rating, normalise_label(p.brand),
            " | ".join(normalise_label(c) for c in p.category))


def _where(f: Filters | None) -> tuple[list[str], list]:
    """SQL conditions with the same meaning as `Filters.matches` (unknown price or rating never matches)."""
    where, args = [], []
    if f is None:
        return where, args
    for value, cond in ((f.max_price, "price <= %s"), (f.min_price, "price >= %s"), (f.min_rating, "rating >= %s")):
        if value is not None:
            where.append(cond)
            args.append(float(value))
    if f.brand:
        where.append("brand = %s")
        args.append(normalise_label(f.brand))
    if f.category:
        wanted = normalise_label(f.category)
        where.append("strpos(category, %s) > 0" if wanted else "false")
        args.append(wanted)
    return where, args

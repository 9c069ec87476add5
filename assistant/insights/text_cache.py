"""Per-text vectors cached on disk under the home directory, so each text is embedded or scored once.

Knows where caches live (`SHOPASSIST_HOME`) and the chunk-file format; knows nothing about what the vectors
mean (embeddings, lexicon scores) or which model uses them.
"""
from __future__ import annotations

import hashlib
import os
import time
import uuid
from pathlib import Path
from typing import Callable, Sequence

import numpy as np


from retrieval.text import home_dir  # noqa: E402,F401  (the one home-directory variable)


class TextVectorCache:
    """Per-text vectors on disk, keyed by a hash of (name, kind, text), so a text is computed once.

    Entries live in append-only chunk files (`*.npz`: `keys` sha1 digests, `vecs` float16), written
    atomically every `flush_every` new texts, so an interrupted run keeps what it computed and
    parallel processes never clash.
    """

    def __init__(self, name: str, kind: str, compute: Callable[[list[str]], np.ndarray],
                 directory: Path | None = None, max_chars: int = 512, flush_every: int = 1024,
                 progress: bool = False):
        self.name, self.kind, self._compute_fn = name, kind, compute
        self.directory = Path(directory or home_dir() / "emb" / name)
        self.max_chars, self.flush_every, self.progress = max_chars, flush_every, progress
        self._index: dict[bytes, np.ndarray] | None = None

    def _key(self, text: str) -> bytes:
        return hashlib.sha1(f"{self.name}\x00{self.kind}\x00{text}".encode("utf-8")).digest()

    def _load(self) -> dict[bytes, np.ndarray]:
        if self._index is None:
            self._index = {}
            for path in sorted(self.directory.glob("*.npz")):
                if path.name.endswith(".tmp.npz"):
                    continue
                with np.load(path) as z:
                    self._index.update(zip(z["keys"].tolist(), z["vecs"]))
        return self._index

    def _write(self, keys: list[bytes], vecs: np.ndarray) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp = self.directory / f"{name}.tmp.npz"
        np.savez(tmp, keys=np.array(keys, dtype="S20"), vecs=vecs.astype(np.float16))
        tmp.rename(self.directory / f"{name}.npz")

    def has(self, text: str) -> bool:
        return self._key((text or "").strip()[: self.max_chars]) in self._load()

    def get(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32 vectors, computing and storing only the texts not seen before."""
        texts = [(t or "").strip()[: self.max_chars] for t in texts]
        index = self._load()
        keys = [self._key(t) for t in texts]
        missing = list(dict.fromkeys((k, t) for k, t in zip(keys, texts) if k not in index))
        self._fill(missing, index)
        return np.vstack([index[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, 0), np.float32)

    def _fill(self, missing: list[tuple[bytes, str]], index: dict[bytes, np.ndarray]) -> None:
        from tqdm import tqdm

        bar = tqdm(total=len(missing), desc=f"{self.name} ({self.kind})", disable=not (self.progress and missing))
        for start in range(0, len(missing), self.flush_every):
            chunk = missing[start:start + self.flush_every]
            vecs = np.asarray(self._compute_fn([t for _, t in chunk]), dtype=np.float32)
            vecs = vecs.reshape(len(chunk), -1).astype(np.float16)
            self._write([k for k, _ in chunk], vecs)
            index.update(zip((k for k, _ in chunk), vecs))
            bar.update(len(chunk))
        bar.close()


def embedding_cache(embedder=None, progress: bool = False) -> TextVectorCache:
    """e5 passage embeddings (or `embedder`'s), cached under SHOPASSIST_HOME/emb/<embedder name>."""
    holder = {"embedder": embedder}

    def compute(texts: list[str]) -> np.ndarray:
        if holder["embedder"] is None:
            from retrieval.embedders import E5Embedder
            holder["embedder"] = E5Embedder()
        return holder["embedder"].embed_passages([t if t else "-" for t in texts])

    return TextVectorCache(getattr(embedder, "name", "e5"), "passage", compute, progress=progress)

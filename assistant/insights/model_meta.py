"""The `meta.json` beside a saved model (name, format version, training facts) and the digest of a labelled
training set that those facts record.

Knows the file and the version check of the intent and propensity models; knows nothing about the models.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, Sequence

MODEL_VERSION = 1


def write_meta(directory: Path, name: str, **extra: Any) -> None:
    meta = {"name": name, "version": MODEL_VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%S"), **extra}
    (directory / "meta.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False, default=str),
                                         encoding="utf-8")


def read_meta(directory: Path, name: str) -> dict:
    meta = json.loads((Path(directory) / "meta.json").read_text(encoding="utf-8"))
    if meta.get("name") != name or meta.get("version") != MODEL_VERSION:
        raise ValueError(f"{directory}: expected a {name} model version {MODEL_VERSION}, found "
                         f"{meta.get('name')} version {meta.get('version')}; retrain with `shopassist train intent`")
    return meta


def data_hash(texts: Sequence[str], labels: Sequence) -> str:
    """A short digest of (text, label) pairs: tells whether two models learnt from the same data."""
    h = hashlib.sha256()
    for t, y in zip(texts, labels):
        h.update(f"{y}\x00{t}\x01".encode("utf-8"))
    return h.hexdigest()[:16]

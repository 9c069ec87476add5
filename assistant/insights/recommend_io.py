"""Saving and loading a fitted recommender as a versioned folder (no pickles).

Layout: meta.json (name, version, created, data_hash, config, weights, validation report), ids.json (user and
item ids, titles, names, groups), one .npz per sparse matrix of the data, als.npz (factors), itemknn.npz
(item-item similarity) and vectors.npy (product vectors, when given). Cheap components (popularity, trending,
affinity, social) are refitted from the saved data on load; the learned ones are restored as saved.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from assistant.insights.recommend import (
    MODEL_VERSION, Recommender, RecommenderConfig, build_components, fit_components,
)
from assistant.insights.recommend_data import InteractionData

MATRICES = ("weights", "times", "events", "seen", "ties")


def save_recommender(rec: Recommender, out_dir: str | Path) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    d = rec.data
    for name in MATRICES:
        sp.save_npz(out / f"{name}.npz", getattr(d, name).tocsr())
    ids = {"user_ids": d.user_ids, "item_ids": d.item_ids, "item_titles": d.item_titles, "user_names": d.user_names,
           "group_names": d.group_names, "item_group": d.item_group.tolist()}
    (out / "ids.json").write_text(json.dumps(ids, ensure_ascii=False), encoding="utf-8")
    if "als" in rec.components:
        als = rec.components["als"]
        np.savez(out / "als.npz", user_factors=als.user_factors, item_factors=als.item_factors)
    if "itemknn" in rec.components:
        sp.save_npz(out / "itemknn.npz", rec.components["itemknn"].similarity)
    if rec.vectors is not None:
        np.save(out / "vectors.npy", rec.vectors)
    meta = {"name": "recommend", "version": MODEL_VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "data_hash": d.digest(), "n_users": d.n_users, "n_items": d.n_items,
            "components": list(rec.components), "weights": rec.weights, "config": asdict(rec.config),
            "info": rec.info}
    (out / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return out


def load_recommender(directory: str | Path) -> Recommender:
    src = Path(directory)
    if not (src / "meta.json").exists():
        raise FileNotFoundError(f"no recommender in {src}: meta.json is missing (run `shopassist train recommend`)")
    meta = json.loads((src / "meta.json").read_text(encoding="utf-8"))
    if meta.get("version") != MODEL_VERSION:
        raise ValueError(f"recommender in {src} has version {meta.get('version')}, this code reads {MODEL_VERSION}: "
                         "retrain it")
    data = _load_data(src)
    if data.digest() != meta["data_hash"]:
        raise ValueError(f"recommender in {src} is damaged: its data does not match the recorded hash")
    config = RecommenderConfig(**meta["config"])
    vectors = np.load(src / "vectors.npy") if (src / "vectors.npy").exists() else None
    comps = build_components(config, vectors)
    learned = {n: comps.pop(n) for n in ("als", "itemknn") if n in comps}
    comps = fit_components(comps, data)
    _restore_learned(learned, data, src)
    comps.update({n: c for n, c in learned.items() if n in meta["components"]})
    ordered = {n: comps[n] for n in meta["components"] if n in comps}
    return Recommender(data, ordered, meta["weights"], config, meta.get("info", {}))


def _load_data(src: Path) -> InteractionData:
    ids = json.loads((src / "ids.json").read_text(encoding="utf-8"))
    m = {name: sp.load_npz(src / f"{name}.npz").tocsr() for name in MATRICES}
    return InteractionData(ids["user_ids"], ids["item_ids"], m["weights"], m["times"], m["events"], m["seen"],
                           m["ties"], np.array(ids["item_group"], dtype=np.int64), ids["group_names"],
                           ids["item_titles"], ids["user_names"])


def _restore_learned(learned: dict, data: InteractionData, src: Path) -> None:
    from assistant.insights.recommend_components import binary

    if "als" in learned and (src / "als.npz").exists():
        f = np.load(src / "als.npz")
        als = learned["als"]
        als.user_factors, als.item_factors = f["user_factors"], f["item_factors"]
        als.x = data.weights.tocsr().astype(np.float32)
    if "itemknn" in learned and (src / "itemknn.npz").exists():
        knn = learned["itemknn"]
        knn.similarity, knn.x = sp.load_npz(src / "itemknn.npz").tocsr(), binary(data.weights)

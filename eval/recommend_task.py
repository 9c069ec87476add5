"""`shopassist eval recommend --data DIR --format ciao|lastfm|store|demo [--no-social] --out RESULTS.json`

Next-item recommendation, leave one out, ranking every item the user has not touched.
- ciao: positives are ratings >= 4 (first rating of a user-product pair kept); users with >= 5 positives hold out
  their latest positive (timestamp ties broken at random, seed 0). Their ratings below 4 made at or before the
  held-out time are "seen" (never recommended); later ones are dropped. Groups: Ciao's category_id.
- lastfm: every listened artist is a positive (confidence 1 + log10(plays)); no timestamps, so users with >= 5
  artists hold out one artist at random (seed 0). No groups.
- store / demo: a saved store folder, or the built-in demo store (seed 0): each user's latest purchase is held
  out, with their other events on that product and every event of theirs at or after it; users need >= 4
  liked products before it. Groups: leaf categories.
Models in one run: Popularity, ItemKNN, ALS (the components alone), ours without the social component, and
ours with it (not with --no-social). Metrics: Recall@10/20, NDCG@10 (one relevant item, ties at their
midpoint), Recall@20 over users with ties, catalog coverage of the top-20 lists, Gini of item exposure and of
group exposure (popularity bias), mean popularity rank of recommended items. The top-level keys are those of
"ours" (with social unless --no-social).

This module knows file layouts and metrics; the models live in assistant.insights.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from assistant.insights.recommend import Recommender, RecommenderConfig, fit_ablation, fit_recommender
from assistant.insights.recommend_blend import midpoint_rank
from assistant.insights.recommend_components import ALS, ItemKNN, Popularity
from assistant.insights.recommend_data import EVENT_ORDER, EventTable, InteractionData, from_store
from eval.harness import Case, print_table, run_meta, run_task, write_results

SEED = 0
MIN_POSITIVES = 5
K = (10, 20)


@dataclass
class Split:
    train: InteractionData
    users: np.ndarray
    items: np.ndarray
    protocol: str
    labels: dict[str, np.ndarray] = field(default_factory=dict)  # e.g. brands: label index per item, -1 unknown


# ---- loaders ---------------------------------------------------------------------------------------------
def _pick_one(groups: np.ndarray, key: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row index of the max `key` within each group (random among ties); groups must be sorted."""
    jitter = rng.random(len(key))
    order = np.lexsort((jitter, key, groups))
    last = np.r_[groups[order][1:] != groups[order][:-1], True]
    return order[last]


def load_ciao(directory: Path, min_positives: int = MIN_POSITIVES) -> Split:
    import pandas as pd

    r = pd.read_csv(directory / "ciao_ratings.csv")
    trust = pd.read_csv(directory / "ciao_trust.csv")
    r = r.sort_values("timestamp", kind="stable").drop_duplicates(["user_id", "product_id"], keep="first")
    pos = r[r.rating >= 4]
    eligible = pos.groupby("user_id").size().loc[lambda c: c >= min_positives].index
    cand = pos[pos.user_id.isin(eligible)].sort_values("user_id", kind="stable")
    held = cand.iloc[_pick_one(cand.user_id.to_numpy(), cand.timestamp.to_numpy(), np.random.default_rng(SEED))]
    test_time = held.set_index("user_id").timestamp
    later = r.user_id.map(test_time).fillna(np.inf).to_numpy() < r.timestamp.to_numpy()
    keep = r[~(later & (r.rating < 4).to_numpy())].drop(index=held.index)
    users = sorted(set(r.user_id) | set(trust.truster) | set(trust.trustee))
    items = sorted(r.product_id.unique())
    uix, iix = {u: k for k, u in enumerate(users)}, {p: k for k, p in enumerate(items)}
    cat = r.drop_duplicates("product_id").set_index("product_id").category_id
    groups = sorted(cat.unique())
    item_group = cat.reindex(items).map({g: k for k, g in enumerate(groups)}).to_numpy(np.int64)
    table = EventTable(keep.user_id.map(uix).to_numpy(), keep.product_id.map(iix).to_numpy(),
                       np.full(len(keep), EVENT_ORDER.index("rate")), np.full(len(keep), 1.0),
                       keep.timestamp.to_numpy(np.float64), (keep.rating >= 4).to_numpy())
    ties = zip(trust.truster.map(uix), trust.trustee.map(uix), np.ones(len(trust)))
    data = InteractionData.from_events(
        [str(u) for u in users], [str(p) for p in items], table, ties,
        item_group, [f"category {g}" for g in groups],
        [f"product {p}" for p in items])
    return Split(data, held.user_id.map(uix).to_numpy(), held.product_id.map(iix).to_numpy(),
                 "ciao: rating>=4 positives, latest positive per user held out (ties random, seed 0)")


def load_lastfm(directory: Path, min_positives: int = MIN_POSITIVES) -> Split:
    import pandas as pd

    r = pd.read_csv(directory / "ratings.txt", sep="\t", names=["user", "artist", "plays"])
    t = pd.read_csv(directory / "trusts.txt", sep="\t", names=["a", "b"])
    r = r.groupby(["user", "artist"], as_index=False).plays.sum().sort_values("user", kind="stable")
    eligible = r.groupby("user").size().loc[lambda c: c >= min_positives].index
    cand = r[r.user.isin(eligible)]
    rng = np.random.default_rng(SEED)
    held = cand.iloc[_pick_one(cand.user.to_numpy(), rng.random(len(cand)), rng)]
    keep = r.drop(index=held.index)
    users = sorted(set(r.user) | set(t.a) | set(t.b))
    items = sorted(r.artist.unique())
    uix, iix = {u: k for k, u in enumerate(users)}, {p: k for k, p in enumerate(items)}
    table = EventTable(keep.user.map(uix).to_numpy(), keep.artist.map(iix).to_numpy(),
                       np.full(len(keep), EVENT_ORDER.index("play")),
                       1.0 + np.log10(np.maximum(keep.plays.to_numpy(np.float64), 1.0)),
                       np.zeros(len(keep)), np.ones(len(keep), bool))
    ties = zip(t.a.map(uix), t.b.map(uix), np.ones(len(t)))
    data = InteractionData.from_events([str(u) for u in users], [str(p) for p in items], table, ties,
                                       item_titles=[f"artist {p}" for p in items])
    return Split(data, held.user.map(uix).to_numpy(), held.artist.map(iix).to_numpy(),
                 "lastfm: every artist a positive, one random artist per user held out (seed 0)")


def split_store(store, min_positives: int = MIN_POSITIVES) -> Split:
    """Hold out each user's latest purchase when >= min_positives - 1 other liked products come before it;
    drop the user's other events on it and all of the user's events at or after it."""
    from assistant.insights.recommend_data import parse_time

    data, _ = from_store(store)
    purchases: dict[str, tuple[float, str]] = {}
    for it in store.interactions:
        if it.event == "purchase" and it.product_id in data.item_index:
            t = parse_time(it.ts)
            if it.user_id not in purchases or t > purchases[it.user_id][0]:
                purchases[it.user_id] = (t, it.product_id)
    kept = [it for it in store.interactions if not _after_or_target(it, purchases, parse_time)]
    train, _ = from_store(_with_interactions(store, kept))
    counts = np.diff(train.weights.tocsr().indptr)
    held = {u: p for u, (_, p) in purchases.items() if counts[train.user_index[u]] >= min_positives - 1}
    kept = [it for it in store.interactions if not _after_or_target(it, {u: purchases[u] for u in held}, parse_time)]
    train, _ = from_store(_with_interactions(store, kept))
    users = np.array([train.user_index[u] for u in held], dtype=np.int64)
    items = np.array([train.item_index[p] for p in held.values()], dtype=np.int64)
    brands = [store.products[p].brand for p in train.item_ids]
    names = sorted({b for b in brands if b})
    label = np.array([names.index(b) if b else -1 for b in brands], dtype=np.int64)
    return Split(train, users, items, "store: latest purchase per user held out with the user's later events "
                                      f"(users with >= {min_positives - 1} liked products before it)",
                 {"brands": label} if names else {})


def _after_or_target(it, held: dict[str, tuple[float, str]], parse_time) -> bool:
    if it.user_id not in held:
        return False
    t, pid = held[it.user_id]
    return it.product_id == pid or parse_time(it.ts) >= t


def _with_interactions(store, interactions):
    from dataclasses import replace

    return replace(store, interactions=interactions)


def load_split(fmt: str, data: str | None, demo_seed: int = SEED) -> Split:
    if fmt == "demo":
        from retrieval.demo_store import build_demo_store

        return split_store(build_demo_store(seed=demo_seed))
    if not data:
        raise ValueError(f"--data is required for --format {fmt}")
    path = Path(data)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if fmt == "ciao":
        return load_ciao(path)
    if fmt == "lastfm":
        return load_lastfm(path)
    from retrieval.store import Store

    return split_store(Store.load(path))


# ---- models ----------------------------------------------------------------------------------------------
Scorer = Callable[[np.ndarray], np.ndarray]  # users -> (len(users), n_items), seen items -inf


def component_scorer(component, train: InteractionData) -> Scorer:
    component.fit(train)
    ref = train.reference_times(np.arange(train.n_users))

    def score(users: np.ndarray) -> np.ndarray:
        s = component.score(users, ref[users]).astype(np.float32)
        s += np.float32(1e-4) * popularity[None, :]  # same tie-break as the hybrid
        seen = train.seen[users].tocoo()
        s[seen.row, seen.col] = -np.inf
        return s

    counts = np.diff(train.weights.tocsc().indptr).astype(np.float32)
    popularity = np.log1p(counts) / max(float(np.log1p(counts).max()), 1e-12)
    return score


def build_models(split: Split, social: bool, config: RecommenderConfig,
                 log: Callable[[str], None]) -> tuple[dict[str, Scorer], dict[str, Recommender]]:
    models: dict[str, Scorer] = {}
    for name, comp in (("Popularity", Popularity()), ("ItemKNN", ItemKNN(config.knn_k)),
                       (f"ALS({config.factors})", ALS(config.factors, config.als_regularization, config.als_alpha,
                                                      config.als_iterations, config.seed))):
        t0 = time.perf_counter()
        models[name] = component_scorer(comp, split.train)
        log(f"fitted {name} in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    if social:
        full, ablated = fit_ablation(split.train, config, drop=("social",))
        hybrids = {"ours (no social)": ablated, "ours (social)": full}
    else:
        hybrids = {"ours (no social)": fit_recommender(split.train, _replace(config, use_social=False))}
    log(f"fitted ours in {time.perf_counter() - t0:.1f} s: "
        + "; ".join(f"{n}: {_fmt(r.weights)}" for n, r in hybrids.items()))
    models.update({n: r.score_users for n, r in hybrids.items()})
    return models, hybrids


def _replace(config: RecommenderConfig, **changes) -> RecommenderConfig:
    from dataclasses import replace

    return replace(config, **changes)


def _fmt(weights: dict[str, float]) -> str:
    return ", ".join(f"{n}={w:g}" for n, w in weights.items())


# ---- the task --------------------------------------------------------------------------------------------
class RecommendTask:
    """Cases are test users; the output for a user is (rank of the held-out item, top-20 item indices)."""

    def __init__(self, name: str, split: Split, scorer: Scorer):
        self.name, self.split, self.scorer = name, split, scorer
        self.social = np.diff(split.train.ties.tocsr().indptr) > 0

    def cases(self) -> Sequence[Case]:
        return [Case(id=self.split.train.user_ids[u], input=int(u), expected=int(i),
                     meta={"social": bool(self.social[u])}) for u, i in zip(self.split.users, self.split.items)]

    def run_batch(self, cases: Sequence[Case]) -> list[tuple[int, np.ndarray]]:
        users = np.array([c.input for c in cases], dtype=np.int64)
        scores = self.scorer(users)
        out = []
        for row, c in zip(scores, cases):
            top = np.argpartition(-row, max(K))[:max(K)]
            out.append((midpoint_rank(row, c.expected), top[np.argsort(-row[top], kind="stable")]))
        return out

    def evaluate(self, case: Case, output: tuple[int, np.ndarray]) -> dict[str, Any]:
        rank = output[0]
        row: dict[str, Any] = {f"recall@{k}": float(rank < k) for k in K}
        row["ndcg@10"] = 1.0 / np.log2(rank + 2.0) if rank < 10 else 0.0
        row["recall@20_social_users"] = float(rank < 20) if case.meta["social"] else None
        row["rank"] = rank
        return row


def exposure_metrics(outputs: list[tuple[int, np.ndarray]], train: InteractionData,
                     labels: dict[str, np.ndarray] | None = None) -> dict[str, float]:
    """Coverage and Gini of the top-20 lists: how concentrated the recommendations are (popularity bias)."""
    items = np.concatenate([top for _, top in outputs]) if outputs else np.zeros(0, np.int64)
    exposure = np.bincount(items, minlength=train.n_items).astype(float)
    counts = np.diff(train.weights.tocsc().indptr)
    pop_rank = np.empty(train.n_items)
    pop_rank[np.argsort(-counts, kind="stable")] = np.arange(train.n_items)
    out = {"coverage@20": float(np.count_nonzero(exposure) / max(train.n_items, 1)),
           "gini_items@20": gini(exposure),
           "median_popularity_rank@20": float(np.median(pop_rank[items])) if len(items) else float("nan")}
    if len(train.group_names):
        out["gini_groups@20"] = _label_gini(train.item_group, items, len(train.group_names))
    for name, label in (labels or {}).items():
        out[f"gini_{name}@20"] = _label_gini(label, items, int(label.max()) + 1)
    return out


def _label_gini(label: np.ndarray, items: np.ndarray, n_labels: int) -> float:
    """Gini of exposure over labels (groups, brands); every label of the catalog counts, shown or not."""
    known = label[items] if len(items) else np.zeros(0, np.int64)
    return gini(np.bincount(known[known >= 0], minlength=n_labels).astype(float))


def gini(x: np.ndarray) -> float:
    """Gini coefficient of a non-negative vector (0: all equal, ~1: everything on one entry)."""
    x = np.sort(np.asarray(x, float))
    n, total = len(x), x.sum()
    if n == 0 or total == 0:
        return 0.0
    return float((2.0 * np.sum(np.arange(1, n + 1) * x) / (n * total)) - (n + 1.0) / n)


def evaluate_split(split: Split, social: bool = True, config: RecommenderConfig | None = None,
                   progress: bool = False, batch_size: int = 128) -> dict[str, Any]:
    """Every model on one split: {"models": {name: metrics}, "weights": {...}, "main": name}."""
    config = config or RecommenderConfig()
    log = (lambda m: print(m, file=sys.stderr, flush=True)) if progress else (lambda m: None)
    models, hybrids = build_models(split, social, config, log)
    results: dict[str, dict[str, Any]] = {}
    per_case: dict[str, list] = {}
    for name, scorer in models.items():
        t0 = time.perf_counter()
        res = run_task(RecommendTask(name, split, scorer),
                       lambda pc, outs: exposure_metrics(outs, split.train, split.labels),
                       batch_size=batch_size, progress=progress)
        res.metrics.pop("rank", None)
        res.metrics["n_users"] = len(split.users)
        res.metrics["n_social_users"] = int(sum(r["recall@20_social_users"] is not None for r in res.per_case))
        results[name], per_case[name] = res.metrics, res.per_case
        log(f"scored {name} in {time.perf_counter() - t0:.1f} s")
    main = "ours (social)" if social else "ours (no social)"
    return {"models": results, "main": main, "per_case": per_case[main],
            "weights": {n: r.weights for n, r in hybrids.items()},
            "validation": {n: r.info.get("validation", {}) for n, r in hybrids.items()}}


COLUMNS = ["model", "recall@10", "recall@20", "ndcg@10", "recall@20_social_users", "coverage@20",
           "gini_items@20", "gini_groups@20", "gini_brands@20", "median_popularity_rank@20"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="ciao: folder with ciao_ratings.csv and ciao_trust.csv; lastfm: folder with "
                                  "ratings.txt and trusts.txt; store: a saved store folder; demo: not needed")
    p.add_argument("--format", required=True, choices=["ciao", "lastfm", "store", "demo"])
    p.add_argument("--no-social", action="store_true", help="ours without the social component (top-level keys)")
    p.add_argument("--out", required=True, help="results JSON")
    p.add_argument("--validation-users", type=int, default=RecommenderConfig.validation_users,
                   help="users sampled (seed 0) for learning the blend weights")
    p.add_argument("--demo-seed", type=int, default=SEED, help="seed of the generated demo store (--format demo)")
    p.add_argument("--quiet", action="store_true")


def main(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    try:
        split = load_split(args.format, args.data, args.demo_seed)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    config = RecommenderConfig(validation_users=args.validation_users)
    out = evaluate_split(split, social=not args.no_social, config=config, progress=not args.quiet)
    rows = [{"model": n, **m} for n, m in out["models"].items()]
    title = (f"recommend: {args.format}, {len(split.users)} test users ({rows[0]['n_social_users']} with ties); "
             f"{split.protocol}")
    print_table(rows, [c for c in COLUMNS if c in rows[0] or c == "model"], title=title)
    payload = {**out["models"][out["main"]], "models": out["models"], "main_model": out["main"],
               "weights": out["weights"], "validation": out["validation"], "protocol": split.protocol,
               "per_case": out["per_case"],
               "meta": run_meta(format=args.format, data=args.data, seed=SEED, demo_seed=args.demo_seed,
                                social=not args.no_social,
                                config=config.__dict__, seconds=round(time.perf_counter() - t0, 1))}
    write_results(args.out, payload)
    return 0

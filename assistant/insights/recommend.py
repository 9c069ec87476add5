"""Personalised, social-network-aware recommendations for the `recommend` tool.

A hybrid of collaborative filtering (ALS, item-kNN), time-aware popularity, category affinity, friends' likes
weighted by tie strength and recency, and content similarity from product vectors given by the caller, blended
with weights learned on a validation holdout (each user's latest interaction). `recommend(user_id, ...)` ranks
every unseen product; a context vector (the embedded request) restricts candidates to the products closest to
it and re-weights them. Each `Recommendation` carries reasons written from looked-up evidence (see
recommend_explain.py) and the structured evidence itself.

The user id must come from the authenticated session; this module never reads it from text. It does not embed
anything: product and request vectors come from the caller. Users without history get popularity (and their
friends' likes, when they have friends); unknown users get popularity only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection

import numpy as np

from assistant.insights.recommend_blend import TIE_WEIGHT, Pools, blend, build_pools, learn_weights, normalise
from assistant.insights.recommend_components import (
    ALS, Component, Content, GroupAffinity, ItemKNN, Popularity, Social, Trending,
)
from assistant.insights.recommend_data import InteractionData, from_store, hold_out_latest
from assistant.insights.recommend_explain import explain

MODEL_VERSION = 1
SOCIAL = "social"
COLD_START = ("popularity", "trending")


@dataclass
class RecommenderConfig:
    factors: int = 64
    als_regularization: float = 0.05
    als_alpha: float = 2.0
    als_iterations: int = 15
    knn_k: int = 100
    trend_half_life_days: float = 180.0
    social_half_life_days: float = 180.0
    social_floor: float = 0.5
    social_taste: float = 2.0
    social_two_hop: float = 0.25
    use_social: bool = True
    use_content: bool = True
    validation_users: int = 2000
    validation_event: str = "purchase"  # hold out the latest purchase when the data has purchases
    min_positives: int = 3
    pool_size: int = 100
    target_k: int = 20
    context_pool: int = 50
    context_weight: float = 2.0  # the request outweighs history; history orders near-equal matches
    seed: int = 0


@dataclass
class Recommendation:
    product_id: str
    score: float
    reasons: list[str]
    evidence: dict[str, Any] = field(default_factory=dict)
    components: dict[str, float] = field(default_factory=dict)
    title: str = ""


def build_components(config: RecommenderConfig, vectors: np.ndarray | None = None) -> dict[str, Component]:
    comps: dict[str, Component] = {
        "popularity": Popularity(), "trending": Trending(config.trend_half_life_days),
        "itemknn": ItemKNN(config.knn_k),
        "als": ALS(config.factors, config.als_regularization, config.als_alpha, config.als_iterations, config.seed),
        "affinity": GroupAffinity(),
    }
    if config.use_social:
        comps[SOCIAL] = Social(config.social_half_life_days, config.social_floor, config.social_taste,
                               config.social_two_hop)
    if config.use_content and vectors is not None:
        comps["content"] = Content(vectors)
    return comps


def fit_components(comps: dict[str, Component], data: InteractionData) -> dict[str, Component]:
    """Fit each component; drop those the data cannot support (no times, no ties, no groups, no vectors)."""
    for c in comps.values():
        c.fit(data)
    return {n: c for n, c in comps.items() if getattr(c, "available", True)}


class Recommender:
    def __init__(self, data: InteractionData, components: dict[str, Component], weights: dict[str, float],
                 config: RecommenderConfig, info: dict[str, Any] | None = None):
        self.data, self.components, self.weights, self.config = data, components, weights, config
        self.info = info or {}
        content = components.get("content")
        self.vectors = content.vectors if isinstance(content, Content) else None

    # ---- batch scoring (evaluation) -----------------------------------------------------------
    def component_scores(self, users: np.ndarray, ref_times: np.ndarray | None = None) -> dict[str, np.ndarray]:
        ref = self.data.reference_times(users) if ref_times is None else ref_times
        return {n: c.score(users, ref) for n, c in self.components.items()}

    def score_users(self, users: np.ndarray, ref_times: np.ndarray | None = None) -> np.ndarray:
        """Blended scores (len(users), n_items); items the user already touched are -inf."""
        norm = {n: normalise(s) for n, s in self.component_scores(users, ref_times).items()}
        scores = blend(norm, self.weights)
        cold = scores.max(axis=1) <= 2 * TIE_WEIGHT  # nothing but the tie-break: no weighted component knows them
        if cold.any():
            fallback = {n: 1.0 for n in COLD_START if n in norm}
            scores[cold] = blend({n: s[cold] for n, s in norm.items()}, fallback)
        seen = self.data.seen[users].tocoo()
        scores[seen.row, seen.col] = -np.inf
        return scores

    # ---- one user (the tool) ------------------------------------------------------------------
    def recommend(self, user_id: str | None, k: int = 5, context_vector: np.ndarray | None = None,
                  candidate_filter: Callable[[str], bool] | Collection[str] | None = None,
                  allow_seen: bool = False, now: float | None = None) -> list[Recommendation]:
        """Top-k products for the session's user (None or unknown: popularity only), with reasons.

        `now` (unix seconds) is the moment trending and friends' recency are measured at; by default the
        user's latest event (for a user without one, the latest event of anyone).
        """
        user = self.data.user_index.get(user_id) if user_id is not None else None
        norm, ref = self._normalised_for(user, now)
        weights = self.weights_for(norm)
        scores = blend(norm, weights).ravel().astype(np.float64)
        allowed = self._allowed(user, candidate_filter, allow_seen)
        if context_vector is not None:
            allowed, scores, norm = self._steer(context_vector, allowed, scores, norm)
        cand = np.nonzero(allowed)[0]
        top = cand[np.argsort(-scores[cand], kind="stable")[:k]]
        return [self._explained(user, int(i), scores[i], norm, ref, weights) for i in top]

    def weights_for(self, norm: dict[str, np.ndarray]) -> dict[str, float]:
        """The learned weights, or popularity + trending when none of the weighted components knows the user."""
        if any(w > 0 and float(norm[n].max()) > 0 for n, w in self.weights.items() if n in norm):
            return self.weights
        return {n: 1.0 for n in COLD_START if n in norm}

    def _normalised_for(self, user: int | None, now: float | None) -> tuple[dict[str, np.ndarray], float]:
        if user is None:  # popularity and trending read no user rows; "now" is the latest event of anyone
            ref = now if now is not None else float(self.data.times.data.max()) if self.data.times.nnz else 0.0
            comps = {n: self.components[n].score(np.zeros(1, np.int64), np.array([ref]))
                     for n in ("popularity", "trending") if n in self.components}
        else:
            ref = now if now is not None else float(self.data.reference_times(np.array([user]))[0])
            comps = self.component_scores(np.array([user]), np.array([ref]))
        return {n: normalise(s)[0] for n, s in comps.items()}, ref

    def _allowed(self, user: int | None, candidate_filter, allow_seen: bool) -> np.ndarray:
        allowed = np.ones(self.data.n_items, bool)
        if user is not None and not allow_seen:
            allowed[self.data.seen[user].indices] = False
        if candidate_filter is not None:
            keep = candidate_filter if callable(candidate_filter) else set(candidate_filter).__contains__
            allowed &= np.fromiter((bool(keep(p)) for p in self.data.item_ids), bool, self.data.n_items)
        return allowed

    def _steer(self, context_vector: np.ndarray, allowed: np.ndarray, scores: np.ndarray,
               norm: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Keep the `context_pool` allowed items closest to the request and add context_weight x closeness,
        closeness being the similarity min-max scaled over the pool (1 for the nearest, 0 for the pool's edge)."""
        if self.vectors is None:
            raise ValueError("context steering needs product vectors: train with embeddings=...")
        c = np.asarray(context_vector, np.float32).ravel()
        sim = np.maximum(self.vectors @ (c / max(float(np.linalg.norm(c)), 1e-12)), 0.0)
        sim[~allowed] = -1.0
        n = min(self.config.context_pool, int(allowed.sum()))
        pool = np.argsort(-sim, kind="stable")[:n]
        steered = np.zeros_like(allowed)
        steered[pool] = True
        steered &= sim > 0
        base = scores / max(float(scores[steered].max()) if steered.any() else 1.0, 1e-12)
        lo = float(sim[steered].min()) if steered.any() else 0.0
        span = max(float(sim[steered].max()) - lo, 1e-6) if steered.any() else 1.0
        context = np.where(steered, (sim - lo) / span, 0.0)
        steered_norm = {**norm, "context": context, "context_similarity": np.maximum(sim, 0.0),
                        "context_pool": np.array(float(steered.sum()))}
        return steered, base + self.config.context_weight * context, steered_norm

    def _explained(self, user: int | None, item: int, score: float, norm: dict[str, np.ndarray],
                   ref: float, weights: dict[str, float]) -> Recommendation:
        contrib = {n: float(weights.get(n, 0.0) * s[item]) for n, s in norm.items()
                   if not n.startswith("context")}
        if "context" in norm:
            contrib["context"] = float(self.config.context_weight * norm["context"][item])
        reasons, evidence = explain(self.data, self.components, user, item, contrib, ref)
        if contrib.get("context", 0) > 0:
            n = int(norm["context_pool"])
            reasons.insert(0, f"close to your request (among the {n} products nearest to it)")
            evidence["context"] = {"similarity": round(float(norm["context_similarity"][item]), 4), "pool": n}
        if not reasons:
            reasons = ["little data on this product yet: shown to complete the list"]
        return Recommendation(self.data.item_ids[item], float(score), reasons, evidence,
                              {n: round(v, 6) for n, v in contrib.items() if v > 0}, self.data.title(item))


def fit_recommender(data: InteractionData, config: RecommenderConfig | None = None,
                    vectors: np.ndarray | None = None) -> Recommender:
    """Learn blend weights on a holdout of each (sampled) user's latest like, then refit on all the data."""
    return fit_ablation(data, config, vectors, drop=())[0]


def fit_ablation(data: InteractionData, config: RecommenderConfig | None = None, vectors: np.ndarray | None = None,
                 drop: tuple[str, ...] = (SOCIAL,)) -> tuple[Recommender, Recommender]:
    """The recommender and the same one without the `drop` components, weights learned for each on one shared
    validation holdout, sharing fitted components (for ablations in evaluation)."""
    config = config or RecommenderConfig()
    pools = _validation_pools(data, config, vectors)
    comps = fit_components(build_components(config, vectors), data)
    kept = [n for n in comps if n not in drop]
    ablated = _weighted(data, comps, kept, pools, config, ())
    if not drop:
        return ablated, ablated
    full = _weighted(data, comps, list(comps), pools, config, (ablated.weights,))
    return full, ablated


def _weighted(data: InteractionData, comps: dict[str, Component], allowed: list[str], pools: Pools | None,
              config: RecommenderConfig, starts: tuple[dict[str, float], ...]) -> Recommender:
    weights, report = learn_weights(pools, allowed, k=config.target_k, starts=starts) if pools else ({}, {})
    report["weights_source"] = "validation" if pools else "default (fewer than 10 validation users)"
    if not any(weights.values()):
        weights = {n: 1.0 for n in allowed}
        report["weights_source"] = "default (no validation signal)"
    return Recommender(data, {n: comps[n] for n in allowed}, {n: weights.get(n, 0.0) for n in allowed}, config,
                       {"validation": report, "data_hash": data.digest()})


def _validation_pools(data: InteractionData, config: RecommenderConfig, vectors: np.ndarray | None) -> Pools | None:
    """Component scores around each sampled user's held-out latest like, with components fitted without it."""
    users, items = hold_out_latest(data, config.min_positives, config.seed, event=config.validation_event)
    if len(users) > config.validation_users:
        pick = np.sort(np.random.default_rng(config.seed).choice(len(users), config.validation_users, replace=False))
        users, items = users[pick], items[pick]
    if len(users) < 10:
        return None
    train = data.without(users, items)
    comps = fit_components(build_components(config, vectors), train)
    ref = train.reference_times(np.arange(train.n_users))
    return build_pools(lambda ub: {n: c.score(ub, ref[ub]) for n, c in comps.items()}, users, items,
                       lambda ub: [train.seen[u].indices for u in ub], config.pool_size)


def align_vectors(embeddings: Any, item_ids: list[str]) -> np.ndarray | None:
    """Product vectors as a matrix in `item_ids` order (zero rows for products without one).

    `embeddings`: None, a dict product_id -> vector, or a (matrix, ids) pair.
    """
    if embeddings is None:
        return None
    pairs = embeddings.items() if isinstance(embeddings, dict) else zip(embeddings[1], embeddings[0])
    by_id = {pid: np.asarray(v, np.float32).ravel() for pid, v in pairs}
    if not by_id:
        return None
    dim = len(next(iter(by_id.values())))
    return np.stack([by_id.get(p, np.zeros(dim, np.float32)) for p in item_ids])


def train_recommender(store, out_dir: str | Path, embeddings: Any = None,
                      config: RecommenderConfig | None = None) -> Path:
    """Fit on a store's interactions and friendships, save the versioned artefact to `out_dir`, return it."""
    from assistant.insights.recommend_io import save_recommender

    data, skipped = from_store(store)
    rec = fit_recommender(data, config, align_vectors(embeddings, data.item_ids))
    rec.info["skipped_interactions"] = skipped
    return save_recommender(rec, out_dir)


def load_recommender(directory: str | Path) -> Recommender:
    from assistant.insights.recommend_io import load_recommender as load

    return load(directory)

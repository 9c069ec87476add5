"""Blending component scores, and learning the blend weights on a validation holdout.

Each component's scores are normalised per user (clipped at 0, divided by the user's maximum) and summed with
non-negative weights. Weights are learned by coordinate ascent over a small grid, maximising
(Recall@K + NDCG@K) / 2 of each validation user's held-out item; a step must gain more than one user's worth.
Two starts: the best single component, and equal weights (the better end wins). To keep that search cheap,
each validation user keeps a candidate pool: the union of every component's top `pool_size` unseen items; a
held-out item outside the pool counts as a miss (a slight underestimate, the same for every weight setting).

Knows arrays of scores and targets; knows nothing about users, products or explanations.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

GRID = (0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)
TIE_BREAK = "popularity"  # a tiny share of this component orders otherwise tied items
TIE_WEIGHT = 1e-4  # large enough to survive float32 next to scores of order 1


def midpoint_rank(scores: np.ndarray, target: int) -> int:
    """0-based rank of `target`, tied items splitting the places they share (expected rank under random order)."""
    s = scores[target]
    return int(np.count_nonzero(scores > s) + (np.count_nonzero(scores == s) - 1) // 2)


def normalise(scores: np.ndarray) -> np.ndarray:
    """Per row: clipped at 0 and divided by the row's maximum (components give finite scores)."""
    s = np.maximum(np.asarray(scores, np.float32), 0.0)
    s /= np.maximum(s.max(axis=-1, keepdims=True), 1e-12)
    return s


def blend(normalised: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Weighted sum of normalised component scores, plus TIE_WEIGHT x popularity to break ties."""
    first = next(iter(normalised.values()))
    out = np.zeros_like(first, dtype=np.float32)
    for name, s in normalised.items():
        w = weights.get(name, 0.0) + (TIE_WEIGHT if name == TIE_BREAK else 0.0)
        if w:
            out += np.float32(w) * s
    return out


@dataclass
class Pools:
    names: list[str]
    features: list[np.ndarray]  # per user: (n_candidates, n_components), normalised scores
    target: np.ndarray  # per user: row of the held-out item in its pool, -1 when outside

    def ranks(self, weights: np.ndarray) -> np.ndarray:
        """Rank of each held-out item under `weights` (len(features) + large when outside the pool)."""
        w = np.asarray(weights, np.float32) + np.float32(TIE_WEIGHT) * self._tie_vector()
        out = np.full(len(self.features), 10**9, dtype=np.int64)
        for j, (f, t) in enumerate(zip(self.features, self.target)):
            if t >= 0:
                out[j] = midpoint_rank(f @ w, t)
        return out

    def _tie_vector(self) -> np.ndarray:
        v = np.zeros(len(self.names), np.float32)
        if TIE_BREAK in self.names:
            v[self.names.index(TIE_BREAK)] = 1.0
        return v


def build_pools(score_batch: Callable[[np.ndarray], dict[str, np.ndarray]], users: np.ndarray,
                targets: np.ndarray, seen_rows: Callable[[np.ndarray], list[np.ndarray]],
                pool_size: int = 100, batch: int = 64) -> Pools:
    """Candidate pools of validation users; `score_batch(users)` returns raw component scores by name."""
    names: list[str] = []
    features, target = [], []
    for lo in range(0, len(users), batch):
        ub = users[lo:lo + batch]
        comps = score_batch(ub)
        names = list(comps)
        stack = np.stack([normalise(comps[n]) for n in names], axis=2)  # B x items x C
        if not np.isfinite(stack).all():
            raise FloatingPointError(f"component scores are not finite ({', '.join(names)}): a component bug")
        for j, seen in enumerate(seen_rows(ub)):
            f = stack[j]
            f[seen] = -1.0
            cand = _top_union(f, pool_size)
            features.append(np.maximum(f[cand], 0.0))
            hit = np.nonzero(cand == targets[lo + j])[0]
            target.append(int(hit[0]) if len(hit) else -1)
    return Pools(names, features, np.array(target, dtype=np.int64))


def _top_union(f: np.ndarray, k: int) -> np.ndarray:
    """Union over components of the top-k items with a positive score."""
    parts = []
    for c in range(f.shape[1]):
        top = np.argpartition(-f[:, c], k)[:k] if f.shape[0] > k else np.arange(f.shape[0])
        parts.append(top[f[top, c] > 0])
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


def per_user_objective(ranks: np.ndarray, k: int = 20) -> np.ndarray:
    """(hit@k + NDCG@k) / 2 for each user (one relevant item)."""
    hit = ranks < k
    return (hit + np.where(hit, 1.0 / np.log2(np.minimum(ranks, k) + 2.0), 0.0)) / 2.0


def _ascend(w: np.ndarray, idx: list[int], value: Callable[[np.ndarray], np.ndarray], grid: Sequence[float],
            rounds: int) -> tuple[np.ndarray, np.ndarray]:
    """Coordinate ascent over the grid from `w`; a step must gain more than one validation user's worth (a
    hit at rank 1), so a component that only moves a user or two gets no weight. Returns (weights, per-user
    objective)."""
    current = value(w)
    min_gain = 1.0 / len(current)
    for _ in range(rounds):
        improved = False
        for c in idx:
            for g in grid:
                trial = w.copy()
                trial[c] = g
                if not trial.any() or g == w[c]:
                    continue
                per_user = value(trial)
                if per_user.mean() > current.mean() + min_gain:
                    current, w, improved = per_user, trial, True
        if not improved:
            break
    return w, current


def learn_weights(pools: Pools, allowed: Sequence[str], k: int = 20, rounds: int = 3, grid: Sequence[float] = GRID,
                  starts: Sequence[dict[str, float]] = ()) -> tuple[dict[str, float], dict[str, float]]:
    """Coordinate ascent from the best single component, from equal weights and from `starts` (e.g. the weights
    learned without one component, so that adding a component can never end below leaving it out); the
    better end wins.

    Returns (weights scaled so the largest is 1, a report with the validation objective of each stage).
    """
    idx = [pools.names.index(n) for n in allowed if n in pools.names]
    if not idx or not len(pools.features):
        return {}, {"validation_users": float(len(pools.features))}

    def value(w: np.ndarray) -> np.ndarray:
        return per_user_objective(pools.ranks(w), k)

    singles = {}
    for c in idx:
        w = np.zeros(len(pools.names))
        w[c] = 1.0
        singles[c] = float(value(w).mean())
    best_single = np.zeros(len(pools.names))
    best_single[max(singles, key=singles.get)] = 1.0
    equal = np.zeros(len(pools.names))
    equal[idx] = 1.0
    given = [np.array([s.get(n, 0.0) if n in allowed else 0.0 for n in pools.names]) for s in starts]
    ends = [_ascend(start, idx, value, grid, rounds) for start in [best_single, equal, *given] if start.any()]
    w, current = max(ends, key=lambda r: float(r[1].mean()))
    best = float(current.mean())
    w = w / max(w.max(), 1e-12)
    report = {f"single_{pools.names[c]}": v for c, v in singles.items()}
    report.update(objective=best, validation_users=float(len(pools.features)))
    return {pools.names[c]: float(w[c]) for c in idx}, report

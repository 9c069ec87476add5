"""Recommendation components: each scores every item for a batch of users from one kind of evidence.

- `Popularity`: how many users liked the item (cold start);
- `Trending`: popularity decayed back from each user's reference time, counting only earlier events;
- `ItemKNN`: cosine item-item neighbours of the user's items; `ALS`: implicit matrix factorisation;
- `GroupAffinity`: the user's share of liked items in the item's group (category);
- `Social`: tied users' liked items, weighted by tie strength x shared taste x recency, plus friends of friends;
- `Content`: cosine between item vectors and the user's profile vector (vectors come from the caller).

A component's `score(users, ref_times)` returns a (len(users), n_items) float32 array >= 0 (unnormalised,
already-seen items not removed) and `evidence(user, item, ref_time)` the facts behind one score (friend
indices, the source item), from which explanations are written. Components know nothing about blending
weights, sessions or text.
"""
from __future__ import annotations

import os
import warnings
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from assistant.insights.recommend_data import InteractionData

DAY = 86400.0


def threads(work: int) -> int:
    """Threads for `implicit`: one for small jobs (its thread start-up costs more than it saves), else all."""
    if work < 50_000:
        return 1
    return int(os.environ.get("SHOPASSIST_THREADS", "0")) or (os.cpu_count() or 1)


class Component(Protocol):
    name: str

    def fit(self, data: InteractionData) -> None: ...

    def score(self, users: np.ndarray, ref_times: np.ndarray) -> np.ndarray: ...


def binary(m: sp.csr_matrix) -> sp.csr_matrix:
    out = m.tocsr(copy=True).astype(np.float32)
    out.data[:] = 1.0
    return out


def row_normalised(m: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    return sp.csr_matrix(sp.diags(1.0 / np.maximum(norms, 1e-12)) @ m)


class Popularity:
    """log(1 + number of users who liked the item)."""

    name = "popularity"

    def fit(self, data: InteractionData) -> None:
        self.counts = np.diff(data.weights.tocsc().indptr).astype(np.float32)
        self._log = np.log1p(self.counts)

    def score(self, users: np.ndarray, ref_times: np.ndarray) -> np.ndarray:
        return np.tile(self._log, (len(users), 1))


class Trending:
    """sum over earlier likes of 2^(-age / half-life), at each user's reference time (never later events)."""

    name = "trending"

    def __init__(self, half_life_days: float = 180.0):
        self.half_life = half_life_days * DAY

    def fit(self, data: InteractionData) -> None:
        t = data.times.tocoo()
        order = np.argsort(t.data, kind="stable")
        self.ts, self.items, self.users = t.data[order], t.col[order], t.row[order]
        self.n_items = data.n_items
        self.available = data.has_times

    def score(self, users: np.ndarray, ref_times: np.ndarray) -> np.ndarray:
        """One sweep through time in order of the users' reference times: P(t2) = P(t1) 2^-(dt/h) + new likes."""
        out = np.zeros((len(users), self.n_items), np.float32)
        acc, t_prev, done = np.zeros(self.n_items), None, 0
        for j in np.argsort(ref_times, kind="stable"):
            t0 = float(ref_times[j])
            if t0 != t_prev:
                if t_prev is not None:
                    acc *= np.exp2(-(t0 - t_prev) / self.half_life)
                end = int(np.searchsorted(self.ts, t0, side="right"))
                age = t0 - self.ts[done:end]
                acc += np.bincount(self.items[done:end], weights=np.exp2(-age / self.half_life),
                                   minlength=self.n_items)
                done, t_prev = end, t0
            out[j] = acc
        return out

    def recent_likers(self, item: int, ref_time: float, days: float) -> np.ndarray:
        """Users whose latest like of `item` falls in the `days` up to `ref_time` (for an explanation)."""
        lo, hi = np.searchsorted(self.ts, [ref_time - days * DAY, ref_time], side="right")
        return np.unique(self.users[lo:hi][self.items[lo:hi] == item])


class ItemKNN:
    """Cosine similarity between items' user sets, keeping each item's `k` nearest neighbours."""

    name = "itemknn"

    def __init__(self, k: int = 100):
        self.k = k

    def fit(self, data: InteractionData) -> None:
        from implicit.nearest_neighbours import CosineRecommender

        self.x = binary(data.weights)
        model = CosineRecommender(K=self.k, num_threads=threads(self.x.nnz))
        with warnings.catch_warnings():  # implicit converts its own transposed matrix and warns about it
            warnings.simplefilter("ignore")
            model.fit(self.x, show_progress=False)
        self.similarity = model.similarity.tocsr().astype(np.float32)

    def score(self, users: np.ndarray, ref_times: np.ndarray) -> np.ndarray:
        return (self.x[users] @ self.similarity).toarray().astype(np.float32)

    def evidence(self, user: int, item: int) -> dict[str, Any]:
        """The user's item that is most similar to `item`."""
        mine = self.x[user].indices
        if not len(mine):
            return {}
        sims = self.similarity[mine][:, [item]].toarray().ravel()
        best = int(np.argmax(sims))
        return {"source_item": int(mine[best]), "similarity": float(sims[best])} if sims[best] > 0 else {}


class ALS:
    """Implicit-feedback ALS (Hu, Koren, Volinsky 2008) via the `implicit` package; confidence = alpha x weight."""

    name = "als"

    def __init__(self, factors: int = 64, regularization: float = 0.05, alpha: float = 2.0,
                 iterations: int = 15, seed: int = 0):
        self.factors, self.regularization, self.alpha = factors, regularization, alpha
        self.iterations, self.seed = iterations, seed

    def fit(self, data: InteractionData) -> None:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        self.x = data.weights.tocsr().astype(np.float32)
        with threadpool_limits(1, "blas"), warnings.catch_warnings():  # implicit parallelises itself
            warnings.simplefilter("ignore")
            model = AlternatingLeastSquares(factors=self.factors, regularization=self.regularization,
                                            alpha=self.alpha, iterations=self.iterations, random_state=self.seed,
                                            num_threads=threads(self.x.nnz))
            model.fit(self.x, show_progress=False)
        self.user_factors = np.asarray(model.user_factors, np.float32)
        self.item_factors = np.asarray(model.item_factors, np.float32)

    def score(self, users: np.ndarray, ref_times: np.ndarray) -> np.ndarray:
        return np.maximum(self.user_factors[users] @ self.item_factors.T, 0.0)

    def evidence(self, user: int, item: int) -> dict[str, Any]:
        """The user's item contributing most to the score: c_j * y_i' (Y'C_uY + lambda I)^-1 y_j (Hu et al. s.5)."""
        row = self.x[user]
        if not row.nnz:
            return {}
        y = self.item_factors
        yj, conf = y[row.indices], 1.0 + self.alpha * row.data
        a = y.T @ y + (yj.T * (conf - 1.0)) @ yj + self.regularization * np.eye(y.shape[1])
        contrib = conf * (yj @ np.linalg.solve(a, y[item]))
        best = int(np.argmax(contrib))
        return {"source_item": int(row.indices[best]), "contribution": float(contrib[best])} \
            if contrib[best] > 0 else {}


class GroupAffinity:
    """Share of the user's liked items that are in the item's group."""

    name = "affinity"

    def fit(self, data: InteractionData) -> None:
        self.x, self.group = binary(data.weights), data.item_group
        n_groups = int(self.group.max()) + 1 if len(self.group) else 0
        self.available = n_groups >= 2
        known = np.nonzero(self.group >= 0)[0]
        self.onehot = sp.csr_matrix((np.ones(len(known), np.float32), (known, self.group[known])),
                                    shape=(data.n_items, max(n_groups, 1)))

    def score(self, users: np.ndarray, ref_times: np.ndarray) -> np.ndarray:
        counts = (self.x[users] @ self.onehot).toarray()
        share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
        out = share[:, np.maximum(self.group, 0)]
        out[:, self.group < 0] = 0.0
        return out.astype(np.float32)

    def evidence(self, user: int, item: int) -> dict[str, Any]:
        g = self.group[item]
        n = int((self.onehot[self.x[user].indices, max(g, 0)]).sum()) if g >= 0 else 0
        return {"group_items": n} if n else {}


class Social:
    """Tied users' likes: tie strength x (1 + taste x shared-taste cosine) x recency x the friend's confidence
    (a purchase counts more than a view), plus friends of friends.

    Recency is causal: a friend's like at or before the user's reference time weighs floor + (1 - floor)
    2^(-age / half-life); a later one only `floor`, so time never favours what happened after "now".
    """

    name = "social"

    def __init__(self, half_life_days: float = 180.0, floor: float = 0.5, taste: float = 2.0,
                 two_hop: float = 0.25):
        self.half_life, self.floor, self.taste, self.two_hop = half_life_days * DAY, floor, taste, two_hop

    def fit(self, data: InteractionData) -> None:
        self.x, self.times, self.events = binary(data.weights), data.times.tocsr(), data.events.tocsr()
        self.conf = data.weights.tocsr()
        if not (np.array_equal(self.conf.indptr, self.times.indptr)
                and np.array_equal(self.conf.indices, self.times.indices)):
            raise ValueError("weights and times must share one sparsity pattern")
        self.available = data.ties.nnz > 0
        self.ties = self._effective_ties(data.ties.tocsr())
        self.reach2 = self._two_hop(self.ties) @ self.x if self.two_hop > 0 else None

    def _effective_ties(self, ties: sp.csr_matrix) -> sp.csr_matrix:
        t = ties.tocoo()
        xn = row_normalised(self.x)
        taste = np.asarray(xn[t.row].multiply(xn[t.col]).sum(axis=1)).ravel()
        return sp.csr_matrix((t.data * (1.0 + self.taste * taste), (t.row, t.col)), shape=ties.shape)

    def _two_hop(self, ties: sp.csr_matrix) -> sp.csr_matrix:
        p = sp.csr_matrix(sp.diags(1.0 / np.maximum(np.asarray(ties.sum(axis=1)).ravel(), 1e-12)) @ ties)
        hop = (p @ p).tocsr()
        hop = hop - hop.multiply(ties > 0)  # direct friends count once, in the first term
        hop.setdiag(0)
        hop.eliminate_zeros()
        return (self.two_hop * hop).tocsr()

    def _kernel(self, times: np.ndarray, ref_time: float) -> np.ndarray:
        age = ref_time - times
        recent = np.where(age >= 0, np.exp2(-np.maximum(age, 0) / self.half_life), 0.0)
        return self.floor + (1.0 - self.floor) * recent

    def score(self, users: np.ndarray, ref_times: np.ndarray) -> np.ndarray:
        n_items = self.x.shape[1]
        out = np.zeros((len(users), n_items), np.float32)
        for j, u in enumerate(users):
            lo, hi = self.ties.indptr[u], self.ties.indptr[u + 1]
            if hi > lo:
                friends, strength = self.ties.indices[lo:hi], self.ties.data[lo:hi]
                rows, conf = self.times[friends], self.conf[friends]  # same sparsity pattern
                w = np.repeat(strength, np.diff(rows.indptr)) * self._kernel(rows.data, ref_times[j]) * conf.data
                out[j] = np.bincount(rows.indices, weights=w, minlength=n_items)
        if self.reach2 is not None:
            out += self.reach2[users].toarray()
        return out

    def evidence(self, user: int, item: int) -> dict[str, Any]:
        """Tied users who liked `item` (strongest tie first) with their strongest event codes; failing that,
        the friends of friends who liked it."""
        lo, hi = self.ties.indptr[user], self.ties.indptr[user + 1]
        friends, strength = self.ties.indices[lo:hi], self.ties.data[lo:hi]
        codes = self.events[friends][:, [item]].toarray().ravel() if len(friends) else np.zeros(0)
        liked = np.nonzero(codes > 0)[0]
        if len(liked):
            order = liked[np.argsort(-strength[liked], kind="stable")]
            return {"friends": [int(friends[k]) for k in order], "friend_events": [int(codes[k]) for k in order]}
        if self.reach2 is not None and self.reach2[user, item] > 0:
            two = self._two_hop_users(user, item, friends)
            return {"friends_of_friends": two} if two else {}
        return {}

    def _two_hop_users(self, user: int, item: int, friends: np.ndarray) -> list[int]:
        """Friends of friends (not friends themselves) who liked `item`."""
        likers = self.x[:, [item]].nonzero()[0]
        reach = np.unique(self.ties[friends].indices) if len(friends) else np.zeros(0, np.int64)
        out = np.setdiff1d(np.intersect1d(reach, likers), np.r_[friends, user])
        return [int(g) for g in out]


class Content:
    """max(0, cosine(item vector, user profile)), the profile being the weighted mean of the user's item vectors."""

    name = "content"

    def __init__(self, vectors: np.ndarray):
        v = np.asarray(vectors, np.float32)
        self.vectors = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)

    def fit(self, data: InteractionData) -> None:
        self.x = data.weights.tocsr().astype(np.float32)
        self.available = bool(np.any(self.vectors))

    def score(self, users: np.ndarray, ref_times: np.ndarray) -> np.ndarray:
        profile = np.asarray(self.x[users] @ self.vectors)
        profile /= np.maximum(np.linalg.norm(profile, axis=1, keepdims=True), 1e-12)
        return np.maximum(profile @ self.vectors.T, 0.0)

    def evidence(self, user: int, item: int) -> dict[str, Any]:
        mine = self.x[user].indices
        if not len(mine):
            return {}
        sims = self.vectors[mine] @ self.vectors[item]
        best = int(np.argmax(sims))
        return {"source_item": int(mine[best]), "similarity": float(sims[best])} if sims[best] > 0 else {}

"""Interaction data for the recommender: who did what to which item, when, and who is tied to whom.

`InteractionData` holds sparse user x item matrices (implicit confidence, latest time, strongest event, every
item the user has touched), a symmetric tie-strength matrix between users, and per-item labels (title, group)
used by explanations. It is built from a `Store` (`from_store`) or from plain arrays (`from_events`, used by
the evaluation loaders for Ciao and LastFM), and split for validation (`hold_out_latest`).

Knows nothing about models, scores or sessions: it never decides who the signed-in user is.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import cached_property
from typing import Iterable, Sequence

import numpy as np
import scipy.sparse as sp

# event -> implicit confidence; unknown events count as views
EVENT_WEIGHTS = {"purchase": 4.0, "rate": 3.0, "cart": 2.0, "play": 1.0, "view": 1.0}
# how an explanation names each event ({obj}: what was bought), strongest first
EVENT_VERBS = {"purchase": "bought {obj}", "rate": "rated {obj} highly", "cart": "added {obj} to a cart",
               "play": "listened to {obj}", "view": "viewed {obj}"}
EVENT_ORDER = list(EVENT_VERBS)
POSITIVE_RATING = 4.0


@dataclass
class EventTable:
    """One row per event, as parallel arrays of indices into `InteractionData.user_ids` / `item_ids`."""

    user: np.ndarray
    item: np.ndarray
    event: np.ndarray  # index into EVENT_ORDER
    weight: np.ndarray
    ts: np.ndarray  # unix seconds, 0 when unknown
    positive: np.ndarray  # False: seen but not liked (a low rating); never a training signal


@dataclass
class InteractionData:
    user_ids: list[str]
    item_ids: list[str]
    weights: sp.csr_matrix  # users x items, summed confidence of positive events
    times: sp.csr_matrix  # users x items, latest positive event time (same pattern as weights)
    events: sp.csr_matrix  # users x items, 1 + index of the strongest positive event in EVENT_ORDER
    seen: sp.csr_matrix  # users x items, 1 for every item the user touched in any way
    ties: sp.csr_matrix  # users x users, symmetric tie strength (0 = no tie)
    item_group: np.ndarray  # group index per item, -1 unknown
    group_names: list[str] = field(default_factory=list)
    item_titles: list[str] = field(default_factory=list)
    user_names: list[str] = field(default_factory=list)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @cached_property
    def user_index(self) -> dict[str, int]:
        return {u: i for i, u in enumerate(self.user_ids)}

    @cached_property
    def item_index(self) -> dict[str, int]:
        return {p: i for i, p in enumerate(self.item_ids)}

    @cached_property
    def has_times(self) -> bool:
        return bool(self.times.nnz and self.times.data.max() > 1.0)  # unknown times are stored as ~0

    def reference_times(self, users: np.ndarray) -> np.ndarray:
        """Each user's "now": their latest positive event, or the latest event of anyone for a user without one."""
        latest = self.times.max(axis=1).toarray().ravel()
        default = float(self.times.data.max()) if self.times.nnz else 0.0
        out = latest[users].astype(np.float64)
        out[out <= 0] = default
        return out

    def title(self, item: int) -> str:
        return self.item_titles[item] if self.item_titles and self.item_titles[item] else self.item_ids[item]

    def user_name(self, user: int) -> str:
        return self.user_names[user] if self.user_names and self.user_names[user] else self.user_ids[user]

    def group_name(self, item: int) -> str:
        g = int(self.item_group[item])
        return self.group_names[g] if g >= 0 else ""

    def digest(self) -> str:
        """sha256 over the training signal (ids, matrices, ties): the artefact's data hash."""
        h = hashlib.sha256()
        for ids in (self.user_ids, self.item_ids):
            h.update("\x00".join(ids).encode("utf-8"))
        for m in (self.weights, self.times, self.ties):
            m = m.tocsr()
            for arr in (m.indptr, m.indices, m.data):
                h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()

    def without(self, user: np.ndarray, item: np.ndarray) -> "InteractionData":
        """The same data with the given (user, item) positives removed (and unseen again)."""
        n = self.n_items
        dropped = np.asarray(user, dtype=np.int64) * n + np.asarray(item, dtype=np.int64)

        def keep(m: sp.csr_matrix) -> sp.csr_matrix:
            m = m.tocsr(copy=True)
            rows = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
            m.data[np.isin(rows * n + m.indices, dropped)] = 0
            m.eliminate_zeros()
            return m

        return replace(self, weights=keep(self.weights), times=keep(self.times), events=keep(self.events),
                       seen=keep(self.seen))

    @classmethod
    def from_events(cls, user_ids: Sequence[str], item_ids: Sequence[str], events: EventTable,
                    ties: Iterable[tuple[int, int, float]] = (), item_group: np.ndarray | None = None,
                    group_names: Sequence[str] = (), item_titles: Sequence[str] = (),
                    user_names: Sequence[str] = ()) -> "InteractionData":
        shape = (len(user_ids), len(item_ids))
        pos = events.positive.astype(bool)
        u, i = events.user[pos], events.item[pos]
        weights = sp.csr_matrix((events.weight[pos].astype(np.float32), (u, i)), shape=shape)
        times = _max_matrix(u, i, events.ts[pos].astype(np.float64), shape)
        strength = len(EVENT_ORDER) - events.event[pos].astype(np.float64)  # stronger event -> larger value
        events_m = _max_matrix(u, i, strength, shape)
        events_m.data = len(EVENT_ORDER) - events_m.data + 1  # back to 1 + index in EVENT_ORDER
        seen = sp.csr_matrix((np.ones(len(events.user), np.float32), (events.user, events.item)), shape=shape)
        seen.data[:] = 1.0
        groups = np.full(len(item_ids), -1, dtype=np.int64) if item_group is None else np.asarray(item_group)
        return cls(list(user_ids), list(item_ids), weights, times, events_m, seen,
                   tie_matrix(ties, len(user_ids)), groups, list(group_names), list(item_titles),
                   list(user_names))


def _max_matrix(u: np.ndarray, i: np.ndarray, v: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """Sparse matrix keeping the largest value per (u, i); values must be > 0 to survive."""
    if not len(u):
        return sp.csr_matrix(shape, dtype=np.float64)
    order = np.lexsort((-v, i, u))
    u, i, v = u[order], i[order], v[order]
    first = np.ones(len(u), bool)
    first[1:] = (u[1:] != u[:-1]) | (i[1:] != i[:-1])
    m = sp.csr_matrix((np.maximum(v[first], 1e-9), (u[first], i[first])), shape=shape)
    return m


def tie_matrix(ties: Iterable[tuple[int, int, float]], n_users: int) -> sp.csr_matrix:
    """Symmetric tie strengths: a directed edge also ties the other way; the stronger direction wins."""
    rows = [(a, b, w) for a, b, w in ties if a != b and w > 0]
    if not rows:
        return sp.csr_matrix((n_users, n_users), dtype=np.float32)
    a, b, w = (np.array(x) for x in zip(*rows))
    m = _max_matrix(np.r_[a, b].astype(np.int64), np.r_[b, a].astype(np.int64), np.r_[w, w].astype(np.float64),
                    (n_users, n_users))
    return m.astype(np.float32)


def parse_time(ts: str | float | int | None) -> float:
    """Unix seconds from an ISO date, a number or a numeric string; 0.0 when unknown."""
    if ts is None or ts == "":
        return 0.0
    if isinstance(ts, (int, float)):
        return float(ts)
    try:
        return float(ts)
    except ValueError:
        pass
    try:
        t = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp()


def from_store(store) -> tuple[InteractionData, dict[str, int]]:
    """InteractionData over all of the store's products and users, plus counts of what was left out and why.

    Positives: purchase, cart, view and rate events with value >= 4; a rating below 4 marks the item as seen only.
    Interactions naming a product or user the store does not have are counted in the report, not used.
    """
    item_ids = sorted(store.products)
    user_ids = sorted(set(store.users) | {i.user_id for i in store.interactions if i.user_id}
                      | {f.user_id for f in store.friendships} | {f.friend_id for f in store.friendships})
    items = {p: k for k, p in enumerate(item_ids)}
    users = {u: k for k, u in enumerate(user_ids)}
    rows, skipped = [], {"unknown_product": 0, "unknown_event": 0}
    for it in store.interactions:
        if it.product_id not in items:
            skipped["unknown_product"] += 1
            continue
        event = it.event if it.event in EVENT_WEIGHTS else "view"
        skipped["unknown_event"] += it.event not in EVENT_WEIGHTS
        positive = event != "rate" or (it.value or 0) >= POSITIVE_RATING
        rows.append((users[it.user_id], items[it.product_id], EVENT_ORDER.index(event), EVENT_WEIGHTS[event],
                     parse_time(it.ts), positive))
    table = EventTable(*(np.array(col) for col in zip(*rows))) if rows else _empty_table()
    groups = [p.category[-1] if p.category else "" for p in (store.products[i] for i in item_ids)]
    group_names = sorted({g for g in groups if g})
    gi = {g: k for k, g in enumerate(group_names)}
    ties = [(users[f.user_id], users[f.friend_id], float(f.weight)) for f in store.friendships]
    data = InteractionData.from_events(
        user_ids, item_ids, table, ties, np.array([gi.get(g, -1) for g in groups], dtype=np.int64), group_names,
        [store.products[i].title for i in item_ids],
        [store.users[u].name if u in store.users else "" for u in user_ids])
    return data, skipped


def _empty_table() -> EventTable:
    z = np.zeros(0, dtype=np.int64)
    return EventTable(z, z, z, z.astype(np.float64), z.astype(np.float64), z.astype(bool))


def hold_out_latest(data: InteractionData, min_positives: int, seed: int = 0, users: np.ndarray | None = None,
                    event: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(users, items): each eligible user's latest positive (ties and undated data broken at random, seeded).

    Eligible: users with at least `min_positives` positives (restricted to `users` when given). With `event`
    (e.g. "purchase") only items whose strongest event is that one are held out, when the data has any.
    """
    rng = np.random.default_rng(seed)
    w, t, ev = data.weights.tocsr(), data.times.tocsr(), data.events.tocsr()
    code = EVENT_ORDER.index(event) + 1 if event in EVENT_ORDER else None
    if code is not None and not np.any(ev.data == code):
        code = None
    counts = np.diff(w.indptr)
    candidates = np.nonzero(counts >= min_positives)[0]
    if users is not None:
        candidates = np.intersect1d(candidates, users)
    out_u, out_i = [], []
    for u in candidates:
        lo, hi = t.indptr[u], t.indptr[u + 1]
        ts = np.where(ev.data[lo:hi] == code, t.data[lo:hi], -np.inf) if code is not None else t.data[lo:hi]
        if not np.isfinite(ts.max()):
            continue
        latest = np.nonzero(ts >= ts.max())[0]
        out_u.append(u)
        out_i.append(t.indices[lo + latest[rng.integers(len(latest))]])
    return np.array(out_u, dtype=np.int64), np.array(out_i, dtype=np.int64)

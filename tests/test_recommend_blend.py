"""Blend-weight learning on hand-made candidate pools, and the causal trending component."""
from __future__ import annotations

import numpy as np

from assistant.insights.recommend_blend import GRID, Pools, _ascend, learn_weights, normalise, per_user_objective
from assistant.insights.recommend_components import DAY, Trending
from assistant.insights.recommend_data import EVENT_ORDER, EventTable, InteractionData


def toy_pools(n_users: int = 200, helpful_users: int = 200, seed: int = 0) -> Pools:
    """Components: popularity and noise (random), good (puts the target first for `helpful_users` users, zero
    elsewhere), rare (puts the target first for the last user only, zero elsewhere)."""
    rng = np.random.default_rng(seed)
    features, targets = [], []
    for u in range(n_users):
        f = np.zeros((50, 4), np.float32)
        f[:, [0, 3]] = rng.random((50, 2))
        t = int(rng.integers(50))
        if u < helpful_users:
            f[t, 1] = 1.5
        if u == n_users - 1:
            f[t, 2] = 1.0
        features.append(f)
        targets.append(t)
    return Pools(["popularity", "good", "rare", "noise"], features, np.array(targets))


def test_the_predictive_component_gets_the_weight_and_noise_none():
    weights, report = learn_weights(toy_pools(), ["popularity", "good", "noise"])
    assert weights == {"popularity": 0.0, "good": 1.0, "noise": 0.0}
    assert report["objective"] > 0.9 and report["single_good"] > report["single_noise"]


def test_a_step_that_helps_one_user_in_two_hundred_is_not_taken():
    pools = toy_pools(helpful_users=100)
    names = ["popularity", "good", "rare"]
    value = lambda w: per_user_objective(pools.ranks(w))  # noqa: E731
    w, per_user = _ascend(np.array([0.0, 1.0, 0.0, 0.0]), [0, 1, 2], value, GRID, rounds=3)
    assert w.tolist() == [0.0, 1.0, 0.0, 0.0]  # "rare" would win the last user: one user is not enough
    with_rare = value(np.array([0.0, 1.0, 1.0, 0.0]))
    assert with_rare.mean() > per_user.mean()  # ... although it is a gain
    assert names[int(np.argmax(w))] == "good"


def test_normalise_divides_each_row_by_its_max():
    out = normalise(np.array([[2.0, 1.0, -1.0], [0.0, 0.0, 0.0]]))
    assert out.tolist() == [[1.0, 0.5, 0.0], [0.0, 0.0, 0.0]]


def test_trending_counts_only_likes_before_the_reference_time():
    t0 = 1_700_000_000.0
    events = EventTable(user=np.array([0, 1, 2, 0]), item=np.array([0, 0, 1, 2]),
                        event=np.full(4, EVENT_ORDER.index("purchase")), weight=np.ones(4),
                        ts=np.array([t0, t0 - 180 * DAY, t0 + DAY, t0 - 10 * DAY]), positive=np.ones(4, bool))
    data = InteractionData.from_events(["a", "b", "c"], ["x", "y", "z"], events)
    trend = Trending(half_life_days=180)
    trend.fit(data)
    s = trend.score(np.array([0, 0]), np.array([t0, t0 + 2 * DAY]))
    assert s[0, 1] == 0.0  # y was liked one day after t0: invisible at t0
    assert s[0, 0] == np.float32(1.0 + 0.5)  # one like at t0, one a half-life earlier
    assert s[1, 1] > 0  # visible two days later
    assert [int(u) for u in trend.recent_likers(0, t0, 30)] == [0]

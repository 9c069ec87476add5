"""`shopassist eval recommend`: split protocols, metrics, the CLI on the demo store, and the real Ciao data."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.insights.recommend import Recommender, RecommenderConfig, fit_recommender
from assistant.insights.recommend_blend import midpoint_rank
from assistant.insights.recommend_data import parse_time
from eval.recommend_task import evaluate_split, gini, load_ciao, split_store
from tests.conftest import shared_data
from tests.test_recommend import community_store

FAST = RecommenderConfig(factors=16, als_iterations=4, knn_k=30, validation_users=300)


def test_gini_and_midpoint_rank():
    assert gini(np.array([3.0, 3.0, 3.0, 3.0])) == pytest.approx(0.0)
    assert gini(np.array([0.0, 0.0, 0.0, 8.0])) == pytest.approx(0.75)
    assert midpoint_rank(np.array([0.9, 0.5, 0.5, 0.5, 0.1]), 2) == 2  # three tied at places 1-3
    assert midpoint_rank(np.array([0.1, 0.9, 0.2]), 1) == 0


def test_store_split_holds_out_latest_purchase_and_everything_after():
    store = community_store()
    split = split_store(store)
    data = split.train
    assert len(split.users) > 30
    assert (np.diff(data.weights.indptr)[split.users] >= 4).all()
    for u, i in zip(split.users, split.items):
        uid, pid = data.user_ids[u], data.item_ids[i]
        mine = [x for x in store.interactions if x.user_id == uid]
        last = max((x for x in mine if x.event == "purchase"), key=lambda x: x.ts)
        assert pid == last.product_id
        assert data.seen[u, i] == 0  # the held-out product was never seen in training
        assert data.times[u].data.max() < parse_time(last.ts)
        before = {x.product_id for x in mine if x.ts < last.ts and x.product_id != pid}
        assert set(data.item_ids[j] for j in data.seen[u].indices) == before


def test_social_component_helps_when_friends_copy_each_other():
    out = evaluate_split(split_store(community_store(seed=3, n_users=120, copy_p=0.8)), config=FAST)
    models = out["models"]
    assert set(models) == {"Popularity", "ItemKNN", f"ALS({FAST.factors})", "ours (no social)", "ours (social)"}
    social, plain = models["ours (social)"], models["ours (no social)"]
    assert social["recall@20"] > plain["recall@20"]
    assert social["recall@20"] > models["Popularity"]["recall@20"]
    for key in ("recall@10", "recall@20", "ndcg@10", "recall@20_social_users", "n_users", "coverage@20",
                "gini_items@20", "gini_groups@20"):
        assert key in social


def test_cli_on_the_demo_store(tmp_path):
    from ui.cli import main

    out = tmp_path / "rec.json"
    assert main(["eval", "recommend", "--format", "demo", "--out", str(out), "--quiet"]) == 0
    res = json.loads(out.read_text())
    for key in ("recall@10", "recall@20", "ndcg@10", "recall@20_social_users", "n_users"):
        assert isinstance(res[key], (int, float)), key
    assert res["main_model"] == "ours (social)" and res["n_users"] > 100
    assert res["meta"]["format"] == "demo" and len(res["per_case"]) == res["n_users"]


def test_cli_rejects_missing_data(tmp_path, capsys):
    from ui.cli import main

    assert main(["eval", "recommend", "--format", "ciao", "--data", str(tmp_path / "nope"),
                 "--out", str(tmp_path / "r.json"), "--quiet"]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.data
def test_ciao_protocol_and_true_explanations():
    import pandas as pd

    folder = shared_data("social_ciao")
    split = load_ciao(Path(folder))
    data = split.train
    assert len(split.users) > 7000 and (np.diff(data.ties.indptr)[split.users] > 0).sum() > 2000
    w, t = data.weights.tocsr(), data.times.tocsr()
    raw = pd.read_csv(folder / "ciao_ratings.csv")
    held_time = raw.set_index(["user_id", "product_id"]).timestamp.groupby(level=[0, 1]).min()
    for u, i in list(zip(split.users, split.items))[:300]:
        assert w[u, i] == 0 and data.seen[u, i] == 0 and w[u].nnz >= 4
        when = held_time[(int(data.user_ids[u]), int(data.item_ids[i]))]
        assert t[u].data.max() <= when  # nothing the user liked later stays in training

    rng = np.random.default_rng(0)
    fitted = fit_recommender(data, FAST)
    # Ciao learns ~0 social weight (and 300 validation users support few weights): force the components in
    social_rec = Recommender(data, fitted.components, {"social": 1.0}, FAST)
    cf_rec = Recommender(data, fitted.components, {"als": 1.0, "itemknn": 1.0}, FAST)
    positives = raw[raw.rating >= 4].groupby("user_id").product_id.apply(set)
    trust = pd.read_csv(folder / "ciao_trust.csv")
    tied = set(zip(trust.truster, trust.trustee)) | set(zip(trust.trustee, trust.truster))
    social_users = split.users[np.diff(data.ties.indptr)[split.users] > 0]
    friend_reasons = sources = 0
    for u in rng.choice(social_users, 30, replace=False):
        uid = int(data.user_ids[u])
        recs = [r for rec in (social_rec, cf_rec, fitted) for r in rec.recommend(data.user_ids[u], k=10)]
        for r in recs:
            assert data.seen[u, data.item_index[r.product_id]] == 0
            ev = r.evidence.get("social", {})
            for fid in ev.get("friend_ids", []):
                assert (uid, int(fid)) in tied and int(r.product_id) in positives[int(fid)]
            friend_reasons += bool(ev.get("friend_ids"))
            for name in ("itemknn", "als"):
                if name in r.evidence:
                    assert int(r.evidence[name]["source_product_id"]) in positives[uid]
                    sources += 1
    assert friend_reasons > 20 and sources > 20

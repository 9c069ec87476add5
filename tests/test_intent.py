"""Intent models: per-turn dialogue intent, customer-service intents, dialogue goals, purchase propensity."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from assistant.insights.intent import (
    BASE_FEATURES, CSIntentClassifier, DialogueIntentClassifier, PurchasePropensityModel, SessionSignals,
    TextClassifier, cs_seed_data, dialogue_seed_data, read_labelled_file, store_sessions, train_propensity,
)
from retrieval.schema import Interaction, Product
from retrieval.store import Store
from tests.conftest import ROOT, shared_data
from tests.timing import Stopwatch

# Written apart from the seed templates: different wording, both languages.
HELD_OUT_TURNS = [
    ("do you carry any trail running shoes", "browse"), ("I need a gift for my mum under 2000", "browse"),
    ("what's the battery like on this one", "browse"), ("got anything similar but in blue", "browse"),
    ("show me laptops good for programming", "browse"), ("are these headphones good for the gym", "browse"),
    ("which of these two has the better battery", "compare"), ("how is the first different from the third", "compare"),
    ("sony or bose, which is better for calls", "compare"), ("compare their prices for me", "compare"),
    ("is the cheaper one worse than the other", "compare"),
    ("ok add the black one to my cart", "purchase"), ("I'll go with the second one", "purchase"),
    ("put it in the basket please", "purchase"), ("let's buy it", "purchase"),
    ("my parcel never came, order O10234", "support"), ("how do I send these back for a refund", "support"),
    ("I was billed twice for one order", "support"), ("can I speak to someone at the store", "support"),
    ("thanks a lot!", "chitchat"), ("hey there", "chitchat"), ("who made you?", "chitchat"),
    ("有没有适合送爸爸的手表", "browse"), ("帮我找一双跑步鞋", "browse"), ("这款耳机音质好吗", "browse"),
    ("华为和小米的手环哪个好", "compare"), ("这两个的区别是什么", "compare"), ("第二个比第一个好在哪", "compare"),
    ("帮我把这个加入购物车", "purchase"), ("我就要第一个了，下单", "purchase"),
    ("我的快递怎么还没到", "support"), ("我想退货", "support"), ("订单O10023能取消吗", "support"),
    ("你好呀", "chitchat"), ("谢谢你", "chitchat"), ("你是谁啊", "chitchat"),
]

HELD_OUT_CS = [
    ("where's my package right now", "track_order"), ("I'd like my money back for this", "get_refund"),
    ("please cancel the order I placed today", "cancel_order"), ("I can't remember my password", "recover_password"),
    ("what cards can I pay with", "check_payment_methods"), ("let me talk to a real human", "contact_human_agent"),
    ("我的包裹到哪了", "track_order"), ("我要退钱", "get_refund"), ("密码忘了怎么办", "recover_password"),
    ("我想改收货地址", "change_shipping_address"),
]


@pytest.fixture(scope="module")
def dialogue() -> DialogueIntentClassifier:
    return DialogueIntentClassifier()


def test_dialogue_intent_on_held_out_turns_in_both_languages(dialogue):
    wrong = [(t, y, dialogue.predict(t)) for t, y in HELD_OUT_TURNS if dialogue.predict(t)[0] != y]
    assert len(wrong) <= 0.12 * len(HELD_OUT_TURNS), wrong
    label, conf = dialogue.predict("add the second one to my cart")
    assert label == "purchase" and 0.5 < conf <= 1.0
    assert dialogue.predict("") == ("chitchat", 1.0)


def test_dialogue_intent_uses_the_session_context(dialogue):
    assert dialogue.predict("which one", {"shown_products": 3})[0] == "compare"
    assert dialogue.predict("in black?", {"last_intent": "browse"})[0] == "browse"
    assert dialogue.predict("which is better", ["show me running shoes"])[0] == "compare"


def test_dialogue_intent_is_fast(dialogue):
    texts = [t for t, _ in HELD_OUT_TURNS] * 3
    dialogue.predict(texts[0])  # first call: lazy imports
    with Stopwatch() as sw:  # leaves out the time spent waiting for a CPU on a shared machine
        for t in texts:
            dialogue.predict(t)
    per_turn_ms = sw.seconds / len(texts) * 1000
    assert per_turn_ms < 5.0, (per_turn_ms, sw)


def test_seed_sets_cover_every_label_in_both_languages():
    texts, labels = dialogue_seed_data()
    for label in ("browse", "compare", "purchase", "support", "chitchat"):
        mine = [t for t, y in zip(texts, labels) if y == label]
        assert len(mine) >= 30 and any("\u4e00" <= c <= "\u9fff" for t in mine for c in t)
        assert all("{" not in t for t in mine)
    cs_texts, cs_labels = cs_seed_data()  # Bitext's 27 + product questions and problems + not about the shop
    assert len(set(cs_labels)) == 30 and min(cs_labels.count(c) for c in set(cs_labels)) >= 6


def test_text_classifier_with_context_round_trips(tmp_path):
    texts = ["recommend a book", "any romance novels", "sounds good", "ok thanks", "is it long", "what is it about"] * 4
    labels = ["recommendation", "recommendation", "meta", "meta", "qa", "qa"] * 4
    ctx = ["", "client: recommend a book", "wizard: try this", "wizard: here", "wizard: try this", "wizard: it"] * 4
    model = TextClassifier().fit(texts, labels, contexts=ctx)
    pred = model.predict(["recommend a novel", "ok sounds good"], contexts=["", "wizard: here"])
    assert [p for p, _ in pred] == ["recommendation", "meta"]
    again = TextClassifier.load(model.save(tmp_path / "m", "goal"), "goal")
    assert np.allclose(again.predict_proba(["is it long"], [""]), model.predict_proba(["is it long"], [""]))
    with pytest.raises(ValueError, match="expected a cs_intent model"):
        TextClassifier.load(tmp_path / "m", "cs_intent")


@pytest.mark.slow
def test_cs_intent_from_seeds_alone_generalises_across_wording_and_language(tmp_path):
    cs = CSIntentClassifier.train()
    right = [t for t, y in HELD_OUT_CS if cs.predict(t).intent == y]
    assert len(right) >= 8, [(t, cs.predict(t)) for t, _ in HELD_OUT_CS]
    assert cs.predict("转人工").needs_human  # asking for a human always routes to one
    assert cs.predict("what is the weather on mars tomorrow").needs_human  # unsure, or not about the shop
    off_topic = ["recommend a good movie for tonight", "how tall is mount everest", "明天会下雨吗", "给我讲讲历史故事"]
    assert sum(cs.predict(t).needs_human for t in off_topic) >= 3, [(t, cs.predict(t)) for t in off_topic]
    again = CSIntentClassifier.load(cs.save(tmp_path / "cs"))
    assert again.threshold == cs.threshold and again.predict("我要退钱").intent == cs.predict("我要退钱").intent


def test_labelled_files_read_as_csv_or_jsonl(tmp_path):
    (tmp_path / "a.csv").write_text("\ufeffflags,utterance,category,intent\nB,where is it,ORDER,track_order\n",
                                    encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"text": "refund please", "label": "get_refund"}\n', encoding="utf-8")
    assert read_labelled_file(tmp_path / "a.csv") == (["where is it"], ["track_order"])
    assert read_labelled_file(tmp_path / "b.jsonl") == (["refund please"], ["get_refund"])
    (tmp_path / "c.csv").write_text("x,y\n1,2\n")
    with pytest.raises(ValueError, match="need a text column"):
        read_labelled_file(tmp_path / "c.csv")


# ---- purchase propensity -----------------------------------------------------------------------------

def _synthetic_sessions(n: int = 3000, seed: int = 0):
    """Buyers view pages of value and add to cart; the label depends on PageValues and cart_adds only."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({c: rng.integers(0, 5, n).astype(float) for c in BASE_FEATURES})
    X["PageValues"] = rng.exponential(10, n) * (rng.random(n) < 0.3)
    X["cart_adds"] = rng.integers(0, 3, n).astype(float)
    logit = -3 + 0.15 * X["PageValues"] + 1.2 * X["cart_adds"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def test_propensity_is_calibrated_and_explained_by_the_features_that_matter(tmp_path):
    X, y = _synthetic_sessions()
    model = PurchasePropensityModel(n_estimators=150, folds=3).fit(X.iloc[:2000], y[:2000], source="synthetic")
    p = model.predict_proba(X.iloc[2000:])
    assert np.all((p >= 0) & (p <= 1))
    from sklearn.metrics import roc_auc_score
    oracle = -3 + 0.15 * X["PageValues"] + 1.2 * X["cart_adds"]  # the true log-odds
    assert roc_auc_score(y[2000:], p) > roc_auc_score(y[2000:], oracle[2000:]) - 0.03
    assert abs(p.mean() - y[2000:].mean()) < 0.05  # calibrated on average
    factors = model.explain(X.iloc[2000:2200], top=2)
    top = [f.feature for row in factors for f in row[:1]]
    assert set(top) <= {"PageValues", "cart_adds", "page_value_per_product"}, set(top)
    again = PurchasePropensityModel.load(model.save(tmp_path / "prop"))
    assert np.allclose(again.predict_proba(X.iloc[:50]), model.predict_proba(X.iloc[:50]))
    assert json.loads((tmp_path / "prop" / "meta.json").read_text())["source"] == "synthetic"


def test_session_signals_map_a_conversation_into_the_feature_space():
    sig = SessionSignals.from_conversation(
        ["show me running shoes under 3000", "compare the first two", "how much is the second one",
         "add the second one to cart"], viewed_product_ids=["P1", "P2", "P2"], cart_adds=1,
        page_values={"P1": 10.0, "P2": 30.0}, started_at=datetime(2025, 11, 15, 10), returning=True)
    f = sig.features()
    assert (f["ProductRelated"], f["PageValues"], f["cart_adds"]) == (2.0, 20.0, 1.0)
    assert (f["price_questions"], f["comparison_turns"], f["n_turns"]) == (2.0, 1.0, 4.0)
    assert (f["Month"], f["Weekend"], f["VisitorType"], f["BounceRates"]) == (11.0, 1.0, 0.0, 0.0)
    b = SessionSignals.from_behaviour({"turns": 1, "products_seen": 0}).features()
    assert b["BounceRates"] == 1.0 and b["ProductRelated"] == 0.0


def _tiny_store() -> Store:
    products = {p: Product(p, p, category=["shoes"], price=100.0) for p in ("A", "B", "C")}
    ev = [("u1", "A", "view", "2025-01-01T10:00:00"), ("u1", "B", "view", "2025-01-01T10:05:00"),
          ("u1", "B", "cart", "2025-01-01T10:06:00"), ("u1", "B", "purchase", "2025-01-01T10:07:00"),
          ("u1", "C", "view", "2025-01-01T10:08:00"),  # after the purchase: not a feature
          ("u1", "A", "view", "2025-01-03T09:00:00"),  # two days later: a new session, no purchase
          ("u2", "B", "view", "2025-01-02T12:00:00"), ("u2", "C", "view", "2025-01-02T12:20:00"),
          ("u2", "C", "purchase", "2025-01-02T13:30:00")]  # 70 minutes later: its own, empty session
    return Store(products=products, interactions=[Interaction(u, p, e, 1.0, t) for u, p, e, t in ev], name="tiny")


def test_store_sessions_cut_at_the_purchase_and_leave_the_session_out_of_page_values():
    X, y, page_values = store_sessions(_tiny_store())
    assert list(y) == [1, 0, 0]  # u1 day 1 (bought), u2 (viewed, left), u1 day 3
    first = X.iloc[0]
    assert (first["ProductRelated"], first["cart_adds"], first["n_turns"]) == (2.0, 1.0, 3.0)
    assert first["ProductRelated_Duration"] == 360.0 and first["comparison_turns"] == 2.0
    assert first["PageValues"] == 0.0  # B's only other session did not convert; A's other one neither
    assert X.iloc[2]["PageValues"] == 100.0 and X.iloc[2]["VisitorType"] == 0.0  # A led to 100 in session 1
    assert page_values == {"A": 50.0, "B": 50.0, "C": 0.0}
    with pytest.raises(ValueError, match="no training data"):
        train_propensity(_tiny_store())


def test_demo_store_trains_a_propensity_model_that_reads_sessions():
    from retrieval.demo_store import build_demo_store

    model = train_propensity(build_demo_store())
    assert model.info["source"] == "store:demo" and model.page_values
    cold = model.explain_session({"turns": 1})
    warm = model.explain_session({"turns": 5, "cart_adds": 2, "products_seen": 3, "comparisons": 1})
    assert warm["probability"] > cold["probability"]
    assert warm["factors"][0]["feature"] == "cart_adds" and warm["factors"][0]["direction"] == "raises"


@pytest.mark.slow
def test_train_intent_command_writes_named_artefacts(tmp_path):
    from retrieval.demo_store import build_demo_store

    build_demo_store().save(tmp_path / "idx" / "store")
    data = tmp_path / "cs.csv"
    data.write_text("utterance,intent\n" + "\n".join(f"{t},{y}" for t, y in zip(*cs_seed_data()) if "," not in t))
    run = subprocess.run([sys.executable, "-m", "ui.cli", "train", "intent", "--index", str(tmp_path / "idx"),
                          "--data", str(data), "--no-seeds"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    names = {json.loads(p.read_text())["name"] for p in (tmp_path / "idx" / "models").rglob("meta.json")}
    assert names == {"cs_intent", "dialogue_intent", "purchase_propensity"}


# ---- real data -----------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.data
def test_bitext_intents_on_a_subsample():
    path = shared_data("cs_intents_bitext/Bitext_Sample_Customer_Service_Training_Dataset.csv")
    texts, labels = read_labelled_file(path)
    from sklearn.metrics import f1_score
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(texts))
    tr, te = train_test_split(idx, train_size=2000, test_size=800, stratify=labels, random_state=0)
    model = TextClassifier().fit([texts[i] for i in tr], [labels[i] for i in tr])
    pred = [p for p, _ in model.predict([texts[i] for i in te])]
    assert f1_score([labels[i] for i in te], pred, average="macro") >= 0.97


@pytest.mark.data
def test_uci_propensity_beats_chance_by_far_on_a_split():
    from sklearn.metrics import roc_auc_score

    from assistant.insights.intent import uci_features

    X, y = uci_features(pd.read_csv(shared_data("purchase_intent_uci/online_shoppers_intention.csv")))
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    tr, te = order[:5000], order[10000:]
    model = PurchasePropensityModel(n_estimators=200, folds=3).fit(X.iloc[tr], y[tr])
    p = model.predict_proba(X.iloc[te])
    assert roc_auc_score(y[te], p) >= 0.9
    assert model.explain(X.iloc[te[:20]])[0][0].feature in {"PageValues", "page_value_per_product", "ExitRates"}


@pytest.mark.data
def test_mgshopdial_goals_beat_the_majority_class():
    from eval.intent_task import mgshopdial_utterances

    rows = mgshopdial_utterances(shared_data("dialogues_mg_shopdial/MGShopDial.json"))
    assert len(rows) == 2196 and {r["goal"] for r in rows} == {"recommendation", "meta", "qa", "search"}
    train, test = rows[:1700], rows[1700:]
    model = TextClassifier(c=0.3).fit([r["text"] for r in train], [r["goal"] for r in train],
                                      contexts=[r["prev"] for r in train])
    pred = [p for p, _ in model.predict([r["text"] for r in test], contexts=[r["prev"] for r in test])]
    acc = np.mean([p == r["goal"] for p, r in zip(pred, test)])
    majority = max(np.mean([r["goal"] == g for r in test]) for g in ("recommendation", "meta", "qa", "search"))
    assert acc > majority + 0.15, (acc, majority)

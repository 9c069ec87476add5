"""Review sentiment: weak labels from stars, the on-disk caches, the stacked model, and real-data accuracy."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from assistant.insights.sentiment import (
    MODEL_VERSION, SentimentConfig, SentimentModel, TextVectorCache, embedding_cache, is_chinese, review_text,
    star_label, train_from_store, weak_labels,
)
from retrieval.schema import Review
from retrieval.store import Store
from tests.conftest import ROOT, shared_data

POS_EN = ["great sound and the battery lasts all day", "love it, works perfectly", "excellent quality, highly "
          "recommended", "fast delivery and a fair price", "really comfortable, very happy",
          "superb screen, great value"]
NEG_EN = ["terrible, broke after a week", "the battery dies fast, very disappointed", "awful sound, returned it",
          "cheap plastic, waste of money", "arrived late and damaged", "not worth the price at all, poor quality"]
POS_ZH = ["音质很好，非常满意", "电池很耐用，推荐购买", "质量不错，物流很快", "性价比很高，很喜欢", "屏幕清晰，好评", "做工精致，值得购买"]
NEG_ZH = ["质量太差了，很失望", "电池不耐用，差评", "声音有杂音，退货了", "物流太慢，包装破损", "做工粗糙，不值这个价", "用了两天就坏了，垃圾"]


class FakeEmbedder:
    """Deterministic stand-in for e5: hashed character bigrams into 64 dims, L2-normalised."""

    name = "fake-test"
    dim = 64

    def __init__(self):
        self.calls = 0

    def embed_passages(self, texts):
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for a, b in zip(t, t[1:]):
                out[i, int(hashlib.md5((a + b).encode()).hexdigest(), 16) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


USER_HOME = os.environ.get("SHOPASSIST_HOME")


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPASSIST_HOME", str(tmp_path / "home"))


def _data(repeat: int = 3):
    texts = (POS_EN + NEG_EN + POS_ZH + NEG_ZH) * repeat
    labels = (["positive"] * 6 + ["negative"] * 6 + ["positive"] * 6 + ["negative"] * 6) * repeat
    return texts, labels


def test_star_ratings_become_weak_labels():
    expected = ["negative", "negative", None, "positive", "positive", None]
    assert [star_label(r) for r in (1, 2, 3, 4, 5, None)] == expected
    assert star_label(3, neutral=True) == "neutral"
    reviews = [Review("r1", "p", rating=5, text="love it"), Review("r2", "p", rating=3, text="ok"),
               Review("r3", "p", rating=1, title="Awful", text="broke"), Review("r4", "p", rating=4, text=""),
               Review("r5", "p", rating=None, text="no stars")]
    assert weak_labels(reviews) == (["love it", "Awful. broke"], ["positive", "negative"])
    assert weak_labels(reviews, neutral=True)[1] == ["positive", "neutral", "negative"]


def test_review_text_joins_title_and_body_in_either_language():
    assert review_text(Review("r", "p", title="很满意", text="音质很好")) == "很满意。音质很好"
    assert review_text(Review("r", "p", title="Great!", text="Works.")) == "Great! Works."
    assert review_text(Review("r", "p", title="works", text="It works well")) == "It works well"


def test_is_chinese_counts_scripts():
    assert is_chinese("音质很好") and is_chinese("Sony耳机音质很好") and not is_chinese("great sound")
    assert not is_chinese("The Bose QC45 is great, 好")


def test_vector_cache_computes_each_text_once(tmp_path):
    calls = []

    def compute(texts):
        calls.append(list(texts))
        return np.array([[len(t), t.count("a")] for t in texts], dtype=np.float32)

    cache = TextVectorCache("t", "len", compute, directory=tmp_path / "c", flush_every=2)
    v = cache.get(["aa", "b", "aa", "abc"])
    assert v.tolist() == [[2, 2], [1, 0], [2, 2], [3, 1]]
    assert sum(len(c) for c in calls) == 3 and len(list((tmp_path / "c").glob("*.npz"))) == 2
    again = TextVectorCache("t", "len", compute, directory=tmp_path / "c")  # a new process reads the files
    assert again.get(["abc", "aa"]).tolist() == [[3, 1], [2, 2]] and sum(len(c) for c in calls) == 3
    assert not list((tmp_path / "c").glob("*.tmp.npz"))


def test_tfidf_model_learns_both_languages_and_round_trips(tmp_path):
    texts, labels = _data()
    model = SentimentModel(SentimentConfig(embeddings=False)).fit(texts, labels)
    assert model.classes == ["negative", "positive"]
    probe = ["the sound is great, love it", "broke after a week, terrible", "非常满意，音质很好", "很失望，质量太差"]
    assert model.predict(probe) == ["positive", "negative", "positive", "negative"]
    pol = model.polarity(probe)
    assert pol[0] > 0.2 and pol[1] < -0.2 and np.all(np.abs(pol) <= 1)
    path = model.save(tmp_path / "m")
    meta = json.loads((path / "meta.json").read_text())
    assert meta["name"] == "sentiment" and meta["version"] == MODEL_VERSION and meta["n_train"] == len(texts)
    assert meta["data_hash"] == model.info["data_hash"] and meta["created"]
    again = SentimentModel.load(path)
    assert np.allclose(again.predict_proba(probe), model.predict_proba(probe))


def test_stacked_model_uses_the_embedding_branch(tmp_path):
    texts, labels = _data()
    fake = FakeEmbedder()
    model = SentimentModel(SentimentConfig(embeddings=True, folds=3)).fit(texts, labels, embedder=fake)
    assert fake.calls >= 1 and model._embed_lr is not None
    assert model._meta.weights.shape == (2,) and np.all(model._meta.weights >= 0)  # one weight per branch
    assert model.predict(["love it, excellent", "很失望，退货了"]) == ["positive", "negative"]
    assert list((tmp_path / "home" / "emb" / "fake-test").glob("*.npz"))
    assert model.info["stack_folds"] == "stratified"


def test_grouped_stacking_holds_out_whole_groups(monkeypatch):
    nouns = ["battery", "screen", "sound", "strap", "case", "cable", "charger", "fabric", "sole"]
    zh = ["电池", "屏幕", "音质", "表带", "外壳", "数据线", "充电器", "面料", "鞋底"]
    texts = [f"the {n} is great, love it" for n in nouns] + [f"the {n} is terrible, hate it" for n in nouns] \
        + [f"{n}很好，很满意" for n in zh] + [f"{n}太差了，很失望" for n in zh]
    labels = (["positive"] * 9 + ["negative"] * 9) * 2
    products = [f"p{i % 9 // 3}" for i in range(len(texts))]  # three products, each with all four kinds
    seen = []
    real_lr = SentimentModel._lr

    def spy(self, c):
        model = real_lr(self, c)
        fit = model.fit
        model.fit = lambda X, y: seen.append(X.shape[0]) or fit(X, y)
        return model

    monkeypatch.setattr(SentimentModel, "_lr", spy)
    model = SentimentModel(SentimentConfig(embeddings=False)).fit(texts, labels, groups=products)
    assert model.info["stack_folds"] == "grouped"
    assert seen[:3] == [24, 24, 24]  # each fold's text model never saw the held-out product's 12 reviews
    assert model.predict(["the lens is great, love it", "镜头太差了，很失望"]) == ["positive", "negative"]
    two = SentimentModel(SentimentConfig(embeddings=False)).fit(texts, labels, groups=["a", "b"] * 18)
    assert two.info["stack_folds"] == "stratified"  # two groups are too few to hold one out


def test_three_way_model_keeps_label_order():
    texts, labels = _data()
    texts += ["it is okay, nothing special", "average, does the job", "一般般，凑合用", "还行吧，中规中矩"] * 3
    labels += ["neutral"] * 12
    model = SentimentModel(SentimentConfig(embeddings=False)).fit(texts, labels)
    assert model.classes == ["negative", "neutral", "positive"]
    assert model.predict(["okay, nothing special", "love it, excellent"]) == ["neutral", "positive"]


def test_train_from_store_needs_two_classes():
    reviews = [Review(f"r{i}", "p1", rating=5, text=t) for i, t in enumerate(POS_EN)]
    with pytest.raises(ValueError, match="too few rated reviews"):
        train_from_store(Store(reviews=reviews), config=SentimentConfig(embeddings=False))
    reviews += [Review(f"n{i}", "p1", rating=1, text=t) for i, t in enumerate(NEG_EN)]
    model = train_from_store(Store(reviews=reviews), config=SentimentConfig(embeddings=False))
    assert model.info["label_counts"] == {"negative": 6, "positive": 6}


def test_train_command_writes_a_versioned_artefact(tmp_path):
    reviews = [Review(f"r{i}", "p1", rating=5 if i % 2 else 1, text=t)
               for i, t in enumerate(x for pair in zip(POS_EN + POS_ZH, NEG_EN + NEG_ZH) for x in pair)]
    Store(products={}, reviews=reviews, name="tiny").save(tmp_path / "idx" / "store")
    run = subprocess.run([sys.executable, "-m", "ui.cli", "train", "sentiment", "--index", str(tmp_path / "idx"),
                          "--no-embeddings", "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    meta = json.loads((tmp_path / "idx" / "models" / "sentiment" / "meta.json").read_text())
    assert meta["source"] == "store:tiny star ratings" and meta["label_counts"] == {"negative": 12, "positive": 12}


@pytest.mark.slow
@pytest.mark.data
def test_chinese_reviews_tfidf_branch_on_a_subsample():
    from eval.sentiment_task import load_reviews, split

    df = load_reviews(shared_data("reviews_zh"), "reviews_zh")
    train, test = split(df, "reviews_zh")
    rng = np.random.default_rng(0)
    train, test = rng.choice(train, 4000, replace=False), rng.choice(test, 1000, replace=False)
    model = SentimentModel(SentimentConfig(embeddings=False)).fit(df.text[train].tolist(), df.label[train].tolist())
    acc = float(np.mean(np.array(model.predict(df.text[test].tolist())) == df.label[test].to_numpy()))
    assert acc >= 0.86, acc


@pytest.mark.slow
@pytest.mark.data
def test_english_split_is_grouped_by_text_and_eval_writes_the_contract_keys(tmp_path):
    from eval.sentiment_task import load_reviews, split

    df = load_reviews(shared_data("reviews_en"), "reviews_en")
    train, test = split(df, "reviews_en")
    assert not set(df.text[train]) & set(df.text[test])
    assert 0.17 < len(test) / len(df) < 0.23
    out = tmp_path / "r.json"
    run = subprocess.run([sys.executable, "-m", "ui.cli", "eval", "sentiment", "--data", str(shared_data("reviews_en")),
                          "--format", "reviews_en", "--no-embeddings", "--limit", "150", "--quiet", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    result = json.loads(out.read_text())
    assert {"accuracy", "macro_f1", "n", "macro_f1_3way"} <= result.keys() and result["n"] == 150
    assert "VADER" in result["baselines"] and 0 <= result["macro_f1_3way"] <= 1


@pytest.mark.slow
def test_e5_branch_transfers_from_english_to_chinese(monkeypatch):
    """Trained on English demo reviews only, the e5 branch reads Chinese ones (one multilingual space)."""
    from retrieval.demo_store import build_demo_store

    if USER_HOME:  # the user's embedding cache, not the empty per-test one
        monkeypatch.setenv("SHOPASSIST_HOME", USER_HOME)
    else:
        monkeypatch.delenv("SHOPASSIST_HOME")

    reviews = build_demo_store().reviews
    en = [r for r in reviews if r.lang == "en"][:300]
    zh = [r for r in reviews if r.lang == "zh" and r.rating != 3][:120]
    texts, labels = weak_labels(en)
    model = SentimentModel(SentimentConfig(embeddings=True)).fit(texts, labels)
    zt, zl = weak_labels(zh)
    cache = embedding_cache()
    p = model._embed_lr.predict(cache.get(zt))
    assert float(np.mean(p == np.array(zl))) >= 0.7

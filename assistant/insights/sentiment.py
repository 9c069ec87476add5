"""Review sentiment: a multilingual classifier that each store trains from its own star ratings.

Weak labels (review_labels.py): 1-2 stars negative, 4-5 positive, 3 neutral (kept for a 3-way model,
dropped for a 2-way one), so a store needs no annotation; any labelled review file trains it the same way.

The model pools two branches with non-negative weights fitted on their out-of-fold probabilities
(log_linear_pool.py):
- character n-gram + word TF-IDF logistic regression: strong in-domain, any language, no tokenizer;
- logistic regression over multilingual-e5 embeddings: transfers across languages and domains.
Embeddings are cached on disk (text_cache.py); lexicon scores (lexicon.py) are the fallback and baseline.
This module keeps the names those modules had here, so `assistant.insights.sentiment` imports still work.

Knows review texts and labels; knows nothing about products, aspects or tools (see aspects.py).
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from assistant.insights.lexicon import is_chinese, lexicon_score, lexicon_scores, snownlp_score, vader_score
from assistant.insights.log_linear_pool import LogLinearPool
from assistant.insights.model_meta import data_hash
from assistant.insights.review_labels import NEGATIVE, NEUTRAL, POSITIVE, review_text, star_label, weak_labels
from assistant.insights.text_cache import TextVectorCache, embedding_cache, home_dir

__all__ = [
    "MODEL_VERSION", "NEGATIVE", "NEUTRAL", "POSITIVE", "LogLinearPool", "SentimentConfig", "SentimentModel",
    "TextVectorCache", "data_hash", "embedding_cache", "home_dir", "is_chinese", "lexicon_score", "lexicon_scores",
    "review_text", "snownlp_score", "star_label", "train_from_store", "vader_score", "weak_labels",
]

MODEL_VERSION = 2  # 2: log-linear pool stacker


@dataclass
class SentimentConfig:
    embeddings: bool = True        # the e5 branch; off = TF-IDF branch alone (no embedder needed)
    char_ngrams: tuple[int, int] = (1, 3)
    word_ngrams: tuple[int, int] = (1, 2)
    min_df: int = 2
    c_text: float | None = None    # None: grows with the data, 1 (a few thousand store reviews, whose
    #                                 phrasing must not be memorised) up to 8 (40k+ labelled reviews)
    c_embed: float = 4.0
    l2_meta: float = 1e-3          # ridge on the pooling weights
    folds: int = 4
    max_embed_train: int = 12000   # the e5 branch and the stacker train on at most this many texts
    class_weight: str | None = "balanced"
    seed: int = 0


def _word_tokens(text: str) -> list[str]:
    # Latin words (English negation "not good" needs words); CJK is covered by the char n-grams.
    # A length bucket token keeps the vocabulary non-empty for all-Chinese data and adds a length signal.
    return [f"_len{min(len(text) // 25, 8)}", *re.findall(r"[a-z0-9']+", text.lower())]


@dataclass
class SentimentModel:
    """Stacked TF-IDF + e5 sentiment classifier. `classes` are the label strings, in column order."""

    config: SentimentConfig = field(default_factory=SentimentConfig)
    classes: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        self._vectorizer = self._text_lr = self._embed_lr = self._meta = None
        self._cache: TextVectorCache | None = None

    # -- training --
    def fit(self, texts: Sequence[str], labels: Sequence, groups: Sequence[str] | None = None, embedder=None,
            progress: bool = False) -> "SentimentModel":
        """Train both branches and the stacker. `groups` (e.g. product categories) makes the stacker's
        out-of-fold predictions come from held-out groups, so it learns how each branch does on data
        unlike its training data: the text branch memorises a store's phrasing, the e5 branch carries over."""
        texts = [str(t) for t in texts]
        y = np.array([str(v) for v in labels])
        self.classes = sorted(set(y.tolist()), key=_label_order)
        if len(self.classes) < 2:
            raise ValueError(f"sentiment training needs at least two classes, got {self.classes}")
        cfg = self.config
        X = self._fit_vectorizer(texts)
        if cfg.embeddings:
            self._cache = embedding_cache(embedder, progress=progress)
        sub = self._stack_rows(y, texts)
        g = None if groups is None else np.asarray([str(x) for x in groups])
        folds, grouped = self._folds(y[sub], None if g is None else g[sub])
        oof = [self._oof_text(X, y, sub, folds, g if grouped else None)]
        if cfg.embeddings:
            E = self._cache.get([texts[i] for i in sub])
            oof.append(self._oof(lambda: self._lr(cfg.c_embed), E, y[sub], folds))
            self._embed_lr = self._lr(cfg.c_embed).fit(E, y[sub])
        self._text_lr = self._lr(self._c_text(len(y))).fit(X, y)
        self._meta = LogLinearPool(cfg.l2_meta, cfg.class_weight).fit(oof, y[sub], self.classes)
        self.info = {"n_train": len(texts), "n_stack": int(len(sub)), "data_hash": data_hash(texts, y),
                     "label_counts": {c: int((y == c).sum()) for c in self.classes},
                     "stack_folds": "grouped" if grouped else "stratified"}
        return self

    def _folds(self, y: np.ndarray, groups: np.ndarray | None) -> tuple[list, bool]:
        """Stacking folds and whether they hold out whole groups (at least three: with two, each fold would
        learn from one half only, e.g. one language, and the stacker would learn from nonsense)."""
        from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

        smallest = min(int((y == c).sum()) for c in self.classes)
        n_folds = max(2, min(self.config.folds, smallest))
        if groups is not None and len(set(groups)) >= 3:
            n_folds = min(n_folds, len(set(groups)))
            splitter = StratifiedGroupKFold(n_folds, shuffle=True, random_state=self.config.seed)
            return list(splitter.split(y, y, groups)), True
        return list(StratifiedKFold(n_folds, shuffle=True, random_state=self.config.seed).split(y, y)), False

    def _c_text(self, n: int) -> float:
        c = self.config.c_text
        return float(c) if c is not None else float(np.clip(n / 5000, 1.0, 8.0))

    def _lr(self, c: float):
        from sklearn.linear_model import LogisticRegression
        return LogisticRegression(C=c, max_iter=3000, class_weight=self.config.class_weight)

    def _fit_vectorizer(self, texts: list[str]):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        cfg = self.config
        min_df = cfg.min_df if len(texts) >= 2000 else 1
        self._vectorizer = FeatureUnion([
            ("char", TfidfVectorizer(analyzer="char", ngram_range=tuple(cfg.char_ngrams), min_df=min_df,
                                     sublinear_tf=True, lowercase=True, dtype=np.float32)),
            ("word", TfidfVectorizer(tokenizer=_word_tokens, token_pattern=None, lowercase=False,
                                     ngram_range=tuple(cfg.word_ngrams), min_df=min_df, sublinear_tf=True,
                                     dtype=np.float32)),
        ])
        return self._vectorizer.fit_transform(texts)

    def _stack_rows(self, y: np.ndarray, texts: list[str]) -> np.ndarray:
        """Rows the e5 branch and the stacker train on: all, or a random max_embed_train of them.

        Rows whose embeddings are already cached come first (in random order), so retraining a grown
        store embeds only what it must; the sample stays random because the cache holds no preference.
        """
        n, limit = len(y), self.config.max_embed_train
        if n <= limit:
            return np.arange(n)
        rng = np.random.default_rng(self.config.seed)
        order = rng.permutation(n)
        if self._cache is not None:
            cached = np.array([self._cache.has(texts[i]) for i in order])
            order = np.concatenate([order[cached], order[~cached]])
        return np.sort(order[:limit])

    def _oof_text(self, X, y: np.ndarray, sub: np.ndarray, folds, groups: np.ndarray | None) -> np.ndarray:
        """Out-of-fold TF-IDF probabilities for the stacking rows; each fold model sees every other row
        (with groups: every row of the other groups)."""
        out = np.zeros((len(sub), len(self.classes)))
        for _, held in folds:
            mask = np.ones(len(y), dtype=bool)
            mask[sub[held]] = False
            if groups is not None:
                mask &= ~np.isin(groups, np.unique(groups[sub[held]]))
            model = self._lr(self._c_text(len(y))).fit(X[mask], y[mask])
            out[held] = _aligned(model, X[sub[held]], self.classes)
        return out

    def _oof(self, make, X: np.ndarray, y: np.ndarray, folds) -> np.ndarray:
        out = np.zeros((len(y), len(self.classes)))
        for train, held in folds:
            out[held] = _aligned(make().fit(X[train], y[train]), X[held], self.classes)
        return out

    # -- inference --
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(n, len(classes)) probabilities, columns in `classes` order."""
        if self._text_lr is None:
            raise RuntimeError("the sentiment model is not trained: call fit() or SentimentModel.load()")
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, len(self.classes)))
        parts = [_aligned(self._text_lr, self._vectorizer.transform(texts), self.classes)]
        if self._embed_lr is not None:
            self._cache = self._cache or embedding_cache()
            parts.append(_aligned(self._embed_lr, self._cache.get(texts), self.classes))
        return self._meta.predict_proba(parts)

    def predict(self, texts: Sequence[str]) -> list[str]:
        p = self.predict_proba(texts)
        return [self.classes[i] for i in p.argmax(axis=1)]

    def polarity(self, texts: Sequence[str]) -> np.ndarray:
        """P(positive) - P(negative), in [-1, 1]."""
        p = self.predict_proba(texts)
        col = {c: i for i, c in enumerate(self.classes)}
        pos = p[:, col[POSITIVE]] if POSITIVE in col else 0.0
        neg = p[:, col[NEGATIVE]] if NEGATIVE in col else 0.0
        return np.asarray(pos - neg, dtype=float)

    # -- persistence --
    def save(self, directory: str | Path) -> Path:
        import joblib

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump({"vectorizer": self._vectorizer, "text_lr": self._text_lr, "embed_lr": self._embed_lr,
                     "meta": self._meta}, directory / "model.joblib", compress=3)
        meta = {"name": "sentiment", "version": MODEL_VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "classes": self.classes, "config": asdict(self.config),
                "embedder": self._cache.name if self._cache else None, **self.info}
        (directory / "meta.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "SentimentModel":
        import joblib

        directory = Path(directory)
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        if meta.get("version") != MODEL_VERSION:
            raise ValueError(f"{directory}: sentiment model version {meta.get('version')}, this code reads "
                             f"{MODEL_VERSION}; retrain with `shopassist train sentiment`")
        cfg = dict(meta["config"])
        cfg["char_ngrams"], cfg["word_ngrams"] = tuple(cfg["char_ngrams"]), tuple(cfg["word_ngrams"])
        model = cls(config=SentimentConfig(**cfg), classes=list(meta["classes"]),
                    info={k: meta[k] for k in ("n_train", "n_stack", "data_hash", "label_counts") if k in meta})
        parts = joblib.load(directory / "model.joblib")
        model._vectorizer, model._text_lr = parts["vectorizer"], parts["text_lr"]
        model._embed_lr, model._meta = parts["embed_lr"], parts["meta"]
        return model


def _label_order(label: str) -> tuple[int, str]:
    return ({NEGATIVE: 0, NEUTRAL: 1, POSITIVE: 2}.get(label, 3), label)


def _aligned(model, X, classes: list[str]) -> np.ndarray:
    """predict_proba with columns in `classes` order (a fold may miss a rare class: its column is 0)."""
    p = model.predict_proba(X)
    out = np.zeros((p.shape[0], len(classes)))
    index = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(model.classes_):
        out[:, index[str(c)]] = p[:, j]
    return out


def train_from_store(store, neutral: bool = False, config: SentimentConfig | None = None,
                     progress: bool = False) -> SentimentModel:
    """Train on a store's own reviews with star-rating weak labels (no annotation).

    The stacker's folds hold out whole product categories, so it weighs the branches by how they do
    on products unlike the ones they learnt from."""
    rated = [r for r in store.reviews if star_label(r.rating, neutral) is not None and review_text(r)]
    texts, labels = weak_labels(rated, neutral=neutral)
    if len(set(labels)) < 2:
        raise ValueError(f"store {store.name!r} has too few rated reviews to train sentiment "
                         f"({len(texts)} usable, classes {sorted(set(labels))})")
    groups = [_category(store, r.product_id) for r in rated]
    model = SentimentModel(config or SentimentConfig())
    return model.fit(texts, labels, groups=groups if len(set(groups)) > 1 else None, progress=progress)


def _category(store, product_id: str) -> str:
    product = store.products.get(product_id)
    return product.category[0] if product is not None and product.category else ""

"""A text classifier for short utterances: word + character TF-IDF (or multilingual e5 embeddings) into a
linear SVM with sigmoid-calibrated probabilities, so callers can threshold its confidence. Optional context
text (the previous turn) gets its own features. Serves the customer-service intents and the dialogue intent.

Knows texts and labels; knows nothing about which labels exist or what they mean.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from assistant.insights.model_meta import data_hash, read_meta, write_meta


def _words(text: str) -> list[str]:
    """Latin words plus CJK character bigrams (Chinese has no spaces; bigrams approximate words)."""
    text = text.lower()
    tokens = re.findall(r"[a-z0-9']+|\{\{[^}]+\}\}", text)
    for run in re.findall(r"[\u3400-\u9fff]+", text):
        tokens += [run[i:i + 2] for i in range(max(1, len(run) - 1))]
    return tokens


@dataclass
class TextClassifier:
    """TF-IDF (words 1-2 + characters 2-5) -> LinearSVC, probabilities by sigmoid calibration."""

    c: float = 0.5
    context_weight: float = 0.5
    calibration_folds: int = 3
    kind: str = "svm"  # "svm": calibrated LinearSVC (best accuracy); "lr": logistic regression (fastest)
    features: str = "tfidf"  # "tfidf"; "e5": multilingual embeddings (few examples, cross-lingual);
    #                          "both": probabilities mixed, `mix` of the TF-IDF model and the rest e5
    mix: float = 0.3
    c_e5: float = 1.0  # the e5 model's C in "both"
    classes: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        self._vec = self._ctx_vec = self._clf = None
        self._parts: list[TextClassifier] = []

    def _features(self, texts: Sequence[str], contexts: Sequence[str] | None, fit: bool = False):
        if self.features == "e5":
            from assistant.insights.text_cache import embedding_cache

            cache = embedding_cache()
            X = cache.get(texts)
            return X if contexts is None else np.hstack([X, self.context_weight * cache.get(contexts)])
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        if fit:
            self._vec = FeatureUnion([
                ("word", TfidfVectorizer(tokenizer=_words, token_pattern=None, lowercase=False,
                                         ngram_range=(1, 2), sublinear_tf=True)),
                ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
                                         if len(texts) > 1000 else 1)),
            ])
            X = self._vec.fit_transform(texts)
            if contexts is not None:
                self._ctx_vec = TfidfVectorizer(tokenizer=_words, token_pattern=None, lowercase=False,
                                                sublinear_tf=True)
                X = sparse.hstack([X, self.context_weight * self._ctx_vec.fit_transform(contexts)]).tocsr()
            return X
        X = self._vec.transform(texts)
        if self._ctx_vec is not None:
            ctx = self._ctx_vec.transform(contexts if contexts is not None else [""] * len(texts))
            X = sparse.hstack([X, self.context_weight * ctx]).tocsr()
        return X

    def fit(self, texts: Sequence[str], labels: Sequence[str], contexts: Sequence[str] | None = None
            ) -> "TextClassifier":
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import LinearSVC

        texts, labels = [str(t) for t in texts], [str(y) for y in labels]
        self.info = {"n_train": len(texts), "data_hash": data_hash(texts, labels),
                     "label_counts": {c: labels.count(c) for c in sorted(set(labels))}}
        if self.features == "both":
            self._parts = [replace(self, features="tfidf").fit(texts, labels, contexts),
                           replace(self, features="e5", c=self.c_e5).fit(texts, labels, contexts)]
            self.classes = self._parts[0].classes
            return self
        X = self._features(texts, contexts, fit=True)
        if self.kind == "lr":
            self._clf = LogisticRegression(C=self.c, max_iter=3000, class_weight="balanced").fit(X, labels)
        else:
            smallest = min(labels.count(c) for c in set(labels))
            folds = max(2, min(self.calibration_folds, smallest))
            self._clf = CalibratedClassifierCV(LinearSVC(C=self.c, class_weight="balanced"), method="sigmoid",
                                               cv=folds).fit(X, labels)
        self.classes = [str(c) for c in self._clf.classes_]
        return self

    def predict_proba(self, texts: Sequence[str], contexts: Sequence[str] | None = None) -> np.ndarray:
        if self._parts:
            tfidf, e5 = (m.predict_proba(texts, contexts) for m in self._parts)
            return self.mix * tfidf + (1.0 - self.mix) * e5
        if self._clf is None:
            raise RuntimeError("the classifier is not trained: call fit() or load()")
        return self._clf.predict_proba(self._features([str(t) for t in texts], contexts))

    def predict(self, texts: Sequence[str], contexts: Sequence[str] | None = None) -> list[tuple[str, float]]:
        p = self.predict_proba(texts, contexts)
        return [(self.classes[i], float(row[i])) for row, i in zip(p, p.argmax(axis=1))]

    def save(self, directory: str | Path, name: str) -> Path:
        import joblib

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump({"vec": self._vec, "ctx_vec": self._ctx_vec, "clf": self._clf, "parts": self._parts},
                    directory / "model.joblib", compress=3)
        write_meta(directory, name, classes=self.classes, c=self.c, context_weight=self.context_weight,
                    calibration_folds=self.calibration_folds, kind=self.kind, features=self.features, mix=self.mix,
                    **self.info)
        return directory

    @classmethod
    def load(cls, directory: str | Path, name: str) -> "TextClassifier":
        import joblib

        meta = read_meta(directory, name)
        model = cls(c=meta["c"], context_weight=meta["context_weight"], calibration_folds=meta["calibration_folds"],
                    kind=meta["kind"], features=meta["features"], mix=meta["mix"], classes=meta["classes"],
                    info={k: meta[k] for k in ("n_train", "data_hash", "label_counts")})
        parts = joblib.load(Path(directory) / "model.joblib")
        model._vec, model._ctx_vec, model._clf = parts["vec"], parts["ctx_vec"], parts["clf"]
        model._parts = parts["parts"]
        return model

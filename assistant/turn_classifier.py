"""The learned fallback reader of a turn's action: used when no rule fires and no model is asked (`--backend none`,
a model timeout, router "plan"), and as the confidence that lets router "auto" skip the model.

Features: character n-grams (2-5, within word boundaries: robust to typos, Hinglish spellings and Chinese without
segmentation) and word uni/bigrams, TF-IDF weighted, into a multinomial logistic regression. Trained on the
generated and public utterances of assistant.utterances for the store it serves; saved beside the index as
`models/turn_classifier/` (a joblib file and a meta.json with the training counts).

Knows nothing about sessions, tools or replies.
"""
from __future__ import annotations

import json
from pathlib import Path

NAME = "turn_classifier"


class TurnClassifier:
    def __init__(self, pipeline=None, meta: dict | None = None):
        self.pipeline, self.meta = pipeline, meta or {}

    @classmethod
    def train(cls, texts: list[str], labels: list[str], meta: dict | None = None, C: float = 4.0) -> "TurnClassifier":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, make_pipeline

        features = FeatureUnion([
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=1, sublinear_tf=True,
                                      lowercase=True, max_features=60000)),
            ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b",
                                      sublinear_tf=True, lowercase=True)),
        ])
        pipeline = make_pipeline(features, LogisticRegression(C=C, max_iter=2000, class_weight="balanced"))
        pipeline.fit(texts, labels)
        return cls(pipeline, {**(meta or {}), "n": len(texts), "labels": sorted(set(labels))})

    def predict(self, text: str) -> tuple[str, float]:
        proba = self.pipeline.predict_proba([text])[0]
        i = int(proba.argmax())
        return str(self.pipeline.classes_[i]), float(proba[i])

    def proba(self, text: str) -> dict[str, float]:
        return {str(c): float(p) for c, p in zip(self.pipeline.classes_, self.pipeline.predict_proba([text])[0])}

    def save(self, models_dir: str | Path) -> Path:
        import joblib

        out = Path(models_dir) / NAME
        out.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.pipeline, out / "model.joblib")
        (out / "meta.json").write_text(json.dumps(self.meta, ensure_ascii=False, indent=1), encoding="utf-8")
        return out

    @classmethod
    def load(cls, models_dir: str | Path) -> "TurnClassifier":
        import joblib

        path = Path(models_dir) / NAME
        if not (path / "model.joblib").exists():
            raise FileNotFoundError(f"no turn classifier in {path}")
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8")) if (path / "meta.json").exists() else {}
        return cls(joblib.load(path / "model.joblib"), meta)


def train_for_store(store, models_dir: str | Path, shared_data: Path | None = None) -> TurnClassifier:
    """Train on the store's generated utterances (plus public data when present) and save beside the index."""
    from assistant.utterances import training_data

    texts, labels, sources = training_data(store, shared_data)
    clf = TurnClassifier.train(texts, labels, {"sources": sources})
    clf.save(models_dir)
    return clf

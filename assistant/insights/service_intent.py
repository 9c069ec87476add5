"""Customer-service intent (the agent console): Bitext's 27 intents with a calibrated confidence and a
`needs_human` flag. Seeds: assistant/insights/seeds/service_intents.tsv (English and Chinese).

Knows utterances, intents and the confidence threshold; knows nothing about orders, tools or the UI.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from assistant.insights.model_meta import read_meta
from assistant.insights.seed_tables import read_table
from assistant.insights.text_classifier import TextClassifier


def cs_seed_data() -> tuple[list[str], list[str]]:
    """(utterances, intents) of the built-in bilingual seeds, about 8 English + 5 Chinese per intent."""
    texts, labels = [], []
    for intent, lines in read_table("service_intents.tsv").items():
        for line in lines:
            texts.append(line)
            labels.append(intent)
    return texts, labels


ROUTE_TO_HUMAN = ("contact_human_agent", "out_of_scope")  # asked for a person; not about the shop at all


@dataclass
class CSPrediction:
    intent: str
    confidence: float
    needs_human: bool
    alternatives: list[tuple[str, float]]


class CSIntentClassifier:
    """Customer-service intent with a calibrated confidence.

    `needs_human` is set when the intent is contact_human_agent or out_of_scope, or the confidence is under `threshold`,
    which training picks from out-of-fold predictions: the lowest confidence above which at least
    `target_precision` of the predictions were right.
    """

    NAME = "cs_intent"

    def __init__(self, model: TextClassifier | None = None, threshold: float = 0.5):
        self.model, self.threshold = model, threshold

    @classmethod
    def train(cls, texts: Sequence[str] | None = None, labels: Sequence[str] | None = None,
              with_seeds: bool = True, target_precision: float = 0.9, folds: int = 3) -> "CSIntentClassifier":
        """Train on (texts, labels), plus the built-in bilingual seeds unless with_seeds is False.

        Few examples (the seeds alone: about 8 per intent) train logistic regression over e5 embeddings,
        which generalises across wordings and languages; a real data set trains the TF-IDF SVM."""
        texts, labels = list(texts or []), list(labels or [])
        if with_seeds or not texts:
            seed_t, seed_l = cs_seed_data()
            texts, labels = texts + seed_t, labels + seed_l
        small = len(texts) < 50 * len(set(labels))
        make = (lambda: TextClassifier(c=100.0, kind="lr", features="e5")) if small else TextClassifier
        conf, correct = _oof_confidence(texts, labels, folds, make)
        return cls(make().fit(texts, labels), _precision_threshold(conf, correct, target_precision))

    def predict(self, text: str) -> CSPrediction:
        p = self.model.predict_proba([text])[0]
        order = np.argsort(-p)
        best = self.model.classes[order[0]]
        conf = float(p[order[0]])
        return CSPrediction(best, conf, conf < self.threshold or best in ROUTE_TO_HUMAN,
                            [(self.model.classes[i], float(p[i])) for i in order[1:3]])

    def save(self, directory: str | Path) -> Path:
        out = self.model.save(directory, self.NAME)
        meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
        meta["threshold"] = self.threshold
        (out / "meta.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
        return out

    @classmethod
    def load(cls, directory: str | Path) -> "CSIntentClassifier":
        meta = read_meta(directory, cls.NAME)
        return cls(TextClassifier.load(directory, cls.NAME), meta.get("threshold", 0.5))


def _oof_confidence(texts: list[str], labels: list[str], folds: int, make=None) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import StratifiedKFold

    y = np.array(labels)
    smallest = min(int((y == c).sum()) for c in set(labels))
    conf, correct = np.zeros(len(y)), np.zeros(len(y), dtype=bool)
    for tr, te in StratifiedKFold(max(2, min(folds, smallest)), shuffle=True, random_state=0).split(texts, y):
        model = (make or TextClassifier)().fit([texts[i] for i in tr], y[tr].tolist())
        pred = model.predict([texts[i] for i in te])
        conf[te] = [c for _, c in pred]
        correct[te] = [lab == y[i] for (lab, _), i in zip(pred, te)]
    return conf, correct


def _precision_threshold(conf: np.ndarray, correct: np.ndarray, target: float) -> float:
    """Lowest confidence t such that predictions with confidence >= t are right at least `target` of the time."""
    for t in np.round(np.arange(0.05, 0.96, 0.05), 2):
        kept = conf >= t
        if kept.any() and correct[kept].mean() >= target:
            return float(t)
    return 0.95


def read_labelled_file(path: str | Path) -> tuple[list[str], list[str]]:
    """(texts, labels) from a CSV/TSV with utterance|text + intent|label columns, or JSONL {text, label}."""
    import pandas as pd

    path = Path(path)
    if path.suffix == ".jsonl":
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        df = pd.DataFrame(rows)
    else:
        df = pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",", encoding="utf-8-sig")
    text_col = next((c for c in ("utterance", "text", "review") if c in df.columns), None)
    label_col = next((c for c in ("intent", "label") if c in df.columns), None)
    if text_col is None or label_col is None:
        raise ValueError(f"{path}: need a text column (utterance|text) and a label column (intent|label); "
                         f"found {list(df.columns)}")
    df = df.dropna(subset=[text_col, label_col])
    return df[text_col].astype(str).tolist(), df[label_col].astype(str).tolist()

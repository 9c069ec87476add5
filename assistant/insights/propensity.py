"""Purchase propensity: gradient-boosted trees over the session features (propensity_features.py),
isotonic-calibrated, with per-feature TreeSHAP contributions as the factors behind each probability.

Knows feature frames and labels; knows nothing about stores or conversations (session_signals.py maps a live
session into the features, propensity_training.py builds training sets).
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from assistant.insights.model_meta import read_meta, write_meta
from assistant.insights.propensity_features import BASE_FEATURES, FEATURE_TEXT, complete_features
from assistant.insights.session_signals import SessionSignals


@dataclass
class Factor:
    feature: str
    description: str
    value: float | None
    contribution: float      # log-odds points (TreeSHAP) this feature adds to the prediction

    @property
    def direction(self) -> str:
        return "raises" if self.contribution > 0 else "lowers"


@dataclass
class Propensity:
    probability: float
    factors: list[Factor]
    features: dict[str, float | None]
    model: str

    def to_dict(self) -> dict:
        d = asdict(self)
        for f, obj in zip(d["factors"], self.factors):
            f["direction"] = obj.direction
        return d


@dataclass
class PurchasePropensityModel:
    """LightGBM over session features, isotonic-calibrated on out-of-fold scores; TreeSHAP factors.

    Calibration follows CalibratedClassifierCV(ensemble=False): the booster that predicts is trained
    on all rows, the isotonic map on its cross-validated scores, so the factors explain the same booster
    that produces the calibrated probability.
    """

    n_estimators: int = 400
    learning_rate: float = 0.02
    num_leaves: int = 15
    min_child_samples: int = 40
    folds: int = 5
    seed: int = 0
    features: list[str] = field(default_factory=list)
    defaults: dict[str, float] = field(default_factory=dict)
    threshold: float = 0.5
    info: dict = field(default_factory=dict)
    page_values: dict[str, float] = field(default_factory=dict)  # product -> historical page value (store)

    def __post_init__(self):
        self._booster = self._iso = None

    def _make(self):
        import lightgbm as lgb
        return lgb.LGBMClassifier(n_estimators=self.n_estimators, learning_rate=self.learning_rate,
                                  num_leaves=self.num_leaves, min_child_samples=self.min_child_samples,
                                  subsample=0.8, subsample_freq=1, colsample_bytree=0.7, reg_lambda=1.0,
                                  random_state=self.seed, n_jobs=1, verbose=-1)

    def fit(self, X, y: np.ndarray, source: str = "") -> "PurchasePropensityModel":
        from sklearn.isotonic import IsotonicRegression
        from sklearn.model_selection import StratifiedKFold

        X = complete_features(X)
        self.features = list(X.columns)
        self.defaults = {c: float(X[c].median()) for c in X.columns if X[c].notna().any()}
        raw = np.zeros(len(y))
        for tr, te in StratifiedKFold(self.folds, shuffle=True, random_state=self.seed).split(X, y):
            raw[te] = self._make().fit(X.iloc[tr], y[tr]).predict_proba(X.iloc[te])[:, 1]
        self._iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
        self._booster = self._make().fit(X, y)
        self.threshold = best_f1_threshold(np.clip(self._iso.predict(raw) + 1e-6 * (raw - 0.5), 0, 1), y)
        digest = hashlib.sha256(np.nan_to_num(X.to_numpy(dtype=float), nan=-1.0).tobytes() + np.asarray(y).tobytes())
        self.info = {"n_train": int(len(y)), "positive_rate": float(np.mean(y)), "source": source,
                     "data_hash": digest.hexdigest()[:16]}
        return self

    def _frame(self, X):
        return complete_features(X)[self.features]

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated P(purchase) per row.

        Isotonic regression is a step function: sessions in one step would tie, losing the booster's
        ranking (and PR-AUC). A 1e-6 slope on the raw score breaks the ties without moving calibration."""
        raw = self._booster.predict_proba(self._frame(X))[:, 1]
        return np.clip(self._iso.predict(raw) + 1e-6 * (raw - 0.5), 0.0, 1.0)

    def explain(self, X, top: int = 5) -> list[list[Factor]]:
        """Per row, the features with the largest TreeSHAP contributions (log-odds), largest first."""
        F = self._frame(X)
        contrib = self._booster.predict_proba(F, pred_contrib=True)[:, :-1]  # last column: the bias
        out = []
        for row, values in zip(contrib, F.to_numpy(dtype=float)):
            order = np.argsort(-np.abs(row))[:top]
            out.append([Factor(self.features[i], FEATURE_TEXT.get(self.features[i], self.features[i]),
                               None if np.isnan(values[i]) else float(values[i]), round(float(row[i]), 4))
                        for i in order if abs(row[i]) > 1e-9])
        return out

    def predict_session(self, signals: "SessionSignals", top: int = 5) -> Propensity:
        """Calibrated purchase probability of a live session and the factors behind it."""
        import pandas as pd

        feats = signals.features(self.defaults)
        X = pd.DataFrame([{c: feats.get(c, np.nan) for c in BASE_FEATURES}])
        return Propensity(round(float(self.predict_proba(X)[0]), 4), self.explain(X, top)[0],
                          {k: (None if np.isnan(v) else v) for k, v in feats.items()}, self.info.get("source", ""))

    def explain_session(self, behaviour: dict, top: int = 5) -> dict:
        """`predict_session` for a session's behaviour counts (assistant.session.Session.behaviour())."""
        return self.predict_session(SessionSignals.from_behaviour(behaviour, self.page_values), top).to_dict()

    def save(self, directory: str | Path) -> Path:
        import joblib

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump({"booster": self._booster, "iso": self._iso, "page_values": self.page_values},
                    directory / "model.joblib", compress=3)
        params = {k: getattr(self, k) for k in ("n_estimators", "learning_rate", "num_leaves", "min_child_samples",
                                                 "folds", "seed", "features", "defaults", "threshold")}
        write_meta(directory, "purchase_propensity", **params, **self.info)
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "PurchasePropensityModel":
        import joblib

        meta = read_meta(directory, "purchase_propensity")
        model = cls(**{k: meta[k] for k in ("n_estimators", "learning_rate", "num_leaves", "min_child_samples",
                                             "folds", "seed", "features", "defaults", "threshold")},
                    info={k: meta[k] for k in ("n_train", "positive_rate", "source", "data_hash") if k in meta})
        parts = joblib.load(Path(directory) / "model.joblib")
        model._booster, model._iso = parts["booster"], parts["iso"]
        model.page_values = parts.get("page_values", {})
        return model


def best_f1_threshold(p: np.ndarray, y: np.ndarray) -> float:
    from sklearn.metrics import precision_recall_curve

    prec, rec, th = precision_recall_curve(y, p)
    f1 = 2 * prec[:-1] * rec[:-1] / np.maximum(prec[:-1] + rec[:-1], 1e-12)
    return float(th[int(np.argmax(f1))]) if len(th) else 0.5

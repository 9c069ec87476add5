"""`shopassist eval intent`: purchase propensity (UCI), customer-service intents (Bitext), dialogue goals (MG-ShopDial).

- uci: stratified 5-fold cross-validation of the calibrated LightGBM propensity model against logistic
  regression and sklearn's HistGradientBoosting; `roc_auc`, `pr_auc`, `f1` (at the F1-best threshold
  chosen on each training fold's own out-of-fold scores), plus Brier score and calibration error.
- bitext: stratified 80/20 split (seed 0); calibrated TF-IDF SVM against TF-IDF + LR and the majority class.
- mgshopdial: utterance goal (recommendation | meta | qa | search), stratified 80/20 split (seed 0) of
  all utterances; the model (TF-IDF and e5 SVMs, probabilities mixed 0.3 / 0.7) sees the speaker and the
  previous utterance. Also scored on a split by
  dialogue (no conversation in both), the harder and more honest number.
Prints a table and writes JSON.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from eval.harness import print_table, run_meta, write_results
from eval.sentiment_task import run_system

FORMATS = ("uci", "bitext", "mgshopdial")
DEFAULT_FILES = {"uci": "online_shoppers_intention.csv",
                 "bitext": "Bitext_Sample_Customer_Service_Training_Dataset.csv", "mgshopdial": "MGShopDial.json"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="data file (or its folder)")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--out", required=True, help="results JSON")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (uci)")
    p.add_argument("--quiet", action="store_true")


def _path(data: str, fmt: str) -> Path:
    path = Path(data)
    return path / DEFAULT_FILES[fmt] if path.is_dir() else path


# ---- uci -------------------------------------------------------------------------------------------

def _lr_baseline():
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    from assistant.insights.intent import UCI_NUMERIC

    numeric = make_pipeline(FunctionTransformer(np.log1p), StandardScaler())
    cats = ["Month", "VisitorType", "Weekend", "TrafficType", "Browser", "OperatingSystems", "Region"]
    return make_pipeline(ColumnTransformer([("num", numeric, UCI_NUMERIC),
                                            ("cat", OneHotEncoder(handle_unknown="ignore"), cats)]),
                         LogisticRegression(max_iter=3000))


def _binary_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, brier_score_loss, f1_score, roc_auc_score

    return {"roc_auc": float(roc_auc_score(y, p)), "pr_auc": float(average_precision_score(y, p)),
            "f1": float(f1_score(y, p >= threshold)), "brier": float(brier_score_loss(y, p)),
            "ece": expected_calibration_error(y, p)}


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    return float(sum(abs(p[which == b].mean() - y[which == b].mean()) * (which == b).mean()
                     for b in range(bins) if (which == b).any()))


def eval_uci(args) -> tuple[list[dict], dict]:
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold

    from assistant.insights.intent import PurchasePropensityModel, _best_f1_threshold, uci_features

    X, y = uci_features(pd.read_csv(_path(args.data, "uci")))
    systems = {"ours: LightGBM + isotonic (+TreeSHAP factors)": lambda: PurchasePropensityModel(),
               "HistGradientBoosting (defaults)": lambda: HistGradientBoostingClassifier(random_state=0),
               "logistic regression (log + one-hot)": _lr_baseline}
    oof = {name: np.zeros(len(y)) for name in systems}
    per_fold: dict[str, list[dict]] = {name: [] for name in systems}
    folds = StratifiedKFold(args.folds, shuffle=True, random_state=0)
    for k, (tr, te) in enumerate(folds.split(X, y)):
        for name, make in systems.items():
            t0 = time.perf_counter()
            model = make().fit(X.iloc[tr], y[tr])
            p = model.predict_proba(X.iloc[te])
            p = p if p.ndim == 1 else p[:, 1]
            threshold = getattr(model, "threshold", None)
            if threshold is None:  # baselines: the F1-best threshold on their own training-fold predictions
                fit_p = model.predict_proba(X.iloc[tr])[:, 1]
                threshold = _best_f1_threshold(fit_p, y[tr])
            oof[name][te] = p
            per_fold[name].append({"fold": k, **_binary_metrics(y[te], p, threshold), "threshold": threshold,
                                   "seconds": round(time.perf_counter() - t0, 1)})
            if not args.quiet:
                print(f"fold {k} {name}: roc_auc {per_fold[name][-1]['roc_auc']:.4f}", flush=True)
    rows = []
    for name in systems:
        folds_m = per_fold[name]
        row = {"system": name, **{m: float(np.mean([f[m] for f in folds_m])) for m in
                                  ("roc_auc", "pr_auc", "f1", "brier", "ece")},
               "roc_auc_pooled": float(_binary_metrics(y, oof[name], 0.5)["roc_auc"]),
               "roc_auc_std": float(np.std([f["roc_auc"] for f in folds_m])), "n": int(len(y))}
        rows.append(row)
    return rows, {"per_fold": per_fold, "folds": args.folds, "positive_rate": float(y.mean())}


# ---- bitext ----------------------------------------------------------------------------------------

def _split(labels, seed: int = 0):
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    return train_test_split(idx, test_size=0.2, stratify=labels, random_state=seed)


def _tfidf_lr(texts, labels):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=3000)).fit(texts, labels)
    return lambda batch: model.predict(batch).tolist()


def _majority(labels):
    from collections import Counter

    top = Counter(labels).most_common(1)[0][0]
    return lambda batch: [top] * len(batch)


def eval_bitext(args) -> tuple[list[dict], dict]:
    from assistant.insights.intent import CSIntentClassifier, TextClassifier, read_labelled_file

    texts, labels = read_labelled_file(_path(args.data, "bitext"))
    tr, te = _split(labels)
    tr_t, tr_y = [texts[i] for i in tr], [labels[i] for i in tr]
    te_t, te_y = [texts[i] for i in te], [labels[i] for i in te]
    t0 = time.perf_counter()
    ours = TextClassifier().fit(tr_t, tr_y)
    train_s = time.perf_counter() - t0
    systems = {"ours: TF-IDF word+char -> calibrated LinearSVC": lambda b: [lab for lab, _ in ours.predict(b)],
               "TF-IDF word + LR (defaults)": _tfidf_lr(tr_t, tr_y), "majority class": _majority(tr_y)}
    runs = {name: run_system(name, te_t, te_y, fn, groups=te_y if name.startswith("ours") else None,
                             progress=not args.quiet) for name, fn in systems.items()}
    conf = np.array([c for _, c in ours.predict(te_t)])
    pred = [lab for lab, _ in ours.predict(te_t)]
    cs = CSIntentClassifier(ours, threshold=0.5)
    routed = [cs.predict(t).needs_human for t in te_t[:200]]
    extra = {"train_seconds": round(train_s, 1), "n_train": len(tr),
             "confidence_of_errors_mean": float(conf[[p != y for p, y in zip(pred, te_y)]].mean())
             if any(p != y for p, y in zip(pred, te_y)) else None,
             "confidence_of_correct_mean": float(conf[[p == y for p, y in zip(pred, te_y)]].mean()),
             "needs_human_rate_at_0.5_first200": float(np.mean(routed)),
             "per_intent": runs[next(iter(systems))].get("per_group")}
    return _rows(runs), extra


def _rows(runs: dict) -> list[dict]:
    return [{"system": name, **r["metrics"]} for name, r in runs.items()]


# ---- MG-ShopDial -----------------------------------------------------------------------------------

def mgshopdial_utterances(path: Path) -> list[dict]:
    """One row per utterance: dialogue id, speaker, text, previous utterance, goal."""
    rows = []
    for dialogue in json.loads(path.read_text(encoding="utf-8")):
        prev = ""
        for u in dialogue["utterances"]:
            text = f"{u['participant'].lower()}: {u['utterance'].strip()}"
            rows.append({"dialogue": str(dialogue["id"]), "text": text, "prev": prev, "goal": u["goal"]})
            prev = text
    return rows


def eval_mgshopdial(args) -> tuple[list[dict], dict]:
    from sklearn.model_selection import GroupShuffleSplit

    rows = mgshopdial_utterances(_path(args.data, "mgshopdial"))
    goals = [r["goal"] for r in rows]
    tr, te = _split(goals)
    runs = _goal_runs(rows, tr, te, args)
    gtr, gte = next(GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=0).split(
        rows, goals, groups=[r["dialogue"] for r in rows]))
    by_dialogue = _goal_runs(rows, gtr, gte, args)
    for name, r in runs.items():
        r["metrics"]["macro_f1_dialogue_split"] = by_dialogue[name]["metrics"]["macro_f1"]
        r["metrics"]["accuracy_dialogue_split"] = by_dialogue[name]["metrics"]["accuracy"]
    return _rows(runs), {"n_utterances": len(rows), "per_goal": runs[next(iter(runs))].get("per_group")}


def _goal_runs(rows: list[dict], tr, te, args) -> dict:
    from assistant.insights.intent import TextClassifier

    train = [rows[i] for i in tr]
    test = [rows[i] for i in te]
    ours = TextClassifier(c=0.3, context_weight=0.5, features="both").fit(
        [r["text"] for r in train], [r["goal"] for r in train], contexts=[r["prev"] for r in train])

    def predict_ours(batch: list[tuple[str, str]]) -> list[str]:
        return [lab for lab, _ in ours.predict([t for t, _ in batch], contexts=[c for _, c in batch])]

    gold = [r["goal"] for r in test]
    return {"ours: TF-IDF + e5 (+speaker, previous turn) -> calibrated SVMs": run_system(
                "goal", [(r["text"], r["prev"]) for r in test], gold, predict_ours, groups=gold,
                progress=not args.quiet),
            "TF-IDF utterance + LR": run_system("goal lr", [r["text"] for r in test], gold,
                                               _tfidf_lr([r["text"] for r in train], [r["goal"] for r in train]),
                                               progress=not args.quiet),
            "majority class": run_system("goal majority", [r["text"] for r in test], gold,
                                         _majority([r["goal"] for r in train]), progress=not args.quiet)}


# ---- command ---------------------------------------------------------------------------------------

def main(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    rows, extra = {"uci": eval_uci, "bitext": eval_bitext, "mgshopdial": eval_mgshopdial}[args.format](args)
    keys = ["roc_auc", "pr_auc", "f1", "brier", "ece"] if args.format == "uci" else \
        ["accuracy", "macro_f1"] + (["macro_f1_dialogue_split"] if args.format == "mgshopdial" else [])
    print_table(rows, ["system", *keys, "n"], title=f"intent: {args.format}")
    ours = rows[0]
    payload = {**{k: ours[k] for k in keys + ["n"]}, "system": ours["system"], "format": args.format,
               "data": str(args.data), "baselines": {r["system"]: r for r in rows[1:]}, **extra,
               "seconds": round(time.perf_counter() - t0, 1), "meta": run_meta(task="intent", seed=0)}
    write_results(args.out, payload)
    print(f"wrote {args.out}")
    return 0

"""`shopassist eval sentiment`: review sentiment on a labelled file, ours against lexicon and TF-IDF baselines.

The test set is always the same stratified 20% split (seed 0); for reviews_en it is grouped by review
text (27% of the texts repeat), so no text is in both train and test. `--train split` trains our model
on the other 80%; `--train store` uses only a model trained on the built-in demo store's own star
ratings (transfer: no label of this data is seen). Baselines in the same run: SnowNLP (Chinese) or
VADER (English) and character TF-IDF + logistic regression trained on the 80% split.
Prints a table and writes JSON (`accuracy`, `macro_f1`, `n`; reviews_en also `macro_f1_3way`).
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from eval.harness import Case, print_table, run_meta, run_task, write_results

FORMATS = ("reviews_zh", "reviews_en", "csv")
DEFAULT_FILES = {"reviews_zh": "online_shopping_10_cats.csv", "reviews_en": "amazon_alexa.tsv"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="labelled review file (or its folder for reviews_zh / reviews_en)")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--train", default="split", choices=["split", "store"],
                   help="split: train on the other 80%%; store: the demo store's own reviews only (transfer)")
    p.add_argument("--out", required=True, help="results JSON")
    p.add_argument("--no-embeddings", action="store_true", help="our model without the e5 branch (TF-IDF only)")
    p.add_argument("--limit", type=int, default=0,
                   help="score a stratified sample of this many test reviews (quick runs; not the reported number)")
    p.add_argument("--quiet", action="store_true")


# ---- data ------------------------------------------------------------------------------------------

def load_reviews(path: str | Path, fmt: str):
    """A frame with text, label (negative|positive), label3 (or None), category, group."""
    import pandas as pd

    path = Path(path)
    if path.is_dir():
        path = path / DEFAULT_FILES.get(fmt, "")
    if fmt == "reviews_en":
        raw = pd.read_csv(path, sep="\t", encoding="utf-8-sig")
        rating = raw["rating"].astype(float)
        df = pd.DataFrame({"text": raw["verified_reviews"].fillna("").astype(str),
                           "label": np.where(rating >= 3, "positive", "negative"),
                           "label3": np.where(rating <= 2, "negative", np.where(rating == 3, "neutral", "positive")),
                           "category": raw["variation"].astype(str).str.strip()})
    else:
        raw = pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",", encoding="utf-8-sig")
        text_col = next((c for c in ("review", "text", "verified_reviews") if c in raw.columns), None)
        if text_col is None:
            raise SystemExit(f"{path}: no review text column (review | text); columns: {list(raw.columns)}")
        df = pd.DataFrame({"text": raw[text_col].fillna("").astype(str).str.lstrip("\ufeff"),
                           "label": _binary_labels(raw, path), "label3": None,
                           "category": raw["cat"].astype(str) if "cat" in raw.columns else "all"})
    df = df[df["text"].str.strip() != ""]
    df = df[df["label"].notna()].reset_index(drop=True)
    df["group"] = df["text"]
    return df


def _binary_labels(raw, path: Path):
    from assistant.insights.sentiment import star_label

    if "label" in raw.columns:
        mapping = {"1": "positive", "0": "negative", "pos": "positive", "neg": "negative",
                   "positive": "positive", "negative": "negative"}
        return raw["label"].astype(str).str.lower().map(mapping)
    if "rating" in raw.columns:
        return raw["rating"].map(lambda r: star_label(float(r)))
    raise SystemExit(f"{path}: no label column (label 0/1 or rating 1-5); columns: {list(raw.columns)}")


def split(df, fmt: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The stratified 20% test split; grouped by text for reviews_en."""
    from sklearn.model_selection import StratifiedGroupKFold, train_test_split

    idx = np.arange(len(df))
    if fmt == "reviews_en":
        folds = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed)
        train, test = next(folds.split(idx, df["label3"], groups=df["group"]))
        return train, test
    train, test = train_test_split(idx, test_size=0.2, stratify=df["label"], random_state=seed)
    return train, test


def stratified_sample(labels: Sequence[str], n: int, seed: int = 0) -> np.ndarray:
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    if not n or n >= len(idx):
        return idx
    keep, _ = train_test_split(idx, train_size=n, stratify=labels, random_state=seed)
    return np.sort(keep)


# ---- the generic classification task (also used by eval.intent_task) --------------------------------

@dataclass
class ClassificationTask:
    """Cases are texts with an expected label; `predict(texts) -> labels` is the system under test."""

    name: str
    items: list[Case]
    predict: Callable[[list], Sequence[str]]  # inputs (texts, or tuples such as (text, context)) -> labels

    def cases(self) -> list[Case]:
        return self.items

    def run_batch(self, cases: Sequence[Case]) -> list[str]:
        return [str(p) for p in self.predict([c.input for c in cases])]

    def evaluate(self, case: Case, output: str) -> dict[str, float]:
        return {"correct": float(output == case.expected)}


def label_metrics(expected: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return {"accuracy": float(accuracy_score(expected, predicted)),
            "macro_f1": float(f1_score(expected, predicted, average="macro", zero_division=0)),
            "n": len(expected)}


def run_system(name: str, texts: Sequence, expected: Sequence[str], predict, groups: Sequence[str] | None = None,
               progress: bool = True) -> dict:
    """Run one system through the harness loop: metrics, per-group accuracy, predictions, per-case rows."""
    cases = [Case(id=str(i), input=t, expected=y) for i, (t, y) in enumerate(zip(texts, expected))]
    captured: dict = {}

    def aggregate(per_case: list[dict], outputs: list[str]) -> dict:
        captured["predictions"] = list(outputs)
        return label_metrics(expected, outputs)

    t0 = time.perf_counter()
    result = run_task(ClassificationTask(name, cases, predict), aggregate=aggregate, batch_size=2048,
                      progress=progress)
    metrics = {k: v for k, v in result.metrics.items() if k != "correct"}
    metrics["seconds"] = round(time.perf_counter() - t0, 1)
    out = {"metrics": metrics, "predictions": captured["predictions"], "per_case": result.per_case}
    if groups is not None:
        out["per_group"] = per_group(expected, captured["predictions"], groups)
    return out


def per_group(expected: Sequence[str], predicted: Sequence[str], groups: Sequence[str]) -> dict[str, dict]:
    out = {}
    for g in sorted(set(groups)):
        idx = [i for i, x in enumerate(groups) if x == g]
        out[g] = label_metrics([expected[i] for i in idx], [predicted[i] for i in idx])
    return out


# ---- systems -----------------------------------------------------------------------------------------

def lexicon_system(fmt: str, three_way: bool = False):
    """SnowNLP (Chinese: P(positive) >= 0.5) or VADER (English: compound <= -0.05 negative, < 0.05 neutral)."""
    from assistant.insights.sentiment import lexicon_scores, vader_score

    def predict(texts: list[str]) -> list[str]:
        if fmt == "reviews_zh":
            return ["positive" if s >= 0 else "negative" for s in lexicon_scores(texts)]  # SnowNLP: cached
        scores = [vader_score(t) for t in texts]
        if three_way:
            return ["negative" if s <= -0.05 else "neutral" if s < 0.05 else "positive" for s in scores]
        return ["negative" if s <= -0.05 else "positive" for s in scores]

    return predict


def tfidf_lr_system(train_texts: list[str], train_labels: list[str]):
    """The in-domain anchor: character 1-3-gram TF-IDF + logistic regression with balanced class weights
    (unweighted, it predicts the majority class on the skewed English data)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True,
                                          min_df=2 if len(train_texts) > 2000 else 1),
                          LogisticRegression(max_iter=3000, class_weight="balanced"))
    model.fit(train_texts, train_labels)
    return lambda texts: model.predict(texts).tolist()


def our_model(args, df, train_idx, fmt: str):
    """(model, description): trained on the 80% split, or on the demo store's star ratings only."""
    from assistant.insights.sentiment import SentimentConfig, SentimentModel, train_from_store

    config = SentimentConfig(embeddings=not args.no_embeddings)
    three_way = fmt == "reviews_en"
    if args.train == "store":
        from retrieval.demo_store import build_demo_store

        store = build_demo_store()
        return train_from_store(store, neutral=three_way, config=config, progress=not args.quiet), \
            f"ours (demo store {len(store.reviews)} reviews, weak labels)"
    labels = df["label3" if three_way else "label"].to_numpy()[train_idx]
    model = SentimentModel(config).fit(df["text"].to_numpy()[train_idx].tolist(), labels.tolist(),
                                       progress=not args.quiet)
    return model, "ours (80% split)"


def binary_from(model):
    """Binary labels from a 2- or 3-way model: negative when negative is the most likely class."""
    def predict(texts: list[str]) -> list[str]:
        return ["negative" if y == "negative" else "positive" for y in model.predict(texts)]
    return predict


# ---- command ---------------------------------------------------------------------------------------

def main(args: argparse.Namespace) -> int:
    fmt = args.format
    df = load_reviews(args.data, fmt)
    train_idx, test_idx = split(df, fmt)
    test_idx = test_idx[stratified_sample(df["label"].to_numpy()[test_idx], args.limit)]
    test = df.iloc[test_idx]
    texts, gold, cats = test["text"].tolist(), test["label"].tolist(), test["category"].tolist()
    three_way = fmt == "reviews_en"
    progress = not args.quiet
    print(f"{fmt}: {len(df)} reviews, train {len(train_idx)}, test {len(test)} (stratified 20%, seed 0"
          f"{', grouped by text' if three_way else ''})")

    t0 = time.perf_counter()
    model, desc = our_model(args, df, train_idx, fmt)
    train_seconds = time.perf_counter() - t0
    if model.config.embeddings:
        from assistant.insights.sentiment import embedding_cache
        embedding_cache(progress=progress).get(texts)  # one pass, cached on disk, before the timed loop
    systems = {desc: binary_from(model)}
    lex_name = "SnowNLP" if fmt == "reviews_zh" else "VADER"
    systems[lex_name] = lexicon_system(fmt)
    train_texts = df["text"].to_numpy()[train_idx].tolist()
    systems["TF-IDF char + LR (80% split)"] = tfidf_lr_system(train_texts, df["label"].to_numpy()[train_idx].tolist())

    runs = {name: run_system(name, texts, gold, fn, groups=cats, progress=progress) for name, fn in systems.items()}
    if three_way:
        gold3 = test["label3"].tolist()
        three = {desc: model.predict, lex_name: lexicon_system(fmt, three_way=True),
                 "TF-IDF char + LR (80% split)": tfidf_lr_system(train_texts,
                                                                 df["label3"].to_numpy()[train_idx].tolist())}
        for name, fn in three.items():
            r = run_system(name + " 3-way", texts, gold3, fn, progress=progress)
            runs[name]["metrics"].update({"macro_f1_3way": r["metrics"]["macro_f1"],
                                          "accuracy_3way": r["metrics"]["accuracy"]})
    return report(args, runs, desc, fmt, train_seconds, len(train_idx), model)


def report(args, runs: dict, ours: str, fmt: str, train_seconds: float, n_train: int, model) -> int:
    cols = ["system", "accuracy", "macro_f1"] + (["macro_f1_3way", "accuracy_3way"] if fmt == "reviews_en" else []) \
        + ["n", "seconds"]
    print_table([{"system": name, **r["metrics"]} for name, r in runs.items()], cols,
                title=f"review sentiment: {fmt}, --train {args.train}")
    if fmt == "reviews_zh":
        groups = sorted(runs[ours]["per_group"])
        print_table([{"category": g, **{name: r["per_group"][g]["accuracy"] for name, r in runs.items()},
                      "n": runs[ours]["per_group"][g]["n"]} for g in groups],
                    ["category", *runs, "n"], title="accuracy per category")
    payload = {**runs[ours]["metrics"], "system": ours, "train": args.train, "format": fmt, "data": str(args.data),
               "train_seconds": round(train_seconds, 1), "n_train": n_train,
               "baselines": {name: r["metrics"] for name, r in runs.items() if name != ours},
               "per_category": {name: r["per_group"] for name, r in runs.items()} if fmt == "reviews_zh" else None,
               "model": {"classes": model.classes, "config": vars(model.config), **model.info},
               "meta": run_meta(task="sentiment", seed=0, limit=args.limit or None),
               "per_case": [{**c, "pred": p} for c, p in zip(runs[ours]["per_case"], runs[ours]["predictions"])]}
    write_results(args.out, payload)
    print(f"wrote {args.out}")
    return 0

"""`shopassist train sentiment|intent|recommend --index DIR [--data FILE]`: train an index's insight models.

Artefacts go to DIR/models/<name>/ (model files + meta.json with name, version, training-data hash, date).
`train_all(store, models_dir)` trains them all with defaults (the demo build calls it).
- sentiment: the store's own reviews with star-rating weak labels, or a labelled review file (--data).
- intent: DIR/models/cs_intent (customer-service intents from --data, e.g. the Bitext CSV, plus the
  built-in bilingual seeds; the seeds alone without --data), DIR/models/dialogue_intent (per-turn
  intent) and DIR/models/purchase_propensity (the store's sessions, else the UCI CSV given with --uci).
- recommend: assistant.insights.recommend.train_recommender(store, out_dir), when that module exists.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    task = p.prog.split()[-1]
    p.add_argument("--index", required=True, help="index folder (its store is DIR/store), or 'demo'")
    if task in ("sentiment", "intent"):
        p.add_argument("--data", help="labelled training file (sentiment: reviews CSV/TSV with text + label or "
                                      "rating; intent: customer-service utterances CSV/JSONL with text + intent)")
    if task == "sentiment":
        p.add_argument("--format", default="csv", choices=["csv", "reviews_zh", "reviews_en"],
                       help="layout of --data (see `shopassist eval sentiment`)")
        p.add_argument("--neutral", action=argparse.BooleanOptionalAction, default=True,
                       help="3-way model, 3-star reviews neutral (default; --no-neutral: 2-way, 3 stars dropped)")
        p.add_argument("--no-embeddings", action="store_true", help="TF-IDF branch only (no e5 embedder)")
    if task == "intent":
        p.add_argument("--uci", help="UCI Online Shoppers CSV: propensity fallback when the store has no sessions")
        p.add_argument("--no-seeds", action="store_true", help="train customer-service intents on --data alone")
    p.add_argument("--quiet", action="store_true")


def load_store(index: str):
    """The store of an index folder (DIR/store or DIR itself), or the built-in demo store for 'demo'."""
    from retrieval.store import Store

    if index == "demo":
        from retrieval.demo_store import build_demo_store
        return build_demo_store()
    directory = Path(index)
    return Store.load(directory / "store" if (directory / "store").exists() else directory)


def models_dir(index: str) -> Path:
    """DIR/models; for 'demo' the demo index's own folder ($SHOPASSIST_HOME/demo, as `shopassist demo` uses)."""
    from assistant.insights.sentiment import home_dir

    return (home_dir() / "demo" if index == "demo" else Path(index)) / "models"


def main(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    try:
        store = load_store(args.index)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = models_dir(args.index)
    try:
        if args._task == "sentiment":
            message = train_sentiment(store, out, data=args.data, fmt=args.format, neutral=args.neutral,
                                      embeddings=not args.no_embeddings, progress=not args.quiet)
        elif args._task == "intent":
            message = train_intent(store, out, data=args.data, uci=args.uci, seeds=not args.no_seeds)
        else:
            message = train_recommend(store, out)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(message)
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


def train_all(store, out: Path) -> dict[str, str]:
    """Every insight model of a store with its defaults (the demo build calls this); a model that cannot
    be trained is reported and skipped, the others still train."""
    import logging

    log = logging.getLogger(__name__)
    results = {}
    for name, fn in (("sentiment", train_sentiment), ("intent", train_intent), ("recommend", train_recommend)):
        try:
            results[name] = fn(store, Path(out))
        except Exception as e:  # one model failing must not stop the demo from starting
            log.warning("could not train the %s model: %s", name, e)
            results[name] = f"failed: {e}"
    return results


def train_sentiment(store, out: Path, data: str | None = None, fmt: str = "csv", neutral: bool = True,
                    embeddings: bool = True, progress: bool = False) -> str:
    from assistant.insights.sentiment import SentimentConfig, SentimentModel, train_from_store

    config = SentimentConfig(embeddings=embeddings)
    if data:
        from eval.sentiment_task import load_reviews

        df = load_reviews(data, fmt)
        labels = df["label3"] if neutral and df["label3"].notna().all() else df["label"]
        if labels.nunique() < 2:
            raise ValueError(f"{data}: need reviews of at least two sentiment classes")
        model = SentimentModel(config).fit(df["text"].tolist(), labels.tolist(), progress=progress)
        source = str(data)
    else:
        model = train_from_store(store, neutral=neutral, config=config, progress=progress)
        source = f"store:{store.name} star ratings"
    model.info["source"] = source
    path = model.save(out / "sentiment")
    return f"sentiment: {model.info['n_train']} reviews {model.info['label_counts']} from {source} -> {path}"


def train_intent(store, out: Path, data: str | None = None, uci: str | None = None, seeds: bool = True) -> str:
    from assistant.insights.intent import (
        CSIntentClassifier, DialogueIntentClassifier, read_labelled_file, train_propensity,
    )

    texts, labels = read_labelled_file(data) if data else ([], [])
    cs = CSIntentClassifier.train(texts, labels, with_seeds=seeds or not texts)
    lines = [f"cs intents: {cs.model.info['n_train']} utterances, {len(cs.model.classes)} intents, needs-human "
             f"below confidence {cs.threshold:.2f} -> {cs.save(out / CSIntentClassifier.NAME)}"]
    dialogue = DialogueIntentClassifier()
    lines.append(f"dialogue intents: {dialogue.model.info['n_train']} seed utterances -> "
                 f"{dialogue.save(out / DialogueIntentClassifier.NAME)}")
    try:
        propensity = train_propensity(store, uci_csv=uci)
        lines.append(f"purchase propensity: {propensity.info} -> {propensity.save(out / 'purchase_propensity')}")
    except ValueError as e:
        lines.append(f"purchase propensity skipped: {e}")
    return "\n".join(lines)


def train_recommend(store, out: Path) -> str:
    try:
        from assistant.insights.recommend import train_recommender
    except ImportError as e:
        return f"recommend skipped: assistant.insights.recommend is not available ({e})"
    result = train_recommender(store, out / "recommend")
    return f"recommend -> {out / 'recommend'}" + (f": {json.dumps(result, default=str)[:300]}"
                                                  if isinstance(result, dict) else "")

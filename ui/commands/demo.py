"""`shopassist demo`: build the built-in demo store, its index and insight models if missing, then serve the
shopper chat and agent console on it."""
from __future__ import annotations

import argparse
import logging
import shutil
import time
from pathlib import Path

from ui.commands.serve import add_backend_arguments

log = logging.getLogger(__name__)


from retrieval.text import home_dir  # noqa: E402  (one definition of the home folder)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_backend_arguments(p, 7860)
    p.add_argument("--rebuild", action="store_true", help="rebuild the demo index and models from scratch")


def ensure_demo_index(directory: str | Path | None = None, rebuild: bool = False, seed: int = 0, **store_kw) -> Path:
    """The demo index folder (store + vectors + models), built on first use (a few minutes on 2 cores).
    store_kw (n_products, n_users) make a smaller store, for tests."""
    from retrieval.demo_store import build_demo_store
    from retrieval.search import ProductIndex

    directory = Path(directory) if directory else home_dir() / "demo"
    if rebuild and directory.exists():
        shutil.rmtree(directory)
    if not (directory / "index" / "index.json").exists():
        t0 = time.perf_counter()
        print(f"building the demo store and index in {directory} (first run only: a few minutes)...", flush=True)
        tmp = directory.with_name(directory.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        store = build_demo_store(seed, **store_kw)
        ProductIndex.build(store).save(tmp)
        train_models(store, tmp / "models")
        if directory.exists():
            shutil.rmtree(directory)
        tmp.rename(directory)  # a crash never leaves a half-built index behind
        print(f"demo index ready in {time.perf_counter() - t0:.0f} s", flush=True)
    return directory


def train_models(store, models_dir: Path) -> None:
    """The insight models: `ui.commands.train.train_all(store, models_dir)` when that module provides it,
    otherwise the agent console's two (customer-service intent on the built-in seeds, purchase propensity on
    the store's sessions); anything missing falls back at run time, so a failure here is only a warning."""
    try:
        from ui.commands import train as train_cmd
    except ImportError:
        train_cmd = None
    if hasattr(train_cmd, "train_all"):
        train_cmd.train_all(store, models_dir)
        return
    from assistant.insights.intent import CSIntentClassifier, train_propensity

    for name, make in (("cs_intent", CSIntentClassifier.train), ("purchase_propensity", lambda: train_propensity(store))):
        try:
            make().save(models_dir / name)
        except Exception as e:
            log.warning("could not train the %s model: %s", name, e)


def main(args: argparse.Namespace) -> int:
    from ui.commands import serve

    args.index = str(ensure_demo_index(args.index, rebuild=args.rebuild))
    return serve.main(args)

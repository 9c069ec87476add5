"""`shopassist index`: ingest a catalog, report every problem row, build and save the search index."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from retrieval.catalog import FORMATS, CatalogError, load_catalog, parse_mapping
from retrieval.search import ProductIndex, SearchConfig


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--catalog", required=True, help="catalog file, or 'demo' for the built-in demo store")
    p.add_argument("--format", choices=FORMATS, help="catalog format (guessed from the file suffix when omitted)")
    p.add_argument("--map", action="append", metavar="FIELD=COLUMN", help="map a product field to a column")
    p.add_argument("--out", required=True, help="index folder to write")
    p.add_argument("--strict", action="store_true", help="fail on any rejected or repaired row")
    p.add_argument("--embedder", default="e5", help="e5 (multilingual, default), minilm, or st:/path")
    p.add_argument("--index-kind", default="auto", choices=["auto", "flat", "hnsw", "ivf"])
    p.add_argument("--vectors", default="faiss", choices=["faiss", "pgvector"],
                   help="where the product vectors live: FAISS files in --out (default) or a Postgres table")
    p.add_argument("--vector-db", help="postgresql:// URL for --vectors pgvector (or $SHOPASSIST_VECTOR_DB)")
    p.add_argument("--quiet", action="store_true")


def main(args: argparse.Namespace) -> int:
    import os

    from tqdm import tqdm

    from retrieval.threads import allowed_cpus

    # a batch job: embed on every core this process may use (serving follows the free cores, retrieval/threads.py;
    # under load 13, 2 threads still embedded 1.3x faster than 1: docs/results/speed.md)
    os.environ.setdefault("SHOPASSIST_EMBED_THREADS", str(len(allowed_cpus())))
    os.environ["SHOPASSIST_VECTORS"] = args.vectors  # read by retrieval.vector_backends
    if args.vector_db:
        os.environ["SHOPASSIST_VECTOR_DB"] = args.vector_db
    try:
        store, report = load_catalog(args.catalog, args.format, parse_mapping(args.map), strict=args.strict)
    except CatalogError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(report.summary())
    for issue in report.issues[:50]:
        print(f"  {issue}")
    if len(report.issues) > 50:
        print(f"  ... {len(report.issues) - 50} more in {Path(args.out) / 'ingest_report.json'}")
    bar = tqdm(total=len(store.products), desc="embedding", unit="product", disable=args.quiet)

    def progress(done: int, total: int) -> None:
        bar.update(done - bar.n)

    t0 = time.perf_counter()
    index = ProductIndex.build(store, config=SearchConfig(embedder=args.embedder, index_kind=args.index_kind),
                               progress=progress)
    bar.close()
    seconds = time.perf_counter() - t0
    out = index.save(args.out)
    (out / "ingest_report.json").write_text(json.dumps(report.to_dict(), indent=1, ensure_ascii=False))
    if args.format == "taubench_retail":
        if save_service_data(args.catalog, out) != 0:
            return 2
    from assistant.turn_classifier import train_for_store

    train_for_store(store, out / "models")  # the learned reader of turns for this store's own vocabulary
    print(f"indexed {len(index)} products in {seconds:.1f} s ({len(index) / max(seconds, 1e-9):.1f} products/s) "
          f"-> {out}")
    return 0


def save_service_data(folder: str, out: Path) -> int:
    """The service records (users, orders, products, policy) beside the index, in `<out>/service/`."""
    from assistant.service.data import RetailData, RetailDataError

    try:
        data = RetailData.load(folder)
    except RetailDataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    saved = data.save(Path(out) / "service")
    print(f"service data: {len(data.users)} users, {len(data.orders)} orders, {len(data.products)} products -> {saved}")
    return 0

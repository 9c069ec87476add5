"""How far the search's `relevant` flag can be trusted: it decides "here are N matches" vs "we don't carry that",
and which products a sorted list ("the cheapest ...") may hold.

    python benchmarks/relevance_flag.py --index DIR [--queries eval/suites/retrieval_amazon_en_dev.jsonl] [--json out.json]

On labelled queries (the retrieval dev set: graded relevant products per query):
- need found: share of queries where at least one of the first k hits is flagged relevant;
- flag precision: share of flagged hits (first k) that the labels call relevant (grade >= 1);
- deep flag precision: the same over the first 50 hits, which is what a sorted search lists from.
On queries for product kinds the amazon_in catalog does not sell (written for this script; none of the words
occurs in a title there): false match rate, the share where any of the first k hits is flagged relevant.
A flag that is always true scores 1.0 on "need found" and badly on the other three; always false the opposite.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ABSENT = ["treadmill for home workouts", "double door refrigerator", "acoustic guitar for beginners",
          "orthopedic mattress queen size", "car tyre 185/65 R15", "matte lipstick red", "pair of 5 kg dumbbells",
          "analog wristwatch for men", "silk saree for a wedding", "camera drone with 4k", "microwave oven 20 litre",
          "kitchen chimney 60 cm", "english willow cricket bat", "football size 5", "baby stroller foldable",
          "aquarium filter pump", "pressure cooker 5 litre", "dishwasher for 12 place settings",
          "ergonomic office chair", "cotton double bedsheet", "leather wallet for men", "polarised sunglasses",
          "bike helmet isi marked", "yoga mat 6mm", "dry dog food 10 kg", "跑步机", "冰箱", "吉他", "床垫", "口红"]


def score(cases: list[dict], absent: list[str], search, k: int = 5) -> dict:
    """The four figures; `search(query, filters, k)` returns [(product_id, relevant flag)] best first."""
    found = flagged = right = deep_flagged = deep_right = 0
    for q in cases:
        labels = {pid for pid, g in q["relevant"].items() if float(g) >= 1}
        hits = search(q["query"], q.get("filters") or {}, 50)
        top = [pid for pid, ok in hits[:k] if ok]
        deep = [pid for pid, ok in hits if ok]
        found += bool(top)
        flagged, right = flagged + len(top), right + sum(pid in labels for pid in top)
        deep_flagged, deep_right = deep_flagged + len(deep), deep_right + sum(pid in labels for pid in deep)
    false_match = sum(any(ok for _, ok in search(q, {}, k)) for q in absent)
    return {"queries": len(cases), "need_found": found / max(len(cases), 1), "flag_precision": right / max(flagged, 1),
            "deep_flag_precision": deep_right / max(deep_flagged, 1), "absent_queries": len(absent),
            "false_match_rate": false_match / max(len(absent), 1)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", required=True)
    p.add_argument("--queries", default=str(ROOT / "eval/suites/retrieval_amazon_en_dev.jsonl"))
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--json")
    args = p.parse_args(argv)
    from retrieval.search import ProductIndex

    idx = ProductIndex.load(args.index)
    cases = [json.loads(line) for line in Path(args.queries).read_text(encoding="utf-8").splitlines() if line.strip()]
    out = score(cases, ABSENT, lambda q, f, k: [(h.product_id, h.relevant) for h in idx.search(q, f, k=k)], args.k)
    print("| labelled queries | need found | flag precision (first %d) | flag precision (first 50) | absent kinds | "
          "false match rate |" % args.k)
    print("|---|---|---|---|---|---|")
    print(f"| {out['queries']} | {out['need_found']:.3f} | {out['flag_precision']:.3f} | {out['deep_flag_precision']:.3f} "
          f"| {out['absent_queries']} | {out['false_match_rate']:.3f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

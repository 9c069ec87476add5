"""Check the evaluation suite files in this folder (or the files named on the command line).

    python eval/suites/validate_suites.py [FILE ...]

Two formats (see DESIGN.md, "Evaluation file formats"), told apart by the file name:
- `retrieval_*.jsonl`: {"qid", "query", "filters"?, "relevant": {product_id: 1|2}}
- `dialogues_*.jsonl`: {"did", "user_id"?, "turns": [{"user", "expect": {...}}]}

Always checked: JSON per line, required keys, unique ids, value types, known filter keys, known tools
and argument names (the tool contract in DESIGN.md), known intents. Checked against the data when it
is available:
- files named `*amazon*`: every product id (relevance judgments, `args_contain` product ids, ids in
  `must_mention_any`) exists in ../shared/data/catalog_amazon_in/amazon.csv, and every judged product of
  a filtered query satisfies the filters (price on every duplicate row, rating, category path level,
  brand = first word of the title, the same normalisation as retrieval/filters.py);
- files named `*demo*`: product, user and order ids exist in the built-in demo store (seed 0), and an
  `order_status` order id expected to be looked up (turn not a refusal) belongs to the dialogue's user.

Exit status 1 when any problem is found. Standard library only (the demo check imports the package).
"""
from __future__ import annotations

import csv
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SHARED_DATA = Path(os.environ.get("SHOPASSIST_SHARED_DATA", ROOT.parent / "shared" / "data"))
AMAZON_CSV = SHARED_DATA / "catalog_amazon_in" / "amazon.csv"

# The tool contract (DESIGN.md, "Tools"): name -> argument names.
TOOLS: dict[str, set[str]] = {
    "search_products": {"query", "max_price", "min_price", "min_rating", "category", "brand", "k"},
    "get_product": {"product_id"},
    "compare_products": {"product_ids"},
    "review_sentiment_summary": {"product_id", "aspect"},
    "recommend": {"context", "k"},
    "predict_order_intent": set(),
    "add_to_cart": {"product_id", "quantity"},
    "order_status": {"order_id"},
}
NUMERIC_ARGS = {"max_price", "min_price", "min_rating", "k", "quantity"}
FILTER_KEYS = {"max_price", "min_price", "min_rating", "category", "brand"}
INTENTS = {"browse", "compare", "purchase", "support", "chitchat"}
EXPECT_KEYS = {"tools", "args_contain", "must_mention_any", "must_not_claim", "intent",
               "expect_no_products", "expect_refusal", "forbidden_tools"}
ASIN = re.compile(r"^B[0-9A-Z]{9}$")


def normalise_label(text: str) -> str:
    """Same as retrieval.filters.normalise_label: lower-case, drop spaces and punctuation."""
    return re.sub(r"[\W_]+", "", str(text).lower())


def suite_kind(path: Path) -> str | None:
    name = path.name
    if name.startswith("retrieval_"):
        return "retrieval"
    if name.startswith("dialogues_"):
        return "dialogues"
    return None


def read_lines(path: Path, errors: list[str]) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"{path.name}:{n}: not JSON ({e})")
                continue
            if not isinstance(obj, dict):
                errors.append(f"{path.name}:{n}: a line must be a JSON object")
                continue
            rows.append((n, obj))
    if not rows:
        errors.append(f"{path.name}: no records")
    return rows


# --------------------------------------------------------------------------- catalogs

@dataclass
class CatalogItem:
    product_id: str
    title: str
    brand: str
    category: list[str]
    prices: list[float] = field(default_factory=list)   # one per CSV row (duplicates may disagree)
    rating: float | None = None


def _price(text: str) -> float | None:
    text = str(text or "").replace("₹", "").replace(",", "").strip()
    try:
        return float(text)
    except ValueError:
        return None


def load_amazon_catalog(path: Path = AMAZON_CSV) -> dict[str, CatalogItem]:
    items: dict[str, CatalogItem] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            pid = row["product_id"].strip()
            item = items.get(pid)
            if item is None:
                title = row["product_name"].strip()
                try:
                    rating = float(row["rating"])
                except (TypeError, ValueError):
                    rating = None
                item = items[pid] = CatalogItem(pid, title, title.split()[0] if title else "",
                                                row["category"].split("|"), [], rating)
            price = _price(row["discounted_price"])
            if price is not None:
                item.prices.append(price)
    return items


def filter_violations(item: CatalogItem, filters: dict[str, Any]) -> list[str]:
    bad = []
    if "max_price" in filters and (not item.prices or max(item.prices) > float(filters["max_price"])):
        bad.append(f"max_price {filters['max_price']} (prices {item.prices})")
    if "min_price" in filters and (not item.prices or min(item.prices) < float(filters["min_price"])):
        bad.append(f"min_price {filters['min_price']} (prices {item.prices})")
    if "min_rating" in filters and (item.rating is None or item.rating < float(filters["min_rating"])):
        bad.append(f"min_rating {filters['min_rating']} (rating {item.rating})")
    if "category" in filters:
        w = normalise_label(filters["category"])
        if not w or not any(w in normalise_label(level) for level in item.category):
            bad.append(f"category {filters['category']!r} (path {'|'.join(item.category)})")
    if "brand" in filters and normalise_label(item.brand) != normalise_label(filters["brand"]):
        bad.append(f"brand {filters['brand']!r} (brand {item.brand!r})")
    return bad


@dataclass
class DemoIndex:
    product_ids: set[str]
    user_ids: set[str]
    order_owner: dict[str, str]


def load_demo_index(seed: int = 0) -> DemoIndex:
    sys.path.insert(0, str(ROOT))
    from retrieval.demo_store import build_demo_store  # noqa: E402  (the package, not stdlib)

    store = build_demo_store(seed=seed)

    def records(name: str) -> Iterable[Any]:
        value = getattr(store, name, None)
        if value is None and isinstance(store, dict):
            value = store.get(name)
        if isinstance(value, dict):
            value = value.values()
        return list(value or [])

    def attr(rec: Any, key: str) -> Any:
        return rec.get(key) if isinstance(rec, dict) else getattr(rec, key)

    return DemoIndex(product_ids={attr(p, "product_id") for p in records("products")},
                     user_ids={attr(u, "user_id") for u in records("users")},
                     order_owner={attr(o, "order_id"): attr(o, "user_id") for o in records("orders")})


# --------------------------------------------------------------------------- retrieval suites

def validate_retrieval(path: Path, catalog: dict[str, CatalogItem] | None = None) -> list[str]:
    errors: list[str] = []
    seen: set[str] = set()
    for n, q in read_lines(path, errors):
        where = f"{path.name}:{n}"
        unknown = set(q) - {"qid", "query", "filters", "relevant"}
        if unknown:
            errors.append(f"{where}: unknown keys {sorted(unknown)}")
        qid = q.get("qid")
        if not isinstance(qid, str) or not qid:
            errors.append(f"{where}: qid must be a non-empty string")
        elif qid in seen:
            errors.append(f"{where}: duplicate qid {qid}")
        else:
            seen.add(qid)
        if not isinstance(q.get("query"), str) or not q["query"].strip():
            errors.append(f"{where}: query must be a non-empty string")
        filters = q.get("filters") or {}
        if not isinstance(filters, dict):
            errors.append(f"{where}: filters must be an object")
            filters = {}
        for k, v in filters.items():
            if k not in FILTER_KEYS:
                errors.append(f"{where}: unknown filter {k!r} (known: {sorted(FILTER_KEYS)})")
            elif k in ("max_price", "min_price", "min_rating"):
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    errors.append(f"{where}: filter {k} must be a number")
            elif not isinstance(v, str) or not v.strip():
                errors.append(f"{where}: filter {k} must be a non-empty string")
        if "min_price" in filters and "max_price" in filters and filters["min_price"] > filters["max_price"]:
            errors.append(f"{where}: min_price > max_price")
        rel = q.get("relevant")
        if not isinstance(rel, dict) or not rel:
            errors.append(f"{where}: relevant must be a non-empty object")
            continue
        for pid, grade in rel.items():
            if isinstance(grade, bool) or grade not in (1, 2):
                errors.append(f"{where}: grade of {pid} must be 1 or 2, got {grade!r}")
        if catalog is None:
            continue
        for pid in rel:
            item = catalog.get(pid)
            if item is None:
                errors.append(f"{where}: {qid}: product {pid} is not in the catalog")
                continue
            for v in filter_violations(item, filters):
                errors.append(f"{where}: {qid}: judged product {pid} violates filter {v}")
    return errors


# --------------------------------------------------------------------------- dialogue suites

def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def validate_dialogues(path: Path, catalog_ids: set[str] | None = None,
                       demo: DemoIndex | None = None) -> list[str]:
    errors: list[str] = []
    seen: set[str] = set()
    known_ids = catalog_ids if catalog_ids is not None else (demo.product_ids if demo else None)
    for n, d in read_lines(path, errors):
        where = f"{path.name}:{n}"
        unknown = set(d) - {"did", "user_id", "turns"}
        if unknown:
            errors.append(f"{where}: unknown keys {sorted(unknown)}")
        did = d.get("did")
        if not isinstance(did, str) or not did:
            errors.append(f"{where}: did must be a non-empty string")
        elif did in seen:
            errors.append(f"{where}: duplicate did {did}")
        else:
            seen.add(did)
        user_id = d.get("user_id")
        if user_id is not None and (not isinstance(user_id, str) or not user_id):
            errors.append(f"{where}: user_id must be a non-empty string when given")
        if demo is not None and user_id is not None and user_id not in demo.user_ids:
            errors.append(f"{where}: {did}: user {user_id} is not in the demo store")
        turns = d.get("turns")
        if not isinstance(turns, list) or not turns:
            errors.append(f"{where}: turns must be a non-empty list")
            continue
        for i, turn in enumerate(turns, 1):
            tw = f"{where}: {did} turn {i}"
            if not isinstance(turn, dict) or set(turn) - {"user", "expect"}:
                errors.append(f"{tw}: a turn is an object with keys user, expect")
                continue
            if not isinstance(turn.get("user"), str) or not turn["user"].strip():
                errors.append(f"{tw}: user must be a non-empty string")
            exp = turn.get("expect", {})
            if not isinstance(exp, dict):
                errors.append(f"{tw}: expect must be an object")
                continue
            errors += [f"{tw}: {m}" for m in _check_expect(exp, known_ids, demo, user_id)]
    return errors


def _check_expect(exp: dict[str, Any], known_ids: set[str] | None, demo: DemoIndex | None,
                  user_id: str | None) -> list[str]:
    errs: list[str] = []
    unknown = set(exp) - EXPECT_KEYS
    if unknown:
        errs.append(f"unknown expect keys {sorted(unknown)}")
    tools = exp.get("tools", [])
    forbidden = exp.get("forbidden_tools", [])
    for key, names in (("tools", tools), ("forbidden_tools", forbidden)):
        if not isinstance(names, list) or not all(isinstance(t, str) for t in names):
            errs.append(f"{key} must be a list of tool names")
            continue
        for t in names:
            if t not in TOOLS:
                errs.append(f"unknown tool {t!r} in {key}")
    if isinstance(tools, list) and isinstance(forbidden, list) and set(tools) & set(forbidden):
        errs.append(f"tools {sorted(set(tools) & set(forbidden))} both expected and forbidden")
    args = exp.get("args_contain")
    product_refs: list[str] = []
    if args is not None:
        if not isinstance(args, dict) or not args:
            errs.append("args_contain must be a non-empty object")
        else:
            allowed = set().union(*(TOOLS.get(t, set()) for t in tools)) if tools else set()
            if not tools:
                errs.append("args_contain needs the tools whose arguments it names")
            for k, v in args.items():
                if allowed and k not in allowed:
                    errs.append(f"argument {k!r} belongs to none of the expected tools {tools}")
                if k in NUMERIC_ARGS and not _is_number(v):
                    errs.append(f"argument {k} must be a number")
                if k == "product_ids":
                    if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v):
                        errs.append("product_ids must be a non-empty list of ids")
                    else:
                        product_refs += v
                elif k in ("product_id", "order_id", "query", "category", "brand", "context", "aspect"):
                    if not isinstance(v, str) or not v.strip():
                        errs.append(f"argument {k} must be a non-empty string")
                    elif k == "product_id":
                        product_refs.append(v)
    for key in ("must_mention_any", "must_not_claim"):
        v = exp.get(key)
        if v is not None and (not isinstance(v, list) or not v or
                              not all(isinstance(s, str) and s.strip() for s in v)):
            errs.append(f"{key} must be a non-empty list of strings")
    mentions = exp.get("must_mention_any") or []
    product_refs += [s for s in mentions if isinstance(s, str) and ASIN.match(s)]
    if "intent" in exp and exp["intent"] not in INTENTS:
        errs.append(f"intent {exp['intent']!r} not in {sorted(INTENTS)}")
    for key in ("expect_no_products", "expect_refusal"):
        if key in exp and not isinstance(exp[key], bool):
            errs.append(f"{key} must be true or false")
    if exp.get("expect_no_products") and mentions and any(ASIN.match(s) for s in mentions):
        errs.append("expect_no_products turn must not require product ids in must_mention_any")
    if known_ids is not None:
        for pid in product_refs:
            if pid not in known_ids:
                errs.append(f"product {pid} is not in the catalog")
    if demo is not None and isinstance(args, dict) and "order_id" in args:
        owner = demo.order_owner.get(args["order_id"])
        if owner is None:
            errs.append(f"order {args['order_id']} is not in the demo store")
        elif not exp.get("expect_refusal") and owner != user_id:
            errs.append(f"order {args['order_id']} belongs to {owner}, not to the dialogue's user {user_id}")
    return errs


# --------------------------------------------------------------------------- driver

def validate_file(path: Path, amazon: dict[str, CatalogItem] | None = None,
                  demo: DemoIndex | None = None) -> list[str]:
    kind = suite_kind(path)
    uses_amazon = "amazon" in path.name
    uses_demo = "demo" in path.name
    if kind == "retrieval":
        return validate_retrieval(path, amazon if uses_amazon else None)
    if kind == "dialogues":
        return validate_dialogues(path, set(amazon) if (uses_amazon and amazon) else None,
                                  demo if uses_demo else None)
    return [f"{path.name}: not a suite file (expected retrieval_*.jsonl or dialogues_*.jsonl)"]


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(HERE.glob("*.jsonl"))
    amazon = load_amazon_catalog() if AMAZON_CSV.exists() else None
    if amazon is None:
        print(f"note: {AMAZON_CSV} absent: amazon product ids and filters not checked")
    demo = None
    if any("demo" in p.name for p in paths):
        try:
            demo = load_demo_index()
        except ImportError as e:
            print(f"note: demo store unavailable ({e}): demo ids not checked")
    total = 0
    for p in paths:
        errs = validate_file(p, amazon, demo)
        total += len(errs)
        for e in errs:
            print(e)
        print(f"{p.name}: {'ok' if not errs else f'{len(errs)} problem(s)'}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Catalog ingestion of a tau-bench retail folder: product types become searchable products.

Each product type is one `Product`: its name as title and category, its variants' option values as
attributes and description ("color: black, white; size: S, M"), the lowest available variant's price.
Users and their orders go into the store too (orders as product ids with prices), so the rest of the
project sees the shop's customers. The full service records (variants, payments, addresses) are read by
`assistant.service.data`, not here. Problem records are reported with file, line and reason.

Knows the folder's JSON layout; nothing about indexing, service rules or who may see what.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from retrieval.schema import Order, OrderItem, User
from retrieval.store import Store


def read_table(path: Path, error: type[Exception]) -> tuple[dict[str, Any], str]:
    """(records keyed by id, the file's text) of one JSON table; `error` names the file and line."""
    if not path.exists():
        raise error(f"tau-bench retail folder {path.parent} has no {path.name}")
    text = path.read_text(encoding="utf-8")
    try:
        table = json.loads(text)
    except json.JSONDecodeError as e:
        raise error(f"{path}:{e.lineno}: invalid JSON ({e.msg})") from e
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        raise error(f"{path}:1: expected an object of records keyed by id")
    return table, text


def line_of(text: str, key: str) -> int:
    """1-based line of the first `"key":` in a JSON text (1 when not found)."""
    m = re.search(re.escape(json.dumps(key)) + r"\s*:", text)
    return text.count("\n", 0, m.start()) + 1 if m else 1


def product_row(pid: str, p: dict[str, Any]) -> dict[str, Any]:
    variants = [v for v in (p.get("variants") or {}).values() if isinstance(v, dict)]
    options: dict[str, set[str]] = {}
    for v in variants:
        for k, x in (v.get("options") or {}).items():
            options.setdefault(k, set()).add(str(x))
    attributes = {k: ", ".join(sorted(x)) for k, x in options.items()}
    available = [v["price"] for v in variants if v.get("available") and isinstance(v.get("price"), (int, float))]
    described = "; ".join(f"{k}: {x}" for k, x in attributes.items())
    return {"product_id": pid, "title": p.get("name"), "category": [p.get("name") or ""], "brand": "",
            "price": min(available) if available else None, "currency": "USD", "lang": "en",
            "description": f"{p.get('name')} in {len(variants)} variants ({len(available)} available). {described}.",
            "attributes": {**attributes, "variants": len(variants)}}


def load_taubench_retail(folder: Path, builder) -> Store:
    from retrieval.catalog import CatalogError

    products, text = read_table(folder / "products.json", CatalogError)
    store = Store(name=folder.name)
    for pid, p in products.items():
        builder.report.rows_read += 1
        if not isinstance(p, dict) or not p.get("variants"):
            builder.issue(line_of(text, pid), "rejected", f"product {pid}: no variants")
            continue
        product = builder.build(product_row(pid, p), line_of(text, pid))
        if product is not None:
            store.products[product.product_id] = product
    users, _ = read_table(folder / "users.json", CatalogError)
    for uid, u in users.items():
        name = (u.get("name") or {}) if isinstance(u, dict) else {}
        store.users[uid] = User(user_id=uid, name=f"{name.get('first_name', '')} {name.get('last_name', '')}".strip())
    orders, _ = read_table(folder / "orders.json", CatalogError)
    for oid, o in orders.items():
        if isinstance(o, dict) and o.get("user_id") in store.users:
            items = [OrderItem(i.get("product_id", ""), 1, float(i.get("price") or 0)) for i in o.get("items") or []]
            store.orders[oid] = Order(order_id=oid, user_id=o["user_id"], items=items, status=str(o.get("status")))
    policy = folder / "policy.md"
    store.policy = policy.read_text(encoding="utf-8") if policy.exists() else ""
    return store

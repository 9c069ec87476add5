"""The retail service data as loaded from files: users, orders, products (tau-bench's retail layout).

`RetailData.load(folder)` reads `users.json`, `orders.json`, `products.json` (and `policy.md` when present),
checks every record's required fields and reports problems with file, line and record key; `save(folder)`
writes the same layout (the copy kept beside a search index). The records stay plain JSON dicts, exactly
as the benchmark stores them, so a database after some actions compares field for field with the
benchmark's.

Knows the file layout and record shapes; nothing about who may change what (see `policy`) or where
changes are kept (see `records`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.catalog_taubench import line_of, read_table

FILES = ("users.json", "orders.json", "products.json")
USER_FIELDS = ("name", "address", "email", "payment_methods", "orders")
ORDER_FIELDS = ("order_id", "user_id", "address", "items", "status", "payment_history")
ITEM_FIELDS = ("name", "product_id", "item_id", "price", "options")
PRODUCT_FIELDS = ("name", "product_id", "variants")
VARIANT_FIELDS = ("item_id", "options", "available", "price")
ADDRESS_FIELDS = ("address1", "address2", "city", "state", "country", "zip")


class RetailDataError(ValueError):
    """Service data that cannot be used: a missing file, invalid JSON or a record missing a field."""


@dataclass
class RetailData:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    policy: str = ""

    @classmethod
    def load(cls, folder: str | Path) -> RetailData:
        folder = Path(folder)
        if not folder.is_dir():
            raise RetailDataError(f"service data folder not found: {folder}")
        tables = {name: _read(folder / name) for name in FILES}
        data = cls(users=tables["users.json"][0], orders=tables["orders.json"][0],
                   products=tables["products.json"][0])
        policy = folder / "policy.md"
        data.policy = policy.read_text(encoding="utf-8") if policy.exists() else ""
        problems = data.problems({name: text for name, (_, text) in tables.items()}, folder)
        if problems:
            more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
            raise RetailDataError(f"{len(problems)} problem records in {folder}:\n" + "\n".join(problems[:20]) + more)
        return data

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, table in zip(FILES, (self.users, self.orders, self.products)):
            (folder / name).write_text(json.dumps(table, indent=1, ensure_ascii=False), encoding="utf-8")
        (folder / "policy.md").write_text(self.policy, encoding="utf-8")
        return folder

    # ---- validation ------------------------------------------------------------------------------
    def problems(self, texts: dict[str, str] | None = None, folder: Path | None = None) -> list[str]:
        """Every record missing a required field, or pointing at a user/product that does not exist."""
        texts = texts or {}
        out: list[str] = []

        def report(file: str, key: str, what: str) -> None:
            where = folder / file if folder else Path(file)
            out.append(f"{where}:{line_of(texts.get(file, ''), key)}: {key}: {what}")

        for uid, u in self.users.items():
            _missing(u, USER_FIELDS, lambda w, k=uid: report("users.json", k, w))
            if isinstance(u.get("address"), dict):
                _missing(u["address"], ADDRESS_FIELDS, lambda w, k=uid: report("users.json", k, "address " + w))
        for oid, o in self.orders.items():
            _missing(o, ORDER_FIELDS, lambda w, k=oid: report("orders.json", k, w))
            if o.get("user_id") not in self.users:
                report("orders.json", oid, f"unknown user_id {o.get('user_id')!r}")
            for i, item in enumerate(o.get("items") or []):
                _missing(item, ITEM_FIELDS, lambda w, k=oid, i=i: report("orders.json", k, f"item {i} {w}"))
                if item.get("product_id") not in self.products:
                    report("orders.json", oid, f"item {i}: unknown product_id {item.get('product_id')!r}")
        for pid, p in self.products.items():
            _missing(p, PRODUCT_FIELDS, lambda w, k=pid: report("products.json", k, w))
            for vid, v in (p.get("variants") or {}).items():
                _missing(v, VARIANT_FIELDS, lambda w, k=pid, vid=vid: report("products.json", k, f"variant {vid} {w}"))
        return out


def _read(path: Path) -> tuple[dict[str, Any], str]:
    return read_table(path, RetailDataError)


def _missing(record: Any, fields: tuple[str, ...], report) -> None:
    if not isinstance(record, dict):
        report("is not an object")
        return
    for name in fields:
        if name not in record:
            report(f"missing {name!r}")

"""The retail domain as the service sees it now: the source data with the committed changes laid over it.

Reads return copies (a caller can never change a record by accident); `commit` runs one write's
`actions.apply` against the current records and stores the result through `records`. Lookups that
authentication and resolution need (a user by e-mail or by name and zip, a user's orders, a product's
variants, the payment method an order was paid with) live here.

Knows records and their relations; nothing about who is asking or whether a write is allowed (`policy`).
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from assistant.service import actions
from assistant.service.data import RetailData
from assistant.service.records import ServiceRecords


class RetailDomain:
    def __init__(self, data: RetailData, records: ServiceRecords):
        self.data, self.records = data, records
        self._by_email = {u["email"].lower(): uid for uid, u in data.users.items()}

    @classmethod
    def open(cls, data_dir: str | Path, db_path: str | Path) -> RetailDomain:
        return cls(RetailData.load(data_dir), ServiceRecords(db_path))

    # ---- records ---------------------------------------------------------------------------------
    def _current(self, kind: str, key: str, base: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
        changed = self.records.record(kind, key)
        record = changed[1] if changed else base.get(key)
        return copy.deepcopy(record) if record is not None else None

    def order(self, order_id: str) -> dict[str, Any] | None:
        return self._current("order", str(order_id), self.data.orders)

    def user(self, user_id: str) -> dict[str, Any] | None:
        return self._current("user", str(user_id), self.data.users)

    def product(self, product_id: str) -> dict[str, Any] | None:
        p = self.data.products.get(str(product_id))
        return copy.deepcopy(p) if p is not None else None

    def snapshot(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """The current version of some records, for comparing two databases."""
        return {(kind, key): (self.order(key) if kind == "order" else self.user(key)) for kind, key in keys}

    def changed_keys(self) -> set[tuple[str, str]]:
        return {(kind, key) for kind, key, _ in self.records.changed()}

    # ---- lookups ---------------------------------------------------------------------------------
    def user_by_email(self, email: str) -> str | None:
        return self._by_email.get(str(email).strip().lower())

    def user_by_name_zip(self, first_name: str, last_name: str, zip_code: str) -> str | None:
        first, last, zip_code = first_name.strip().lower(), last_name.strip().lower(), str(zip_code).strip()
        changed = {key: rec for kind, key, rec in self.records.changed() if kind == "user"}
        for uid, base in self.data.users.items():
            u = changed.get(uid, base)
            if (u["name"]["first_name"].lower(), u["name"]["last_name"].lower(), u["address"]["zip"]) == \
                    (first, last, zip_code):
                return uid
        return None

    def orders_of(self, user_id: str) -> list[dict[str, Any]]:
        user = self.user(user_id) or {}
        return [o for o in (self.order(oid) for oid in user.get("orders", [])) if o is not None]

    def product_types(self) -> dict[str, str]:
        """Product name -> product id, sorted by name."""
        return dict(sorted((p["name"], pid) for pid, p in self.data.products.items()))

    @staticmethod
    def paid_with(order: dict[str, Any]) -> str:
        """The payment method the order is paid with now (its latest payment)."""
        payments = [p for p in order["payment_history"] if p["transaction_type"] == "payment"]
        return (payments or order["payment_history"])[-1]["payment_method_id"]

    @staticmethod
    def original_method(order: dict[str, Any]) -> str:
        """The payment method of the order's first payment: where returns are refunded to."""
        return order["payment_history"][0]["payment_method_id"]

    # ---- writes ----------------------------------------------------------------------------------
    def commit(self, name: str, arguments: dict[str, Any], session_id: str, confirmed_by: str) -> dict[str, Any]:
        """Apply one write and store it; returns the changed order (or user). Raises `ActionError`."""
        changes = actions.apply(name, arguments, self)
        owners = {c.owner for c in changes}
        if len(owners) != 1:
            raise actions.ActionError("a write must change the records of exactly one customer")
        self.records.commit(owners.pop(), session_id, name, arguments,
                            [(c.kind, c.key, c.record) for c in changes], confirmed_by)
        main = next((c for c in changes if c.kind == "order"), changes[0])
        return copy.deepcopy(main.record)

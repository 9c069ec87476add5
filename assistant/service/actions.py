"""What each write does to the records: the benchmark's semantics, field for field.

`apply(name, arguments, view)` computes the changed records of one write (cancel, modify address / items /
payment, modify user address, return, exchange) from copies of the records it touches and returns them as
`Change`s; it changes nothing itself. The caller decides whether the write may happen (`policy`) and
commits the changes (`records`). The eval replays a task's ground-truth actions through the same function
on a fresh copy, so both sides of the comparison share one definition of every action.

A write the records cannot take (unknown order, non-pending order, unknown payment method...) raises
`ActionError` with the benchmark's message, and nothing changes. Knows nothing about customers, policy
or confirmation.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, Protocol

CANCEL_REASONS = ("no longer needed", "ordered by mistake")
WRITE_ACTIONS = ("cancel_pending_order", "modify_pending_order_address", "modify_pending_order_items",
                 "modify_pending_order_payment", "modify_user_address", "return_delivered_order_items",
                 "exchange_delivered_order_items")


class ActionError(ValueError):
    """A write the records cannot take; nothing was changed."""


class RecordView(Protocol):
    def order(self, order_id: str) -> dict[str, Any] | None: ...

    def user(self, user_id: str) -> dict[str, Any] | None: ...

    def product(self, product_id: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class Change:
    kind: str  # "order" | "user"
    key: str
    owner: str  # the user the record belongs to
    record: dict[str, Any]


def apply(name: str, arguments: dict[str, Any], view: RecordView) -> list[Change]:
    if name not in _ACTIONS:
        raise ActionError(f"unknown write action {name!r}")
    return _ACTIONS[name](view, **arguments)


def _order(view: RecordView, order_id: str, status: str | None, verb: str) -> dict[str, Any]:
    order = view.order(order_id)
    if order is None:
        raise ActionError("order not found")
    if status is not None and order["status"] != status:
        raise ActionError(f"non-{status} order cannot be {verb}")
    return copy.deepcopy(order)


def _payment_method(view: RecordView, user: dict[str, Any], payment_method_id: str) -> dict[str, Any]:
    if payment_method_id not in user["payment_methods"]:
        raise ActionError("payment method not found")
    return user["payment_methods"][payment_method_id]


def _user(view: RecordView, user_id: str) -> dict[str, Any]:
    user = view.user(user_id)
    if user is None:
        raise ActionError("user not found")
    return copy.deepcopy(user)


def _changes(order: dict[str, Any] | None, user: dict[str, Any] | None, user_id: str) -> list[Change]:
    out = [Change("order", order["order_id"], user_id, order)] if order is not None else []
    return out + ([Change("user", user_id, user_id, user)] if user is not None else [])


def cancel_pending_order(view: RecordView, order_id: str, reason: str) -> list[Change]:
    order = _order(view, order_id, "pending", "cancelled")
    if reason not in CANCEL_REASONS:
        raise ActionError("invalid reason")
    user = _user(view, order["user_id"])
    refunds = []
    for payment in order["payment_history"]:
        method = payment["payment_method_id"]
        refunds.append({"transaction_type": "refund", "amount": payment["amount"], "payment_method_id": method})
        if "gift_card" in method:  # refunded to the gift card at once
            card = _payment_method(view, user, method)
            card["balance"] = round(card["balance"] + payment["amount"], 2)
    order["status"], order["cancel_reason"] = "cancelled", reason
    order["payment_history"].extend(refunds)
    return _changes(order, user, order["user_id"])


def modify_pending_order_address(view: RecordView, order_id: str, address1: str, address2: str, city: str,
                                 state: str, country: str, zip: str) -> list[Change]:
    order = _order(view, order_id, "pending", "modified")
    order["address"] = {"address1": address1, "address2": address2, "city": city, "state": state,
                        "country": country, "zip": zip}
    return _changes(order, None, order["user_id"])


def _price_difference(view: RecordView, order: dict[str, Any], item_ids: list[str],
                      new_item_ids: list[str]) -> float:
    present = [i["item_id"] for i in order["items"]]
    for item_id in item_ids:
        if item_ids.count(item_id) > present.count(item_id):
            raise ActionError(f"{item_id} not found")
    if len(item_ids) != len(new_item_ids):
        raise ActionError("the number of items to be exchanged should match")
    diff = 0.0
    for item_id, new_id in zip(item_ids, new_item_ids):
        item = next(i for i in order["items"] if i["item_id"] == item_id)
        variant = ((view.product(item["product_id"]) or {}).get("variants") or {}).get(new_id)
        if not variant or not variant["available"]:
            raise ActionError(f"new item {new_id} not found or available")
        diff += variant["price"] - item["price"]
    return diff


def modify_pending_order_items(view: RecordView, order_id: str, item_ids: list[str], new_item_ids: list[str],
                               payment_method_id: str) -> list[Change]:
    order = _order(view, order_id, "pending", "modified")
    diff = _price_difference(view, order, item_ids, new_item_ids)
    user = _user(view, order["user_id"])
    method = _payment_method(view, user, payment_method_id)
    if method["source"] == "gift_card" and method["balance"] < diff:
        raise ActionError("insufficient gift card balance to pay for the new item")
    order["payment_history"].append({"transaction_type": "payment" if diff > 0 else "refund",
                                     "amount": abs(diff), "payment_method_id": payment_method_id})
    if method["source"] == "gift_card":
        method["balance"] = round(method["balance"] - diff, 2)
    for item_id, new_id in zip(item_ids, new_item_ids):
        item = next(i for i in order["items"] if i["item_id"] == item_id)
        variant = view.product(item["product_id"])["variants"][new_id]
        item["item_id"], item["price"], item["options"] = new_id, variant["price"], copy.deepcopy(variant["options"])
    order["status"] = "pending (item modified)"
    return _changes(order, user, order["user_id"])


def modify_pending_order_payment(view: RecordView, order_id: str, payment_method_id: str) -> list[Change]:
    order = _order(view, order_id, "pending", "modified")
    user = _user(view, order["user_id"])
    method = _payment_method(view, user, payment_method_id)
    history = order["payment_history"]
    if len(history) > 1 or history[0]["transaction_type"] != "payment":
        raise ActionError("there should be exactly one payment for a pending order")
    old_id, amount = history[0]["payment_method_id"], history[0]["amount"]
    if old_id == payment_method_id:
        raise ActionError("the new payment method should be different from the current one")
    if method["source"] == "gift_card" and method["balance"] < amount:
        raise ActionError("insufficient gift card balance to pay for the order")
    history.extend([{"transaction_type": "payment", "amount": amount, "payment_method_id": payment_method_id},
                    {"transaction_type": "refund", "amount": amount, "payment_method_id": old_id}])
    if method["source"] == "gift_card":
        method["balance"] = round(method["balance"] - amount, 2)
    if "gift_card" in old_id:
        old = user["payment_methods"][old_id]
        old["balance"] = round(old["balance"] + amount, 2)
    return _changes(order, user, order["user_id"])


def modify_user_address(view: RecordView, user_id: str, address1: str, address2: str, city: str, state: str,
                        country: str, zip: str) -> list[Change]:
    user = _user(view, user_id)
    user["address"] = {"address1": address1, "address2": address2, "city": city, "state": state,
                       "country": country, "zip": zip}
    return _changes(None, user, user_id)


def return_delivered_order_items(view: RecordView, order_id: str, item_ids: list[str],
                                 payment_method_id: str) -> list[Change]:
    order = _order(view, order_id, "delivered", "returned")
    user = _user(view, order["user_id"])
    _payment_method(view, user, payment_method_id)
    if "gift_card" not in payment_method_id and payment_method_id != order["payment_history"][0]["payment_method_id"]:
        raise ActionError("payment method should be either the original payment method or a gift card")
    present = [i["item_id"] for i in order["items"]]
    if any(item_ids.count(i) > present.count(i) for i in item_ids):
        raise ActionError("some item not found")
    order["status"], order["return_items"] = "return requested", sorted(item_ids)
    order["return_payment_method_id"] = payment_method_id
    return _changes(order, None, order["user_id"])


def exchange_delivered_order_items(view: RecordView, order_id: str, item_ids: list[str], new_item_ids: list[str],
                                   payment_method_id: str) -> list[Change]:
    order = _order(view, order_id, "delivered", "exchanged")
    diff = round(_price_difference(view, order, item_ids, new_item_ids), 2)
    user = _user(view, order["user_id"])
    method = _payment_method(view, user, payment_method_id)
    if method["source"] == "gift_card" and method["balance"] < diff:
        raise ActionError("insufficient gift card balance to pay for the price difference")
    order["status"] = "exchange requested"
    order["exchange_items"], order["exchange_new_items"] = sorted(item_ids), sorted(new_item_ids)
    order["exchange_payment_method_id"], order["exchange_price_difference"] = payment_method_id, diff
    return _changes(order, None, order["user_id"])


_ACTIONS: dict[str, Callable[..., list[Change]]] = {f.__name__: f for f in (
    cancel_pending_order, modify_pending_order_address, modify_pending_order_items, modify_pending_order_payment,
    modify_user_address, return_delivered_order_items, exchange_delivered_order_items)}

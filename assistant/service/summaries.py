"""The exact description of a proposed write, as the customer confirms it: action, order, items with their
options before and after, amounts, payment method, and what happens next.

Built from the records only (the model never writes it). Knows record shapes; nothing about rules.
"""
from __future__ import annotations

from typing import Any

from assistant.service.domain import RetailDomain


def money(x: float) -> str:
    return f"${x:,.2f}"


def options_text(options: dict[str, str]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in options.items())


def method_label(user: dict[str, Any] | None, method_id: str) -> str:
    m = (user or {}).get("payment_methods", {}).get(method_id, {})
    if m.get("source") == "gift_card":
        return f"gift card {method_id} (balance {money(m.get('balance', 0))})"
    if m.get("source") == "credit_card":
        return f"{m.get('brand', 'credit')} card ending {m.get('last_four', '?')} ({method_id})"
    if m.get("source") == "paypal":
        return f"PayPal ({method_id})"
    return method_id


def address_text(a: dict[str, Any]) -> str:
    parts = [a.get("address1", ""), a.get("address2", ""), a.get("city", ""),
             f"{a.get('state', '')} {a.get('zip', '')}".strip(), a.get("country", "")]
    return ", ".join(p for p in parts if p)


def item_lines(order: dict[str, Any], item_ids: list[str]) -> list[str]:
    items = {i["item_id"]: i for i in order["items"]}
    return [f"{items[i]['name']} ({options_text(items[i]['options'])}), item {i}, {money(items[i]['price'])}"
            for i in item_ids if i in items]


def change_lines(domain: RetailDomain, order: dict[str, Any], item_ids: list[str], new_ids: list[str]) -> list[str]:
    items, out = {i["item_id"]: i for i in order["items"]}, []
    for old, new in zip(item_ids, new_ids):
        item = items[old]
        variant = domain.product(item["product_id"])["variants"][new]
        out.append(f"{item['name']}: ({options_text(item['options'])}) {money(item['price'])} -> "
                   f"({options_text(variant['options'])}) {money(variant['price'])} [item {old} -> {new}]")
    return out


def _difference(diff: float, method: str) -> str:
    if diff > 0:
        return f"You pay the price difference of {money(diff)} with {method}."
    if diff < 0:
        return f"The price difference of {money(-diff)} is refunded to {method}."
    return f"There is no price difference (payment method {method})."


def describe(domain: RetailDomain, name: str, args: dict[str, Any], details: dict[str, Any]) -> str:
    if name == "modify_user_address":
        return f"Change your default address to {address_text(args)}."
    order = domain.order(args["order_id"])
    user = domain.user(order["user_id"])
    oid = order["order_id"]
    if name == "cancel_pending_order":
        methods = sorted({p["payment_method_id"] for p in order["payment_history"]})
        items = "; ".join(item_lines(order, [i["item_id"] for i in order["items"]]))
        return (f"Cancel pending order {oid} ({items}) for the reason '{args['reason']}'. "
                f"{money(details['refund'])} is refunded to {', '.join(method_label(user, m) for m in methods)} "
                f"(at once to a gift card, otherwise in 5-7 business days).")
    if name == "modify_pending_order_address":
        return f"Change the shipping address of pending order {oid} to {address_text(args)}."
    method = method_label(user, args["payment_method_id"])
    if name == "modify_pending_order_payment":
        return (f"Pay pending order {oid} ({money(details['amount'])}) with {method} instead of "
                f"{method_label(user, details['old_method'])}, which is refunded.")
    if name == "return_delivered_order_items":
        return (f"Return from delivered order {oid}: {'; '.join(item_lines(order, args['item_ids']))}. "
                f"{money(details['refund'])} is refunded to {method}. You will get an e-mail on how to send "
                f"the items back.")
    changes = "; ".join(change_lines(domain, order, args["item_ids"], args["new_item_ids"]))
    verb = "Modify items of pending order" if name == "modify_pending_order_items" else \
        "Exchange items of delivered order"
    return (f"{verb} {oid}: {changes}. {_difference(details['difference'], method)} The items of an order can "
            f"be changed only once: these must be all the items you want to change in it.")

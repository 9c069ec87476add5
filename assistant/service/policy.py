"""The service policy in code: who may see and change what, and no write without the customer's explicit yes.

Rules (each refusal names its rule, see `RULES`): authenticate before any account data; one customer per
conversation; only the customer's own orders and profile; cancel and modify need a pending order, return and
exchange a delivered one; an order's items change once; same product for every changed item; available
variants only; payment methods of the customer only; a gift card must cover what it pays; refunds go to the
original payment method or a gift card; a payment change is a single, different method; valid cancel reasons.

Writes never run when asked for: `propose` checks every rule and keeps the write as the conversation's one
pending `Proposal`, described exactly (action, items, amounts, payment method). `on_customer_message` is called
with every customer message before anything else: when the message is an explicit yes to the proposal shown
last, the write is checked again and committed; any other message withdraws it. There is no other path from
the agent to `RetailDomain.commit`.

Knows the rules and the conversation state; nothing about models, prompts or how replies are phrased.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from assistant.service import actions
from assistant.service.domain import RetailDomain
from assistant.service.extract import order_ids
from assistant.service.state import Proposal, ServiceState
from assistant.service.summaries import describe
from assistant.tooling import ToolError

RULES = {
    "authenticate": "the customer must first be authenticated by e-mail, or by name and zip code",
    "one_customer": "only one customer per conversation",
    "own_records": "only the authenticated customer's own orders and profile",
    "status": "cancelling or modifying needs a pending order; returning or exchanging needs a delivered order",
    "items_once": "an order's items can be modified or exchanged only once",
    "cancel_reason": "the cancel reason must be 'no longer needed' or 'ordered by mistake'",
    "items": "the items must be in the order, each new item matching an old one",
    "same_product": "an item can only change to another variant of the same product",
    "available": "only available variants",
    "payment_method": "only the customer's own payment methods",
    "gift_card_balance": "a gift card must have enough balance for what it pays",
    "refund_method": "a refund goes to the original payment method or a gift card",
    "payment_change": "a pending order's payment can change to a single method different from the current one",
    "address": "an address needs address1, city, state, country and zip",
    "explicit_yes": "a write runs only after the customer's explicit yes to it",
}
PENDING_ACTIONS = ("cancel_pending_order", "modify_pending_order_address", "modify_pending_order_items",
                   "modify_pending_order_payment")
DELIVERED_ACTIONS = ("return_delivered_order_items", "exchange_delivered_order_items")
ITEM_CHANGES = ("modify_pending_order_items", "exchange_delivered_order_items")

_YES = re.compile(r"\b(yes|yeah|yep|yup|sure|ok|okay|confirm|confirmed|correct|proceed|go ahead|do it|please do|"
                  r"that's right|that is right|sounds good|affirmative|absolutely|definitely)\b", re.I)
_NOT_YES = re.compile(r"\b(no|not|nope|never|wait|hold on|stop|but|instead|actually|change|also|rather|except|"
                      r"however|don't|dont|do not|cannot|can't|unless|wrong)\b|n't\b|\?", re.I)


class Refusal(ToolError):
    """A request the policy does not allow; `rule` names the rule that stopped it."""

    def __init__(self, rule: str, detail: str):
        self.rule, self.detail = rule, detail
        super().__init__(f"refused by the policy ({rule}: {RULES[rule]}): {detail}")


@dataclass
class Outcome:
    """What a customer message did to the pending write."""

    kind: str  # none | executed | withdrawn | refused | failed
    proposal: Proposal | None = None
    result: dict[str, Any] = field(default_factory=dict)
    message: str = ""


# ---- identity ---------------------------------------------------------------------------------------
def authenticate(state: ServiceState, user_id: str, via: str) -> None:
    if state.customer_id and state.customer_id != user_id:
        raise Refusal("one_customer", "this conversation already serves another customer")
    if not state.customer_id:
        state.customer_id, state.auth_via = user_id, via


def customer(state: ServiceState) -> str:
    if not state.customer_id:
        raise Refusal("authenticate", "nobody is authenticated in this conversation yet")
    return state.customer_id


def own_user(state: ServiceState, user_id: str) -> None:
    if customer(state) != str(user_id).strip():
        raise Refusal("own_records", f"{user_id!r} is not the authenticated customer")


def own_order(state: ServiceState, domain: RetailDomain, order_id: str) -> dict[str, Any]:
    owner = customer(state)
    order = domain.order(str(order_id).strip())
    if order is None or order["user_id"] != owner:  # the same answer whether it exists or not: nothing leaks
        raise Refusal("own_records", f"no order {order_id!r} among the customer's orders")
    return order


# ---- checks -----------------------------------------------------------------------------------------
def check_write(state: ServiceState, domain: RetailDomain, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Every rule for one write; returns the amounts the proposal states. Raises `Refusal`."""
    if name == "modify_user_address":
        own_user(state, args["user_id"])
        _address(args)
        return {}
    order = own_order(state, domain, args["order_id"])
    _status(state, order, name)
    user = domain.user(order["user_id"])
    if name == "cancel_pending_order":
        if args["reason"] not in actions.CANCEL_REASONS:
            raise Refusal("cancel_reason", f"{args['reason']!r} is not a cancel reason")
        return {"refund": round(sum(p["amount"] for p in order["payment_history"]), 2)}
    if name == "modify_pending_order_address":
        _address(args)
        return {}
    method = _method(user, args["payment_method_id"])
    if name == "modify_pending_order_payment":
        return _payment_change(order, method, args["payment_method_id"])
    if name == "return_delivered_order_items":
        _items(order, args["item_ids"], args["item_ids"])
        if method["source"] != "gift_card" and args["payment_method_id"] != domain.original_method(order):
            raise Refusal("refund_method", f"{args['payment_method_id']} is neither the original payment method "
                                           f"({domain.original_method(order)}) nor a gift card")
        prices = {i["item_id"]: i["price"] for i in order["items"]}
        return {"refund": round(sum(prices[i] for i in args["item_ids"]), 2)}
    diff = _new_items(domain, order, args["item_ids"], args["new_item_ids"])
    if method["source"] == "gift_card" and method.get("balance", 0) < diff:
        raise Refusal("gift_card_balance", f"{args['payment_method_id']} has {method.get('balance', 0):.2f}, "
                                           f"the difference is {diff:.2f}")
    return {"difference": diff}


def _status(state: ServiceState, order: dict[str, Any], name: str) -> None:
    oid, status = order["order_id"], order["status"]
    if name in ITEM_CHANGES and (oid in state.items_changed or status == "pending (item modified)"):
        raise Refusal("items_once", f"the items of order {oid} were already changed")
    need = "pending" if name in PENDING_ACTIONS else "delivered" if name in DELIVERED_ACTIONS else status
    if status != need:
        raise Refusal("status", f"order {oid} is {status!r}; this needs a {need} order")


def _method(user: dict[str, Any], method_id: str) -> dict[str, Any]:
    method = user["payment_methods"].get(str(method_id))
    if method is None:
        raise Refusal("payment_method", f"{method_id!r} is not one of the customer's payment methods")
    return method


def _payment_change(order: dict[str, Any], method: dict[str, Any], method_id: str) -> dict[str, Any]:
    history = order["payment_history"]
    if len(history) != 1 or history[0]["transaction_type"] != "payment":
        raise Refusal("payment_change", f"order {order['order_id']} has more than one payment")
    if history[0]["payment_method_id"] == method_id:
        raise Refusal("payment_change", f"order {order['order_id']} is already paid with {method_id}")
    amount = history[0]["amount"]
    if method["source"] == "gift_card" and method.get("balance", 0) < amount:
        raise Refusal("gift_card_balance", f"{method_id} has {method.get('balance', 0):.2f}, the order is {amount:.2f}")
    return {"amount": amount, "old_method": history[0]["payment_method_id"]}


def _items(order: dict[str, Any], item_ids: list[str], new_item_ids: list[str]) -> None:
    present = [i["item_id"] for i in order["items"]]
    if not item_ids or len(item_ids) != len(new_item_ids):
        raise Refusal("items", "name at least one item, and one new item for each")
    missing = [i for i in item_ids if item_ids.count(i) > present.count(i)]
    if missing:
        raise Refusal("items", f"{', '.join(sorted(set(missing)))} not in order {order['order_id']}")


def _new_items(domain: RetailDomain, order: dict[str, Any], item_ids: list[str], new_item_ids: list[str]) -> float:
    _items(order, item_ids, new_item_ids)
    diff = 0.0
    for old_id, new_id in zip(item_ids, new_item_ids):
        item = next(i for i in order["items"] if i["item_id"] == old_id)
        variant = (domain.product(item["product_id"]) or {}).get("variants", {}).get(str(new_id))
        if variant is None:
            raise Refusal("same_product", f"{new_id} is not a variant of {item['name']} ({item['product_id']})")
        if not variant["available"]:
            raise Refusal("available", f"{item['name']} {new_id} is not available")
        diff += variant["price"] - item["price"]
    return round(diff, 2)


def _address(args: dict[str, Any]) -> None:
    empty = [k for k in ("address1", "city", "state", "country", "zip") if not str(args.get(k) or "").strip()]
    if empty:
        raise Refusal("address", f"missing {', '.join(empty)}")


# ---- proposals and confirmation ------------------------------------------------------------------
def propose(state: ServiceState, domain: RetailDomain, name: str, args: dict[str, Any],
            request_id: str = "") -> Proposal:
    """Check a write and make it the pending proposal (replacing any other); nothing is written."""
    if name not in actions.WRITE_ACTIONS:
        raise ValueError(f"{name!r} is not a write action")
    details = check_write(state, domain, name, args)
    summary = describe(domain, name, args, details)
    state.pending = Proposal(name, dict(args), summary, str(args.get("order_id", "")), request_id)
    return state.pending


def is_explicit_yes(text: str, proposal: Proposal) -> bool:
    """An unqualified yes that names no other order than the proposal's."""
    if not _YES.search(text) or _NOT_YES.search(text):
        return False
    named = order_ids(text)
    return all(oid == proposal.order_id for oid in named)


def on_customer_message(state: ServiceState, domain: RetailDomain, text: str) -> Outcome:
    """Run the pending write on an explicit yes to it; withdraw it on anything else."""
    proposal, state.pending = state.pending, None
    if proposal is None:
        return Outcome("none")
    if not proposal.shown or not is_explicit_yes(text, proposal):
        return Outcome("withdrawn", proposal, message=RULES["explicit_yes"])
    try:
        check_write(state, domain, proposal.name, proposal.arguments)  # records may have changed meanwhile
        result = domain.commit(proposal.name, proposal.arguments, state.session_id, text)
    except Refusal as r:
        return Outcome("refused", proposal, message=str(r))
    except actions.ActionError as e:
        return Outcome("failed", proposal, message=str(e))
    state.executed.append({"name": proposal.name, "arguments": proposal.arguments})
    if proposal.name in ITEM_CHANGES:
        state.items_changed.append(proposal.order_id)
    return Outcome("executed", proposal, result)

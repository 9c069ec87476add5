"""From a request to one write call with exact arguments, or to the one question that is still open.

The order: the id the customer gave, else the customer's order whose ending they gave, else the order that
holds the products they named (an order whose status allows the action first); the action: the order's
status settles cancel vs return and modify vs exchange; the items: the order's items of the named products
(all items when none is named or "all" was said); the new items: `variants`; the payment method: the id or
kind named (latest sentence first), else the original method for a refund and the order's current method
for a price difference; the address: written out, "same as #W..." or the default address.
Every record is read through the service tools (`call`), so the trace shows what was looked up and the
policy sees every read.

Knows how requests map to the benchmark's write tools; nothing about confirmation or reply wording.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from assistant.service import extract, summaries, variants, vocab
from assistant.service.domain import RetailDomain
from assistant.service.requests import FAMILY
from assistant.service.state import Request, ServiceState

Call = Callable[[str, dict[str, Any]], Any]
_DEFAULT_ADDRESS = re.compile(r"\b(?:default|profile|home|account|usual) address\b|\baddress on file\b", re.I)
_SAME_AS = re.compile(r"same as (#?W\d{7})", re.I)
_EVERY_ORDER = re.compile(r"\b(?:all|every|each)(?: of)?(?: my| the)?(?: pending| open| current)? orders\b", re.I)
_BRANDS = ("visa", "mastercard", "amex", "discover")
_UNDO_WORDS = re.compile(r"\b(?:cancel\w*|return\w*|refund\w*|send (?:it|them|\w+) back|money back|"
                         r"(?:don't|do not|no longer) (?:want|need))\b", re.I)


@dataclass
class Resolution:
    kind: str                      # write | ask | info
    name: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    text: str = ""                 # the question, or the information
    rest: list[str] = field(default_factory=list)  # products of the request that are in other orders
    other_orders: list[str] = field(default_factory=list)  # "all my pending orders": the others, one request each


class Resolver:
    def __init__(self, domain: RetailDomain, call: Call):
        self.domain, self.call = domain, call

    def resolve(self, req: Request, state: ServiceState) -> Resolution:
        user = self.call("get_user_details", {"user_id": state.customer_id})
        if req.action == "profile_address":
            return self._address(req, user, None, "modify_user_address")
        every = self._every_order(req, user)
        if every:
            req.order_id = every[0]
        order, rest, question = self._order(req, user)
        if order is None:
            return Resolution("ask", text=question)
        if req.action == "info":
            return Resolution("info", text=self._info(req, order))
        name = self._settle_kind(req, order, _action_name(req.action, order["status"]))
        if name in ("modify_pending_order_address",):
            return self._address(req, user, order, name)
        if name == "modify_pending_order_payment":
            method = self._payment(req, user, order, None)
            if method is None:
                return Resolution("ask", text=f"Which payment method should pay for order {order['order_id']}? "
                                              f"{_methods_text(user)}")
            return Resolution("write", name, {"order_id": order["order_id"], "payment_method_id": method})
        if name == "cancel_pending_order":
            reason = extract.cancel_reason(" ".join(req.texts)) or "no longer needed"
            return Resolution("write", name, {"order_id": order["order_id"], "reason": reason}, rest=rest,
                              other_orders=every[1:])
        return self._item_write(req, user, order, name, rest)

    def _every_order(self, req: Request, user: dict) -> list[str]:
        """'Cancel all my pending orders': every pending order of the customer (cancel requests only)."""
        if req.action != "cancel" or req.order_id or not _EVERY_ORDER.search(" ".join(req.texts)):
            return []
        orders = [self.call("get_order_details", {"order_id": oid}) for oid in user["orders"]]
        return [o["order_id"] for o in orders if o["status"] == "pending"]

    # ---- order -----------------------------------------------------------------------------------
    def _order(self, req: Request, user: dict) -> tuple[dict | None, list[str], str]:
        if req.order_id:
            order = self.call("get_order_details", {"order_id": req.order_id})  # refused unless their own
            return order, [], ""
        orders = [self.call("get_order_details", {"order_id": oid}) for oid in user["orders"]]
        cands = [o for o in orders if not req.order_suffix or o["order_id"].endswith(req.order_suffix)]
        if req.products:
            holding = [o for o in cands if set(req.products) <= {i["name"] for i in o["items"]}]
            # products in different orders: this request takes an order holding some of them
            cands = holding or [o for o in cands if set(req.products) & {i["name"] for i in o["items"]}]
        cands = [o for o in cands if o["status"] in _STATUSES[FAMILY[req.action]]] or cands
        hint = _status_hint(req.texts) or _NATURAL.get(req.action)  # "return" is for what arrived
        natural = [o for o in cands if o["status"] == hint]
        cands = natural if len(natural) == 1 else cands
        if len(cands) == 1:
            rest = sorted(set(req.products) - {i["name"] for i in cands[0]["items"]})
            return cands[0], rest, ""
        listing = "; ".join(f"{o['order_id']} ({o['status']}: {', '.join(i['name'] for i in o['items'])})"
                            for o in (cands or orders))
        what = " and ".join(req.products) if req.products else "that"
        return None, [], f"Which order is {what} in? Your orders: {listing}."

    def _settle_kind(self, req: Request, order: dict, name: str) -> str:
        """Named items with new option values asked for, and no word of undoing: a change, not a return."""
        if name not in ("cancel_pending_order", "return_delivered_order_items") or not req.products or \
                _UNDO_WORDS.search(" ".join(req.texts)):
            return name
        items = self._items(req, order)
        changed = [i for i in items if self._new_item(req, i, [n for n in req.products if n != i["name"]])
                   not in (None, i["item_id"])]
        if not changed:
            return name
        return "modify_pending_order_items" if order["status"].startswith("pending") else \
            "exchange_delivered_order_items"

    # ---- items -------------------------------------------------------------------------------------
    def _items(self, req: Request, order: dict) -> list[dict]:
        named = [i for i in order["items"] if i["name"] in req.products and self._described(req, i)]
        if req.all_items or not named:
            return order["items"]
        return sorted(named, key=lambda i: req.products.index(i["name"]))  # in the order they were named

    def _one_each(self, req: Request, items: list[dict]) -> tuple[list[dict], str]:
        """One item per product named (per option literal written out, when there are several): the one whose
        current options the customer mentioned ("the black one"); of identical ones, the first; a question
        when different items of a product still fit."""
        out = []
        for name in dict.fromkeys(i["name"] for i in items):
            same = [i for i in items if i["name"] == name]
            wanted = max(1, len({tuple(sorted(d.items())) for d in variants.described_options(req.texts, name)}))
            if len(same) > wanted:
                product = self.call("get_product_details", {"product_id": same[0]["product_id"]})
                said = {(h.key, h.value) for t in req.texts for h in vocab.find_options(t, product)}
                score = [len(said & set(i["options"].items())) for i in same]
                same = [i for i, s in zip(same, score) if s == max(score)]
            distinct = list({tuple(sorted(i["options"].items())): i for i in reversed(same)}.values())[::-1]
            if len(same) > wanted and len(distinct) > wanted:
                listing = " or ".join(f"({summaries.options_text(i['options'])})" for i in distinct)
                return [], f"Which {name} do you mean: {listing}?"
            out += same[:wanted]
        return out, ""

    @staticmethod
    def _described(req: Request, item: dict) -> bool:
        """An item whose options the customer wrote out must match them."""
        said = variants.described_options(req.texts, item["name"])
        return not said or any(d.items() <= item["options"].items() for d in said)

    def _item_write(self, req: Request, user: dict, order: dict, name: str, rest: list[str]) -> Resolution:
        items = self._items(req, order)
        oid = order["order_id"]
        if name == "return_delivered_order_items":
            items, question = self._one_each(req, items) if req.products and not req.all_items else (items, "")
            if question:
                return Resolution("ask", text=question)
            method = self._payment(req, user, order, "original")
            return Resolution("write", name, {"order_id": oid, "item_ids": [i["item_id"] for i in items],
                                              "payment_method_id": method}, rest=rest)
        if not req.products and len(order["items"]) > 1:
            items = [i for i in order["items"] if self._new_item(req, i, []) is not None] or items
        items, question = self._one_each(req, items) if not req.all_items else (items, "")
        if question:
            return Resolution("ask", text=question)
        old_ids, new_ids = [], []
        for item in items:
            others = [n for n in req.products if n != item["name"]]
            new = self._new_item(req, item, others)
            if new is None:
                return Resolution("ask", text=self._options_question(item))
            old_ids.append(item["item_id"])
            new_ids.append(new)
        method = self._payment(req, user, order, "current")
        return Resolution("write", name, {"order_id": oid, "item_ids": old_ids, "new_item_ids": new_ids,
                                          "payment_method_id": method}, rest=rest)

    def _new_item(self, req: Request, item: dict, others: list[str]) -> str | None:
        product = self.call("get_product_details", {"product_id": item["product_id"]})
        literal = variants.literal_change(req.texts, item)
        if literal is not None:
            v = variants.variant_with(product, {**item["options"], **literal[1]})
            return v["item_id"] if v and v["available"] else None
        wanted, cheapest = variants.wanted_changes(req.texts, product, item, others)
        wanted = [w for w in wanted if item["options"].get(w.key) != w.value]
        if not wanted:
            return None
        v = variants.choose_variant(product, item, wanted, cheapest)
        return v["item_id"] if v else None

    def _options_question(self, item: dict) -> str:
        product = self.call("get_product_details", {"product_id": item["product_id"]})
        avail = [summaries.options_text(v["options"]) + f" ({summaries.money(v['price'])})"
                 for v in product["variants"].values() if v["available"]]
        return (f"Which option of the {item['name']} would you like instead of "
                f"({summaries.options_text(item['options'])})? Available: " + "; ".join(avail) + ".")

    # ---- payment and address -------------------------------------------------------------------------
    def _payment(self, req: Request, user: dict, order: dict, default: str | None) -> str | None:
        methods = user["payment_methods"]
        for text in reversed(req.texts):
            for pid in extract.payment_ids(text):
                if pid in methods:
                    return pid
            for kind in extract.payment_kinds(text):
                if kind == "original":
                    return self.domain.original_method(order)
                found = [m for m, d in methods.items() if d["source"] == kind]
                four = extract.card_last_four(text)
                found = [m for m in found if not four or methods[m].get("last_four") in four] or found
                brands = [b for b in _BRANDS if b in text.lower()]
                found = [m for m in found if methods[m].get("brand", "").lower() in brands] or found
                if found:
                    return found[0]
        if default == "original":
            return self.domain.original_method(order)
        return self.domain.paid_with(order) if default == "current" else None

    def _address(self, req: Request, user: dict, order: dict | None, name: str) -> Resolution:
        text = " ".join(req.texts)
        found = extract.addresses(text)
        same = _SAME_AS.search(text)
        if not found and same:
            found = [self.call("get_order_details", {"order_id": "#" + same.group(1).lstrip("#").upper()})["address"]]
        if not found and _DEFAULT_ADDRESS.search(text) and order is not None:
            found = [user["address"]]
        if not found:
            return Resolution("ask", text="What is the new address (street, apartment or suite, city, state, "
                                          "zip code and country)?")
        target = {"order_id": order["order_id"]} if order is not None else {"user_id": user["user_id"]}
        return Resolution("write", name, {**target, **{k: found[-1].get(k, "") for k in _ADDRESS_KEYS}})

    def _info(self, req: Request, order: dict) -> str:
        lines = [f"Order {order['order_id']} is {order['status']}; items: "
                 + "; ".join(summaries.item_lines(order, [i["item_id"] for i in order["items"]])) + "."]
        for item in self._items(req, order) if req.products else []:
            lines.append(self._options_question(item).split("? ", 1)[-1].replace("Available:", f"{item['name']} "
                                                                                  f"variants available:"))
        return " ".join(lines)


_ADDRESS_KEYS = ("address1", "address2", "city", "state", "country", "zip")
_STATUSES = {"undo": ("pending", "delivered"), "change": ("pending", "delivered"), "address": ("pending",),
             "payment": ("pending",), "info": ("pending", "processed", "delivered", "cancelled"), "human": ()}


_NATURAL = {"return": "delivered", "cancel": "pending", "address": "pending", "payment": "pending"}


_DELIVERED = re.compile(r"\b(?:received|got|arrived|delivered|came|have had)\b", re.I)
_PENDING = re.compile(r"\b(?:just placed|placed|just ordered|not (?:yet )?(?:shipped|arrived)|"
                      r"hasn't (?:shipped|arrived)|pending|on its way|before it ships)\b", re.I)


def _status_hint(texts: list[str]) -> str:
    """What the customer's own words say about the order: received (delivered) or not yet (pending)."""
    text = " ".join(texts)
    delivered, pending = bool(_DELIVERED.search(text)), bool(_PENDING.search(text))
    return "delivered" if delivered and not pending else "pending" if pending and not delivered else ""


def _action_name(action: str, status: str) -> str:
    family = FAMILY[action]
    if family == "undo":
        pending = status.startswith("pending") or (action == "cancel" and status != "delivered")
        return "cancel_pending_order" if pending else "return_delivered_order_items"
    if family == "change":
        return "modify_pending_order_items" if status.startswith("pending") else "exchange_delivered_order_items"
    return {"address": "modify_pending_order_address", "payment": "modify_pending_order_payment"}[family]


def _methods_text(user: dict) -> str:
    return "Your payment methods: " + "; ".join(summaries.method_label(user, m) for m in user["payment_methods"]) + "."

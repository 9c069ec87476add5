"""From labelled sentences to the customer's requests: which action, about which order and products.

A sentence labelled with an action starts a request, or joins an open one of the same kind about the same
order ("return the charger ... and the helmet as well"); a sentence without an action that names an order,
a product, a payment method, option words or an address adds to the request being discussed ("the puzzle",
"to my PayPal"); "keep" drops the open requests about what it names. Products are found by the catalog's
own names (`vocab`), orders by their ids; what a request finally does is settled by `resolve` against the
records. The sentences stay with the request, so option words, payment words and literals are read in
the context they were said in.

Knows requests and sentence labels; nothing about records or rules.
"""
from __future__ import annotations

import re
from typing import Iterable

from assistant.service import extract, vocab
from assistant.service.parse import SentenceParse
from assistant.service.state import Request, ServiceState

ACTIONS = ("cancel", "return", "exchange", "address", "payment", "profile_address", "human")
FAMILY = {"cancel": "undo", "return": "undo", "exchange": "change", "address": "address", "payment": "payment",
          "profile_address": "profile_address", "human": "human", "info": "info"}
_ALL = re.compile(r"\b(?:all|every|both|entire|whole)\b.{0,25}\b(?:items?|order|things|products|of them)\b|"
                  r"\beverything\b|\ball of (?:it|them)\b", re.I)
_DETAIL = re.compile(r"\b(?:pay\s?pal|gift ?card|credit|card|refund to|instead|prefer|rather|option|"
                     r"color|colour|size|material)\b", re.I)


def read_message(state: ServiceState, parses: Iterable[SentenceParse], product_names: Iterable[str]) -> None:
    """Update `state.requests` (and what the conversation is about) from one message's labelled sentences."""
    names = list(product_names)
    background: list[str] = []  # sentences of this message that belong to no request yet
    for sp in parses:
        ids = extract.order_ids(sp.text)
        products = list(dict.fromkeys(h.key for h in vocab.find_products(sp.text, names)))
        suffixes = extract.order_suffixes(sp.text)
        if sp.action == "keep":
            _drop(state, ids, products)
        elif sp.action in ACTIONS:
            target = _mergeable(state, sp.action, ids) if sp.action != "human" else None
            if target is None and _payment_detail(state, sp, ids, products):
                _attach(state, sp.text, ids, products)  # "if you need a refund method, I prefer PayPal"
            else:
                _add(state, sp, ids, products, background, target)
                background = []
        elif sp.action == "info" and not state.open_requests():
            state.requests.append(Request("info", order_id=_order(state, ids), products=products, texts=[sp.text]))
        elif not (_has_detail(sp.text, ids, products) and _attach(state, sp.text, ids, products)):
            background.append(sp.text)
        if ids or suffixes:
            state.context_order, state.context_suffix = (ids[-1] if ids else ""), (suffixes[-1] if suffixes else "")
        if products:
            state.context_products = products


def _order(state: ServiceState, ids: list[str]) -> str:
    return ids[0] if ids else state.context_order


def _payment_detail(state: ServiceState, sp: SentenceParse, ids: list[str], products: list[str]) -> bool:
    """Words about paying or being refunded, while another kind of request is open: a detail of that one."""
    named = sp.action == "payment" or extract.payment_ids(sp.text) or extract.payment_kinds(sp.text)
    if ids or products or not named:
        return False
    return any(FAMILY[r.action] != FAMILY[sp.action] and r.action not in ("human", "info")
               for r in state.open_requests())


def _has_detail(text: str, ids: list[str], products: list[str]) -> bool:
    return bool(ids or products or extract.payment_ids(text) or extract.order_suffixes(text)
                or extract.addresses(text) or extract.dict_literals(text) or _DETAIL.search(text))


def _mergeable(state: ServiceState, action: str, ids: list[str]) -> Request | None:
    for req in reversed(state.open_requests()):
        if FAMILY[req.action] != FAMILY[action] or req.status != "open":
            continue
        if not ids or not req.order_id or req.order_id == ids[0]:
            return req
    return None


def _add(state: ServiceState, sp: SentenceParse, ids: list[str], products: list[str], background: list[str],
         req: Request | None) -> None:
    if req is None:
        # a pronoun ("return it") refers to what was just talked about
        context = list(state.context_products) if not ids or ids[0] == state.context_order else []
        req = Request(sp.action, order_id=_order(state, ids), products=products or context,
                      order_suffix=state.context_suffix if not ids else "")
        req.texts += background  # what led up to it: the reason, the item's description
        state.requests.append(req)
    else:
        req.order_id = req.order_id or (ids[0] if ids else "")
        req.products = list(dict.fromkeys(req.products + products))
        req.texts += background
    req.texts.append(sp.text)
    suffixes = extract.order_suffixes(sp.text)
    req.order_suffix = req.order_suffix or (suffixes[0] if suffixes else "")
    req.all_items = req.all_items or bool(_ALL.search(sp.text))


def _attach(state: ServiceState, text: str, ids: list[str], products: list[str]) -> bool:
    """A detail without an action of its own belongs to the request under discussion."""
    open_reqs = [r for r in state.open_requests() if r.action not in ("human", "info")]
    if not open_reqs:
        return False
    req = open_reqs[-1]
    if ids and req.order_id and ids[0] != req.order_id and not products:
        return False  # names another order: context, not a detail of this request
    req.order_id = req.order_id or (ids[0] if ids else "")
    req.products = list(dict.fromkeys(req.products + products))
    req.texts.append(text)
    suffixes = extract.order_suffixes(text)
    req.order_suffix = req.order_suffix or (suffixes[0] if suffixes else "")
    req.all_items = req.all_items or bool(_ALL.search(text))
    return True


def _drop(state: ServiceState, ids: list[str], products: list[str]) -> None:
    """'Keep it after all': the open requests about what this names (or the last one) are dropped."""
    open_reqs = [r for r in state.open_requests() if r.action not in ("human", "info")]
    if products or ids:
        hit = [r for r in open_reqs if set(products) & set(r.products) or r.order_id in ids]
    else:
        hit = open_reqs  # "keep all the items anyway"
    for r in hit:
        r.status, r.note = "dropped", "the customer decided to keep the items"

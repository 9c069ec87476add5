"""Which variant a customer means: the option changes they asked for, matched against available variants.

`wanted_changes` reads the option values said about one ordered item (values equal to the item's current
options only describe it, they are not changes; "a bigger size" is one step up from the current size; a
literal `{'size': 'L'}` is taken as written);
`choose_variant` picks among the product's available variants the one with every wanted value, keeping as
many of the item's other options as possible (or the cheapest when the customer asked for the cheaper one).
When a customer changed their mind ("a 1L one... no, the 1.5L glass one"), what they said before their last
change of an option may be given up to find an available variant; what they said after never is.

Knows variants and options; nothing about orders' status, payments or rules.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from assistant.service import vocab

_CHEAP = re.compile(r"\bcheap(?:er|est)?\b|\blower price\b|\bless expensive\b|\bcosts? less\b|\bleast expensive\b",
                    re.I)


@dataclass(frozen=True)
class Wanted:
    key: str
    value: str
    order: int  # when it was said (text index, position)


def wanted_changes(texts: list[str], product: dict[str, Any], item: dict[str, Any],
                   others: list[str]) -> tuple[list[Wanted], bool]:
    """Option values said about this item's product, in the order they were said, and whether the customer
    asked for the cheaper one of it.

    `others`: the other product names of the same request; a value said right after one of them is about
    that product, not this one. A sentence naming no product continues the last one named."""
    name = item["name"]
    out, current, cheapest = [], name, False
    for t_index, text in enumerate(texts):
        mentions = vocab.find_products(text, [name, *others])

        def about(pos: int) -> str:
            before = [m for m in mentions if m.pos <= pos]
            return before[-1].key if before else (mentions[0].key if mentions else current)

        hits = vocab.find_options(text, product) + vocab.find_comparatives(text, product, item["options"])
        for hit in sorted(hits, key=lambda h: h.pos):
            if about(hit.pos) == name:
                out.append(Wanted(hit.key, hit.value, t_index * 100_000 + hit.pos))
        cheap = _CHEAP.search(vocab.norm(text))
        cheapest = cheapest or bool(cheap and about(cheap.start()) == name)
        if mentions:
            current = mentions[-1].key
    return out, cheapest


def choose_variant(product: dict[str, Any], item: dict[str, Any], wanted: list[Wanted],
                   cheapest: bool = False) -> dict[str, Any] | None:
    """The available variant with the wanted values (see the module docstring); None when there is none."""
    latest: dict[str, Wanted] = {}
    cut = -1
    for w in sorted(wanted, key=lambda w: w.order):
        if w.key in latest and latest[w.key].value != w.value:
            cut = w.order  # the customer changed their mind about this option here
        latest[w.key] = w
    keys = sorted(latest, key=lambda k: latest[k].order)
    relaxable = [k for k in keys if latest[k].order < cut]
    available = [v for v in product["variants"].values() if v["available"]]
    for n in range(len(relaxable) + 1):
        active = [k for k in keys if k not in relaxable[:n]]
        found = [v for v in available if all(v["options"].get(k) == latest[k].value for k in active)]
        if found:
            return min(found, key=lambda v: _rank(v, item, cheapest))
    return None


def _rank(variant: dict[str, Any], item: dict[str, Any], cheapest: bool) -> tuple:
    kept = sum(variant["options"].get(k) == v for k, v in item["options"].items())
    return (variant["price"],) if cheapest else (-kept, variant["price"])


def literal_change(texts: list[str], item: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]] | None:
    """`Product {old options} to {new options}` written out: (old, new) for this item, else None."""
    from assistant.service.extract import dict_literals

    for text in texts:
        literals = dict_literals(text)
        for (s1, e1, old), (s2, _, new) in zip(literals, literals[1:]):
            between = text[e1:s2].strip().lower()
            if between.startswith("to") and old.items() <= item["options"].items() and \
                    vocab.find_products(text[max(0, s1 - 40):s1], [item["name"]]):
                return old, new
    return None


def described_options(texts: list[str], name: str) -> list[dict[str, str]]:
    """Option literals written right after a product's name (`Backpack {'color': 'black'}`): which item it is."""
    from assistant.service.extract import dict_literals

    out = []
    for text in texts:
        for start, _, options in dict_literals(text):
            head = vocab.find_products(text[max(0, start - 40):start], [name])
            if head and not text[max(0, start - 40):start].rstrip().lower().endswith(" to"):
                out.append(options)
    return out


def variant_with(product: dict[str, Any], options: dict[str, str]) -> dict[str, Any] | None:
    return next((v for v in product["variants"].values() if v["options"] == options), None)

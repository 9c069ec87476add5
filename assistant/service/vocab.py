"""Finding the shop's own words in a customer's text: product types and option values, by closed vocabulary.

Product types are found by their name, its last word ("mouse" for Gaming Mouse) and a few common synonyms;
option values by the values a product's variants actually have ("5 feet" finds height '5 ft', "1.5 liters"
finds capacity '1.5L'). Yes/no/none options count only next to their option's name ("not waterproof"),
bare numbers only next to theirs ("size 10"). Every hit carries its position, so callers can tell which
product a value was said about and which of two values was said last.

Knows text and the catalog's option vocabulary; nothing about orders, customers or rules.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

GENERIC_HEADS = {"set", "kit", "machine", "maker", "bed", "cleaner", "bulb", "camera", "speaker", "set"}
SYNONYMS = {  # common words for the catalog's product types
    "bicycle": ["bike"], "smartphone": ["phone", "cellphone", "mobile phone"], "wireless earbuds": ["earphones"],
    "t-shirt": ["shirt", "tee"], "wristwatch": ["watch"], "smart watch": ["smartwatch"],
    "portable charger": ["charger", "power bank"], "dumbbell set": ["dumbbells", "weights"],
    "luggage set": ["luggage", "suitcase"], "makeup kit": ["makeup"], "pet bed": ["dog bed", "cat bed"],
    "coffee maker": ["coffee machine"], "vacuum cleaner": ["vacuum"], "led light bulb": ["light bulb", "bulbs"],
    "indoor security camera": ["security camera"], "bookshelf": ["shelf", "bookcase"], "e-reader": ["ereader"],
    "running shoes": ["shoes"], "sunglasses": ["glasses"], "hiking boots": ["boots"], "headphones": ["headset"],
}
FLAGS = {"yes", "no", "none"}
_NEGATED = re.compile(r"\b(?:no|not|non|without|none)\W+(?:\w+\W+)?$")


def norm(text: str) -> str:
    """Lower case with units and spellings unified: '5-feet' -> '5 ft', '1.5 liters' -> '1.5 l', 'Wi-Fi' -> 'wi fi'."""
    t = text.lower().replace("grey", "gray").replace("’", "'")
    t = re.sub(r"(\d)\s*-?\s*(?:feet|foot|ft\b\.?)", r"\1 ft", t)
    t = re.sub(r"(\d)\s*-?\s*(?:inches|inch|\")", r"\1 inch", t)
    t = re.sub(r"(\d)\s*-?\s*(?:liters|litres|liter|litre|l\b)", r"\1 l", t)
    t = re.sub(r"(\d)\s*(gb|tb|mp|mah|ml|mm|w|x|bar|k|p)\b", r"\1\2", t)
    t = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", t)
    t = re.sub(r"[^a-z0-9.%+&/ ]+", " ", t)
    return " " + re.sub(r"\s+", " ", t).strip() + " "


@dataclass(frozen=True)
class Hit:
    pos: int
    key: str     # product name, or option key
    value: str   # the matched alias, or option value


def product_aliases(name: str) -> list[str]:
    base = name.lower()
    words = base.replace("-", " ").split()
    aliases = {base, base.replace("-", " "), base.replace("-", ""), *SYNONYMS.get(base, [])}
    if words[-1] not in GENERIC_HEADS and len(words) > 1:
        aliases.add(words[-1])
    out = set()
    for a in aliases:
        out |= {a, a + "s", a + "es"} if not a.endswith("s") else {a}
    return sorted(out, key=len, reverse=True)


def find_products(text: str, names: Iterable[str]) -> list[Hit]:
    """Mentions of the given product names in `text`, longest alias first, no overlaps; in text order."""
    t = norm(text)
    taken: list[tuple[int, int]] = []
    hits = []
    pairs = sorted(((a, n) for n in set(names) for a in product_aliases(n)), key=lambda p: -len(p[0]))
    for alias, name in pairs:
        for m in re.finditer(rf"(?<=[ ]){re.escape(norm(alias).strip())}(?=[ ])", t):
            span = (m.start(), m.end())
            if any(a < span[1] and span[0] < b for a, b in taken):
                continue
            taken.append(span)
            hits.append(Hit(m.start(), name, alias))
    return sorted(hits, key=lambda h: h.pos)


def option_vocab(product: dict[str, Any]) -> dict[str, list[str]]:
    """Option key -> its values across the product's variants."""
    vocab: dict[str, set[str]] = {}
    for v in product["variants"].values():
        for k, x in v["options"].items():
            vocab.setdefault(k, set()).add(x)
    return {k: sorted(x) for k, x in vocab.items()}


def find_options(text: str, product: dict[str, Any]) -> list[Hit]:
    """Option values of this product said in `text`, in text order."""
    t = norm(text)
    hits = []
    for key, values in option_vocab(product).items():
        key_word = norm(key).split()[-1]
        if set(values) & FLAGS:
            hits += _flag_hits(t, key, key_word, values)
        for value in (v for v in values if v not in FLAGS):
            nv = norm(value).strip()
            for m in re.finditer(rf"(?<=[ ]){re.escape(nv)}(?=[ ])", t):
                short = nv.replace(".", "").isdigit() or len(nv) <= 2
                if short and key_word not in t[max(0, m.start() - 25):m.end() + 25]:
                    continue  # a bare number or letter counts only next to its option's name ("size M")
                hits.append(Hit(m.start(), key, value))
    return sorted(hits, key=lambda h: h.pos)


def _flag_hits(t: str, key: str, key_word: str, values: list[str]) -> list[Hit]:
    hits = []
    for m in re.finditer(rf"(?<=[ ]){re.escape(key_word)}\w*", t):
        negated = bool(_NEGATED.search(t[max(0, m.start() - 20):m.start()]))
        value = ("none" if "none" in values else "no") if negated else "yes"
        if value in values:
            hits.append(Hit(m.start(), key, value))
    return hits


# ---- comparatives: "a bigger size", "more storage", "a taller one" ----------------------------------------
_MORE, _LESS = ("bigger", "larger", "taller", "longer", "higher", "more", "greater", "thicker", "heavier"), \
    ("smaller", "shorter", "lower", "less", "fewer", "thinner", "lighter")
_IMPLIED = {"taller": "height", "shorter": "height", "longer": "length", "thicker": "thickness",
            "thinner": "thickness", "heavier": "weight", "lighter": "weight"}
_LADDER = {"xxs": 0, "xs": 1, "s": 2, "small": 2, "m": 3, "medium": 3, "l": 4, "large": 4, "xl": 5, "xxl": 6,
           "low": 1, "high": 3, "basic": 1, "professional": 2, "portable": 1}
_SCALE = {"tb": 1000.0, "l": 1000.0, "liter": 1000.0, "liters": 1000.0}


def order_key(value: str) -> float | None:
    """A number to sort an option value by ('1TB SSD' > '512GB SSD', 'XL' > 'M'); None when it has none."""
    v = value.lower().strip()
    if v in _LADDER:
        return float(_LADDER[v])
    m = re.match(r"(\d+(?:\.\d+)?)\s*-?\s*([a-z]*)", v)
    return float(m.group(1)) * _SCALE.get(m.group(2), 1.0) if m else None


def _orderable(values: list[str]) -> bool:
    return len(values) > 1 and all(order_key(v) is not None for v in values)


def _comparative_key(word: str, after: str, vocab_: dict[str, list[str]]) -> str | None:
    keys = [k for k, vals in vocab_.items() if _orderable(vals)]
    named = [k for k in keys if norm(k).split()[-1] in after.split()[:2]]
    implied = [k for k in keys if _IMPLIED.get(word) and _IMPLIED[word] in k]
    default = [k for k in keys if k in ("size", "capacity")] if word in ("bigger", "larger", "smaller") else []
    found = named or implied or default
    return found[0] if len(found) == 1 else None


def find_comparatives(text: str, product: dict[str, Any], current: dict[str, str]) -> list[Hit]:
    """One step up or down from the current value of the option a comparative names."""
    t, vocab_, hits = norm(text), option_vocab(product), []
    for m in re.finditer(rf"(?<= )({'|'.join(_MORE + _LESS)})(?= )", t):
        key = _comparative_key(m.group(1), t[m.end():m.end() + 40], vocab_)
        if key is None or key not in current:
            continue
        ladder = sorted(vocab_[key], key=order_key)
        i = ladder.index(current[key]) + (1 if m.group(1) in _MORE else -1) if current[key] in ladder else -1
        if 0 <= i < len(ladder):
            hits.append(Hit(m.start(), key, ladder[i]))
    return hits
